"""The `diaban` command line: database, imports, synthetic data and the web server; the exit-code table."""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from datetime import date
from pathlib import Path

from api.cli.accounts import add_parsers as add_account_parsers
from api.cli.audit import add_parsers as add_audit_parsers
from api.cli.classify import add_parsers as add_classify_parsers
from api.cli.hotspots import add_parsers as add_hotspot_parsers
from api.logs import configure_logging
from gis.settings import ApiSettings, DatabaseSettings, DataSettings
from gis.store.db import get_engine, managed_cluster
from models.errors import (
    Conflict,
    DiabanError,
    InvalidInput,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    StaleVersion,
    Unavailable,
)

log = logging.getLogger("diaban.cli")

#: Rejects shown on the terminal; the full list goes to --rejects FILE.
SHOWN_REJECTS = 20


def _print_report(kind: str, summary: dict, report, args: argparse.Namespace) -> None:
    """Print an import's outcome: JSON, or Vietnamese lines with the first rejects."""
    if getattr(args, "rejects", None) is not None:
        report.rejects.to_csv(args.rejects, index=False)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
        return
    for warning in report.warnings:
        print(f"Cảnh báo: {warning}", file=sys.stderr)
    print(f"{kind}: " + ", ".join(f"{k}={v}" for k, v in summary.items()))
    for row in report.rejects.head(SHOWN_REJECTS).itertuples():
        print(f"  dòng {row.line} [{row.ref}] {row.field}: {row.reason}")
    if len(report.rejects) > SHOWN_REJECTS:
        print(f"  … và {len(report.rejects) - SHOWN_REJECTS} lỗi khác (use --rejects FILE for all)")


def cmd_db(args: argparse.Namespace) -> int:
    settings = DatabaseSettings()
    if settings.database_url:
        if args.action == "url":
            print(settings.database_url)
            return 0
        get_engine(settings)
        print("Dùng CSDL cấu hình sẵn (DIABAN_DATABASE_URL): kết nối được, PostGIS sẵn sàng")
        return 0
    cluster = managed_cluster(settings)
    if args.action == "start":
        get_engine(settings)
        print(f"CSDL đang chạy (running): cổng {cluster.status().port}, dữ liệu {cluster.datadir}")
    elif args.action == "stop":
        print("Đã dừng CSDL (stopped)" if cluster.stop() else "CSDL không chạy (not running)")
    elif args.action == "status":
        st = cluster.status()
        print(
            json.dumps(
                {
                    "running": st.running,
                    "initialised": st.initialised,
                    "port": st.port,
                    "pid": st.pid,
                    "datadir": str(st.datadir),
                }
            )
        )
        return 0 if st.running else 1
    elif args.action == "url":
        print(cluster.url())
    return 0


def cmd_boundaries(args: argparse.Namespace) -> int:
    from gis.services.boundary_import import import_boundaries

    path = args.path or DataSettings().boundaries
    engine = get_engine()
    with engine.begin() as conn:
        report = import_boundaries(conn, path, valid_from=args.valid_from)
    if args.json:
        print(json.dumps({**report.summary(), "rejects": report.rejects}, ensure_ascii=False))
    else:
        print("Ranh giới: " + ", ".join(f"{k}={v}" for k, v in report.summary().items()))
        for r in report.rejects:
            print(f"  đối tượng {r['feature']} [{r['code']}]: {r['reason']}")
    return 0


def cmd_incidents(args: argparse.Namespace) -> int:
    from gis.services.incident_import import import_incidents

    engine = get_engine()
    with engine.begin() as conn:
        report = import_incidents(
            conn,
            args.path,
            imported_by=getpass.getuser(),
            nearest_m=DataSettings().nearest_commune_m,
            city_margin_m=DataSettings().city_margin_m,
            progress=sys.stderr.isatty() and not args.json,
        )
    _print_report("Vụ việc", report.summary(), report, args)
    return 0


def cmd_indicators(args: argparse.Namespace) -> int:
    from gis.services.indicator_import import import_indicators

    engine = get_engine()
    with engine.begin() as conn:
        report = import_indicators(conn, args.path, imported_by=getpass.getuser())
    _print_report("Chỉ số", {"imported": report.imported, "rejected": report.rejected}, report, args)
    return 0


def cmd_demo_data(args: argparse.Namespace) -> int:
    import geopandas as gpd

    from gis.io.scenario_files import write_scenario
    from models.synthetic.scenario import ScenarioConfig, generate_scenario

    communes = gpd.read_file(args.boundaries or DataSettings().boundaries)
    config = ScenarioConfig(seed=args.seed, years=args.years, n_incidents=args.incidents)
    paths = write_scenario(generate_scenario(communes, config), args.out)
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


def cmd_demo_lifecycle(args: argparse.Namespace) -> int:
    from gis.demo.lifecycle import run_lifecycle_demo
    from gis.settings import LifecycleSettings
    from gis.store.accounts import principal_by_username
    from models.domain.hotspot_lifecycle import hotspot_lifecycle

    days = LifecycleSettings().monitoring_days
    with get_engine().begin() as conn:
        actor = principal_by_username(conn, args.as_user)
        for line in run_lifecycle_demo(conn, hotspot_lifecycle(days), actor, days):
            print(line)
    return 0


