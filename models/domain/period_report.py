"""The periodic report («báo cáo định kỳ»: week, month, quarter, half year, year) as command writes it: each figure of
the period beside the same period of the previous year and the change («tăng 12 vụ (+8,5 %) so với cùng kỳ»).

Pure: counts in, labelled lines out, in four sections — incidents by kind, hotspots, tasks per team, the communes
with the most incidents. A figure whose period ends before the records of its kind begin is unknown (None), never 0
(:func:`known`), as is an incident figure of a period beginning after the newest incident loaded (the register is
imported: :func:`data_until_lines` says the day it reaches), and one going on past that day compares its incidents
with the same days of last year, not the whole period (:func:`compared_window`); the relative change of a count from 0
is None (:func:`models.domain.kpi.compared`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from models.domain.dates import DayWindow, vn_day, year_back
from models.domain.kpi import compared
from models.vocabulary import KPI_NO_DATA, RECURRED_WORDS, IncidentKind

#: How many communes the report lists: those with the most incidents in the period.
TOP_COMMUNES = 10
#: The sections, in the report's order, and their titles (the Excel file numbers them I, II, …).
SECTION_TITLES = {
    "incidents": "Vụ việc về ma túy theo loại",
    "hotspots": "Điểm, tụ điểm phức tạp về ma túy",
    "tasks": "Nhiệm vụ của các tổ công tác",
    "communes": f"{TOP_COMMUNES} xã, phường, đặc khu có nhiều vụ việc nhất trong kỳ",
}
INCIDENTS_TOTAL = "Tổng số vụ việc"
#: The hotspot counts (gis.store.indicators.hotspot_flows) as the report names them. A new one is counted by its first
#: incident (a spot reported by hand: the day it was entered), as the yearly KPI «mới phát sinh» is — a detection run
#: late does not move a spot into a later period: named so, «mới phát hiện, đưa vào danh sách» read as counted by the
#: day it entered the register.
HOTSPOT_LABELS = {
    "new": "Điểm, tụ điểm mới phát sinh trong kỳ",
    "eradicated": "Điểm, tụ điểm đã triệt xóa",
    "kept_clean": "Điểm, tụ điểm giữ sạch hết thời gian theo dõi, đã loại khỏi danh sách",
    "recurred": f"Lượt điểm, tụ điểm {RECURRED_WORDS}",
}
#: The task counts (gis.store.period_counts.task_counts) as the report names them.
TASK_LABELS = {
    "completed": "Nhiệm vụ tổ báo hoàn thành",
    "on_time": "Nhiệm vụ tổ báo hoàn thành đúng hạn",
    "accepted": "Nhiệm vụ đã nghiệm thu",
    "overdue": "Nhiệm vụ quá hạn vào cuối kỳ",
}
#: Whose tasks a line counts: every team's, or those held by no team (not given, or taken back).
ALL_TEAMS = "Tất cả các tổ"
NO_TEAM = "Chưa giao tổ"
#: What a blank figure says: unknown (the records do not reach into its period), or a relative change from 0.
NO_DATA = KPI_NO_DATA
FROM_ZERO = "cùng kỳ bằng 0, không tính tỷ lệ"
#: What a section without lines says: nothing happened in the period, or its records do not reach into it.
NONE_IN_PERIOD = "Không có mục nào trong kỳ."
NO_DATA_IN_PERIOD = f"{NO_DATA[0].upper()}{NO_DATA[1:]} trong kỳ."
#: The kinds of records whose beginning decides whether a figure is known, as a note names them.
RECORDS = {"incidents": "vụ việc", "hotspots": "điểm, tụ điểm", "tasks": "nhiệm vụ"}
#: The records written in the system (not imported): they begin when it was put to use, so last year's figure of one
#: is known only when they cover its whole window (:func:`known`'s ``whole``).
WRITTEN_HERE = frozenset({"hotspots", "tasks"})


def known(since: date | None, window: DayWindow, until: date | None = None, *, whole: bool = False) -> bool:
    """Whether the records of a kind (beginning on ``since``; None: there are none) reach into ``window``: a period
    that ends before them has no figure, which is not the same as none happening; nor has one that begins after
    ``until``, the last day the records are loaded to (imported incidents: the days after it are not yet loaded).
    ``whole``: they must cover the whole window, from its first day — last year's figure of the records written in
    the system (hotspots, tasks), which begin when it was put to use: the day before the system's first hotspot was
    not a day without one, and a year compared with the one day of it the records held read «đã triệt xóa 3 | 0 |
    +3»."""
    begun = since is not None and since <= (window.first if whole else window.last)
    return begun and (until is None or window.first <= until)


def data_until_lines(until: date | None, period: DayWindow) -> tuple[str | None, str | None]:
    """What the reader must see beside the period's incident figures: the day the incident data reaches («Dữ liệu vụ
    việc đến hết ngày 28/11/2026»; None: no incident held, which a coverage note says), and, when the period goes on
    past it, that the days after it have no data yet — its counts are partial or unknown, not a drop (else None)."""
    if until is None:
        return None, None
    reach = f"Dữ liệu vụ việc đến hết ngày {vn_day(until)}."
    if period.last <= until:
        return reach, None
    after = vn_day(until + timedelta(days=1))
    counts = "số vụ của kỳ này chưa đủ" if period.first <= until else "kỳ này chưa có số vụ"
    return reach, f"Từ ngày {after} chưa có dữ liệu: {counts}."


def compared_window(until: date | None, period: DayWindow) -> tuple[DayWindow, str | None]:
    """The days of last year the period's incident figures are compared with, and what the reader must be told of
    them (None: nothing). A period going on past ``until`` (the last day of incident data) having begun by then counts
    only its days up to it: it is compared with the same calendar days last year — the same period cut on the day a
    year before ``until`` —, a part with the same part, never with the whole (a drop that is only days not loaded)."""
    previous = period.year_before()
    if until is None or not period.first <= until < period.last:
        return previous, None
    cut = DayWindow(previous.first, year_back(until))
    return cut, f"Số vụ việc so với cùng kỳ năm trước đến ngày {vn_day(cut.last)} (từ ngày {vn_day(cut.first)})."


def coverage_notes(since: Mapping[str, date | None], previous: DayWindow) -> list[str]:
    """What the reader must know of the figures' reach: the kinds of records the system holds none of, and those that
    begin after the start of last year's period (its counts, and perhaps the period's, cover only part of it)."""
    notes = []
    for kind, words in RECORDS.items():
        day = since[kind]
        if day is None:
            notes.append(f"Chưa có số liệu {words} trong phạm vi báo cáo.")
        elif day > previous.first:
            notes.append(f"Số liệu {words} trong hệ thống bắt đầu từ ngày {vn_day(day)}.")
    return notes


def _line(key: str, label: str, counts: tuple[int, int], known_now: bool, known_before: bool) -> dict[str, Any]:
    """One line: its counts in the period and last year's, each None when unknown, and the change."""
    current, previous = counts
    return {"key": key, "label": label, **compared(current if known_now else None, previous if known_before else None)}


