"""The `diaban` command line: database, imports, synthetic data and the web server; the exit-code table.

Each command imports the libraries it needs when it runs: `diaban --help` and `diaban db status` start in
under a second (they loaded SciPy, pandas and SQLAlchemy before; bench/bench_api.py measures the start-up)."""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from api.cli.accounts import add_parsers as add_account_parsers
from api.cli.audit import add_parsers as add_audit_parsers
from api.cli.backup import add_parsers as add_backup_parsers
from api.cli.classify import add_parsers as add_classify_parsers
from api.cli.hotspots import add_parsers as add_hotspot_parsers
from api.cli.vi import (
    DRY_RUN_HELP,
    SCENARIO_INCIDENTS,
    SCENARIO_YEARS,
    cli_day,
    cli_int,
    cli_output_file,
    file_error,
    naming_file,
    parse_args,
    parser_options,
    readable_file,
    vietnamese_metavars,
)
from api.cli.vi import install as install_vietnamese
from api.logs import configure_logging
from models.errors import (
    Busy,
    Conflict,
    DiabanError,
    InvalidInput,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    SettingError,
    StaleVersion,
    Unavailable,
)
from models.vocabulary import (
    DRY_RUN_NOTICE,
    INCIDENT_FIELD_LABELS,
    INDICATOR_FIELD_LABELS,
    REPORT_LISTS,
    REPORT_ROW_HEADERS,
    OutsidePolicy,
    column_label,
    summary_line,
    vietnamese_reason,
)

log = logging.getLogger("diaban.cli")

#: Rejects shown on the terminal; the full list goes to --rejects FILE.
SHOWN_REJECTS = 20


def _json_counts(summary: dict, dry_run: bool, **more: object) -> str:
    """An import's counts (and ``more`` of its report) as one JSON object; a dry run's with `"dry_run": true`, so
    that a script never takes a check's counts for what was stored."""
    return json.dumps({**summary, **more, **({"dry_run": True} if dry_run else {})}, ensure_ascii=False)


def _print_report(kind: str, summary: dict, report, args: argparse.Namespace, columns: dict[str, str]) -> int:
    """Print an import's outcome (JSON, or Vietnamese lines with the first rejects and flagged rows); its exit code.

    `--rejects FILE` lists every rejected row, every row left out as a duplicate and every row kept but flagged (an
    ambiguous legacy commune with its candidates, a point outside every commune). A file whose every row was rejected
    exits 2, like any unreadable input. `columns`: the contract's columns by their Vietnamese names. A dry run
    (`--dry-run`) says first that nothing was written (`DRY_RUN_NOTICE`; `"dry_run": true` in its JSON), then the
    same summary, rows and exit code as the import.
    """
    if getattr(args, "rejects", None) is not None:
        _write_listing(report, args.rejects, columns)
    nothing_usable = report.nothing_usable
    if args.json:
        print(_json_counts(summary, report.dry_run))
        return 2 if nothing_usable else 0
    if report.dry_run:
        print(DRY_RUN_NOTICE)
    for warning in report.warnings:
        print(f"Cảnh báo: {warning}", file=sys.stderr)
    print(summary_line(kind, summary, dry_run=report.dry_run))
    for name, title in REPORT_LISTS.items():
        rows = getattr(report, name)
        if len(rows):
            print(f"{title}:")
        for row in rows.head(SHOWN_REJECTS).itertuples():
            print(f"  dòng {row.line} [{row.ref}] {column_label(row.field, columns)}: {vietnamese_reason(row.reason)}")
        if len(rows) > SHOWN_REJECTS:
            print(f"  … và {len(rows) - SHOWN_REJECTS} dòng khác (ghi đủ bằng --rejects TỆP)")
    if nothing_usable:
        print("Lỗi dữ liệu: không có dòng nào hợp lệ trong tệp", file=sys.stderr)
    return 2 if nothing_usable else 0


