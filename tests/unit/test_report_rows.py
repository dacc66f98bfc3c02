"""Report rows in bounded memory (gis.io.report_rows): the same order as a stable sort of every row, any size."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest

from gis.io import report_rows
from gis.io.report_rows import ReportRows


def frame(lines: list[int], fields: list[str | None], tag: str) -> pd.DataFrame:
    return pd.DataFrame(
        {"line": lines, "ref": [f"R{n}" if n % 3 else None for n in lines], "field": fields, "reason": tag}
    )


@pytest.mark.parametrize("spill", [2, 5, 1_000])
def test_rows_come_as_a_stable_sort_of_everything_added(monkeypatch: pytest.MonkeyPatch, spill: int) -> None:
    """A file's chunks (lines rising), then lists over every line (unplaced, outside), ties on (line, field)
    and missing fields: spilled every `spill` rows or never, read as pandas sorts the whole."""
    monkeypatch.setattr(report_rows, "SPILL_ROWS", spill)
    rng = np.random.default_rng(7)
    parts = []
    for start in range(0, 60, 6):  # chunks of a file: several fields of one line, one line twice for a field
        lines = sorted(rng.integers(start, start + 6, 5).tolist())
        parts.append(frame(lines, [rng.choice(["lat", "lon", None]) for _ in lines], f"chunk {start}"))
    parts.append(frame(sorted(rng.integers(0, 60, 9).tolist()), ["commune_code"] * 9, "unplaced"))
    parts.append(frame(sorted(rng.integers(0, 60, 7).tolist()), ["lon/lat"] * 7, "outside"))
    rows = ReportRows.of(*parts)
    expected = pd.concat(parts, ignore_index=True).sort_values(["line", "field"], kind="stable", ignore_index=True)
    got = rows.frame()
    assert got.astype(object).where(got.notna(), None).values.tolist() == (
        expected.astype(object).where(expected.notna(), None).values.tolist()
    )
    assert len(rows) == len(expected) and rows.lines == expected["line"].nunique()
    assert rows.head(4).values.tolist() == got.head(4).values.tolist()
    assert got["line"].dtype == np.int64


def test_unspilled_rows_are_sorted_once_however_often_they_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """A report is read for its summary, its first rows and its listing: one sort, until rows are added."""
    sorts = []
    original = ReportRows._sorted_buffer
    monkeypatch.setattr(ReportRows, "_sorted_buffer", lambda self: sorts.append(1) or original(self))
    rows = ReportRows.of(frame([5, 1], ["lat", "lon"], "a"), frame([3], ["lon"], "b"))
    assert [r[0] for r in rows.rows()] == [1, 3, 5] and rows.lines == 3 and len(rows.head(2)) == 2
    assert len(sorts) == 1
    rows.add(frame([2], ["lat"], "c"))
    assert [r[0] for r in rows.rows()] == [1, 2, 3, 5] and len(rows.frame()) == 4 and len(sorts) == 2


def test_an_empty_list() -> None:
    rows = ReportRows.of(pd.DataFrame(columns=["line", "ref", "field", "reason"]))
    assert rows.empty and len(rows) == 0 and rows.lines == 0
    assert list(rows.frame().columns) == ["line", "ref", "field", "reason"] and rows.frame().empty


def test_memory_stays_bounded_whatever_the_number_of_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """150,000 report rows of distinct text, added in chunks and read back: Python's peak stays a fraction of
    what the rows would take held together (~50 MB here; ~250 bytes a row in a real import)."""
    monkeypatch.setattr(report_rows, "SPILL_ROWS", 20_000)
    total, chunk = 150_000, 10_000
    tracemalloc.start()
    try:
        rows = ReportRows()
        for start in range(0, total, chunk):
            lines = range(start, start + chunk)
            rows.add(
                pd.DataFrame(
                    {
                        "line": lines,
                        "ref": [f"R-{n}" for n in lines],
                        "field": "occurred_at",
                        "reason": [f"ngày không hợp lệ ở dòng {n} (invalid date)" for n in lines],
                    }
                )
            )
        seen = sum(1 for _ in rows.rows())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == total and rows.lines == total
    assert peak < 20 * 2**20, f"peak {peak / 2**20:.1f} MB"


@pytest.mark.parametrize("spill", [1, 1_000])
def test_a_reference_that_is_a_number_is_listed_as_its_text(monkeypatch: pytest.MonkeyPatch, spill: int) -> None:
    """A ref read as a number (a workbook cell) is listed, not a crash, whether the rows are spilled or not."""
    monkeypatch.setattr(report_rows, "SPILL_ROWS", spill)
    refs = pd.Series([1234, None], dtype=object)
    rows = ReportRows.of(pd.DataFrame({"line": [3, 2], "ref": refs, "field": ["lat", "lat"], "reason": "x"}))
    got = rows.frame()
    assert got["line"].tolist() == [2, 3] and pd.isna(got["ref"][0]) and got["ref"][1] == "1234"
