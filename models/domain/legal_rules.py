"""Legal yearly classification of communes (QĐ 28/2025/QĐ-TTg), driven by versioned TOML criteria.

The criteria file (``data/criteria/qd28-2025.toml``, read by ``gis.reference``) holds every threshold, so a change in the law
is a new file version, not a code change. Input: one row per commune with the columns the file
declares under ``[indicators]`` plus ``commune_code`` (defaults: population, users_with_records,
organizing_places, arrested_offenders, plants_destroyed, cultivation_m2, on_drug_route, drug_incidents).
Indicators counted from incidents declare which kinds they count (``derived``), so criterion (c) and the
drug-free test count exactly what the file says.
A missing input value never meets a criterion; it is reported so planners can complete the data, and a
commune with any undecidable criterion is never drug-free.

``classify_legal`` returns one row per commune: commune_code, category (trong_diem | at_risk |
drug_free), level ('I' | 'II' | 'III', NA when not a key area), category_label_vi, met_<level> counts,
possible_level (a higher level reachable if missing data were completed), incomplete, rules_version
and a Vietnamese explanation. ``evaluate_criteria`` gives the long table behind it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import reduce
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from models.errors import InvalidInput
from models.lazy import lazy_module
from models.numbers import vn_number
from models.vocabulary import Category, IncidentKind
from models.vocabulary import Level as KeyLevel

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

OPS: Mapping[str, Callable[[Any, Any], Any]] = MappingProxyType(
    {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq, "!=": operator.ne}
)
OP_SYMBOLS: Mapping[str, str] = MappingProxyType({">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "=", "!=": "≠"})
_LEAF_KEYS = {
    "column": {"column", "op", "threshold"},
    "numerator": {"numerator", "denominator", "scale", "op", "threshold"},
}
_COUNT_KEYS = {"count_met", "at_least", "exclude"}
#: What a derived indicator may sum over incidents of its kinds.
INCIDENT_SUMS = ("incidents", "arrested")
_DERIVED_KEYS = {"sum", "kinds", "to_confirm", "note"}


class RulesConfigError(InvalidInput):
    """A malformed criteria file: a Vietnamese message naming the criterion and the fault, what the server's start-up
    and the command line print; the English detail (``reason``) for the log."""

    def __init__(self, fault_vi: str, reason: str) -> None:
        super().__init__(f"tệp tiêu chí pháp lý không dùng được: {fault_vi}", reason)


def _quoted(names: Any) -> str:
    """Names as a criteria error shows them: «a», «b»."""
    return ", ".join(f"«{name}»" for name in names)


@dataclass(frozen=True)
class IncidentCount:
    """How an indicator is counted from incident records: incidents (or people arrested) of these kinds.

    ``to_confirm`` names the kinds whose treatment (counted or not) is not verified against the legal text.
    """

    sum: str
    kinds: tuple[str, ...]
    to_confirm: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Indicator:
    """An input column the criteria may use, with its Vietnamese label and unit for explanations, and how it
    is counted from incidents when it is derived from them."""

    name: str
    label_vi: str
    unit: str = ""
    derived: IncidentCount | None = None


@dataclass(frozen=True)
class Comparison:
    """A column (or ratio ``column * scale / denominator``) compared with a threshold."""

    column: str
    op: str
    threshold: float | bool
    denominator: str | None = None
    scale: float = 1.0


@dataclass(frozen=True)
class AnyOf:
    """Met when at least one term is met."""

    terms: tuple[Expression, ...]


@dataclass(frozen=True)
class AllOf:
    """Met when every term is met."""

    terms: tuple[Expression, ...]


@dataclass(frozen=True)
class CountMet:
    """Met when at least ``at_least`` criteria of another level are met (``exclude`` ids not counted)."""

    level: str
    at_least: int
    exclude: tuple[str, ...] = ()


Expression = Comparison | AnyOf | AllOf | CountMet


@dataclass(frozen=True)
class Criterion:
    """One legal criterion: id unique in the file, ``ref`` the letter cited in explanations."""

    id: str
    ref: str
    label_vi: str
    indicator: Expression
    verified: bool
    note: str = ""


@dataclass(frozen=True)
class Level:
    """A class of communes reached when at least ``min_met`` of its criteria are met."""

    name: str
    label_vi: str
    min_met: int
    criteria: tuple[Criterion, ...]


@dataclass(frozen=True)
class LegalRules:
    """A versioned criteria set: key-area levels from most to least severe, then drug-free conditions."""

    version: str
    source: str
    effective_date: date
    indicators: Mapping[str, Indicator]
    levels: tuple[Level, ...]
    drug_free: Level

    @property
    def denominators(self) -> tuple[str, ...]:
        """The indicator columns rates are taken over (the population): unknown, they leave a commune undecided."""
        found: set[str] = set()

        def walk(expr: Expression) -> None:
            if isinstance(expr, Comparison) and expr.denominator:
                found.add(expr.denominator)
            elif isinstance(expr, AnyOf | AllOf):
                for term in expr.terms:
                    walk(term)

        for level in (*self.levels, self.drug_free):
            for criterion in level.criteria:
                walk(criterion.indicator)
        return tuple(sorted(found))

    def derived(self) -> dict[str, IncidentCount]:
        """Indicators counted from incident records, by name."""
        return {name: ind.derived for name, ind in self.indicators.items() if ind.derived is not None}

    def level(self, name: str) -> Level:
        """Return the level (or the drug-free condition set) called ``name``."""
        return {lvl.name: lvl for lvl in (*self.levels, self.drug_free)}[name]


# --------------------------------------------------------------------------------------- loading


def parse_rules(doc: Mapping[str, Any]) -> LegalRules:
    """Build the legal criteria from a parsed criteria document, validating every part of it.

    Parameters
    ----------
    doc : mapping
        A criteria TOML parsed by ``tomllib``: the packaged QĐ 28/2025 file is
        ``data.read_toml(data.CRITERIA)``, another one ``tomllib.load(open(path, "rb"))``. Its comments
        document the format (``version``, ``source``, ``effective_date``, ``[indicators.*]``, ``[[levels]]``
        with criteria, ``[drug_free]``).

    Returns
    -------
    LegalRules
        The versioned criteria, ready for :func:`classify_legal`.

    Raises
    ------
    RulesConfigError
        If a key is missing, an expression is malformed, or a criterion refers to an undeclared indicator or
        level; the message names the criterion and the fault.
    """
    for key in ("version", "source", "effective_date", "indicators", "levels", "drug_free"):
        if key not in doc:
            raise RulesConfigError(f"thiếu mục «{key}»", f"criteria file lacks '{key}'")
    if not isinstance(doc["effective_date"], date):
        raise RulesConfigError(
            f"ngày hiệu lực «effective_date» phải là một ngày (ví dụ 2025-08-24), đang là «{doc['effective_date']}»",
            f"effective_date must be a TOML date, got {doc['effective_date']!r}",
        )
    indicators = {
        name: Indicator(
            name, str(spec.get("label_vi", name)), str(spec.get("unit", "")), _parse_derived(spec.get("derived"), name)
        )
        for name, spec in doc["indicators"].items()
    }
    levels = tuple(_parse_level(raw, indicators) for raw in doc["levels"])
    # The first level reached is the class (classify_legal): most severe first, or a commune meeting loại I's
    # criteria in a file listing III first had been loại III.
    names, severity = [level.name for level in levels], list(KeyLevel.values())
    ranks = [severity.index(name) for name in names if name in severity]
    if ranks != sorted(ranks):
        raise RulesConfigError(
            f"các loại phải theo thứ tự từ nặng nhất ({', '.join(severity)}), đang là {', '.join(names)}",
            f"levels must run from the most severe ({', '.join(severity)}), got {', '.join(names)}",
        )
    rules = LegalRules(
        version=str(doc["version"]),
        source=str(doc["source"]),
        effective_date=doc["effective_date"],
        indicators=MappingProxyType(indicators),
        levels=levels,
        drug_free=_parse_level(doc["drug_free"], indicators),
    )
    _check_references(rules)
    return rules


def _parse_derived(raw: Any, name: str) -> IncidentCount | None:
    """The incident count behind a derived indicator (None for an imported one), kinds checked."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or set(raw) - _DERIVED_KEYS or raw.get("sum") not in INCIDENT_SUMS:
        sums = " hoặc ".join(f"«{total}»" for total in INCIDENT_SUMS)
        raise RulesConfigError(
            f"chỉ số «{name}»: «derived» phải là một bảng có «sum» ({sums}), «kinds» và nếu cần «to_confirm», «note»",
            f"indicator '{name}': derived must be a table with sum = {' | '.join(INCIDENT_SUMS)}, kinds and"
            f" optional to_confirm, note; got {raw!r}",
        )
    known = set(IncidentKind.values())
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("kinds", "to_confirm"):
        listed = raw.get(key, [])
        if not isinstance(listed, list) or (key == "kinds" and not listed) or set(listed) - known:
            raise RulesConfigError(
                f"chỉ số «{name}»: «derived.{key}» phải là danh sách loại vụ việc trong {_quoted(sorted(known))}",
                f"indicator '{name}': derived.{key} must list incident kinds ({', '.join(sorted(known))}); got {listed!r}",
            )
        if len(set(listed)) != len(listed):
            raise RulesConfigError(
                f"chỉ số «{name}»: «derived.{key}» ghi một loại vụ việc hai lần",
                f"indicator '{name}': derived.{key} lists a kind twice: {listed!r}",
            )
        lists[key] = tuple(map(str, listed))
    return IncidentCount(str(raw["sum"]), lists["kinds"], lists["to_confirm"], str(raw.get("note", "")))


