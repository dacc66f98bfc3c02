"""Workbooks laid out as the statistical forms (biểu mẫu) commune police and the steering committee fill in Excel: the
agency's two-cell heading and a title above, a two-row header whose group cell is merged across its sub-headers (the
other header cells merged down over both rows), a units row and a numbering row under it, an «STT» column, a totals row
at the bottom and rows numbered ahead but left blank."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

#: The worksheet rows of the indicator form's records (as Excel shows them), its totals row and its blank rows.
RECORD_ROWS, TOTALS_ROW, BLANK_ROWS = [8, 9, 10], 11, [12, 13]


def indicator_form(path: Path) -> Path:
    """The yearly indicator form of the steering committee: 2025 for three wards, one figure given as «-», one as
    «N/A»."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Biểu 01"
    sheet.append(["CÔNG AN THÀNH PHỐ HẢI PHÒNG", None, None, None, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"])
    sheet.append(["BIỂU TỔNG HỢP CHỈ SỐ ĐỊA BÀN NĂM 2025"])
    sheet.append([])
    sheet.append(
        [
            "STT",
            "Năm",
            "Mã xã",
            "Tên xã",
            "Dân số",
            "Số người nghiện",
            None,
            "Số cây bị phá hủy",
            "Diện tích trồng",
            "Trên tuyến trọng điểm",
        ]
    )
    sheet.append([None, None, None, None, None, "Có hồ sơ", "Không hồ sơ"])
    sheet.append([None, None, None, None, "(người)", "(người)", "(người)", "(cây)", "(m²)"])
    sheet.append(["A", "B", 1, 2, 3, 4, 5, 6, 7, 8])
    for cells in ("A4:A5", "B4:B5", "C4:C5", "D4:D5", "E4:E5", "F4:G4", "H4:H5", "I4:I5", "J4:J5"):
        sheet.merge_cells(cells)
    sheet.append([1, 2025, "10507", "Phường Hồng Bàng", 30000, 120, 15, 0, 0, "có"])
    sheet.append([2, 2025, "10525", "Phường Lê Chân", 20000, "-", 3, 0, 0, "không"])
    sheet.append([3, 2025, "10532", "Phường Hải An", 15000, 40, 2, "N/A", 0, "không"])
    sheet.append(["Tổng cộng", None, None, None, 65000, 160, 20, 0, 0])
    sheet.merge_cells("A11:D11")
    sheet.append([4])
    sheet.append([5])
    book.save(path)
    return path
