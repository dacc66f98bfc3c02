"""Excel workbooks in the Vietnamese administrative layout (heading block, title, date line, table, signature)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from gis.io.figures import Figure
from gis.io.heading import Heading
from models.text import NOT_IN_A_CELL, escaped

NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
SIGNER_TITLE = "NGƯỜI LẬP BIỂU"
SIGNER_HINT = "(Ký, ghi rõ họ tên)"
FONT = "Times New Roman"
_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


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
    cell = _put(ws, row, first, value)
    cell.font = Font(name=FONT, bold=bold, italic=italic, size=size, underline="single" if underline else None)
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _put(ws, row: int, column: int, value: Any) -> Cell:
    """Write ``value`` into a cell and return the cell. A text is a string cell holding the text verbatim: openpyxl
    makes a text starting with "=" a formula, and a string cell is never run, so no apostrophe is needed (one had shown
    as «'-2+3 lý do» in the file); its control characters XML cannot carry are written as escapes (a stored note or
    override reason with one made openpyxl refuse the whole export: a 500)."""
    if not isinstance(value, str):
        return ws.cell(row=row, column=column, value=value)
    cell = ws.cell(row=row, column=column, value=escaped(value, NOT_IN_A_CELL))
    cell.data_type = "s"
    return cell


def _span(widths: Sequence[float], first: int, want: float) -> int:
    """The last column (1-based) from ``first`` whose cumulative width reaches ``want`` characters."""
    total, col = 0.0, first
    while col <= len(widths):
        total += widths[col - 1]
        if total >= want:
            return col
        col += 1
    return len(widths)


def _wrapped_height(text: str, width: float, size: int) -> float:
    """The height in points of a row whose ``text``, in a ``size``-point font, wraps within ``width`` (Excel's column
    units, about one character of its 11-point default each; Vietnamese in Times New Roman, with its diacritics and
    words wrapped whole, is counted 15 % wider: a line too many leaves a blank, one too few cuts the text)."""
    per_line = max(1.0, width * 0.85 * 11 / size)
    lines = sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))
    return round(lines * size * 1.3 + 4, 1)


def administrative_workbook(
    title: str,
    subtitle: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    heading: Heading,
    issued: str,
    sheet: str,
    widths: Sequence[int] | None = None,
    frozen: int = 2,
) -> bytes:
    """An .xlsx report in the administrative layout (Nghị định 30/2020 style), ready to print on A4 landscape.

    The agency block (top left) and the national heading with the motto (beside it, not at the far end of a
    wide table) each span about a page third; ``heading`` says which agency issues it and where it is dated (the
    reader's province police, or the Ministry). Then the title, subtitle, ``issued`` (who exported it when, what it
    covers, on which basis), the bordered table whose header rows
    repeat on every printed page, and the signature block. The sheet is named ``sheet`` (what it holds: sheets copied
    into one workbook stay apart; at most 31 characters, Excel's limit); the header row and the first ``frozen``
    columns (those that name a row) stay in view while the reader scrolls. A :class:`~gis.io.figures.Figure` in
    ``rows`` is written as a number (or day) cell in its number format; any other text stays text.
    """
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    n = len(headers)
    widths = list(widths or [18] * n) + [18] * max(0, n - len(widths or []))
    left_end = _span(widths, 1, 40)
    right_start = min(left_end + 1, n)
    right_end = max(_span(widths, right_start, 60), right_start)
    _merged(ws, 1, 1, left_end, heading.agency, bold=True)
    _merged(ws, 1, right_start, right_end, NATION, bold=True)
    _merged(ws, 2, right_start, right_end, MOTTO, bold=True, underline=True)
    _merged(ws, 3, right_start, right_end, heading.date_line(), italic=True)
    block = min(n, max(right_end, 6))
    _merged(ws, 5, 1, block, title, bold=True, size=14)
    _merged(ws, 6, 1, block, subtitle, italic=True)
    _merged(ws, 7, 1, block, issued, italic=True)
    # Excel does not grow a merged row to its wrapped text: a long subtitle (the period's notes, 394 characters) or
    # basis showed its first line, the rest cut off. Each is given the lines it takes over the block's width.
    for row, text, size in ((5, title, 14), (6, subtitle, 12), (7, issued, 12)):
        ws.row_dimensions[row].height = _wrapped_height(text, sum(widths[:block]), size)
    header_row = 8
    for col, name in enumerate(headers, start=1):
        cell = _put(ws, header_row, col, name)
        cell.font = Font(name=FONT, bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = _BOX
    for r, values in enumerate(rows, start=header_row + 1):
        for col, value in enumerate(values, start=1):
            if isinstance(value, Figure):  # a number the reader sums and filters, shown as the report words it
                cell = _put(ws, r, col, value.value)
                cell.number_format = value.number_format
            else:  # text stays text: "=HYPERLINK(…)" in a name is not a formula to run
                cell = _put(ws, r, col, value)
            cell.font = Font(name=FONT)
            cell.alignment = Alignment(vertical="top", wrap_text=True)
            cell.border = _BOX
    last_row = header_row + len(rows)
    sign_row = last_row + 2
    sign_first = max(1, n - (right_end - right_start))
    _merged(ws, sign_row, sign_first, n, SIGNER_TITLE, bold=True)
    _merged(ws, sign_row + 1, sign_first, n, SIGNER_HINT, italic=True)
    for col, width in enumerate(widths[:n], start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.print_area = f"A1:{get_column_letter(n)}{sign_row + 1}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.freeze_panes = ws.cell(row=header_row + 1, column=frozen + 1)
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
