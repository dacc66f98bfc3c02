"""Benchmark: the reading layer on a plain UTF-8 CSV against Arrow alone, and the other encodings against it.

Run: ``.venv/bin/python bench/bench_readers.py [--rows N]``. The same generated incident table is written as
comma-separated UTF-8 (the usual export) and as semicolon-separated Windows-1258 and UTF-16 text (what Excel
writes in a Vietnamese locale). Prints seconds and ratios, same run:

- `read_table` (encoding check, separator sniffing, Arrow, line numbers) vs Arrow's reader alone with every
  column as a string (the floor of any reader of this file);
- each other encoding vs the UTF-8 file through `read_table` (a decoding pass, then the same path);
- the contract (`validate_incidents`) on the table read.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
from common import incident_csv

from gis.io.readers import read_table
from gis.io.text_encodings import encode_cp1258
from models.domain.incident_contract import validate_incidents


def best_of(runs: int, work: Callable[[], object]) -> float:
    """The fastest of `runs` timings (the machine is shared: the minimum is the least disturbed)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        utf8 = incident_csv(args.rows, Path(tmp))
        text = utf8.read_text(encoding="utf-8")
        semicolon = text.replace(",", ";")  # the generated table has no commas inside fields
        cp1258 = Path(tmp) / "cp1258.csv"
        cp1258.write_bytes(encode_cp1258(semicolon))
        utf16 = Path(tmp) / "utf16.txt"
        utf16.write_bytes(text.replace(",", "\t").encode("utf-16"))
        header = text.split("\n", 1)[0].split(",")
        options = pa_csv.ConvertOptions(column_types={h: pa.string() for h in header})

        arrow = best_of(args.runs, lambda: pa_csv.read_csv(utf8, convert_options=options).to_pandas())
        ours = best_of(args.runs, lambda: read_table(utf8))
        print(f"rows: {args.rows:,}; file {utf8.stat().st_size / 1e6:.0f} MB")
        print(f"Arrow alone, all strings:       {arrow:6.2f} s")
        print(f"read_table, UTF-8 comma:        {ours:6.2f} s   ratio to Arrow alone: {ours / arrow:.2f}x")
        for name, path in (("Windows-1258 ';'", cp1258), ("UTF-16 tab", utf16)):
            other = best_of(args.runs, lambda p=path: read_table(p))
            print(f"read_table, {name:<18} {other:6.2f} s   ratio to UTF-8: {other / ours:.2f}x")
        frame = read_table(utf8)
        check = best_of(args.runs, lambda: validate_incidents(frame.copy()))
        print(f"validate_incidents:             {check:6.2f} s   ({args.rows / check:,.0f} rows/s)")


if __name__ == "__main__":
    main()
