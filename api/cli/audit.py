"""`diaban audit`: who read which incident-level data or exported what (the access log), and its retention."""

from __future__ import annotations

import argparse
import getpass
import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from api.cli.vi import cli_day, cli_int, parser_options
from models.domain.dates import DayWindow, day_start, vn_time
from models.numbers import vn_number

if TYPE_CHECKING:
    from sqlalchemy import Connection

#: Parser entries that are not parameters of the command itself.
_NOT_PARAMS = {"func", "command", "action", "prune"}


def record_command_read(conn: Connection, command: str, args: dict[str, Any], rows: int) -> None:
    """An access line for a read or an export made from the command line, or a change made there as a planner account
    (`diaban classify … --as-user`, in ``args``), as the operating-system user."""
    from gis.store.access_log import COMMAND_LINE, record_access

    params = {k: v for k, v in args.items() if k not in _NOT_PARAMS and v is not None}
    record_access(conn, username=getpass.getuser(), role=COMMAND_LINE, route=command, params=params, rows=rows)


def cmd_audit(args: argparse.Namespace) -> None:
    from gis.store.access_log import access_lines, with_what
    from gis.store.db import get_engine

    if args.prune:
        _prune()
        return
    if args.date_from and args.date_to:
        DayWindow(args.date_from, args.date_to)  # a reversed window is refused, not answered with no lines
    with get_engine().begin() as conn:  # the read of the log is a line of it too, committed with the read
        lines = access_lines(
            conn,
            username=args.user,
            since=day_start(args.date_from) if args.date_from else None,
            until=day_start(args.date_to + timedelta(days=1)) if args.date_to else None,
            route=args.route,
            limit=args.limit,
        )
        record_command_read(conn, "diaban audit", vars(args), len(lines))
    if args.json:
        print(json.dumps(lines, ensure_ascii=False, default=_iso))
        return
    for line in map(with_what, lines):  # as the administrator's page and Excel export name what was read, and how
        rows = f" · {vn_number(line['rows'])} dòng" if line["rows"] is not None else ""
        address = f" · {line['address']}" if line["address"] else ""
        params = f" · {line['params_text']}" if line["params_text"] else ""
        print(
            f"{vn_time(line['at'], seconds=True)}  {line['username']} ({line['role_label']}):"
            f" {line['what_label']}{rows}{address}{params}"
        )
    print(f"{vn_number(len(lines))} dòng truy cập")


def _prune() -> None:
    """Apply the retention: access lines (as the owner role), ended sessions, forgotten login addresses."""
    from gis.settings import AuditSettings, AuthSettings
    from gis.store.access_log import prune_access_log
    from gis.store.db import get_engine, get_owner_engine
    from gis.store.logins import prune_login_sources
    from gis.store.sessions import prune_sessions

    audit, auth = AuditSettings(), AuthSettings()
    get_engine()  # reachable and migrated, as every command: a schema a newer diaban migrated is refused, untouched
    owner = get_owner_engine()
    try:
        with owner.begin() as conn:
            lines = prune_access_log(conn, audit.access_log_days)
            sessions = prune_sessions(conn, audit.session_days)
            addresses = prune_login_sources(conn, auth.login_window_minutes)
    finally:
        owner.dispose()
    print(
        f"Đã xóa {vn_number(lines)} dòng truy cập cũ hơn {vn_number(audit.access_log_days)} ngày,"
        f" {vn_number(sessions)} phiên đăng nhập đã kết thúc, {vn_number(addresses)} địa chỉ đăng nhập"
    )


def _iso(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register `diaban audit`."""
    audit = sub.add_parser(
        "audit",
        help="nhật ký truy cập: ai đã đọc dữ liệu chi tiết vụ việc hoặc xuất tệp gì",
        **parser_options("Xem nhật ký truy cập (mới nhất trước) hoặc xóa dòng quá hạn lưu giữ."),
    )
    audit.add_argument("--user", help="chỉ tên đăng nhập này (với dòng lệnh: người dùng hệ điều hành)")
    audit.add_argument("--from", dest="date_from", type=cli_day, metavar="NGÀY", help="từ ngày (dd/mm/yyyy)")
    audit.add_argument(
        "--to", dest="date_to", type=cli_day, metavar="NGÀY", help="đến hết ngày (dd/mm/yyyy, tính cả ngày này)"
    )
    audit.add_argument("--route", help="chỉ các đường dẫn chứa chuỗi này, ví dụ /api/incidents hoặc export")
    audit.add_argument(
        "--limit", type=cli_int(0, 1_000_000), default=1000, help="số dòng tối đa (mặc định: %(default)s)"
    )
    audit.add_argument("--json", action="store_true", help="in dạng JSON")
    audit.add_argument(
        "--prune",
        action="store_true",
        help=(
            "xóa dòng cũ hơn DIABAN_ACCESS_LOG_DAYS ngày, phiên đã kết thúc quá DIABAN_SESSION_DAYS ngày và địa chỉ"
            " đăng nhập sai đã hết hạn theo dõi, thay vì liệt kê"
        ),
    )
    audit.set_defaults(func=cmd_audit)
