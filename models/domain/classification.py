"""A year's classification draft and its review: legal + learned + forecast per commune, overrides, order.

Pure rules of the planner workflow: what a draft holds, which overrides are valid, and which
communes a planner sees first (the class and the model's group disagree, or the class changed since the
previous approved year). The legal class is the official proposal; the learned class and the
forecast are advisory.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from models.domain.dates import vn_day, vn_time
from models.domain.indicators import indicator_records, register_gap
from models.domain.legal_rules import (
    LegalRules,
    classify_legal,
    evaluate_criteria,
)
from models.domain.personal_names import refuse_names
from models.errors import (
    AlreadyExists,
    Conflict,
    DiabanError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    StaleVersion,
)
from models.forecast.learned import classify_learned, forecast_risk
from models.frames import frame_records
from models.lazy import lazy_module
from models.vocabulary import (
    CLASS_CHOICES,
    LEAVING_DRUG_FREE_LABEL,
    MISSING_DATA_LABEL,
    Category,
    Level,
    class_label,
    local_today,
)

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

METHOD = "legal+gmm+logistic"
#: Severity rank of a final class, for ordering (trọng điểm I most severe).
SEVERITY = {choice: rank for rank, choice in enumerate(CLASS_CHOICES, start=1)}
_CRITERION_FIELDS = (
    "criterion_id",
    "level",
    "ref",
    "title",
    "value",
    "unit",
    "threshold",
    "op",
    "met",
    "missing",
    "verified",
    "detail",
    "label",
)


class ClassificationError(DiabanError):
    """Base of the planner-workflow errors (their messages are Vietnamese, then English)."""

    code = "classification_error"


class RunNotFound(ClassificationError, NotFound):
    """No classification run for the year (or that version)."""

    code = "run_not_found"


class RunApproved(ClassificationError, Conflict):
    """The year's classification is approved, hence immutable."""

    code = "run_approved"

    def __init__(self, year: int, version: int) -> None:
        super().__init__(
            f"Kết quả phân loại năm {year} (phiên bản {version}) đã được phê duyệt, không thể thay đổi; "
            "hãy tạo bản hiệu chỉnh mới",
            f"year {year} v{version} is approved and immutable: "
            f"create a correction run with POST /api/classifications/{year}/runs",
        )


class DraftExists(ClassificationError, AlreadyExists):
    """A draft already exists for the year; replacing it must be asked for explicitly."""

    code = "draft_exists"


def refuse_existing_draft(year: int, version: int, overridden: int, overriders: Collection[str]) -> DraftExists:
    """The refusal of a run while the year's draft ``version`` stands, which the planner page asks «Thay bản nháp hiện
    có…?» with: it names the draft's overrides (``overridden`` communes, by ``overriders``) that replacing it drops from
    the result — a reviewer's corrections were thrown away by the runner's «OK», unseen."""
    held = f", trong đó {overridden} xã đã được điều chỉnh thủ công bởi {', '.join(overriders)}" if overridden else ""
    dropped = (
        " — thay thế sẽ bỏ các điều chỉnh này khỏi kết quả (vẫn ghi trong lịch sử phiên bản)" if overridden else ""
    )
    return DraftExists(
        f"năm {year} đã có bản nháp phiên bản {version}{held}; duyệt hoặc thay thế nó{dropped}",
        f"a draft v{version} exists for {year}"
        + (f" with {overridden} overridden communes" if overridden else "")
        + ": approve it or replace it",
    )


class InvalidOverride(ClassificationError, InvalidRequest):
    """An override without a reason of a few words, or with an impossible category/level pair."""

    code = "invalid_override"


class YearNotBegun(ClassificationError, InvalidRequest):
    """A classification of a year that has not begun in Hải Phòng: it has no data, so every commune came out «có nguy
    cơ» with missing data, and once approved the KPI report scored it and the command map showed it as the newest."""

    code = "year_not_begun"


def check_year_begun(year: int, today: date | None = None) -> int:
    """``year`` if it has begun on ``today`` (Hải Phòng's today by default), else YearNotBegun: the current year,
    unfinished, may be classified (planners classify during the year), a later one not — neither run nor approved."""
    day = today or local_today()
    if year <= day.year:
        return year
    raise YearNotBegun(
        f"Năm {year} chưa bắt đầu (hôm nay là ngày {vn_day(day)}): chỉ phân loại được năm {day.year} đang diễn ra"
        " hoặc các năm trước",
        f"{year} has not begun (today is {day.isoformat()} in Hai Phong)",
    )