def _parse_level(raw: Mapping[str, Any], indicators: Mapping[str, Indicator]) -> Level:
    """Build one level from its TOML table."""
    name = str(raw.get("name", "?"))
    criteria = tuple(_parse_criterion(c, indicators) for c in raw.get("criteria", ()))
    min_met = raw.get("min_met")
    if not criteria:
        raise RulesConfigError(f"mức «{name}» không có tiêu chí nào", f"level '{name}' has no criteria")
    if not isinstance(min_met, int) or not 1 <= min_met <= len(criteria):
        raise RulesConfigError(
            f"mức «{name}»: số tiêu chí cần đạt «min_met» phải là số nguyên từ 1 đến {len(criteria)}, đang là «{min_met}»",
            f"level '{name}': min_met must be an integer in 1..{len(criteria)}, got {min_met!r}",
        )
    return Level(name, str(raw.get("label_vi", name)), min_met, criteria)


def _parse_criterion(raw: Mapping[str, Any], indicators: Mapping[str, Indicator]) -> Criterion:
    """Build one criterion from its TOML table."""
    cid = raw.get("id")
    if not cid:
        raise RulesConfigError("có tiêu chí thiếu mã «id»", f"criterion without id: {dict(raw)!r}")
    if "indicator" not in raw:
        raise RulesConfigError(f"tiêu chí «{cid}» thiếu mục «indicator»", f"criterion '{cid}' has no indicator")
    return Criterion(
        id=str(cid),
        ref=str(raw.get("ref", cid)),
        label_vi=str(raw.get("label_vi", cid)),
        indicator=_parse_expression(raw["indicator"], str(cid), indicators),
        verified=bool(raw.get("verified", False)),
        note=str(raw.get("note", "")),
    )


