"""`diaban db backup` and `diaban db restore`: the command line of :mod:`gis.ops.backup`, in Vietnamese."""

from __future__ import annotations

import argparse
import getpass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from api.cli.vi import cli_output_file, parser_options
from models.domain.dates import vn_day
from models.numbers import vn_number

if TYPE_CHECKING:
    from gis.ops.backup import Inventory


def _say(line: str) -> None:
    print(line, flush=True)


def _size(size_bytes: int) -> str:
    """A file size as a person reads it: "12,3 MB"."""
    return f"{vn_number(size_bytes / 1e6, 1)} MB" if size_bytes >= 100_000 else f"{vn_number(size_bytes)} byte"


def _counts_table(recorded: dict[str, int], restored: Inventory | None = None) -> list[str]:
    """Rows per table as recorded in the manifest, and beside them those restored (when a restore is reported)."""
    width = max(map(len, recorded), default=5)
    heading = f"  {'bảng':<{width}}  {'đã ghi':>10}" + (f"  {'khôi phục':>10}" if restored else "")
    lines = [heading]
    for table, rows in recorded.items():
        line = f"  {table:<{width}}  {vn_number(rows):>10}"
        if restored is not None:
            line += f"  {vn_number(restored.counts.get(table, 0)):>10}"
        lines.append(line)
    return lines


def cmd_backup(args: argparse.Namespace) -> int:
    from gis.ops.backup import backup, manifest_path

    manifest = backup(args.file, overwrite=args.overwrite, username=getpass.getuser(), progress=_say)
    for line in _counts_table(manifest.counts):
        print(line)
    print(
        f"Đã sao lưu CSDL {manifest.database} (lược đồ {manifest.schema_revision}, diaban {manifest.diaban_version},"
        f" {len(manifest.partitions)} phân vùng của bảng vụ việc) vào {args.file.resolve()} ({_size(manifest.size_bytes)})"
    )
    print(f"Tệp mô tả (SHA-256 {manifest.sha256}, số dòng): {manifest_path(args.file).resolve()}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from gis.ops.backup import restore

    report = restore(args.file, username=getpass.getuser(), progress=_say)
    manifest = report.manifest
    for line in _counts_table(manifest.counts, report.restored):
        print(line)
    upgraded = (
        f", đã nâng cấp lược đồ {report.revision_restored} → {report.revision_now}"
        if report.revision_now != report.revision_restored
        else f", lược đồ {report.revision_now}"
    )
    print(
        f"Đã khôi phục bản sao lưu ngày {vn_day(datetime.fromisoformat(manifest.created_at))} của CSDL {manifest.database}"
        f" (diaban {manifest.diaban_version}): số dòng khớp tệp mô tả, {len(report.restored.partitions)} phân vùng"
        f" năm đã gắn{upgraded}, quyền của vai trò ứng dụng đã cấp lại; lần khôi phục này đã ghi vào nhật ký quản trị"
    )
    return 0


def add_parsers(db_sub: argparse._SubParsersAction) -> None:
    """`db backup` and `db restore` under `diaban db`."""
    backup = db_sub.add_parser(
        "backup",
        help="sao lưu CSDL vào một tệp (pg_dump) và tệp mô tả TỆP.json bên cạnh",
        **parser_options(
            "Sao lưu toàn bộ CSDL (kể cả ảnh của các tổ) bằng pg_dump với vai trò chủ sở hữu; bên cạnh là TỆP.json"
            " ghi lược đồ, phiên bản diaban, số dòng từng bảng và mã SHA-256 để kiểm tra khi khôi phục."
        ),
    )
    backup.add_argument("file", type=cli_output_file, metavar="TỆP", help="tệp sao lưu cần ghi (ví dụ diaban.dump)")
    backup.add_argument("--overwrite", action="store_true", help="ghi đè tệp đã có (mặc định: từ chối)")
    backup.set_defaults(func=cmd_backup)
    restore = db_sub.add_parser(
        "restore",
        help="khôi phục một bản sao lưu vào CSDL trống",
        **parser_options(
            "Khôi phục vào CSDL trống (DIABAN_DATABASE_URL hoặc cụm do diaban quản lý): kiểm tra SHA-256, từ chối"
            " lược đồ mới hơn phiên bản này, nâng cấp lược đồ cũ hơn, cấp lại quyền cho vai trò ứng dụng, so số dòng."
        ),
    )
    restore.add_argument("file", type=Path, metavar="TỆP", help="tệp sao lưu (tệp mô tả TỆP.json phải ở bên cạnh)")
    restore.set_defaults(func=cmd_restore)