class FourEyesRefused(ClassificationError, PermissionDenied):
    """The approver ran the draft or overrode a commune's class in it (four-eyes principle)."""

    code = "four_eyes_required"


def check_four_eyes(approver: str, ran_by: str, own_overrides: int, own_last_at: datetime | None) -> None:
    """Refuse an approval by the planner who ran the draft (``ran_by``: who chose its indicator data and unit basis)
    or whose overrides (`own_overrides` communes, the newest at `own_last_at`) stand in it: what is approved is never
    approved by who produced it, a second planner must. (The runner approved the rules' own result, overridden by
    nobody, so that one planner alone decided a year's trọng điểm communes; and only the draft's last overrider was
    refused: one who overrode earlier approved their own change once anyone else made a later one.)"""
    done = []  # (Vietnamese, English) of each part the approver had in the draft
    if approver == ran_by:
        done.append(("đã chạy phân loại tạo bản nháp này", "ran the draft"))
    if own_overrides:
        when = f", lần cuối ngày {vn_time(own_last_at)}" if own_last_at else ""
        done.append(
            (
                f"đã điều chỉnh kết quả của {own_overrides} xã trong bản nháp{when}",
                f"overrode {own_overrides} communes in the draft",
            )
        )
    if not done:
        return
    raise FourEyesRefused(
        f"Nguyên tắc bốn mắt: {approver} {' và '.join(vi for vi, _ in done)}, nên không được tự phê duyệt; cần một"
        " cán bộ tham mưu khác xem xét và phê duyệt",
        f"four-eyes principle: {approver} {' and '.join(en for _, en in done)} and cannot approve it",
    )


class DraftChanged(ClassificationError, StaleVersion):
    """The draft changed after the approver read it (run again, or a class overridden): approving it would approve what
    the second pair of eyes never saw."""

    code = "draft_changed"


def check_seen(
    year: int,
    draft: tuple[int, datetime | None],
    seen: tuple[int, datetime | None],
    action: str = "phê duyệt",
) -> None:
    """Refuse an approval (or another ``action`` on the draft: "bỏ") of a draft other than the one the planner read:
    ``draft`` and ``seen`` are (run id, newest override instant) of the draft now and of the draft as read (a replaced
    draft keeps its version number, not its id)."""
    if draft == seen:
        return
    (draft_id, last_at), (seen_id, _) = draft, seen
    if draft_id != seen_id:
        what = "đã được chạy lại"
    else:
        what = "đã có điều chỉnh khác" + (f" (lần cuối ngày {vn_time(last_at)})" if last_at else "")
    raise DraftChanged(
        f"Bản nháp phân loại năm {year} {what} sau khi bạn xem: hãy xem lại kết quả trước khi {action}",
        f"the {year} draft changed after it was read (run {seen_id} → {draft_id}): review it again",
    )


class IndicatorsChanged(ClassificationError, StaleVersion):
    """The year's indicator table was loaded again after the draft was run: its classes rest on figures the database no
    longer holds."""

    code = "indicators_changed"


def indicators_reloaded_text(year: int, version: int, reloaded: Mapping[str, Any], action: str = "phê duyệt") -> str:
    """What a draft (version ``version`` of ``year``) whose year's indicators were loaded again after it was run
    (``reloaded``: that import's file_name, imported_by, started_at) is told, refused or reviewed (`classify review`)."""
    return (
        f"Chỉ số năm {year} đã được nhập lại (tệp «{reloaded['file_name']}», {reloaded['imported_by']},"
        f" {vn_time(reloaded['started_at'])}) sau khi chạy bản nháp phiên bản {version}: hãy chạy lại phân loại năm"
        f" {year} để dùng số liệu mới rồi mới {action}"
    )


def check_indicators_unchanged(
    year: int, version: int, reloaded: Mapping[str, Any] | None, action: str = "phê duyệt"
) -> None:
    """Refuse to ``action`` a draft (version ``version`` of ``year``) whose year's indicators were loaded again after
    it was run (``reloaded``: that import; None: not): the planner who loaded the new figures had to remember to run
    the year again, and the approver saw nothing of it — the approved classes disagreed with the year's figures, in
    the KPI and every export."""
    if reloaded is None:
        return
    raise IndicatorsChanged(
        indicators_reloaded_text(year, version, reloaded, action),
        f"the {year} indicators were imported again (import {reloaded['id']}) after draft v{version} was run:"
        " run the year again",
    )


#: Words an override's reason has at least: the class decided against the law's criteria is explained to whoever
#: reads the year's classification («ok», «x», «lý do» were accepted); three Vietnamese words name a source
#: («Tin báo mới», «theo báo cáo miệng»), and the history keeps every reason.
MIN_REASON_WORDS = 3


