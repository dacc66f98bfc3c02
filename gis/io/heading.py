"""Who issues a document and where: the agency line at the top left of an administrative report and the place of its
date line ("Hải Phòng, ngày …"), after the reader's scope — a province's police, or the Ministry — and who exported
it when, the line under its title that a file passed on to the steering committee is traced by."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from models.domain.dates import local_day, vn_time


@dataclass(frozen=True)
class Heading:
    """The issuing agency (capitals, as on the document), the place written before its date, the user who exported
    it and the instant they did."""

    agency: str
    place: str
    by: str
    at: datetime

    @property
    def day(self) -> date:
        """The Hải Phòng day the document is dated."""
        return local_day(self.at)

    def date_line(self) -> str:
        """'Hải Phòng, ngày 05 tháng 01 năm 2026'."""
        day = self.day
        return f"{self.place}, ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"

    def issued_line(self, scope: str, basis: str = "") -> str:
        """Who exported the document when (Hải Phòng time), which units it covers and the texts it rests on:
        'Người xuất: tham.muu, lúc 05/01/2026 09:30 (giờ Việt Nam); phạm vi: Thành phố Hải Phòng; căn cứ: …'."""
        line = f"Người xuất: {self.by}, lúc {vn_time(self.at)} (giờ Việt Nam); phạm vi: {scope}"
        return f"{line}; căn cứ: {basis}" if basis else line


#: The Ministry of Public Security (nation-wide users) and where its documents are dated: its seat, Hà Nội.
MINISTRY = ("BỘ CÔNG AN", "Hà Nội")


def province_agency(name: str, full_name: str) -> tuple[str, str]:
    """A province's police and where it dates: "Thành phố Hải Phòng" → ('CÔNG AN THÀNH PHỐ HẢI PHÒNG', 'Hải Phòng')."""
    return f"CÔNG AN {full_name.upper()}", name