def _write_listing(report, path: Path, columns: dict[str, str]) -> None:  # noqa: ANN001 - an ImportReport (lazy)
    """Every rejected, duplicate or flagged row of each line, in line order, streamed: a CSV for Excel as the other
    exports are (UTF-8 with BOM, ';'), in Vietnamese as the terminal shows it — headers `REPORT_ROW_HEADERS`, the
    column by its name, the reason without its English gloss and the list the row is in (`REPORT_LISTS`)."""
    import csv
    import heapq
    from operator import itemgetter

    from gis.io.exports import safe_cell

    def listed(name: str) -> Iterator[tuple]:
        for line, ref, field, reason in getattr(report, name).rows():
            shown = (ref, column_label(field, columns), vietnamese_reason(reason), REPORT_LISTS[name])
            yield line, *(safe_cell(value) for value in shown)

    with naming_file(path), open(path, "w", newline="", encoding="utf-8-sig") as out:
        writer = csv.writer(out, delimiter=";", lineterminator="\n")
        writer.writerow(REPORT_ROW_HEADERS.values())
        listing: Iterator[tuple] = heapq.merge(*(listed(name) for name in REPORT_LISTS), key=itemgetter(0))
        writer.writerows(listing)


def cmd_db(args: argparse.Namespace) -> int:
    from gis.ops.postgres import libpq_url, managed_cluster
    from gis.settings import DatabaseSettings

    settings = DatabaseSettings()
    if settings.database_url:
        if args.action == "url":
            print(libpq_url(settings.database_url) if args.psql else settings.database_url)
            return 0
        from gis.store.db import get_engine, postgres_url, read_schema_revision

        if args.action == "status":  # read only: the schema as it is, not migrated first
            revision = read_schema_revision(postgres_url(settings.database_url), settings.pgbouncer)
            print(f"Dùng CSDL cấu hình sẵn (DIABAN_DATABASE_URL): kết nối được; {_schema_said(revision)}")
            return 0
        get_engine(settings)
        print("Dùng CSDL cấu hình sẵn (DIABAN_DATABASE_URL): kết nối được, PostGIS sẵn sàng")
        return 0
    cluster = managed_cluster(settings)
    if args.action == "start":
        from gis.store.db import get_engine

        get_engine(settings)
        print(f"CSDL đang chạy: cổng {cluster.status().port}, dữ liệu {cluster.datadir}")
    elif args.action == "stop":
        print("Đã dừng CSDL" if cluster.stop() else "CSDL không chạy")
    elif args.action == "status":
        st = cluster.status()
        revision = None
        if st.running:
            from gis.store.db import read_schema_revision

            revision = read_schema_revision(cluster.url())
        print(
            json.dumps(
                {
                    "running": st.running,
                    "initialised": st.initialised,
                    "port": st.port,
                    "pid": st.pid,
                    "datadir": str(st.datadir),
                    **_schema_fields(revision, known=st.running),
                }
            )
        )
        return 0 if st.running else 1
    elif args.action == "url":
        print(libpq_url(cluster.url()) if args.psql else cluster.url())
    return 0


def _schema_fields(revision: str | None, known: bool = True) -> dict[str, object]:
    """The database's schema revision beside the code's (`diaban db status` as JSON): ``schema_current`` whether they
    are the same, None while the database cannot be asked (the cluster not running)."""
    from gis.store.db import SCHEMA_HEAD

    return {
        "schema_revision": revision,
        "schema_head": SCHEMA_HEAD,
        "schema_current": (revision == SCHEMA_HEAD) if known else None,
    }