def period_sections(
    *,
    kinds: Mapping[str, tuple[int, int]],
    hotspots: Mapping[str, tuple[int, int]],
    teams: Sequence[Mapping[str, Any]],
    communes: Sequence[Mapping[str, Any]],
    known_now: Mapping[str, bool],
    known_before: Mapping[str, bool],
) -> list[dict[str, Any]]:
    """The report's sections (key, title, lines) from the counts of the period and of last year's: ``kinds``
    (incident kind → counts; a kind absent had none), ``hotspots`` (HOTSPOT_LABELS' keys → counts), ``teams`` (per
    team: ``team_id``, ``team``, and ``<figure>_a`` / ``<figure>_b`` for TASK_LABELS' figures; absent: 0),
    ``communes`` (the most incidents first: ``commune_code``, ``name``, ``full_name``, ``province``, ``current``,
    ``previous``), and whether the records of incidents, hotspots and tasks reach into each window. ``empty``: what a section without
    lines says — that nothing happened in the period, or, its records not reaching into it, that it has no data yet."""
    flag = {kind: (known_now[kind], known_before[kind]) for kind in ("incidents", "hotspots", "tasks")}
    by_kind = [_line(k, label, kinds.get(k, (0, 0)), *flag["incidents"]) for k, label in IncidentKind.labels().items()]
    total = (sum(c for c, _ in kinds.values()), sum(p for _, p in kinds.values()))
    incidents = [_line("total", INCIDENTS_TOTAL, total, *flag["incidents"]), *by_kind]
    hotspot_lines = [_line(k, label, hotspots[k], *flag["hotspots"]) for k, label in HOTSPOT_LABELS.items()]
    task_lines = [
        {
            **_line(figure, label, _summed(teams, figure), *flag["tasks"]),
            "team_id": None,
            "team": ALL_TEAMS,
            "figure": figure,
        }
        for figure, label in TASK_LABELS.items()
    ]
    for team in teams:
        name = team["team"] or NO_TEAM
        for figure, label in TASK_LABELS.items():
            counts = (team.get(f"{figure}_a", 0), team.get(f"{figure}_b", 0))
            line = _line(
                f"{team['team_id']}:{figure}", f"{name} — {label[0].lower()}{label[1:]}", counts, *flag["tasks"]
            )
            task_lines.append({**line, "team_id": team["team_id"], "team": name, "figure": figure})
    several = len({c["province"] for c in communes}) > 1  # nation-wide: many units share a name across provinces
    commune_lines = [
        {
            **_line(c["commune_code"], _commune(c, several), (c["current"], c["previous"]), *flag["incidents"]),
            "commune_code": c["commune_code"],
        }
        for c in communes
    ]
    lines = {"incidents": incidents, "hotspots": hotspot_lines, "tasks": task_lines, "communes": commune_lines}
    counted = {"incidents": "incidents", "hotspots": "hotspots", "tasks": "tasks", "communes": "incidents"}
    return [
        {
            "key": key,
            "title": title,
            "lines": lines[key],
            "empty": NONE_IN_PERIOD if known_now[counted[key]] else NO_DATA_IN_PERIOD,
        }
        for key, title in SECTION_TITLES.items()
    ]


def _commune(commune: Mapping[str, Any], with_province: bool) -> str:
    """A commune's line label: its full name («Phường Hải An»; the report listed «Hải An» where every other list of
    the app writes the kind too), else its name, else its code (no current unit); its province beside it when asked."""
    name = commune.get("full_name") or commune["name"] or commune["commune_code"]
    return f"{name} ({commune['province']})" if with_province and commune["province"] else name


def _summed(teams: Sequence[Mapping[str, Any]], figure: str) -> tuple[int, int]:
    """A task figure over every team, in the period and last year."""
    return sum(t.get(f"{figure}_a", 0) for t in teams), sum(t.get(f"{figure}_b", 0) for t in teams)