def _parse_expression(raw: Any, where: str, indicators: Mapping[str, Indicator]) -> Expression:
    """Parse the small safe expression language documented in the criteria file."""
    if not isinstance(raw, Mapping):
        raise RulesConfigError(
            f"tiêu chí «{where}»: «indicator» phải là một bảng",
            f"criterion '{where}': indicator must be a table, got {raw!r}",
        )
    for mode, cls in (("any_of", AnyOf), ("all_of", AllOf)):
        if mode in raw:
            terms = raw[mode]
            if set(raw) != {mode} or not isinstance(terms, list) or not terms:
                raise RulesConfigError(
                    f"tiêu chí «{where}»: «{mode}» phải là khóa duy nhất và là một danh sách không rỗng",
                    f"criterion '{where}': '{mode}' must be the only key and a non-empty list",
                )
            return cls(tuple(_parse_expression(t, where, indicators) for t in terms))
    if "count_met" in raw:
        if set(raw) - _COUNT_KEYS or not isinstance(raw.get("at_least"), int) or raw["at_least"] < 1:
            raise RulesConfigError(
                f"tiêu chí «{where}»: «count_met» cần «at_least» là số nguyên ≥ 1 và chỉ các khóa {_quoted(sorted(_COUNT_KEYS))}",
                f"criterion '{where}': count_met needs an integer at_least ≥ 1 and only {sorted(_COUNT_KEYS)}",
            )
        return CountMet(str(raw["count_met"]), raw["at_least"], tuple(map(str, raw.get("exclude", ()))))
    kind = next((k for k in _LEAF_KEYS if k in raw), None)
    if kind is None:
        raise RulesConfigError(
            f"tiêu chí «{where}»: «indicator» cần một trong các khóa «column», «numerator», «any_of», «all_of»,"
            f" «count_met», đang có {_quoted(sorted(raw))}",
            f"criterion '{where}': indicator needs one of column, numerator, any_of, all_of, count_met; "
            f"got keys {sorted(raw)}",
        )
    unexpected = set(raw) - _LEAF_KEYS[kind]
    if unexpected:
        raise RulesConfigError(
            f"tiêu chí «{where}»: khóa không dùng được {_quoted(sorted(unexpected))}"
            f" (dùng được: {_quoted(sorted(_LEAF_KEYS[kind]))})",
            f"criterion '{where}': unexpected keys {sorted(unexpected)} (allowed: {sorted(_LEAF_KEYS[kind])})",
        )
    op, threshold = raw.get("op"), raw.get("threshold")
    if op not in OPS:
        raise RulesConfigError(
            f"tiêu chí «{where}»: phép so sánh «{op}» không dùng được (dùng được: {' '.join(OPS)})",
            f"criterion '{where}': unsupported op {op!r} (allowed: {', '.join(OPS)})",
        )
    if not isinstance(threshold, (int, float, bool)):
        raise RulesConfigError(
            f"tiêu chí «{where}»: ngưỡng «threshold» phải là một số hoặc «true», «false», đang là «{threshold}»",
            f"criterion '{where}': threshold must be a number or boolean, got {threshold!r}",
        )
    columns = [raw[kind]] + ([raw["denominator"]] if kind == "numerator" else [])
    for column in columns:
        if column not in indicators:
            raise RulesConfigError(
                f"tiêu chí «{where}»: chỉ số «{column}» chưa khai báo trong mục «indicators»",
                f"criterion '{where}': unknown column {column!r} (declared indicators: {', '.join(indicators)})",
            )
    scale = raw.get("scale", 1.0)
    if not isinstance(scale, (int, float)) or isinstance(scale, bool) or scale <= 0:
        raise RulesConfigError(
            f"tiêu chí «{where}»: hệ số «scale» phải là một số dương, đang là «{scale}»",
            f"criterion '{where}': scale must be a positive number, got {scale!r}",
        )
    return Comparison(raw[kind], str(op), threshold, raw.get("denominator"), float(scale))