def cmd_demo_classification(args: argparse.Namespace) -> int:
    from gis.demo.classification import seed_demo_classification

    with get_engine().begin() as conn:
        for line in seed_demo_classification(conn, args.approved, args.draft, "thammuu"):
            print(line)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from gis.settings import ApiSettings

    api = ApiSettings()
    app = create_app(get_engine(statement_timeout_s=api.statement_timeout_s), api.warm_connections)
    print(f"diaban đang phục vụ tại http://{args.host}:{args.port}", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every diaban command."""
    from gis.settings import ApiSettings

    api = ApiSettings()
    parser = argparse.ArgumentParser(prog="diaban", description="Giám sát địa bàn, điểm nóng ma túy — Hải Phòng")
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="managed PostgreSQL + PostGIS")
    db.add_argument("action", choices=["start", "stop", "status", "url"])
    db.set_defaults(func=cmd_db)

    boundaries = sub.add_parser("boundaries", help="commune boundaries")
    b_sub = boundaries.add_subparsers(dest="action", required=True)
    b_imp = b_sub.add_parser("import", help="import GeoJSON / GeoPackage / Shapefile in any CRS")
    b_imp.add_argument("path", type=Path, nargs="?", help="default: DIABAN_BOUNDARIES")
    b_imp.add_argument("--valid-from", type=date.fromisoformat, default=date(2025, 7, 1))
    b_imp.add_argument("--json", action="store_true")
    b_imp.set_defaults(func=cmd_boundaries)

    for name, func, help_text in (
        ("incidents", cmd_incidents, "incident CSV / GeoJSON"),
        ("indicators", cmd_indicators, "yearly commune indicators CSV"),
    ):
        group = sub.add_parser(name, help=help_text)
        g_sub = group.add_subparsers(dest="action", required=True)
        g_imp = g_sub.add_parser("import", help=f"import {help_text}")
        g_imp.add_argument("path", type=Path)
        g_imp.add_argument("--json", action="store_true", help="print one JSON object of counts")
        g_imp.add_argument("--rejects", type=Path, help="write every rejected row (line, ref, field, reason) here")
        g_imp.set_defaults(func=func)

    demo = sub.add_parser("demo-data", help="synthetic scenarios (clearly labelled synthetic)")
    d_sub = demo.add_subparsers(dest="action", required=True)
    gen = d_sub.add_parser("generate")
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--years", type=int, default=3)
    gen.add_argument("--incidents", type=int, default=30_000)
    gen.add_argument("--out", type=Path, required=True)
    gen.add_argument("--boundaries", type=Path)
    gen.set_defaults(func=cmd_demo_data)
    story = d_sub.add_parser("lifecycle", help="demo: two hotspots taken to closure, one then recurring")
    story.add_argument("--as-user", default="chihuy", help="command user recorded as the actor")
    story.set_defaults(func=cmd_demo_lifecycle)
    classes = d_sub.add_parser("classification", help="demo: one approved year and one draft year")
    classes.add_argument("--approved", type=int, default=2025)
    classes.add_argument("--draft", type=int, default=2026)
    classes.set_defaults(func=cmd_demo_classification)

    serve = sub.add_parser("serve", help="run the web app and API")
    serve.add_argument("--host", default=api.host)
    serve.add_argument("--port", type=int, default=api.port)
    serve.set_defaults(func=cmd_serve)
    add_account_parsers(sub)
    add_audit_parsers(sub)
    add_classify_parsers(sub)
    add_hotspot_parsers(sub)
    return parser


#: Domain error family → exit code and the word that starts its one line on stderr (first match in the MRO).
#: 0 success; 1 the database (or the managed cluster) is unavailable; 2 bad input: a file, a value, a name
#: that does not exist; 3 refused by the rules: a conflict with the current state, a stale version, a
#: missing permission; 70 an internal error (a bug: the traceback is logged). argparse's usage errors are 2.
EXIT_CODES: dict[type[BaseException], tuple[int, str]] = {
    Unavailable: (1, "Lỗi CSDL"),
    InvalidInput: (2, "Lỗi dữ liệu"),
    InvalidRequest: (2, "Lỗi"),
    NotFound: (2, "Lỗi"),
    FileNotFoundError: (2, "Lỗi dữ liệu"),
    Conflict: (3, "Bị từ chối"),
    StaleVersion: (3, "Bị từ chối"),
    PermissionDenied: (3, "Bị từ chối"),
    DiabanError: (70, "Lỗi nội bộ"),
}
INTERNAL_ERROR = 70


def exit_code(exc: BaseException) -> tuple[int, str]:
    """Exit code and prefix of an error: those of the first class of its MRO in EXIT_CODES."""
    for cls in type(exc).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return INTERNAL_ERROR, "Lỗi nội bộ"


def _message(exc: BaseException) -> str:
    """What to print of an error: the domain message, or a Vietnamese line for a missing file."""
    if isinstance(exc, FileNotFoundError):
        return f"không tìm thấy tệp {exc.filename}"
    return str(exc)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run a command; every failure becomes one clear line on stderr and the exit code of its family."""
    configure_logging(ApiSettings().log_level)
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except (DiabanError, FileNotFoundError) as exc:
        code, prefix = exit_code(exc)
        log.info("%s: %s (exit %d)", getattr(exc, "code", type(exc).__name__), exc, code)
        print(f"{prefix}: {_message(exc)}", file=sys.stderr)
        return code
    except Exception:
        log.exception("lỗi nội bộ (internal error)")
        print("Lỗi nội bộ: xem nhật ký ở trên (internal error: see the log above)", file=sys.stderr)
        return INTERNAL_ERROR


if __name__ == "__main__":
    sys.exit(main())
