"""`diaban hotspots …`: detect hotspots over a window, export the register, add one by hand."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import date
from pathlib import Path

from api.cli.audit import record_command_read
from api.params import local_day_start, parse_kinds
from gis.services.detection import DetectionParams, run_detection
from gis.services.hotspots import create_manual_hotspot
from gis.settings import DataSettings
from gis.store.db import get_engine
from gis.store.hotspots import export_hotspots
from models.vocabulary import HotspotKind


def cmd_detect(args: argparse.Namespace) -> None:
    params = DetectionParams(
        eps_m=args.eps, min_samples=args.min_samples, window_days=args.days, kinds=parse_kinds(args.kinds)
    )
    with get_engine().begin() as conn:
        report = run_detection(
            conn,
            actor=getpass.getuser(),
            start=local_day_start(args.date_from),
            end=local_day_start(args.date_to, 1),
            params=params,
        )
    if args.json:
        print(json.dumps(report.summary(), ensure_ascii=False))
    else:
        print(
            f"Phát hiện điểm nóng (lần chạy #{report.run_id}, {report.window_from:%d/%m/%Y}–{report.window_to:%d/%m/%Y}):"
            f" {report.incidents} vụ việc, ngưỡng {report.min_samples} vụ/cụm, {report.clusters} cụm; mới {report.new}, cập nhật {report.updated},"
            f" phức tạp trở lại {report.recurred}"
        )


def cmd_export(args: argparse.Namespace) -> None:
    with get_engine().begin() as conn:
        export = export_hotspots(conn, args.format, args.footprints)
        record_command_read(conn, "diaban hotspots export", vars(args), export.rows)
    body = export.content.decode("utf-8")
    if args.out:
        args.out.write_text(body, encoding="utf-8")
    else:
        sys.stdout.write(body + ("" if body.endswith("\n") else "\n"))


def cmd_add(args: argparse.Namespace) -> None:
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
    group = sub.add_parser("hotspots", help="hotspot register")
    actions = group.add_subparsers(dest="action", required=True)
    detect = actions.add_parser("detect", help="cluster incidents of a window into hotspots (DBSCAN)")
    detect.add_argument("--from", dest="date_from", type=date.fromisoformat)
    detect.add_argument("--to", dest="date_to", type=date.fromisoformat, help="inclusive; default: latest incident")
    detect.add_argument("--days", type=int, default=DetectionParams.window_days, help="window length without --from")
    detect.add_argument("--eps", type=float, default=DetectionParams.eps_m, help="neighbour distance, metres")
    detect.add_argument(
        "--min-samples", type=int, help="incidents per cluster (default: from background density, >= 5)"
    )
    detect.add_argument("--kinds", help="comma-separated incident kinds (default: all)")
    detect.add_argument("--json", action="store_true")
    detect.set_defaults(func=cmd_detect)
    export = actions.add_parser("export", help="GeoJSON points (or footprints) or CSV of the register")
    export.add_argument("--format", choices=["geojson", "csv"], default="geojson")
    export.add_argument("--footprints", action="store_true")
    export.add_argument("--out", type=Path)
    export.set_defaults(func=cmd_export)
    add = actions.add_parser("add", help="add a hotspot by hand (e.g. from a tip)")
    add.add_argument("--lon", type=float, required=True)
    add.add_argument("--lat", type=float, required=True)
    add.add_argument("--note", required=True)
    add.add_argument("--kind", choices=HotspotKind.values(), default=HotspotKind.SPOT)
    add.add_argument("--radius-m", type=float, default=50.0)
    add.set_defaults(func=cmd_add)
