"""Benchmark: yearly classification of all 3,321 communes of Vietnam on 5 years and 2,000,000 SYNTHETIC incidents.

Run: ``.venv/bin/python bench/bench_classify.py [--incidents N]``. A throwaway PostGIS cluster is
started in a temporary directory; boundaries, incidents and indicators are loaded with the normal
importers (load times reported apart), then indicators + legal + learned classification + forecast
are timed end to end (``draft_year``, target < 60 s) and stage by stage.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from gis.io.scenario_files import write_scenario
from gis.ops.postgres import APP_ROLE, temporary_cluster
from gis.reference import load_rules
from gis.services.boundary_import import import_boundaries
from gis.services.classification import HISTORY_YEARS, draft_year
from gis.services.incident_import import import_incidents
from gis.services.indicator_import import import_indicators
from gis.store.classifications import create_run
from gis.store.db import migrate
from gis.store.indicators import (
    current_communes,
    hotspot_aggregates,
    imported_indicators,
    incident_aggregates,
)
from models.domain.classification import METHOD, build_draft
from models.domain.indicators import derive_indicators
from models.domain.legal_rules import classify_legal, evaluate_criteria
from models.forecast.learned import classify_learned, forecast_risk
from models.synthetic.scenario import ScenarioConfig, generate_scenario

COMMUNES = Path(__file__).resolve().parents[2] / "shared" / "data" / "vietnam" / "communes.geojson.gz"
YEAR = 2025
TARGET_S = 60.0


def timed(label: str, times: dict[str, float], fn: Callable[[], Any]) -> Any:
    """Run fn, record and print its wall-clock time."""
    start = time.perf_counter()
    out = fn()
    times[label] = time.perf_counter() - start
    print(f"  {label:<44} {times[label]:8.2f} s", flush=True)
    return out


def main() -> None:
    """Load the national scenario into a throwaway cluster and time the classification stages."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=2_000_000)
    args = parser.parse_args()
    load: dict[str, float] = {}
    print("Load (not part of the target):")
    communes = timed("read communes (.gz)", load, lambda: gpd.read_file(f"/vsigzip/{COMMUNES}"))
    odd = communes["kind"] == "other"
    communes.loc[odd, "kind"] = "xa"  # one unit of unknown kind; treated as a rural commune here
    config = ScenarioConfig(seed=7, years=5, n_incidents=args.incidents, end=date(YEAR, 12, 31))
    scenario = timed(
        f"generate {args.incidents:,} synthetic incidents", load, lambda: generate_scenario(communes, config)
    )
    with tempfile.TemporaryDirectory() as tmp, temporary_cluster("diaban-bench-") as cluster:
        paths = timed("write scenario files", load, lambda: write_scenario(scenario, Path(tmp)))
        boundaries = Path(tmp) / "communes.gpkg"
        communes.to_file(boundaries, driver="GPKG")
        owner = create_engine(cluster.owner_url(), poolclass=NullPool)
        migrate(owner, app_role=APP_ROLE)
        owner.dispose()
        engine = create_engine(cluster.url())
        with engine.begin() as conn:
            timed("import boundaries", load, lambda: import_boundaries(conn, boundaries))
        with engine.begin() as conn:
            report = timed(
                "import incidents", load, lambda: import_incidents(conn, paths["incidents"], imported_by="bench")
            )
        with engine.begin() as conn:
            timed("import indicators", load, lambda: import_indicators(conn, paths["indicators"], imported_by="bench"))
        print(f"  communes {len(communes):,}; incidents imported {report.imported:,} (outside {report.outside:,})")

        print(f"\nEnd to end (draft_year {YEAR}: indicators + legal + learned + forecast + store):")
        total: dict[str, float] = {}
        with engine.begin() as conn:
            run = timed("draft_year", total, lambda: draft_year(conn, YEAR, actor="bench"))
        verdict = "OK" if total["draft_year"] < TARGET_S else "OVER TARGET"
        print(f"  classes: {run['counts']}\n  target < {TARGET_S:.0f} s: {verdict}")

        print("\nStage breakdown (same data, run again stage by stage):")
        stages: dict[str, float] = {}
        y0 = YEAR - HISTORY_YEARS + 1
        rules = load_rules()
        with engine.begin() as conn:
            codes = timed("SQL: current communes", stages, lambda: current_communes(conn)["commune_code"])
            imported = timed("SQL: imported indicators", stages, lambda: imported_indicators(conn, y0, YEAR))
            incidents = timed(
                "SQL: incident aggregates (commune×year×kind)", stages, lambda: incident_aggregates(conn, y0, YEAR)
            )
            hotspots = timed("SQL: hotspot aggregates", stages, lambda: hotspot_aggregates(conn, y0, YEAR))
            history = timed(
                "derive indicators (pandas)",
                stages,
                lambda: derive_indicators(codes, range(y0, YEAR + 1), imported, incidents, hotspots, rules.derived()),
            )
            current = history[history["year"] == YEAR].reset_index(drop=True)
            timed("legal classification (QĐ 28)", stages, lambda: classify_legal(current, rules))
            timed("legal criteria table", stages, lambda: evaluate_criteria(current, rules))
            timed("learned classification (GMM)", stages, lambda: classify_learned(current))
            timed("next-year risk forecast", stages, lambda: forecast_risk(history))
            draft = timed("assemble draft (all of the above models)", stages, lambda: build_draft(history, YEAR, rules))
            timed(
                "store run (jsonb_to_recordset)",
                stages,
                lambda: create_run(
                    conn,
                    YEAR,
                    draft,
                    actor="bench",
                    rules_version=rules.version,
                    method=METHOD,
                    params={},
                    replace=True,
                ),
            )
        models_only = sum(v for k, v in stages.items() if k.startswith(("legal", "learned", "next-year")))
        stage_total = sum(stages.values()) - models_only  # build_draft repeats the model stages
        print(f"\nShare of the stage total ({stage_total:.2f} s; model stages counted once, inside the draft):")
        for label, seconds in stages.items():
            counted = "" if not label.startswith(("legal", "learned", "next-year")) else " (inside draft)"
            print(f"  {label:<44} {seconds / stage_total:7.1%}{counted}")
        engine.dispose()


if __name__ == "__main__":
    main()
