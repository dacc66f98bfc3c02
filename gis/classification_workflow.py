"""The planner's yearly cycle on the database: derive indicators, draft (legal + learned + forecast), review."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Connection

from gis.classification_store import create_run, final_classes, require_run, run_results
from gis.indicator_queries import yearly_indicators
from models.classification_review import METHOD, build_draft, review_order
from models.classification_rules import DEFAULT_RULES_PATH, LegalRules, load_rules

#: Years of history that train the next-year forecast (the draft year included).
HISTORY_YEARS = 5


def draft_year(conn: Connection, year: int, *, actor: str, rules: LegalRules | None = None, replace: bool = False,
               note: str | None = None) -> dict[str, Any]:
    """Compute and store a new draft of a year's classification; returns the run with its counts."""
    rules = rules or load_rules(DEFAULT_RULES_PATH)
    history = yearly_indicators(conn, year - HISTORY_YEARS + 1, year)
    draft = build_draft(history, year, rules)
    run = create_run(conn, year, draft, actor=actor, rules_version=rules.version, method=METHOD,
                     params={"history_years": HISTORY_YEARS, "rules_source": rules.source},
                     replace=replace, note=note)
    return {**run, "counts": count_classes(draft)}


def count_classes(results: pd.DataFrame) -> dict[str, int]:
    """Communes per final class ('trong_diem_I', 'at_risk', 'drug_free', …)."""
    key = results["category"] + results["level"].fillna("").map(lambda lvl: f"_{lvl}" if lvl else "")
    return {str(k): int(v) for k, v in key.value_counts().sort_index().items()}


def review(conn: Connection, year: int, version: int | None = None) -> tuple[dict[str, Any], pd.DataFrame]:
    """A run and its communes in review order (disagreements and changes vs the previous approved year first)."""
    run = require_run(conn, year, version)
    return run, review_order(run_results(conn, run["id"]), final_classes(conn, year - 1))