def _count_terms(expr: Expression) -> list[CountMet]:
    """List the level-count terms inside an expression."""
    if isinstance(expr, CountMet):
        return [expr]
    if isinstance(expr, (AnyOf, AllOf)):
        return [c for t in expr.terms for c in _count_terms(t)]
    return []


def _check_references(rules: LegalRules) -> None:
    """Reject duplicate ids, counts of unknown levels or criteria, and circular level references."""
    all_levels = (*rules.levels, rules.drug_free)
    ids = [c.id for lvl in all_levels for c in lvl.criteria]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise RulesConfigError(
            f"mã tiêu chí trùng nhau: {_quoted(duplicates)}", f"duplicate criterion ids: {', '.join(duplicates)}"
        )
    names = {lvl.name for lvl in all_levels}
    for lvl in all_levels:
        for crit in lvl.criteria:
            for count in _count_terms(crit.indicator):
                if count.level not in names:
                    raise RulesConfigError(
                        f"tiêu chí «{crit.id}»: «count_met» nêu mức «{count.level}» không có trong tệp",
                        f"criterion '{crit.id}': count_met names unknown level {count.level!r}",
                    )
                own = {c.id for c in rules.level(count.level).criteria}
                stray = sorted(set(count.exclude) - own)
                if stray:
                    raise RulesConfigError(
                        f"tiêu chí «{crit.id}»: «exclude» nêu {_quoted(stray)}, không phải tiêu chí của mức «{count.level}»",
                        f"criterion '{crit.id}': exclude lists {stray}, not criteria of level {count.level}",
                    )
    _evaluation_order(rules)