def check_override(
    category: str,
    level: str | None,
    reason: str | None,
    *,
    incomplete: bool = False,
    places: Callable[[], Collection[str]] = frozenset,
) -> tuple[str, str | None, str]:
    """Validate an override: known category, level iff trọng điểm, a non-blank reason without a person's name
    (refuse_names, ``places`` the known places' names), and never drug-free while the commune's data is incomplete (complete the data and draft again
    instead)."""
    if category not in Category.values():
        raise InvalidOverride(
            "loại địa bàn không hợp lệ", f"unknown category {category!r}; one of {', '.join(Category.values())}"
        )
    if category == Category.TRONG_DIEM and level not in Level.values():
        raise InvalidOverride("địa bàn trọng điểm cần cấp độ I, II hoặc III", "trong_diem needs level I, II or III")
    if category != Category.TRONG_DIEM and level is not None:
        raise InvalidOverride("chỉ địa bàn trọng điểm mới có cấp độ", "only trong_diem has a level")
    if not reason or not reason.strip():
        raise InvalidOverride("phải nêu lý do điều chỉnh", "an override needs a reason")
    if sum(any(ch.isalpha() for ch in word) for word in reason.split()) < MIN_REASON_WORDS:
        raise InvalidOverride(
            f"lý do điều chỉnh «{reason.strip()}» chưa nêu căn cứ: hãy viết ít nhất {MIN_REASON_WORDS} từ (tin báo,"
            " số liệu hay văn bản nào, của đơn vị nào)",
            f"an override's reason needs at least {MIN_REASON_WORDS} words saying what it rests on",
        )
    refuse_names(reason, "Lý do điều chỉnh", places)
    if incomplete and category == Category.DRUG_FREE:
        raise InvalidOverride(
            f"không thể xếp loại không ma túy khi còn {MISSING_DATA_LABEL}: hãy bổ sung số liệu rồi phân loại lại",
            "a commune with unknown indicators cannot be drug-free: complete the data and draft again",
        )
    return category, level, reason.strip()


class OverrideUnchanged(InvalidOverride):
    """An override to the class the commune already has in the draft: it changed nothing, yet counted as the planner's
    override (in the history, and against their approval under the four-eyes principle)."""

    code = "override_unchanged"


def check_override_changes(
    commune: str,
    year: int,
    current: tuple[str, str | None],
    wanted: tuple[str, str | None],
    reasons: tuple[str | None, str] = (None, ""),
) -> None:
    """Refuse an override of ``commune`` (its full name) to ``wanted`` (category, level) when the ``year``'s draft
    already gives it that class (``current``, the criteria's or an earlier override's) for the same reason: nothing to
    record. ``reasons``: the standing override's reason (None: the class is the criteria's) and the new one — an
    override to its own class with another reason corrects the reason (the earlier one stays in the history)."""
    standing, reason = reasons
    if current != wanted or (standing is not None and standing != reason):
        return
    why = " với cùng lý do" if standing is not None else ""
    raise OverrideUnchanged(
        f"{commune} đã là loại «{class_label(*current)}»{why} trong bản nháp năm {year}: không có gì để sửa",
        f"commune {commune} is already {current[0]}{' ' + current[1] if current[1] else ''} in the {year} draft:"
        " nothing to override",
    )


def _criteria_by_commune(long: pd.DataFrame) -> dict[str, list[dict]]:
    """Every criterion's value, threshold and whether it was met, as a list of dicts per commune."""
    grouped: dict[str, list[dict]] = {}
    for code, record in zip(long["commune_code"], frame_records(long.loc[:, list(_CRITERION_FIELDS)])):
        grouped.setdefault(code, []).append(record)
    return grouped


