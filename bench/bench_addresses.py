"""Benchmark: placing incidents without coordinates by their old commune code or address, offline.

Run: ``.venv/bin/python bench/bench_addresses.py [--rows N]``. Generates a synthetic 2024 table keyed by old
communes (a third by code, two thirds by address; `gis.demo.samples.legacy_year_tables`) and times
`locate_by_unit` (each distinct code or address resolved once, the parser asked for no street) against the
package's parser called as its README shows (`parse_address(address, mode=…)`, street kept) on the same
distinct addresses, same run. Prints rows, distinct keys, seconds and the ratio.
"""

from __future__ import annotations

import argparse
import time

import geopandas as gpd
from vietnamadminunits import parse_address

from gis.demo.samples import legacy_units, legacy_year_tables
from gis.services.incident_import import locate_by_unit
from gis.settings import DataSettings
from gis.unit_directory import unit_directory
from models.domain.incident_contract import validate_incidents


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    known = set(gpd.read_file(DataSettings().boundaries)["code"].astype(str))
    directory = unit_directory()
    table, _ = legacy_year_tables(legacy_units(directory, known), n=args.rows, seed=5)
    table.columns = [c.lower() for c in table.columns]
    table["line"] = range(2, len(table) + 2)
    valid = validate_incidents(table).valid
    addresses = sorted({a for a in valid["address"].dropna()})

    start = time.perf_counter()
    _, rejects, flagged, _ = locate_by_unit(valid, known)
    ours = time.perf_counter() - start
    start = time.perf_counter()
    for address in addresses:
        if parse_address(address, mode="LEGACY", level=3).ward_code is None:
            parse_address(address, mode="FROM_2025", level=2)
    theirs = time.perf_counter() - start
    print(
        f"rows: {args.rows:,}; distinct addresses: {len(addresses):,}; rejected {len(rejects)}, flagged {len(flagged)}"
    )
    print(f"locate_by_unit (codes and addresses):  {ours:6.2f} s  {args.rows / ours:>9,.0f} rows/s")
    print(f"package parser as documented (street): {theirs:6.2f} s  (addresses only)")
    print(f"ratio locate_by_unit / documented parser: {ours / theirs:.2f}x")


if __name__ == "__main__":
    main()