def _schema_said(revision: str | None) -> str:
    """The database's schema revision beside the code's, in Vietnamese (`diaban db status`)."""
    from gis.store.db import SCHEMA_HEAD, known_revisions

    if revision == SCHEMA_HEAD:
        return f"lược đồ {revision}, đúng phiên bản của mã"
    if revision is None:
        return f"chưa có lược đồ (phiên bản của mã: {SCHEMA_HEAD}); lệnh tiếp theo, ví dụ «diaban db start», sẽ tạo"
    if revision in known_revisions():
        return f"lược đồ {revision}, cũ hơn phiên bản của mã ({SCHEMA_HEAD}); lệnh tiếp theo sẽ nâng cấp"
    return f"lược đồ {revision}, mới hơn phiên bản của mã ({SCHEMA_HEAD}): cài phiên bản diaban mới hơn"


def cmd_boundaries(args: argparse.Namespace) -> int:
    from gis.services.boundary_import import import_boundaries
    from gis.settings import DataSettings
    from gis.store.db import get_engine

    path = readable_file(args.path or DataSettings().boundary_file())
    engine = get_engine()
    with engine.begin() as conn:
        report = import_boundaries(
            conn,
            path,
            valid_from=args.valid_from,
            valid_to=args.valid_to,
            whole=args.whole,
            allow_many_closed=args.allow_many_closed,
            dry_run=args.dry_run,
        )
    if args.json:
        print(_json_counts(report.summary(), report.dry_run, rejects=report.rejects, warnings=report.warnings))
    else:
        if report.dry_run:
            print(DRY_RUN_NOTICE)
        print(summary_line("Ranh giới", report.summary(), dry_run=report.dry_run))
        for warning in report.warnings:
            print(f"  Cảnh báo: {warning}")
        for r in report.rejects:
            print(f"  đối tượng {r['feature']} [{r['code']}]: {vietnamese_reason(r['reason'])}")
    return 0


def cmd_incidents(args: argparse.Namespace) -> int:
    from gis.services.incident_import import import_incidents
    from gis.settings import DataSettings
    from gis.store.db import get_engine, get_owner_engine

    readable_file(args.path)
    get_engine()  # reachable and migrated
    # The owner's role: a bulk import creates and attaches yearly partitions (the application's role owns nothing).
    engine = get_owner_engine()
    try:
        with engine.begin() as conn:
            report = import_incidents(
                conn,
                args.path,
                imported_by=getpass.getuser(),
                nearest_m=DataSettings().nearest_commune_m,
                progress=sys.stderr.isatty() and not args.json,
                sheet=args.sheet,
                encoding=args.encoding,
                outside=args.outside,
                dry_run=args.dry_run,
            )
    finally:
        engine.dispose()
    return _print_report("Vụ việc", report.summary(), report, args, INCIDENT_FIELD_LABELS)


def cmd_indicators(args: argparse.Namespace) -> int:
    from gis.services.indicator_import import import_indicators
    from gis.store.db import get_engine

    readable_file(args.path)
    engine = get_engine()
    with engine.begin() as conn:
        report = import_indicators(
            conn,
            args.path,
            imported_by=getpass.getuser(),
            sheet=args.sheet,
            encoding=args.encoding,
            dry_run=args.dry_run,
        )
    return _print_report("Chỉ số", report.indicator_summary(), report, args, INDICATOR_FIELD_LABELS)


def cmd_demo_data(args: argparse.Namespace) -> int:
    from gis.io.scenario_files import write_scenario
    from gis.services.boundary_import import read_boundary_file
    from gis.settings import DataSettings
    from models.synthetic.scenario import ScenarioConfig, generate_scenario

    communes = read_boundary_file(args.boundaries or DataSettings().boundary_file())
    config = ScenarioConfig(seed=args.seed, years=args.years, n_incidents=args.incidents)
    paths = write_scenario(generate_scenario(communes, config), args.out)
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


def cmd_demo_samples(args: argparse.Namespace) -> int:
    from gis.demo.samples import write_samples
    from gis.services.boundary_import import read_boundary_file
    from gis.settings import DataSettings
    from gis.unit_directory import unit_directory

    communes = read_boundary_file(args.boundaries or DataSettings().boundary_file())
    for name, path in write_samples(communes, unit_directory(), args.out).items():
        print(f"{name}: {path}")
    return 0