def _evaluation_order(rules: LegalRules) -> list[Level]:
    """Order levels so that every level is evaluated after the levels its criteria count."""
    deps = {
        lvl.name: {c.level for crit in lvl.criteria for c in _count_terms(crit.indicator)}
        for lvl in (*rules.levels, rules.drug_free)
    }
    order: list[str] = []
    while len(order) < len(deps):
        ready = [n for n, d in deps.items() if n not in order and d <= set(order)]
        if not ready:
            circle = sorted(set(deps) - set(order))
            raise RulesConfigError(
                f"các mức {_quoted(circle)} đếm tiêu chí của nhau thành vòng (qua «count_met»)",
                f"circular count_met references among levels {circle}",
            )
        order.extend(ready)
    return [rules.level(n) for n in order]


# ------------------------------------------------------------------------------------ evaluation


@dataclass(frozen=True)
class _Result:
    """Evaluation of one expression over all communes (nullable met: NA = not decidable)."""

    met: pd.Series
    detail: pd.Series
    value: pd.Series | None = None
    #: The unit of ``value`` when it is a figure ("%" for a percentage, "người", "" for a bare ratio); None when the
    #: expression has no single figure (any of, all of, a count of criteria) or states a yes/no fact.
    unit: str | None = None


#: Decimals shown of a figure; more only when fewer would misstate its comparison with the threshold.
SHOWN_DECIMALS = 3
_MAX_DECIMALS = 12


def faithful_decimals(x: float, op: str, threshold: float) -> int:
    """How many decimals (at most; trailing zeros are dropped) a figure is shown with so that the number shown
    compares with the threshold as the figure itself does: 0,49955 % was shown "0,5 % (cần ≥ 0,5 %)", a refusal
    that read as met (and 749,9996 m² "750 m² (cần ≥ 750 m²)"). The explanations and the Excel exports' number
    cells both show a figure so."""
    decides = OPS[op](x, threshold)
    decimals = SHOWN_DECIMALS
    while decimals < _MAX_DECIMALS and OPS[op](round(x, decimals), threshold) != decides:
        decimals += 1
    return decimals


def _format_faithful(x: float, op: str, threshold: float) -> str:
    """A figure in the Vietnamese format, faithful to its comparison with the threshold (:func:`faithful_decimals`)."""
    return vn_number(x, faithful_decimals(x, op, threshold), trim=True)


def requirement(op: str, threshold: float, unit: str) -> str:
    """What a criterion asks of its figure, as explanations word it: "≥ 0,5 %", "≥ 2 điểm"."""
    return f"{OP_SYMBOLS[op]} {vn_number(threshold, SHOWN_DECIMALS, trim=True)}" + (f" {unit}" if unit else "")


def _with_unit(values: pd.Series, unit: str, op: str, threshold: float) -> pd.Series:
    """Format figures with a unit, each faithful to its comparison with the threshold; missing values read
    'không rõ'."""
    suffix = f" {unit}" if unit else ""
    return values.map(lambda v: "không rõ" if pd.isna(v) else _format_faithful(v, op, threshold) + suffix)


def _compare(values: pd.Series, op: str, threshold: float) -> pd.Series:
    """Nullable comparison: NA wherever the value is missing."""
    return OPS[op](values, threshold).astype("boolean").mask(values.isna())


def _phrase(met: pd.Series, stated: pd.Series, required: str) -> pd.Series:
    """'value op threshold' when met, else 'value (cần op threshold)'."""
    # Joined row by row: pandas' string arithmetic took a seventh of a yearly draft of 114 communes.
    done = met.fillna(False).astype(bool).to_numpy()
    texts = [f"{s} {required}" if ok else f"{s} (cần {required})" for s, ok in zip(stated.to_numpy(), done)]
    return pd.Series(texts, index=stated.index, dtype=stated.dtype)