def build_draft(
    history: pd.DataFrame, year: int, rules: LegalRules, register_since: date | None = date.min
) -> pd.DataFrame:
    """One row per commune for ``year``: legal, learned, next-year risk, final class and its evidence. The explanation
    of a commune whose organising places are unknown because the hotspot register (beginning ``register_since``) does
    not cover the year says why (`register_gap`)."""
    # history: derived indicators (models.domain.indicators) for ``year`` and any earlier years, which train
    # the next-year forecast. The final class starts as the legal one.
    current = history[history["year"] == year].reset_index(drop=True)
    criteria = evaluate_criteria(current, rules)
    legal = classify_legal(current, rules, criteria)
    learned = classify_learned(current).set_index("commune_code")
    forecast = forecast_risk(history[history["year"] <= year]).set_index("commune_code")
    codes = current["commune_code"]
    explanation = legal["explanation"].to_numpy(dtype=object)
    gap = register_gap(register_since, year)
    if gap is not None:
        why = f" Chưa có số điểm, tụ điểm tổ chức sử dụng trái phép chất ma túy của năm {year}: {gap}."
        explanation = np.where(current["organizing_places"].isna().to_numpy(), explanation + why, explanation)
    return pd.DataFrame(
        {
            "commune_code": codes,
            "legal_category": legal["category"],
            "legal_level": legal["level"],
            "learned_category": learned["learned_category"].reindex(codes).to_numpy(),
            "risk_next_year": forecast["p_active"].reindex(codes).to_numpy(),
            "leaving_drug_free": forecast["leaving_drug_free"].reindex(codes).fillna(False).astype(bool).to_numpy(),
            "category": legal["category"],
            "level": legal["level"],
            "incomplete": legal["incomplete"],
            "possible_level": legal["possible_level"],
            "method": "legal",
            "indicators": indicator_records(current),
            "sources": current["sources"],
            "criteria": codes.map(_criteria_by_commune(criteria)),
            "explanation": explanation,
        }
    )


def changed_count(items: pd.DataFrame) -> int | None:
    """How many communes of a review (:func:`review_order`) changed class since the previous approved year; None when
    none of them has a class that year (no approved year before, or none of these units in it): nothing to compare
    with, which is not 0 changes."""
    if not items["previous_category"].notna().any():
        return None
    return int(items["changed"].sum())


def review_order(results: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """Results with review flags, disagreements and changes against the previous approved year first."""
    # results/previous: commune_code, category, level (+ legal/learned categories for results).
    out = results.copy()
    # The class as it stands (the criteria's, or an override's) against the model's group: an override that agreed with
    # the model still read «khác mô hình», the commune listed first after the planner had settled it. The model has
    # three groups (CLUSTER_LABELS), no loại: its «trọng điểm» agrees with any of I–III.
    out["disagreement"] = out["learned_category"].notna() & (out["learned_category"] != out["category"])
    if previous is None or previous.empty:
        out["previous_category"], out["previous_level"] = None, None
        out["changed"] = False
    else:
        before = previous.set_index("commune_code")
        out["previous_category"] = out["commune_code"].map(before["category"])
        out["previous_level"] = out["commune_code"].map(before["level"])
        out["changed"] = out["previous_category"].notna() & (
            (out["previous_category"] != out["category"])
            | (out["previous_level"].fillna("") != out["level"].fillna(""))
        )
    out["overridden"] = out["method"].eq("override")
    out["incomplete"] = out["incomplete"].fillna(False).astype(bool)
    out["data_status"] = out["incomplete"].map({True: MISSING_DATA_LABEL, False: None})
    out["missing_criteria"] = [missing_criteria(criteria) for criteria in out["criteria"]]
    out["severity"] = [
        SEVERITY[(c, lvl if c == "trong_diem" else None)] for c, lvl in zip(out["category"], out["level"])
    ]
    out["flags"] = _flags(out)
    priority = out["disagreement"].astype(int) + out["changed"].astype(int) + out["incomplete"].astype(int)
    out = out.assign(_p=priority, _l=out["leaving_drug_free"].astype(int))
    return (
        out.sort_values(["_p", "_l", "severity", "commune_code"], ascending=[False, False, False, True], kind="stable")
        .drop(columns=["_p", "_l"])
        .reset_index(drop=True)
    )


def missing_criteria(criteria: list[dict] | None) -> list[str]:
    """Titles of the criteria that could not be decided for lack of data ('loại I (a)', …)."""
    return [c.get("title") or c["criterion_id"] for c in criteria or () if c.get("missing")]


def _flags(frame: pd.DataFrame) -> list[list[str]]:
    """Vietnamese review notes per commune (why it is listed first), as the page and the command line show them."""
    notes: Mapping[str, np.ndarray] = {
        "Kết quả khác nhóm mô hình gợi ý": frame["disagreement"].to_numpy(),
        "Thay đổi so với năm trước đã phê duyệt": frame["changed"].to_numpy(),
        f"{LEAVING_DRUG_FREE_LABEL.capitalize()} năm sau": frame["leaving_drug_free"].to_numpy(dtype=bool),
        "Đã điều chỉnh thủ công": frame["overridden"].to_numpy(),
        "Thiếu dữ liệu: có tiêu chí chưa xác định được": frame["incomplete"].to_numpy(),
    }
    flags = np.array(list(notes.values())).T
    texts = np.array(list(notes))
    return [texts[row].tolist() for row in flags]