def cmd_demo_lifecycle(args: argparse.Namespace) -> int:
    from gis.demo.lifecycle import run_lifecycle_demo
    from gis.settings import LifecycleSettings
    from gis.store.accounts import principal_by_username
    from gis.store.db import get_engine
    from models.domain.hotspot_lifecycle import hotspot_lifecycle

    days = LifecycleSettings().monitoring_days
    with get_engine().begin() as conn:
        actor = principal_by_username(conn, args.as_user)
        for line in run_lifecycle_demo(conn, hotspot_lifecycle(days), actor, days):
            print(line)
    return 0


def cmd_demo_classification(args: argparse.Namespace) -> int:
    from gis.demo.accounts import DEMO_PLANNERS
    from gis.demo.classification import seed_demo_classification
    from gis.store.db import get_engine

    with get_engine().begin() as conn:
        for line in seed_demo_classification(conn, args.approved, args.draft, *DEMO_PLANNERS):
            print(line)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from api.cli.serve import serve
    from gis.settings import ApiSettings

    settings = ApiSettings()  # every setting was checked at start (main): before the database and the app
    serve(  # an option given wins over its setting, --port 0 too (the system chooses)
        settings.host if args.host is None else args.host,
        settings.port if args.port is None else args.port,
        settings.workers if args.workers is None else args.workers,
        settings.forwarded_allow_ips,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every diaban command, in Vietnamese with formats and defaults in the help."""
    install_vietnamese()
    parser = argparse.ArgumentParser(prog="diaban", **parser_options("Giám sát địa bàn, điểm nóng ma túy — Hải Phòng"))
    sub = parser.add_subparsers(dest="command", required=True, title="lệnh", metavar="LỆNH")

    db = sub.add_parser(
        "db",
        help="CSDL PostgreSQL + PostGIS do diaban quản lý; sao lưu và khôi phục",
        **parser_options(
            "Khởi động, dừng, xem trạng thái CSDL; in địa chỉ kết nối (DIABAN_DATABASE_URL nếu đã đặt); sao lưu và"
            " khôi phục."
        ),
    )
    db_sub = db.add_subparsers(dest="action", required=True, metavar="start|stop|status|url|backup|restore")
    for action, what in (
        ("start", "khởi động (và nâng cấp lược đồ)"),
        ("stop", "dừng"),
        ("status", "trạng thái và phiên bản lược đồ CSDL so với của mã (JSON, mã 1 khi không chạy)"),
        ("url", "địa chỉ kết nối"),
    ):
        db_action = db_sub.add_parser(action, help=what, **parser_options(what[0].upper() + what[1:] + "."))
        db_action.set_defaults(func=cmd_db)
        if action == "url":
            db_action.add_argument(
                "--psql", action="store_true", help="in địa chỉ dạng libpq (postgresql://…) mà psql nhận được"
            )
    add_backup_parsers(db_sub)

    boundaries = sub.add_parser(
        "boundaries",
        help="ranh giới xã, phường, đặc khu",
        **parser_options(
            "Nhập ranh giới đơn vị hành chính cấp xã (GeoJSON, kể cả .geojson.gz, GeoPackage, Shapefile; hệ tọa độ bất kỳ,"
            " kể cả VN-2000); đơn vị không ghi tỉnh được gán tỉnh theo danh mục đơn vị hành chính."
        ),
    )
    b_sub = boundaries.add_subparsers(dest="action", required=True, metavar="import")
    b_imp = b_sub.add_parser(
        "import",
        help="nhập tệp ranh giới",
        **parser_options(
            "Nhập tệp ranh giới; nhập lại cùng tệp không thay đổi gì; ranh giới thay đổi mở phiên bản mới từ ngày hiệu lực."
        ),
    )
    b_imp.add_argument("path", type=Path, nargs="?", help="tệp ranh giới (mặc định: DIABAN_BOUNDARIES)")
    b_imp.add_argument(
        "--valid-from",
        type=cli_day,
        default=date(2025, 7, 1),
        metavar="NGÀY",
        help="ngày bắt đầu hiệu lực, dd/mm/yyyy hoặc yyyy-mm-dd",
    )
    b_imp.add_argument(
        "--valid-to",
        type=cli_day,
        metavar="NGÀY",
        help="ngày hết hiệu lực (không tính ngày này) của một bộ đơn vị cũ, ví dụ 01/07/2025 cho các xã trước sắp xếp",
    )
    b_imp.add_argument(
        "--whole",
        action="store_true",
        help="tệp là toàn bộ đơn vị hiện hành của các tỉnh có trong tệp: đơn vị hiện hành của các tỉnh đó không có"
        " trong tệp (ví dụ xã đã sáp nhập) được khép lại từ ngày hiệu lực; tỉnh không có trong tệp giữ nguyên",
    )
    b_imp.add_argument(
        "--allow-many-closed",
        action="store_true",
        help="cùng --whole: cho phép khép lại quá nửa số đơn vị hiện hành của một tỉnh (mặc định bị từ chối vì"
        " thường là tệp chỉ có một phần của tỉnh)",
    )
    b_imp.add_argument("--dry-run", action="store_true", help=DRY_RUN_HELP)
    b_imp.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    b_imp.set_defaults(func=cmd_boundaries)

    for name, func, what in (
        ("incidents", cmd_incidents, "vụ việc (CSV/văn bản, .xlsx, GeoJSON)"),
        ("indicators", cmd_indicators, "chỉ số năm của xã, phường (CSV/văn bản, .xlsx)"),
    ):
        group = sub.add_parser(name, help=f"nhập {what}", **parser_options(f"Nhập {what}."))
        g_sub = group.add_subparsers(dest="action", required=True, metavar="import")
        g_imp = g_sub.add_parser(
            "import",
            help=f"nhập {what}",
            **parser_options(
                f"Nhập {what}: mọi dòng hợp lệ được lưu, mọi dòng bị loại được báo kèm số dòng và lý do; "
                "nhập lại cùng tệp không tạo bản trùng; một lần nhập là một giao dịch."
            ),
        )
        g_imp.add_argument("path", type=Path, help="tệp cần nhập")
        g_imp.add_argument("--json", action="store_true", help="in một đối tượng JSON các số đếm")
        g_imp.add_argument(
            "--rejects",
            type=cli_output_file,
            metavar="TỆP",
            help=(
                "ghi vào tệp CSV này (mở được bằng Excel) mọi dòng bị loại, trùng hoặc vẫn lưu nhưng cần xem lại:"
                " dòng, số hiệu, cột, lý do, xử lý"
            ),
        )
        g_imp.add_argument(
            "--sheet", metavar="TRANG", help="trang tính của tệp .xlsx (mặc định: trang đầu tiên không ẩn)"
        )
        g_imp.add_argument(
            "--encoding", metavar="BẢNG_MÃ", help="bảng mã khi không tự nhận ra được (ví dụ cp1258, cp1252, utf-16)"
        )
        g_imp.add_argument("--dry-run", action="store_true", help=DRY_RUN_HELP)
        if name == "incidents":
            g_imp.add_argument(
                "--outside",
                choices=OutsidePolicy.values(),
                default=OutsidePolicy.KEEP.value,
                help="điểm ngoài mọi xã, phường và xa hơn khoảng cách gán xã gần nhất: keep = giữ lại (đánh dấu, liệt kê),"
                " reject = loại như một dòng lỗi",
            )
        g_imp.set_defaults(func=func)

    demo = sub.add_parser(
        "demo-data",
        help="dữ liệu giả lập (ghi rõ là giả lập)",
        **parser_options("Dữ liệu GIẢ LẬP cho trình diễn, kiểm thử và đo hiệu năng — không phải dữ liệu thật."),
    )
    d_sub = demo.add_subparsers(dest="action", required=True, metavar="generate|samples|lifecycle|classification")
    gen = d_sub.add_parser(
        "generate",
        help="sinh kịch bản giả lập",
        **parser_options("Sinh vụ việc, điểm nóng cài sẵn và chỉ số giả lập trên ranh giới thật."),
    )
    gen.add_argument("--seed", type=cli_int(0), default=1, help="hạt giống ngẫu nhiên")
    gen.add_argument("--years", type=cli_int(*SCENARIO_YEARS), default=3, help="số năm")
    gen.add_argument("--incidents", type=cli_int(*SCENARIO_INCIDENTS), default=30_000, help="số vụ việc")
    gen.add_argument("--out", type=Path, required=True, metavar="THƯ_MỤC", help="thư mục ghi kết quả")
    gen.add_argument("--boundaries", type=Path, metavar="TỆP", help="tệp ranh giới (mặc định: DIABAN_BOUNDARIES)")
    gen.set_defaults(func=cmd_demo_data)
    samples = d_sub.add_parser(
        "samples",
        help="tệp giả lập như các đơn vị gửi lên: một bảng ở 4 định dạng, một sổ 2024 theo xã cũ",
        **parser_options("Sinh lại các tệp mẫu GIẢ LẬP trong data/samples."),
    )
    samples.add_argument("--out", type=Path, required=True, metavar="THƯ_MỤC", help="thư mục ghi kết quả")
    samples.add_argument("--boundaries", type=Path, metavar="TỆP", help="tệp ranh giới (mặc định: DIABAN_BOUNDARIES)")
    samples.set_defaults(func=cmd_demo_samples)
    story = d_sub.add_parser(
        "lifecycle",
        help="trình diễn: hai điểm nóng đến khi loại khỏi danh sách, một điểm trở lại; chuyển hóa địa bàn hai năm",
        **parser_options("Ghi câu chuyện vòng đời điểm nóng và chương trình chuyển hóa địa bàn vào CSDL demo."),
    )
    story.add_argument("--as-user", default="chihuy", help="người dùng ban chỉ huy ghi tên là người thực hiện")
    story.set_defaults(func=cmd_demo_lifecycle)
    classes = d_sub.add_parser(
        "classification",
        help="trình diễn: một năm đã phê duyệt và một năm bản nháp",
        **parser_options("Tạo kết quả phân loại demo."),
    )
    classes.add_argument("--approved", type=int, default=2025, help="năm được phê duyệt")
    classes.add_argument("--draft", type=int, default=2026, help="năm để ở bản nháp")
    classes.set_defaults(func=cmd_demo_classification)

    serve = sub.add_parser(
        "serve",
        help="chạy trang web và API",
        **parser_options("Chạy máy chủ web; địa chỉ chỉ được in sau khi đã giữ được cổng."),
    )
    serve.add_argument("--host", help="địa chỉ lắng nghe (mặc định: DIABAN_HOST, nếu không đặt là 127.0.0.1)")
    serve.add_argument("--port", type=cli_int(0, 65_535), help="cổng (mặc định: DIABAN_PORT, nếu không đặt là 8000)")
    serve.add_argument(
        "--workers",
        type=cli_int(1),
        help="số tiến trình phục vụ, mỗi tiến trình có kết nối CSDL riêng (mặc định: DIABAN_WORKERS, nếu không đặt là 1)",
    )
    serve.set_defaults(func=cmd_serve)
    add_account_parsers(sub)
    add_audit_parsers(sub)
    add_classify_parsers(sub)
    add_hotspot_parsers(sub)
    vietnamese_metavars(parser)
    return parser


#: Domain error family → exit code and the word that starts its one line on stderr (first match in the MRO).
#: 0 success; 1 the database (or the managed cluster) is unavailable; 2 bad input: a file, a value, a name
#: that does not exist; 3 refused by the rules: a conflict with the current state, a stale version, a
#: missing permission; 70 an internal error (a bug: the traceback is logged). argparse's usage errors are 2. A file
#: the command cannot open (a directory, no permission, a missing folder: an OSError naming it) is bad input, 2.
EXIT_CODES: dict[type[BaseException], tuple[int, str]] = {
    SettingError: (2, "Lỗi cấu hình"),
    Unavailable: (1, "Lỗi"),
    Busy: (1, "Lỗi"),
    InvalidInput: (2, "Lỗi dữ liệu"),
    InvalidRequest: (2, "Lỗi"),
    NotFound: (2, "Lỗi"),
    FileNotFoundError: (2, "Lỗi dữ liệu"),
    OSError: (2, "Lỗi"),
    Conflict: (3, "Bị từ chối"),
    StaleVersion: (3, "Bị từ chối"),
    PermissionDenied: (3, "Bị từ chối"),
    DiabanError: (70, "Lỗi nội bộ"),
}
INTERNAL_ERROR = 70
#: Interrupted by Ctrl-C (128 + SIGINT), and the reader of the output gone (128 + SIGPIPE), as the shell reports them.
INTERRUPTED, BROKEN_PIPE = 130, 141


def exit_code(exc: BaseException) -> tuple[int, str]:
    """Exit code and prefix of an error: those of the first class of its MRO in EXIT_CODES."""
    for cls in type(exc).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return INTERNAL_ERROR, "Lỗi nội bộ"


def _message(exc: BaseException) -> str:
    """What to print of an error: the domain message (Vietnamese only: its English reason goes to the debug log), a
    Vietnamese line for a file that cannot be opened, or each unusable setting with what it needs."""
    if isinstance(exc, SettingError) and exc.problems:
        from api.validation_vi import message_vi

        return "; ".join(f"{name}={error.get('input')!r} {message_vi(error)}" for name, error in exc.problems.items())
    if isinstance(exc, DiabanError):
        return exc.message
    return file_error(exc) if isinstance(exc, OSError) else str(exc)


def _internal_error() -> int:
    """Log the traceback of a bug and say so in one line; the internal-error exit code."""
    log.exception("lỗi nội bộ (internal error)")
    print("Lỗi nội bộ: xem nhật ký ở trên", file=sys.stderr)
    return INTERNAL_ERROR


def main(argv: list[str] | None = None) -> int:
    """Entry point: run a command; every failure becomes one clear line on stderr and the exit code of its family."""
    args = parse_args(build_parser(), argv)
    try:
        from gis.settings import ApiSettings, check_settings

        check_settings()  # every setting, at every command's start: a broken one is said before anything is done
        configure_logging(ApiSettings().log_level)
        code = args.func(args) or 0
        sys.stdout.flush()  # a reader gone shows here, not as an "Exception ignored" at exit
        return code
    except BrokenPipeError:
        # The reader went away (`diaban users list | head`): nothing more to say to it, and no traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE
    except KeyboardInterrupt:
        # Ctrl-C: the open transaction has rolled back on its way out; one line, not a traceback.
        print("Đã dừng theo yêu cầu (Ctrl-C): lệnh chưa hoàn tất", file=sys.stderr)
        return INTERRUPTED
    except (DiabanError, OSError) as exc:
        if isinstance(exc, OSError) and exc.filename is None:
            return _internal_error()  # not a file the user named: a socket, a pipe, a bug
        code, prefix = exit_code(exc)
        # The user reads the Vietnamese line below; the code and exit status are for DIABAN_LOG_LEVEL=DEBUG.
        log.debug("%s: %s (exit %d)", getattr(exc, "code", type(exc).__name__), exc, code)
        print(f"{prefix}: {_message(exc)}", file=sys.stderr)
        return code
    except Exception:
        return _internal_error()


if __name__ == "__main__":
    sys.exit(main())