def _evaluate(expr: Expression, frame: pd.DataFrame, rules: LegalRules, done: Mapping[str, _Result]) -> _Result:
    """Evaluate an expression for every commune at once."""
    if isinstance(expr, (AnyOf, AllOf)):
        parts = [_evaluate(t, frame, rules, done) for t in expr.terms]
        # All of: «…: có, đạt 3 tiêu chí loại II ≥ 2» (joined by «và» it read «có và đạt 3 tiêu chí …»; a «;» would
        # read as the end of the item in an explanation, whose items it separates).
        join, word = (operator.or_, " hoặc ") if isinstance(expr, AnyOf) else (operator.and_, ", ")
        return _Result(
            reduce(join, (p.met for p in parts)), reduce(lambda a, b: a + word + b, (p.detail for p in parts))
        )
    if isinstance(expr, CountMet):
        level = rules.level(expr.level)
        counted = [done[c.id].met for c in level.criteria if c.id not in expr.exclude]
        n_true = sum(m.fillna(False).astype(int) for m in counted)
        n_open = sum(m.isna().astype(int) for m in counted)
        met = (
            (n_true >= expr.at_least)
            .astype("boolean")
            .mask((n_true < expr.at_least) & (n_true + n_open >= expr.at_least))
        )
        stated = "đạt " + n_true.astype(str) + f" tiêu chí {_level_title(level.name, rules)}"
        return _Result(met, _phrase(met, stated, f"≥ {expr.at_least}"))
    return _evaluate_comparison(expr, frame, rules)


def _evaluate_comparison(expr: Comparison, frame: pd.DataFrame, rules: LegalRules) -> _Result:
    """Evaluate a column or ratio comparison, with its Vietnamese rendering."""
    indicator = rules.indicators[expr.column]
    if isinstance(expr.threshold, bool):
        values = frame[expr.column].astype("boolean").astype(float)
        met = _compare(values, expr.op, float(expr.threshold))
        yes_no = values.map({1.0: "có", 0.0: "không"}).fillna("không rõ")
        wanted = "có" if OPS[expr.op](True, expr.threshold) else "không"
        stated = indicator.label_vi + ": " + yes_no
        return _Result(met, stated.where(met.fillna(False).astype(bool), stated + f" (cần {wanted})"), values)
    numerator = pd.to_numeric(frame[expr.column], errors="coerce").astype(float)
    if expr.denominator is None:
        values, unit = numerator, indicator.unit
    else:
        denominator = pd.to_numeric(frame[expr.denominator], errors="coerce").astype(float)
        # numerator * scale is exact for counts, so a rate equal to the threshold compares equal;
        # a zero count is a zero rate even when the denominator is unknown.
        rate = (numerator * expr.scale / denominator).where(denominator > 0)
        values, unit = rate.mask(numerator.eq(0), 0.0), "%" if expr.scale == 100 else ""
    met = _compare(values, expr.op, float(expr.threshold))
    required = requirement(expr.op, float(expr.threshold), unit)
    stated = _with_unit(values, unit, expr.op, float(expr.threshold))
    return _Result(met, _phrase(met, stated, required), values, unit)


def _prepare(indicators: pd.DataFrame, rules: LegalRules) -> pd.DataFrame:
    """Index the input by commune and check it carries every declared indicator column."""
    missing = [c for c in ("commune_code", *rules.indicators) if c not in indicators.columns]
    if missing:
        raise ValueError(f"indicator table lacks columns required by rules {rules.version}: {', '.join(missing)}")
    duplicated = indicators["commune_code"][indicators["commune_code"].duplicated()].unique().tolist()
    if duplicated:
        raise ValueError(f"indicator table has several rows for communes {duplicated}")
    return indicators.set_index("commune_code")


