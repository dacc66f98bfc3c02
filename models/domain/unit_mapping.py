"""Where a row without a point lies: the unit its code or address names, and what that unit is today.

Codes and names of units before the 1 July 2025 reorganisation ("legacy") map to the current units:
an old unit that lies wholly in one current unit is assigned to it; one that was split across several
is `ambiguous`: kept, with every candidate listed, never apportioned by guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import pandas as pd

from models.vocabulary import Assignment, IndicatorMethod

#: The two-tier reorganisation: units valid before this date are the legacy (63-province) ones.
REFORM_DATE = date(2025, 7, 1)


@dataclass(frozen=True)
class UnitMatch:
    """The unit a code or an address names, as its current candidates (empty when not found)."""

    system: str  # "legacy", "current" or "" when not found
    candidates: tuple[str, ...] = ()
    legacy_code: str | None = None
    legacy_name: str | None = None
    via_address: bool = False
    reason: str = ""

    @classmethod
    def current(cls, code: str, via_address: bool = False) -> UnitMatch:
        return cls("current", (code,), via_address=via_address)

    @classmethod
    def legacy(cls, code: str, candidates: tuple[str, ...], name: str) -> UnitMatch:
        return cls("legacy", candidates, legacy_code=code, legacy_name=name)

    @classmethod
    def unknown(cls, reason: str) -> UnitMatch:
        return cls("", reason=reason)

    def addressed(self) -> UnitMatch:
        """The same match, found through an address."""
        return UnitMatch(self.system, self.candidates, self.legacy_code, self.legacy_name, True, self.reason)

    @property
    def found(self) -> bool:
        return bool(self.candidates)

    @property
    def commune_code(self) -> str | None:
        """The current unit when there is exactly one."""
        return self.candidates[0] if len(self.candidates) == 1 else None

    @property
    def assignment(self) -> Assignment:
        """How a row located by this match is assigned."""
        if len(self.candidates) > 1:
            return Assignment.AMBIGUOUS
        if self.via_address:
            return Assignment.ADDRESS
        return Assignment.LEGACY_CODE if self.system == "legacy" else Assignment.CODE

    def within(self, known: set[str]) -> UnitMatch:
        """The match limited to the units loaded (the city): a unit elsewhere is not found here."""
        if not self.found or set(self.candidates) <= known:
            return self
        inside = tuple(c for c in self.candidates if c in known)
        if inside:  # an old unit split across a provincial border: the outer part is not ours to list
            return UnitMatch(self.system, inside, self.legacy_code, self.legacy_name, self.via_address)
        return UnitMatch.unknown(
            f"đơn vị {self.legacy_name or self.candidates[0]} nằm ngoài các xã/phường đã nạp (outside the loaded communes)"
        )

    def describe(self) -> str:
        """What a flagged row is told: the old unit and the current candidates."""
        return f"{self.legacy_name or self.legacy_code} đã bị chia, có thể thuộc: {', '.join(self.candidates)}"


#: Indicator columns summed when old communes are aggregated onto a current one (counts and areas).
SUMMED = ("population", "users_with_records", "plants_destroyed", "cultivation_m2")
#: Overrides summed only when every old commune gives one; otherwise unknown (derived from incidents instead).
SUMMED_IF_COMPLETE = ("organizing_places", "arrested_offenders")


def aggregate_legacy_indicators(
    rows: pd.DataFrame, parts_of: Mapping[str, frozenset[str]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Indicators given per old commune, summed onto the current communes: (aggregated rows, flagged rows).

    `rows` holds validated indicator rows with `legacy_code` and `candidates` (current codes); `parts_of`
    maps each current code to every old commune that lies in it, wholly or in part. A current commune gets
    a row (method `legacy_sum`, the old codes listed) only when every old commune of it is given and none of
    them was split: a sum over part of its area would be an undercount that looks like a real figure. An old
    commune split across several current ones is never apportioned: it, and each current commune it
    touches, is flagged instead; so is each current commune with old communes missing from the file.
    Counts and areas are summed, a population only when all parts give one, the route flag is any-of.
    """
    flagged: list[tuple[int, str, str, str]] = []
    split = rows["candidates"].map(len) > 1
    for row in rows[split].itertuples():
        flagged.append(
            (
                row.line,
                row.legacy_code,
                "commune_code",
                f"năm {row.year}: xã cũ {row.legacy_code} đã bị chia vào {', '.join(row.candidates)};"
                " số liệu không được chia theo ước đoán (split unit: figures not apportioned)",
            )
        )
    whole = rows[~split].assign(commune_code=lambda f: f["candidates"].map(lambda c: c[0]))
    touched_by_split = {(y, c) for y, cs in zip(rows.loc[split, "year"], rows.loc[split, "candidates"]) for c in cs}
    out = []
    for (year, code), group in whole.groupby(["year", "commune_code"], sort=True):
        given = set(group["legacy_code"])
        missing = sorted(parts_of.get(code, frozenset()) - given)
        problem = ""  # the English gloss ends the reason, where vietnamese_reason takes it off for the reader
        if (year, code) in touched_by_split:
            problem = "nhận một phần của xã cũ đã bị chia; không tính (receives part of a split old commune)"
        elif missing:
            problem = f"thiếu số liệu các xã cũ {', '.join(missing)}; không tính (old communes missing from the file)"
        if problem:
            for line, legacy in zip(group["line"], group["legacy_code"]):
                flagged.append((line, legacy, "commune_code", f"năm {year}, xã {code}: {problem}"))
            continue
        record: dict[str, object] = {"year": year, "commune_code": code, "line": int(group["line"].min())}
        for name in SUMMED:
            values = group[name]
            record[name] = values.sum().item() if values.notna().all() else None
        for name in SUMMED_IF_COMPLETE:
            values = group[name]
            record[name] = int(values.sum()) if values.notna().all() else None
        record["on_drug_route"] = bool(group["on_drug_route"].any())
        sources = sorted({s for s in group["source"] if isinstance(s, str) and s})
        record["source"] = "; ".join(sources) or None
        record["method"] = IndicatorMethod.LEGACY_SUM.value
        record["legacy_codes"] = sorted(given)
        out.append(record)
    flagged_frame = pd.DataFrame(flagged, columns=["line", "ref", "field", "reason"])
    return pd.DataFrame(out), flagged_frame.sort_values(["line", "ref"], kind="stable", ignore_index=True)
