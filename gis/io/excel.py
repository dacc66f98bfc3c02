"""Excel workbooks in the Vietnamese administrative layout (heading block, title, date line, table, signature)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

AGENCY = "CÔNG AN THÀNH PHỐ HẢI PHÒNG"
NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
PLACE = "Hải Phòng"
SIGNER_TITLE = "NGƯỜI LẬP BIỂU"
SIGNER_HINT = "(Ký, ghi rõ họ tên)"
FONT = "Times New Roman"
_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


def date_line(day: date) -> str:
    """'Hải Phòng, ngày 05 tháng 01 năm 2026'."""
    return f"{PLACE}, ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"


def _merged(
    ws,
    row: int,
    first: int,
    last: int,
    value: str,
    *,
    bold: bool = False,
    italic: bool = False,
    size: int = 12,
    underline: bool = False,
) -> None:
    """Write a centred text over columns first..last of a row."""
    ws.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)
    cell = ws.cell(row=row, column=first, value=value)
    cell.font = Font(name=FONT, bold=bold, italic=italic, size=size, underline="single" if underline else None)
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def administrative_workbook(
    title: str,
    subtitle: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    day: date,
    widths: Sequence[int] | None = None,
) -> bytes:
    """An .xlsx report: agency and national heading, title, date line, bordered table, signature block."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Báo cáo"
    n = max(len(headers), 4)
    left_end, right_start = n // 2, n // 2 + 1
    _merged(ws, 1, 1, left_end, AGENCY, bold=True)
    _merged(ws, 1, right_start, n, NATION, bold=True)
    _merged(ws, 2, right_start, n, MOTTO, bold=True, underline=True)
    _merged(ws, 3, right_start, n, date_line(day), italic=True)
    _merged(ws, 5, 1, n, title, bold=True, size=14)
    _merged(ws, 6, 1, n, subtitle, italic=True)
    header_row = 8
    for col, name in enumerate(headers, start=1):
        cell = ws.cell(row=header_row, column=col, value=name)
        cell.font = Font(name=FONT, bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = _BOX
    for r, values in enumerate(rows, start=header_row + 1):
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=col, value=value)
            if isinstance(value, str):  # text stays text: "=HYPERLINK(…)" in a name is not a formula to run
                cell.data_type = "s"
            cell.font = Font(name=FONT)
            cell.alignment = Alignment(vertical="top", wrap_text=True)
            cell.border = _BOX
    sign_row = header_row + len(rows) + 2
    _merged(ws, sign_row, right_start, n, SIGNER_TITLE, bold=True)
    _merged(ws, sign_row + 1, right_start, n, SIGNER_HINT, italic=True)
    for col, width in enumerate(widths or [18] * len(headers), start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