def evaluate_criteria(indicators: pd.DataFrame, rules: LegalRules) -> pd.DataFrame:
    """Every criterion for every commune: the evidence behind :func:`classify_legal`.

    Parameters
    ----------
    indicators, rules
        As for :func:`classify_legal`.

    Returns
    -------
    pandas.DataFrame
        One row per commune and criterion: ``commune_code``, ``level``, ``criterion_id``, ``ref``, ``value``,
        ``unit`` (of a figure: "%", "người", …; None when ``value`` is no figure but a yes/no or nothing),
        ``threshold``, ``op``, ``met``, ``missing`` (no value to decide), ``detail`` (Vietnamese: the figure against
        its threshold), ``title`` («loại I (a)»), ``label`` (what the criterion asks, the rules' ``label_vi``: the
        planner page showed «Loại I (a): 0,718 % ≥ 0,5 %» without saying of what) and ``verified`` (whether the
        criterion was checked against the official text).
    """
    frame = _prepare(indicators, rules)
    done: dict[str, _Result] = {}
    for level in _evaluation_order(rules):
        for crit in level.criteria:
            done[crit.id] = _evaluate(crit.indicator, frame, rules, done)
    rows = []
    for level in (*rules.levels, rules.drug_free):
        for crit in level.criteria:
            result = done[crit.id]
            leaf = crit.indicator if isinstance(crit.indicator, Comparison) else None
            rows.append(
                pd.DataFrame(
                    {
                        "commune_code": frame.index,
                        "level": level.name,
                        "criterion_id": crit.id,
                        "ref": crit.ref,
                        "value": result.value.to_numpy() if result.value is not None else np.nan,
                        "unit": result.unit,
                        "threshold": float(leaf.threshold) if leaf else np.nan,
                        "op": leaf.op if leaf else type(crit.indicator).__name__,
                        "met": result.met.fillna(False).astype(bool).to_numpy(),
                        "missing": result.met.isna().to_numpy(),
                        "detail": result.detail.to_numpy(),
                        "verified": crit.verified,
                        "title": f"{_level_title(level.name, rules)} ({crit.ref})",
                        "label": crit.label_vi,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


# -------------------------------------------------------------------------------- classification


def _level_title(name: str, rules: LegalRules) -> str:
    """How a level is named in explanations ('loại I' or 'không ma túy')."""
    return "không ma túy" if name == rules.drug_free.name else f"loại {name}"


def classify_legal(indicators: pd.DataFrame, rules: LegalRules, criteria: pd.DataFrame | None = None) -> pd.DataFrame:
    """Classify every commune under QĐ 28/2025-style criteria, with a Vietnamese explanation.

    The most severe key-area level reached wins (loại I > II > III: at least ``min_met`` of its criteria
    met); otherwise drug-free if its conditions are met, otherwise at risk. A missing value never meets a
    criterion: it is counted, and ``possible_level`` says which higher level complete data could reach.

    Parameters
    ----------
    indicators : pandas.DataFrame
        One row per commune: ``commune_code`` and every column the rules declare under ``[indicators]``
        (missing values as NaN / None).
    rules : LegalRules
        From :func:`parse_rules`.
    criteria : pandas.DataFrame, optional
        :func:`evaluate_criteria` of the same ``indicators`` and ``rules``, when the caller keeps it as evidence too
        (the yearly draft does): not evaluated a second time (a third of a draft's time for Hải Phòng's 114 communes).

    Returns
    -------
    pandas.DataFrame
        One row per commune in input order: ``commune_code``, ``category`` (trong_diem | at_risk |
        drug_free), ``level`` ("I" | "II" | "III", None outside key areas), ``category_label_vi``,
        ``met_<level>`` counts, ``possible_level``, ``incomplete``, ``rules_version`` and ``explanation``.

    Raises
    ------
    ValueError
        If a declared indicator column is absent or a commune has several rows.
    """
    long = evaluate_criteria(indicators, rules) if criteria is None else criteria
    by_level = long.groupby(["commune_code", "level"], sort=False)
    n_met = by_level["met"].sum().unstack("level")
    n_open = by_level["missing"].sum().unstack("level")
    codes = indicators["commune_code"].to_numpy()
    n_met, n_open = n_met.reindex(codes), n_open.reindex(codes)
    reached = [n_met[lvl.name] >= lvl.min_met for lvl in rules.levels]
    reachable = [(n_met[lvl.name] + n_open[lvl.name]) >= lvl.min_met for lvl in rules.levels]
    names = [lvl.name for lvl in rules.levels]
    level = pd.Series(np.select(reached, names, default=None), index=codes, dtype=object)  # type: ignore[call-overload]
    possible = pd.Series(np.select(reachable, names, default=None), index=codes, dtype=object)  # type: ignore[call-overload]
    free_level = rules.drug_free
    # A rate's base (the population) unknown or not above 0: a zero count is still a zero rate, but the commune's data
    # is not whole, and a commune with unknown data is never drug-free (it was, on zero counts and a blank population).
    bases = (
        indicators.set_index("commune_code")
        .reindex(codes)[list(rules.denominators)]
        .apply(pd.to_numeric, errors="coerce")
    )
    no_base = pd.Series(~(bases > 0).all(axis=1).to_numpy(), index=codes)
    incomplete = (n_open.sum(axis=1) > 0) | no_base
    # A commune with an undecidable criterion is never drug-free: unknown data is not "no drug activity".
    drug_free = (n_met[free_level.name] >= free_level.min_met) & ~incomplete
    category = np.select(
        [level.notna(), drug_free], [Category.TRONG_DIEM, Category.DRUG_FREE], default=Category.AT_RISK
    ).astype(str)
    summary = pd.DataFrame(
        {
            "commune_code": codes,
            "category": category,
            "level": level.to_numpy(),
            "category_label_vi": [Category(c).label for c in category],
            **{f"met_{lvl.name}": n_met[lvl.name].to_numpy(dtype=int) for lvl in (*rules.levels, free_level)},
            "possible_level": possible.where(possible != level, None).to_numpy(),
            "incomplete": incomplete.to_numpy(),
            "rules_version": rules.version,
        }
    )
    unknown_bases = ", ".join(rules.indicators[column].label_vi for column in rules.denominators)
    summary["explanation"] = _explanations(summary, long, rules) + np.where(
        no_base.to_numpy(), f" Thiếu {unknown_bases.lower()}: chưa thể xác định không ma túy.", ""
    )
    return summary


def _explanations(summary: pd.DataFrame, long: pd.DataFrame, rules: LegalRules) -> pd.Series:
    """Vietnamese explanation per commune: the criteria that decided its class, and missing data."""
    items = "(" + long["ref"] + ") " + long["detail"]
    met_text = items[long["met"]].groupby([long["commune_code"], long["level"]]).agg("; ".join)
    failed_free = long["level"].eq(rules.drug_free.name) & ~long["met"]
    free_failures = items[failed_free].groupby(long["commune_code"]).agg("; ".join)
    open_text = long["title"][long["missing"]].groupby(long["commune_code"]).agg(", ".join)
    sizes = {lvl.name: len(lvl.criteria) for lvl in (*rules.levels, rules.drug_free)}
    counts_text = "; ".join(
        f"loại {lvl.name} {{met_{lvl.name}}}/{sizes[lvl.name]}, cần {lvl.min_met}" for lvl in rules.levels
    )

    def explain(row: pd.Series) -> str:
        """Compose one commune's explanation."""
        code, name = row["commune_code"], row["level"]
        if row["category"] == "trong_diem":
            lvl = rules.level(name)
            text = (
                f"Trọng điểm loại {name}. Đạt {row[f'met_{name}']}/{sizes[name]} tiêu chí loại {name} "
                f"(cần {lvl.min_met}): {met_text[(code, name)]}."
            )
        elif row["category"] == "drug_free":
            text = (
                f"Không có tệ nạn ma túy. Không đạt tiêu chí trọng điểm ({counts_text.format(**row)}); "
                f"đạt đủ {sizes[rules.drug_free.name]}/{sizes[rules.drug_free.name]} điều kiện không ma túy."
            )
        else:
            failures = free_failures.get(code, "")
            text = (
                f"Có tệ nạn ma túy. Chưa đạt tiêu chí trọng điểm ({counts_text.format(**row)}); "
                f"chưa đạt điều kiện không ma túy: {failures}."
                if failures  # else every drug-free condition holds but some criterion is undecidable
                else f"Chưa đạt tiêu chí trọng điểm ({counts_text.format(**row)}); "
                "các điều kiện không ma túy đã biết đều đạt."
            )
        if code in open_text.index:
            text += f" Thiếu dữ liệu, coi như không đạt: {open_text[code]}."
            if row["category"] != Category.TRONG_DIEM:
                text += " Khi còn thiếu dữ liệu, chưa thể xác định không ma túy."
        if isinstance(row["possible_level"], str):
            text += f" Có thể đạt loại {row['possible_level']} nếu bổ sung đủ dữ liệu."
        return text

    return summary.apply(explain, axis=1)
