"""Yearly KPIs of drug-free communes and hotspots against the city's targets (the targets file is parsed here,
read by gis.reference)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from models.vocabulary import MISSING_DATA_LABEL, PROBLEM_CATEGORIES


@dataclass(frozen=True)
class KpiTargets:
    """The city's targets: drug-free share path, growth limits and hotspot targets, with labels."""

    version: str
    source: str
    drug_free_points: tuple[tuple[int, float], ...]
    drug_free_note: str
    max_problem_growth: float
    min_eradicated_growth: float
    max_recurrences: int
    max_new_hotspots: int
    labels_vi: dict[str, str]

    def drug_free_target(self, year: int) -> float | None:
        """Target share for a year: the path point, linear in between, None before the path starts."""
        years, shares = zip(*self.drug_free_points)
        if year < years[0]:
            return None
        return float(np.interp(year, years, shares))


def parse_targets(doc: Mapping[str, Any]) -> KpiTargets:
    """The KPI targets from a parsed targets document (data/targets/*.toml)."""
    points = tuple(sorted((int(p["year"]), float(p["share"])) for p in doc["drug_free_share"]["points"]))
    sections = ("drug_free_share", "problem_growth", "eradicated_growth", "recurrences", "new_hotspots")
    return KpiTargets(
        version=str(doc["version"]),
        source=str(doc["source"]),
        drug_free_points=points,
        drug_free_note=str(doc["drug_free_share"].get("note", "")),
        max_problem_growth=float(doc["problem_growth"]["max_share"]),
        min_eradicated_growth=float(doc["eradicated_growth"]["min_share"]),
        max_recurrences=int(doc["recurrences"]["max_count"]),
        max_new_hotspots=int(doc["new_hotspots"]["max_count"]),
        labels_vi={s: str(doc[s]["label_vi"]) for s in sections},
    )


def _growth(now: float, before: float | None) -> float | None:
    """Relative change, None when there is nothing to compare with."""
    return None if before is None or before == 0 else (now - before) / before


def _row(key: str, label: str, value: Any, target: Any, met: bool | None, unit: str, note: str = "") -> dict[str, Any]:
    """One KPI line."""
    return {"key": key, "label_vi": label, "value": value, "target": target, "met": met, "unit": unit, "note": note}


def recurrences_row(recurred: int, targets: KpiTargets) -> dict[str, Any]:
    """The KPI line of hotspots that became complex again in a year (the report's and the command page's)."""
    limit = targets.max_recurrences
    return _row("recurrences", targets.labels_vi["recurrences"], recurred, limit, recurred <= limit, "lượt")


def compute_kpis(
    year: int, classes: pd.DataFrame, previous: pd.DataFrame | None, hotspots: dict[str, int], targets: KpiTargets
) -> list[dict[str, Any]]:
    """KPI lines of a year from its final classes, the previous year's, and city-wide hotspot counts."""
    total = len(classes)
    free = int(classes["category"].eq("drug_free").sum())
    # An incomplete commune is never drug-free (rules, override check and a database constraint): report how many.
    unknown = int(classes["incomplete"].sum()) if "incomplete" in classes else 0
    share = free / total if total else None
    target = targets.drug_free_target(year)
    problems = int(classes["category"].isin(PROBLEM_CATEGORIES).sum())
    problems_before = int(previous["category"].isin(PROBLEM_CATEGORIES).sum()) if previous is not None else None
    growth = _growth(problems, problems_before)
    eradicated_growth = _growth(hotspots["eradicated"], hotspots["eradicated_previous"])
    labels = targets.labels_vi
    key_levels = classes.loc[classes["category"].eq("trong_diem"), "level"].value_counts()
    return [
        _row(
            "drug_free_share",
            labels["drug_free_share"],
            None if share is None else round(share, 4),
            target,
            None if share is None or target is None else share >= target,
            "tỷ lệ",
            f"{free}/{total} đơn vị"
            + (f"; {unknown} đơn vị {MISSING_DATA_LABEL}, không tính là không ma túy" if unknown else "")
            + f". {targets.drug_free_note}",
        ),
        _row(
            "problem_communes",
            "Số địa bàn có tệ nạn ma túy (trọng điểm và có tệ nạn)",
            problems,
            None,
            None,
            "địa bàn",
            f"năm trước: {problems_before if problems_before is not None else 'chưa có'}",
        ),
        _row(
            "problem_growth",
            labels["problem_growth"],
            None if growth is None else round(growth, 4),
            targets.max_problem_growth,
            None if growth is None else growth < targets.max_problem_growth,
            "tỷ lệ",
            "" if growth is not None else "chưa có kết quả năm trước để so sánh",
        ),
        *(
            _row(f"trong_diem_{lvl}", f"Trọng điểm loại {lvl}", int(key_levels.get(lvl, 0)), None, None, "địa bàn")
            for lvl in ("I", "II", "III")
        ),
        _row(
            "eradicated",
            "Điểm, tụ điểm bị triệt xóa trong năm",
            hotspots["eradicated"],
            None,
            None,
            "điểm",
            f"năm trước: {hotspots['eradicated_previous']}",
        ),
        _row(
            "eradicated_growth",
            labels["eradicated_growth"],
            None if eradicated_growth is None else round(eradicated_growth, 4),
            targets.min_eradicated_growth,
            None if eradicated_growth is None else eradicated_growth >= targets.min_eradicated_growth,
            "tỷ lệ",
        ),
        recurrences_row(hotspots["recurred"], targets),
        _row(
            "new_hotspots",
            labels["new_hotspots"],
            hotspots["new"],
            targets.max_new_hotspots,
            hotspots["new"] <= targets.max_new_hotspots,
            "điểm",
        ),
        _row("open_hotspots", "Điểm, tụ điểm đang theo dõi xử lý (hiện tại)", hotspots["open_now"], None, None, "điểm"),
    ]
