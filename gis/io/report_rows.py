"""The rows an import reports (line, ref, field, reason), held in bounded memory whatever their number.

A 10-million-row file whose every row is refused, or whose points all lie outside the province, has as many
report rows as rows. Kept as one DataFrame they cost about 250 bytes each: an all-rejected file of 1M rows peaked
at 486–499 MB RSS against 268 MB at 100k. Here rows are buffered up to `SPILL_ROWS`, then sorted and written to an
anonymous temporary file (Arrow IPC, in TMPDIR, gone when the process ends) as one sorted run. Reading merges the
runs in (line, field) order, a batch at a time, exactly as a stable sort of all rows in the order they were added.

Runs that follow each other in line order (a file's chunks, validated one after another) are read one after the
other rather than merged: an import merges at most a few such chains (the file's, the unplaced rows', the
outside points').
"""

from __future__ import annotations

import heapq
import itertools
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO

import pandas as pd
import pyarrow as pa

from models.domain.row_checks import REJECT_COLUMNS

#: Rows buffered before a sorted run is written out: ~25 MB of report rows.
SPILL_ROWS = 100_000
#: Rows read back from a run at a time: with tens of runs in one chain, one batch of each chain is in memory.
READ_ROWS = 4_096
_SCHEMA = pa.schema([("line", pa.int64()), ("ref", pa.string()), ("field", pa.string()), ("reason", pa.string())])
Row = tuple[int, "str | None", "str | None", "str | None"]


def _order(row: Row) -> tuple[int, bool, str]:
    """(line, field) as pandas sorts them: a missing field after every named one."""
    return row[0], row[2] is None, row[2] or ""


@dataclass
class _Run:
    """One sorted run: in memory (the last, unspilled rows) or in a temporary file."""

    first: int
    last: int
    file: IO[bytes] | None = None
    frame: pd.DataFrame | None = None

    def rows(self) -> Iterator[Row]:
        if self.frame is not None:
            yield from _tuples(_table(self.frame))
            return
        assert self.file is not None
        self.file.seek(0)
        reader = pa.ipc.open_file(self.file)
        for i in range(reader.num_record_batches):
            yield from _tuples(reader.get_batch(i))


def _table(frame: pd.DataFrame) -> pa.Table:
    """Report rows as Arrow; a ref, field or reason that is not text (a number an importer passed on) as its text."""
    try:
        return pa.Table.from_pandas(frame, schema=_SCHEMA, preserve_index=False)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        text = {
            c: frame[c].map(lambda v: v if v is None or isinstance(v, str) or pd.isna(v) else str(v))
            for c in REJECT_COLUMNS[1:]
        }
        return pa.Table.from_pandas(frame.assign(**text), schema=_SCHEMA, preserve_index=False)


def _tuples(table: pa.Table | pa.RecordBatch) -> Iterator[Row]:
    columns = [table.column(name).to_pylist() for name in REJECT_COLUMNS]
    return zip(*columns)


@dataclass
class ReportRows:
    """Report rows of one import (line, ref, field, reason) in bounded memory; read in (line, field) order.

    `add` takes DataFrames with those columns. `len` is the number of rows, `lines` the number of distinct
    lines; `head(n)` and `frame()` give DataFrames (the latter of every row: for small lists and tests),
    `rows()` streams tuples for a listing of any size.
    """

    _runs: list[_Run] = field(default_factory=list)
    _buffer: list[pd.DataFrame] = field(default_factory=list)
    _buffered: int = 0
    _count: int = 0
    _lines: int | None = None
    #: Whether the buffer is one frame already in order (a read sorts it; an `add` unsettles it).
    _buffer_sorted: bool = False

    @classmethod
    def of(cls, *frames: pd.DataFrame) -> ReportRows:
        """Report rows holding these frames' rows."""
        rows = cls()
        for frame in frames:
            rows.add(frame)
        return rows

    def add(self, frame: pd.DataFrame) -> None:
        """Add rows; a frame is never split between runs."""
        if not len(frame):
            return
        self._buffer.append(frame.loc[:, list(REJECT_COLUMNS)])
        self._buffered += len(frame)
        self._count += len(frame)
        self._lines = None
        self._buffer_sorted = False
        if self._buffered >= SPILL_ROWS:
            self._spill()

    def __len__(self) -> int:
        return self._count

    @property
    def empty(self) -> bool:
        return self._count == 0

    @property
    def lines(self) -> int:
        """Distinct lines among the rows (a line refused for several fields counts once)."""
        if self._lines is None:
            self._lines = sum(1 for _ in itertools.groupby(self.rows(), key=lambda row: row[0]))
        return self._lines

    def rows(self) -> Iterator[Row]:
        """Every row in (line, field) order, ties in the order they were added; memory bounded by the chains."""
        chains = list(self._chains())
        if len(chains) == 1:
            return chains[0]
        return heapq.merge(*chains, key=_order)

    def head(self, n: int) -> pd.DataFrame:
        """The first `n` rows in order."""
        return _frame(itertools.islice(self.rows(), n))

    def frame(self) -> pd.DataFrame:
        """Every row as one DataFrame: for lists known to be small (tests, an indicator file)."""
        return _frame(self.rows())

    def _spill(self) -> None:
        """Sort the buffered rows and write them out as one run."""
        run = self._sorted_buffer()
        sink = tempfile.TemporaryFile()
        with pa.ipc.new_file(sink, _SCHEMA) as writer:
            writer.write_table(_table(run.frame), max_chunksize=READ_ROWS)
        self._runs.append(_Run(run.first, run.last, file=sink))

    def _sorted_buffer(self) -> _Run:
        frame = pd.concat(self._buffer, ignore_index=True) if len(self._buffer) > 1 else self._buffer[0]
        frame = frame.sort_values(["line", "field"], kind="stable", ignore_index=True)
        self._buffer, self._buffered = [], 0
        return _Run(int(frame["line"].iloc[0]), int(frame["line"].iloc[-1]), frame=frame)

    def _chains(self) -> Iterator[Iterator[Row]]:
        """The runs as chains read one after another: a run joins the last chain when all its lines come after."""
        runs = list(self._runs)
        if self._buffer:
            runs.append(self._sorted_buffer_view())
        if not runs:
            yield iter(())
            return
        chain = [runs[0]]
        for run in runs[1:]:
            if run.first > chain[-1].last:
                chain.append(run)
            else:
                yield itertools.chain.from_iterable(r.rows() for r in chain)
                chain = [run]
        yield itertools.chain.from_iterable(r.rows() for r in chain)

    def _sorted_buffer_view(self) -> _Run:
        """The unspilled rows as a sorted run, kept as the buffer (sorted once, read as often as asked)."""
        if self._buffer_sorted:
            frame = self._buffer[0]
            return _Run(int(frame["line"].iloc[0]), int(frame["line"].iloc[-1]), frame=frame)
        run = self._sorted_buffer()
        assert run.frame is not None
        self._buffer, self._buffered, self._buffer_sorted = [run.frame], len(run.frame), True
        return run


def _frame(rows: Iterable[Row]) -> pd.DataFrame:
    table = pd.DataFrame(list(rows), columns=list(REJECT_COLUMNS))
    return table.astype({"line": "int64"})
