"""Who issues a document and where: the agency line at the top left of an administrative report and the place of its
date line ("Hải Phòng, ngày …"), after the reader's scope — a province's police, or the Ministry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Heading:
    """The issuing agency (capitals, as on the document) and the place written before its date."""

    agency: str
    place: str

    def date_line(self, day: date) -> str:
        """'Hải Phòng, ngày 05 tháng 01 năm 2026'."""
        return f"{self.place}, ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"


#: The Ministry of Public Security (nation-wide users): its documents are dated at its seat, Hà Nội.
MINISTRY = Heading("BỘ CÔNG AN", "Hà Nội")


def province_heading(name: str, full_name: str) -> Heading:
    """A province's police: "Thành phố Hải Phòng" → 'CÔNG AN THÀNH PHỐ HẢI PHÒNG', dated at 'Hải Phòng'."""
    return Heading(f"CÔNG AN {full_name.upper()}", name)
