"""Yearly KPIs of drug-free communes and hotspots against a province's or the country's targets (the targets files
are parsed here, read by gis.reference). A target a file does not set is reported without one, never invented; the
drug-free share's path is the file's points, a year between two of them on the line joining them (stated in the
README), the last point's share after it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np

from models.domain.dates import vn_day
from models.lazy import lazy_module
from models.numbers import vn_number
from models.vocabulary import KPI_NO_DATA, MISSING_DATA_LABEL, PROBLEM_CATEGORIES, RECURRED_WORDS, Category

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

#: Sections of a targets file and the Vietnamese label of each when a file leaves it out.
SECTIONS = {
    "drug_free_share": "Tỷ lệ xã, phường, đặc khu không ma túy",
    "problem_growth": "Tăng số địa bàn có tệ nạn ma túy so với năm trước",
    "eradicated_growth": "Tăng số điểm, tụ điểm bị triệt xóa so với năm trước",
    "recurrences": f"Điểm, tụ điểm {RECURRED_WORDS}",
    "new_hotspots": "Điểm, tụ điểm mới phát sinh",
    "conversion": "Tỷ lệ địa bàn được chọn chuyển hóa đã chuyển hóa trong năm",
    "conversion_stable": "Tỷ lệ địa bàn đã chuyển hóa giữ vững ổn định",
}


@dataclass(frozen=True)
class KpiTargets:
    """A province's (``province_code``) or the country's (None) targets: drug-free share path, growth limits and
    hotspot targets (None: not set by this level's documents), with labels."""

    version: str
    source: str
    drug_free_points: tuple[tuple[int, float], ...]
    drug_free_note: str
    max_problem_growth: float | None
    min_eradicated_growth: float | None
    max_recurrences: int | None
    max_new_hotspots: int | None
    labels_vi: dict[str, str]
    province_code: str | None = None
    #: Of the areas selected for conversion in a year, the share to convert in that year.
    min_converted_share: float | None = None
    #: Of the areas converted, the share to stay stable through the watch that follows conversion.
    min_stable_share: float | None = None
    #: Months a converted area is watched (no new or recurring spot in it) before it counts as stable.
    watch_months: int | None = None

    def drug_free_target(self, year: int) -> float | None:
        """Target share for a year: the path point, linear in between, the last point's share after the path (2031
        keeps 2030's 60 %: no plan sets a later one), None before the path starts."""
        years, shares = zip(*self.drug_free_points)
        if year < years[0]:
            return None
        return float(np.interp(year, years, shares))

    def drug_free_path(self) -> str:
        """The drug-free share's path in words («lộ trình: tối thiểu 30% năm 2025, 45% năm 2027, 60% năm 2030»): a
        report of one year named that year's target alone, and the plan's end (2030) was on the page only."""
        steps = ", ".join(
            f"{f'{share * 100:g}'.replace('.', ',')}% năm {year}" for year, share in self.drug_free_points
        )
        return f"lộ trình: {BOUND_WORDS['at_least']} {steps}"


def parse_targets(doc: Mapping[str, Any]) -> KpiTargets:
    """The KPI targets from a parsed targets document (data/targets/*.toml); the drug-free path is required, the
    other sections are optional."""
    points = tuple(sorted((int(p["year"]), float(p["share"])) for p in doc["drug_free_share"]["points"]))

    def value(section: str, key: str, kind: type) -> Any:
        return kind(doc[section][key]) if section in doc else None

    province = doc.get("province_code")
    return KpiTargets(
        version=str(doc["version"]),
        source=str(doc["source"]),
        drug_free_points=points,
        drug_free_note=str(doc["drug_free_share"].get("note", "")),
        max_problem_growth=value("problem_growth", "max_share", float),
        min_eradicated_growth=value("eradicated_growth", "min_share", float),
        max_recurrences=value("recurrences", "max_count", int),
        max_new_hotspots=value("new_hotspots", "max_count", int),
        labels_vi={s: str(doc[s]["label_vi"]) if s in doc else label for s, label in SECTIONS.items()},
        province_code=None if province is None else str(province),
        min_converted_share=value("conversion", "min_share", float),
        min_stable_share=value("conversion_stable", "min_share", float),
        watch_months=value("conversion_stable", "watch_months", int),
    )


#: How a target binds its result (a KPI line's ``bound``), and the words a report puts before the target («tối đa 0»,
#: «tối thiểu 60%»): the Excel file had «1%» where the page said «tối đa».
BOUND_WORDS = {"at_least": "tối thiểu", "at_most": "tối đa", "below": "dưới"}


def _within(value: float | None, limit: float | None, bound: str) -> bool | None:
    """Whether ``value`` keeps to ``limit`` as ``bound`` says (BOUND_WORDS), None when either is unknown."""
    if value is None or limit is None:
        return None
    return {"at_least": value >= limit, "at_most": value <= limit, "below": value < limit}[bound]


def growth(now: float, before: float | None) -> float | None:
    """Relative change, None when there is nothing to compare with (nothing known before, or none: never ÷ 0)."""
    return None if before is None or before == 0 else (now - before) / before


def compared(current: int | None, previous: int | None) -> dict[str, int | float | None]:
    """A count of a period beside the same period of the previous year, as a report says it («tăng 12 vụ (+8,5 %)
    so với cùng kỳ»): both counts, the change and the relative change (rounded as the report shows shares). A count
    not known (no records reach back to its period) stays None, never 0, and so does everything computed from it;
    the relative change is None also when last year's count is 0 (nothing to divide by)."""
    change = None if current is None or previous is None else current - previous
    relative = None if current is None else growth(current, previous)
    return {
        "current": current,
        "previous": previous,
        "change": change,
        "change_pct": None if relative is None else round(relative, 4),
    }


def _from_nothing(before: float | None, what: str) -> str:
    """Why a growth has no value although the year before is known: it had none of ``what`` (the blank cell's own
    meaning, «chưa đủ số liệu», would be wrong)."""
    return f"năm trước không có {what}: không tính được tỷ lệ tăng" if before == 0 else ""


def _row(
    key: str, label: str, value: Any, target: Any, met: bool | None, unit: str, note: str = "", bound: str | None = None
) -> dict[str, Any]:
    """One KPI line (``bound``: how its target binds it, BOUND_WORDS; None without a target)."""
    return {
        "key": key,
        "label_vi": label,
        "value": value,
        "target": target,
        "met": met,
        "unit": unit,
        "note": note,
        "bound": bound,
    }


def _target_row(key: str, label: str, value: Any, target: Any, bound: str, unit: str, note: str = "") -> dict[str, Any]:
    """A KPI line with a target, met as ``bound`` says."""
    return _row(key, label, value, target, _within(value, target, bound), unit, note, bound)


def drug_free_count(free: int, total: int, unknown: int) -> str:
    """How a drug-free share was counted: «1/3321 đơn vị; 3207 đơn vị thiếu dữ liệu, không tính là không ma túy»
    (a unit with missing data counts, never as drug-free)."""
    missing = f"; {unknown} đơn vị {MISSING_DATA_LABEL}, không tính là không ma túy" if unknown else ""
    return f"{free}/{total} đơn vị{missing}"


def _classified_only(total: int, area_units: int | None) -> str:
    """The note that a run classified only part of the area's units («; kết quả phân loại chỉ gồm 114/3.321 đơn
    vị»), empty when it holds as many as the area has."""
    if area_units is None or total >= area_units:
        return ""
    return (
        f"; kết quả phân loại chỉ gồm {vn_number(total)}/{vn_number(area_units)} đơn vị"
        f" ({vn_number(area_units - total)} đơn vị chưa được phân loại)"
    )


def hotspots_unknown_note(since: date | None) -> str:
    """Why a hotspot figure of a year is unknown: the hotspot records, written in the system, begin after the year's
    first day (``since``; None: there are none) — the days before were not days without hotspots."""
    if since is None:
        return f"{KPI_NO_DATA}: hệ thống chưa có số liệu điểm, tụ điểm"
    return f"{KPI_NO_DATA}: số liệu điểm, tụ điểm trong hệ thống bắt đầu từ ngày {vn_day(since)}"


def recurrences_row(recurred: int | None, targets: KpiTargets, since: date | None = None) -> dict[str, Any]:
    """The KPI line of hotspots that became complex again in a year (the report's and the command page's); None: the
    hotspot records do not cover the year (beginning on ``since``), the figure is unknown and so is its assessment."""
    limit = targets.max_recurrences
    return _target_row(
        "recurrences",
        targets.labels_vi["recurrences"],
        recurred,
        limit,
        "at_most",
        "lượt",
        hotspots_unknown_note(since) if recurred is None else "",
    )


def _share(part: int, whole: int) -> float | None:
    """``part / whole`` rounded as the report shows shares, None of nothing."""
    return round(part / whole, 4) if whole else None


def conversion_rows(conversion: Mapping[str, int], targets: KpiTargets) -> list[dict[str, Any]]:
    """The KPI lines of the conversion of key areas (chuyển hóa địa bàn) in a year: the share of the areas selected
    that were converted in the year, and of those the share that stayed stable through the watch after conversion
    (only areas whose watch is over or that relapsed during it are decided; the others are said to be watched)."""
    selected, converted = conversion["selected"], conversion["converted"]
    stable, relapsed, watching = conversion["stable"], conversion["relapsed"], conversion["watching"]
    labels = targets.labels_vi
    converted_share, stable_share = _share(converted, selected), _share(stable, stable + relapsed)
    watch = targets.watch_months
    return [
        _target_row(
            "conversion",
            labels["conversion"],
            converted_share,
            targets.min_converted_share,
            "at_least",
            "tỷ lệ",
            f"{converted}/{selected} địa bàn được chọn đã được nghiệm thu chuyển hóa trong năm"
            if selected
            else "chưa có địa bàn nào được chọn chuyển hóa trong năm",
        ),
        _target_row(
            "conversion_stable",
            labels["conversion_stable"],
            stable_share,
            targets.min_stable_share,
            "at_least",
            "tỷ lệ",
            "tệp chỉ tiêu không quy định thời gian theo dõi sau chuyển hóa"
            if watch is None
            else f"{stable}/{stable + relapsed} địa bàn đã hết {watch} tháng theo dõi hoặc {RECURRED_WORDS}"
            f" ({relapsed} có điểm, tụ điểm phát sinh hoặc {RECURRED_WORDS}); {watching} địa bàn còn trong thời gian"
            " theo dõi",
        ),
    ]


def compute_kpis(
    year: int,
    classes: pd.DataFrame,
    previous: pd.DataFrame | None,
    hotspots: Mapping[str, Any],
    targets: KpiTargets,
    conversion: Mapping[str, int],
    area_units: int | None = None,
) -> list[dict[str, Any]]:
    """KPI lines of a year from its final classes, the previous year's, the area's hotspot counts and its conversion
    counts (``conversion_rows``). A hotspot count is None when the hotspot records (beginning on
    ``hotspots["records_since"]``) do not cover its year whole: the line says it is unknown, never 0, and is not
    assessed. ``area_units``: the area's current units; when the run classified fewer (a national report of a run
    of one province's units), the drug-free share says so."""
    total = len(classes)
    free = int(classes["category"].eq("drug_free").sum())
    # An incomplete commune is never drug-free (rules, override check and a database constraint): report how many.
    unknown = int(classes["incomplete"].sum()) if "incomplete" in classes else 0
    share = free / total if total else None
    target = targets.drug_free_target(year)
    problem = classes["category"].isin(PROBLEM_CATEGORIES)
    problems = int(problem.sum())
    # At risk only for want of data, maybe: an incomplete commune that reached no key level.
    problems_unknown = (
        int((problem & classes["level"].isna() & classes["incomplete"].astype(bool)).sum()) if unknown else 0
    )
    problems_before = int(previous["category"].isin(PROBLEM_CATEGORIES).sum()) if previous is not None else None
    # Counts of communes compare only on the same units: 2024 on its 217 old units against 2025 on 114 read -47 %.
    same_units = previous is None or set(previous["commune_code"]) == set(classes["commune_code"])
    problem_growth = growth(problems, problems_before) if same_units else None
    if previous is None:
        growth_note = "chưa có kết quả năm trước để so sánh"
    elif not same_units:
        growth_note = (
            f"đơn vị hành chính năm trước khác năm nay ({len(previous)} → {total} đơn vị):"
            " không so sánh được số địa bàn"
        )
    else:
        growth_note = _from_nothing(problems_before, "địa bàn nào có tệ nạn ma túy")
    eradicated, eradicated_before = hotspots["eradicated"], hotspots["eradicated_previous"]
    eradicated_growth = None if eradicated is None else growth(eradicated, eradicated_before)
    hotspots_unknown = hotspots_unknown_note(hotspots.get("records_since"))
    labels = targets.labels_vi
    key_levels = classes.loc[classes["category"].eq("trong_diem"), "level"].value_counts()
    return [
        _target_row(
            "drug_free_share",
            labels["drug_free_share"],
            None if share is None else round(share, 4),
            target,
            "at_least",
            "tỷ lệ",
            f"{drug_free_count(free, total, unknown)}{_classified_only(total, area_units)}; {targets.drug_free_path()}."
            f" {targets.drug_free_note}",
        ),
        _row(
            "problem_communes",
            "Số địa bàn có tệ nạn ma túy (trọng điểm và có tệ nạn)",
            problems,
            None,
            None,
            "địa bàn",
            f"năm trước: {problems_before if problems_before is not None else 'chưa có'}"
            + (f" ({len(previous)} đơn vị)" if previous is not None and not same_units else "")
            + (
                f"; {problems_unknown} đơn vị chưa đạt tiêu chí trọng điểm và {MISSING_DATA_LABEL}"
                if problems_unknown
                else ""
            ),
        ),
        _target_row(
            "problem_growth",
            labels["problem_growth"],
            None if problem_growth is None else round(problem_growth, 4),
            targets.max_problem_growth,
            "below",
            "tỷ lệ",
            growth_note,
        ),
        *(
            _row(f"trong_diem_{lvl}", f"Trọng điểm loại {lvl}", int(key_levels.get(lvl, 0)), None, None, "địa bàn")
            for lvl in ("I", "II", "III")
        ),
        # The rest of the problem communes, so that the lines under it add up to it (loại I + II + III fell short).
        _row(
            "at_risk",
            f"{Category.AT_RISK.label} (chưa đến mức trọng điểm)",
            int(classes["category"].eq(Category.AT_RISK).sum()),
            None,
            None,
            "địa bàn",
        ),
        _row(
            "eradicated",
            "Điểm, tụ điểm bị triệt xóa trong năm",
            eradicated,
            None,
            None,
            "điểm",
            # Last year's window is earlier still: unknown too when this year's is.
            hotspots_unknown
            if eradicated is None
            else f"năm trước: {KPI_NO_DATA if eradicated_before is None else eradicated_before}",
        ),
        _target_row(
            "eradicated_growth",
            labels["eradicated_growth"],
            None if eradicated_growth is None else round(eradicated_growth, 4),
            targets.min_eradicated_growth,
            "at_least",
            "tỷ lệ",
            hotspots_unknown
            if eradicated is None or eradicated_before is None
            else _from_nothing(eradicated_before, "điểm, tụ điểm nào bị triệt xóa"),
        ),
        recurrences_row(hotspots["recurred"], targets, hotspots.get("records_since")),
        _target_row(
            "new_hotspots",
            labels["new_hotspots"],
            hotspots["new"],
            targets.max_new_hotspots,
            "at_most",
            "điểm",
            hotspots_unknown if hotspots["new"] is None else "",
        ),
        _row("open_hotspots", "Điểm, tụ điểm đang theo dõi xử lý (hiện tại)", hotspots["open_now"], None, None, "điểm"),
        *conversion_rows(conversion, targets),
    ]
