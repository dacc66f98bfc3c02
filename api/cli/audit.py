"""`diaban audit`: who read which incident-level data or exported what (the access log), and its retention."""

from __future__ import annotations

import argparse
import getpass
import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from api.params import local_day_start
from gis.settings import AuditSettings, AuthSettings
from gis.store.access_log import COMMAND_LINE, access_lines, prune_access_log, record_access
from gis.store.db import get_engine, get_owner_engine
from gis.store.logins import prune_login_sources
from gis.store.sessions import prune_sessions

#: Parser entries that are not parameters of the command itself.
_NOT_PARAMS = {"func", "command", "action"}


def record_command_read(conn: Connection, command: str, args: dict[str, Any], rows: int) -> None:
    """An access line for a read or an export made from the command line, as the operating-system user."""
    params = {k: v for k, v in args.items() if k not in _NOT_PARAMS and v is not None}
    record_access(conn, username=getpass.getuser(), role=COMMAND_LINE, route=command, params=params, rows=rows)


def cmd_audit(args: argparse.Namespace) -> None:
    if args.prune:
        _prune()
        return
    with get_engine().connect() as conn:
        lines = access_lines(
            conn,
            username=args.user,
            since=local_day_start(args.date_from),
            until=local_day_start(args.date_to, 1),
            route=args.route,
            limit=args.limit,
        )
    if args.json:
        print(json.dumps(lines, ensure_ascii=False, default=_iso))
        return
    for line in lines:
        params = json.dumps(line["params"], ensure_ascii=False)
        print(
            f"{line['at'].astimezone():%d/%m/%Y %H:%M:%S}  {line['username']:<16} {line['role'] or '-':<8}"
            f" {line['route']}  {params}  {line['rows'] if line['rows'] is not None else '-'} dòng"
            f"  {line['address'] or ''}"
        )
    print(f"{len(lines)} dòng truy cập (access lines)")


def _prune() -> None:
    """Apply the retention: access lines (as the owner role), ended sessions, forgotten login addresses."""
    audit, auth = AuditSettings(), AuthSettings()
    owner = get_owner_engine()
    try:
        with owner.begin() as conn:
            lines = prune_access_log(conn, audit.access_log_days)
            sessions = prune_sessions(conn, audit.session_days)
            addresses = prune_login_sources(conn, auth.login_window_minutes)
    finally:
        owner.dispose()
    print(
        f"Đã xóa {lines} dòng truy cập cũ hơn {audit.access_log_days} ngày, {sessions} phiên đăng nhập đã kết thúc,"
        f" {addresses} địa chỉ đăng nhập (pruned access lines, sessions, login addresses)"
    )


def _iso(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register `diaban audit`."""
    audit = sub.add_parser("audit", help="the access log: who read incident-level data or exported what")
    audit.add_argument("--user", help="only this username (an operating-system user for the command line)")
    audit.add_argument("--from", dest="date_from", type=date.fromisoformat, help="first day (local)")
    audit.add_argument("--to", dest="date_to", type=date.fromisoformat, help="last day (local, inclusive)")
    audit.add_argument("--route", help="only routes containing this text, e.g. /api/incidents or export")
    audit.add_argument("--limit", type=int, default=1000, help="newest lines first, at most this many")
    audit.add_argument("--json", action="store_true")
    audit.add_argument(
        "--prune",
        action="store_true",
        help="delete lines older than DIABAN_ACCESS_LOG_DAYS (and ended sessions) instead of listing",
    )
    audit.set_defaults(func=cmd_audit)
