"""Import runs: who imported which file when, with its counts — shared by every importer."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
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
    #: Rows of old (pre-2025) communes stored as given only (an indicator import's `legacy_given`): kept, though not
    #: counted as imported onto today's communes.
    kept_old: int = 0
    import_id: int | None = None
    rejects: ReportRows = field(default_factory=ReportRows)
    duplicated: ReportRows = field(default_factory=ReportRows)
    flagged: ReportRows = field(default_factory=ReportRows)
    warnings: list[str] = field(default_factory=list)
    #: A dry run's report (:func:`dry_run_savepoint`): nothing was kept, not even the import run (``import_id`` None).
    dry_run: bool = False

    def rolled_back(self) -> ImportReport:
        """This report as a dry run's: the counts and rows of the import that ran, its rolled-back run unnamed."""
        self.dry_run, self.import_id = True, None
        return self

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
        """Every row of the file was rejected: none imported, none already stored, none kept on its old commune (the
        command exits 2, the API answers 422)."""
        return self.rejected > 0 and self.imported == 0 and self.duplicates == 0 and self.kept_old == 0

    def indicator_summary(self) -> dict[str, int]:
        """The counts an indicator import reports (it has no duplicates and places no points)."""
        return {"imported": self.imported, "rejected": self.rejected, "flagged": len(self.flagged)}


@contextmanager
def dry_run_savepoint(conn: Connection, dry_run: bool) -> Iterator[None]:
    """The block as it is, or, for a dry run («Kiểm tra tệp», ``dry_run=true``, ``--dry-run``), in a savepoint rolled
    back at its end, whatever happens in it.

    The import runs its very statements, so its report says exactly what it would do at that moment (no second
    validation to drift from the first), and leaves nothing: rows, its import run, audit lines, data-version bumps,
    partitions made or rebuilt (PostgreSQL's DDL is transactional), locks taken since, NOTIFYs (sent at a commit only).
    Sequences are never rolled back: the ids a dry run drew are skipped (gaps, as after any rolled-back import)."""
    if not dry_run:
        yield
        return
    savepoint = conn.begin_nested()
    try:
        yield
    finally:
        if savepoint.is_active:
            savepoint.rollback()


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
