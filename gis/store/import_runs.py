"""Import runs: who imported which file when, with its counts — shared by every importer."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, text

from gis.io.report_rows import ReportRows

#: The warning of a file holding no row below its header (a daily file of a day without incidents is one): nothing to
#: import, which is not an error, but is said, so that a wrong or truncated file is not taken for an imported one.
NO_ROWS = "tệp không có dòng dữ liệu nào dưới dòng tiêu đề: không có gì để nhập"


@dataclass
class ImportReport:
    """Counts of one import plus its rejects, duplicates and flagged rows (line, ref, field, reason) and warnings.

    Duplicates were left out, their ref stored already or repeated in the file (the reason names the line kept).
    Flagged rows were kept but need a look: an ambiguous legacy commune (with its candidates), a point
    outside every commune. The lists are held in bounded memory (`ReportRows`), whatever the file's size.
    """

    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    outside: int = 0
    nearest: int = 0
    by_code: int = 0
    by_address: int = 0
    ambiguous: int = 0
    import_id: int | None = None
    rejects: ReportRows = field(default_factory=ReportRows)
    duplicated: ReportRows = field(default_factory=ReportRows)
    flagged: ReportRows = field(default_factory=ReportRows)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        """The stable JSON summary printed by `--json`."""
        return {
            "imported": self.imported,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "outside": self.outside,
            "by_code": self.by_code,
            "by_address": self.by_address,
            "ambiguous": self.ambiguous,
        }

    @property
    def nothing_usable(self) -> bool:
        """Every row of the file was rejected: none imported, none already stored (the command exits 2, the API
        answers 422)."""
        return self.rejected > 0 and self.imported == 0 and self.duplicates == 0

    def indicator_summary(self) -> dict[str, int]:
        """The counts an indicator import reports (it has no duplicates and places no points)."""
        return {"imported": self.imported, "rejected": self.rejected, "flagged": len(self.flagged)}


def file_sha256(path: Path) -> str:
    """Content hash recorded with each import run."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def start_import_run(conn: Connection, dataset: str, path: Path, imported_by: str) -> int:
    """Record who imports which file; the row commits or rolls back with the import."""
    return conn.execute(
        text(
            "INSERT INTO import_runs (dataset, file_name, file_sha256, imported_by, imported, duplicates,"
            " rejected, outside) VALUES (:d, :f, :h, :u, 0, 0, 0, 0) RETURNING id"
        ),
        {"d": dataset, "f": path.name, "h": file_sha256(path), "u": imported_by},
    ).scalar_one()


def finish_import_run(conn: Connection, report: ImportReport) -> None:
    """Store the final counts of an import run and mark it finished: the one change the database lets a run have
    (migration 0030; the app role may update these columns only, `gis.store.privileges.FINISHED_ONCE`)."""
    conn.execute(
        text(
            "UPDATE import_runs SET imported = :imported, duplicates = :duplicates, rejected = :rejected,"
            " outside = :outside, by_code = :by_code, by_address = :by_address, ambiguous = :ambiguous,"
            " finished = true WHERE id = :id"
        ),
        {**report.summary(), "id": report.import_id},
    )
