"""`diaban hotspots …`: detect hotspots over a window, export the register, add one by hand.

Libraries are imported inside the commands: building the parser (and `--help`) stays fast."""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from api.cli.audit import record_command_read
from api.cli.vi import cli_day, cli_int, cli_output_file, cli_positive, naming_file, parser_options
from models.analytics.detection import MAX_WINDOW_DAYS, DetectionParams
from models.domain.dates import DayWindow, day_start
from models.errors import InvalidRequest
from models.vocabulary import HotspotKind

#: The largest neighbourhood distance: 100 km spans the city; beyond, DBSCAN's grid of cells overflows (--eps 1e308).
MAX_EPS_M = 100_000.0


def cmd_detect(args: argparse.Namespace) -> None:
    from api.params import parse_kinds
    from gis.services.detection import run_detection
    from gis.store.db import get_engine

    params = DetectionParams(
        eps_m=args.eps, min_samples=args.min_samples, window_days=args.days, kinds=parse_kinds(args.kinds)
    )
    if args.date_from and args.date_to:
        DayWindow(args.date_from, args.date_to)  # a reversed window is refused before anything is recorded
    with get_engine().begin() as conn:
        report = run_detection(
            conn,
            actor=getpass.getuser(),
            start=day_start(args.date_from) if args.date_from else None,
            end=DayWindow(args.date_to, args.date_to).end if args.date_to else None,
            params=params,
            dry_run=args.dry_run,
            waiting=lambda: print(
                "Một lần chạy phát hiện khác đang ghi vào sổ theo dõi: chờ lần chạy đó xong rồi chạy tiếp…",
                file=sys.stderr,
                flush=True,
            ),
        )
    if args.json:
        print(json.dumps(report.summary(), ensure_ascii=False))
    else:
        print("\n".join(report.lines()))


def cmd_export(args: argparse.Namespace) -> None:
    from gis.services.hotspots import export_register
    from gis.store.db import get_engine

    if args.format == "xlsx" and not args.out:
        raise InvalidRequest("tệp Excel cần --out TỆP", "xlsx needs --out")
    with get_engine().begin() as conn:
        export = export_register(conn, args.format, footprints=args.footprints, raw=args.raw, by=getpass.getuser())
        record_command_read(conn, "diaban hotspots export", vars(args), export.rows)
    body = export.content
    if args.out:
        with naming_file(args.out):
            args.out.write_bytes(body)
        print(f"Đã ghi {args.out}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(body + (b"" if body.endswith(b"\n") else b"\n"))


def cmd_add(args: argparse.Namespace) -> None:
    from gis.services.hotspots import create_manual_hotspot
    from gis.settings import DataSettings
    from gis.store.db import get_engine

    with get_engine().begin() as conn:
        hotspot_id = create_manual_hotspot(
            conn,
            lon=args.lon,
            lat=args.lat,
            note=args.note,
            actor=getpass.getuser(),
            kind=args.kind,
            radius_m=args.radius_m,
            city_margin_m=DataSettings().city_margin_m,
        )
    print(f"Đã tạo điểm nóng #{hotspot_id}")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register `diaban hotspots detect|export|add`."""
    group = sub.add_parser(
        "hotspots",
        help="sổ theo dõi điểm nóng",
        **parser_options("Phát hiện điểm nóng bằng phân cụm, xuất sổ theo dõi, thêm điểm nóng bằng tay."),
    )
    actions = group.add_subparsers(dest="action", required=True, metavar="detect|export|add")
    detect = actions.add_parser(
        "detect",
        help="phân cụm vụ việc của một khoảng thời gian thành điểm nóng (DBSCAN)",
        **parser_options(
            "Phân cụm vụ việc của một khoảng ngày; ghi lần chạy và các sự kiện. Khoảng ghi vào sổ không được kết thúc"
            " trước khoảng của lần chạy gần nhất (--dry-run: xem mọi khoảng, không ghi)."
        ),
    )
    detect.add_argument(
        "--from",
        dest="date_from",
        type=cli_day,
        metavar="NGÀY",
        help="ngày đầu, dd/mm/yyyy hoặc yyyy-mm-dd (mặc định: khoảng --days ngày kết thúc ở ngày cuối)",
    )
    detect.add_argument(
        "--to",
        dest="date_to",
        type=cli_day,
        metavar="NGÀY",
        help="ngày cuối, tính cả ngày này (mặc định: ngày của vụ việc gần nhất)",
    )
    detect.add_argument(
        "--days",
        type=cli_int(1, MAX_WINDOW_DAYS),
        default=DetectionParams.window_days,
        help="không có --from: số ngày của khoảng, tính cả ngày cuối (90 ngày đến 31/10: 03/08–31/10)",
    )
    detect.add_argument(
        "--eps", type=cli_positive(MAX_EPS_M), default=DetectionParams.eps_m, help="khoảng cách láng giềng, mét"
    )
    detect.add_argument(
        "--min-samples", type=cli_int(1), help="số vụ tối thiểu của một cụm (mặc định: theo mật độ nền, ít nhất 5)"
    )
    detect.add_argument(
        "--kinds", metavar="LOẠI,LOẠI", help="các loại vụ việc, cách nhau bằng dấu phẩy (mặc định: tất cả)"
    )
    detect.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    detect.add_argument(
        "--dry-run",
        action="store_true",
        help="chạy thử: chạy đúng lần phát hiện rồi hủy bỏ, không ghi gì vào sổ; được với mọi khoảng thời gian",
    )
    detect.set_defaults(func=cmd_detect)
    export = actions.add_parser(
        "export",
        help="xuất sổ theo dõi: GeoJSON (tâm hoặc phạm vi), CSV hoặc Excel",
        **parser_options("Xuất toàn bộ sổ theo dõi điểm nóng."),
    )
    export.add_argument("--format", choices=["geojson", "csv", "xlsx"], default="geojson", help="định dạng")
    export.add_argument(
        "--raw",
        action="store_true",
        help="CSV/GeoJSON cho chương trình (không để mở bằng Excel): tên cột máy, mã và giá trị nguyên dạng",
    )
    export.add_argument("--footprints", action="store_true", help="GeoJSON: phạm vi thay vì tâm điểm")
    export.add_argument("--out", type=cli_output_file, metavar="TỆP", help="tệp ghi (mặc định: màn hình)")
    export.set_defaults(func=cmd_export)
    add = actions.add_parser(
        "add",
        help="thêm điểm nóng bằng tay (ví dụ từ tin báo)",
        **parser_options("Thêm một điểm nóng trạng thái «Phát hiện» (không ghi tên người)."),
    )
    add.add_argument("--lon", type=float, required=True, help="kinh độ WGS84")
    add.add_argument("--lat", type=float, required=True, help="vĩ độ WGS84")
    add.add_argument("--note", required=True, help="ghi chú (không ghi tên người)")
    add.add_argument("--kind", choices=HotspotKind.values(), default=HotspotKind.SPOT, help="loại điểm")
    add.add_argument("--radius-m", type=float, default=50.0, help="bán kính phạm vi, mét")
    add.set_defaults(func=cmd_add)
