"""Lifecycle of a drug hotspot: detection, verification, suppression, eradication, keeping clean.

"Triệt phá đến đâu phải giữ sạch đến đó": an eradicated hotspot is watched for a monitoring period
and only command may close it, once the period has passed without an incident in its footprint.

The statuses ``assigned`` and ``suppressing`` belong to the hotspot's suppression task: they are entered
(and left back to ``verified``) only together with a change of that task, and ``eradicated`` is recorded
by command once it has accepted the task's work (models.domain.coupling says which task change carries
which hotspot change).

Detection keeps the register's identities: a hotspot with no cluster for some windows goes dormant
(and wakes up with the next cluster), and one absorbed by another's cluster is merged into it; neither
happens to a hotspot whose task is under way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from models.domain.state_machine import (
    Gate,
    Missing,
    Requirement,
    StateMachine,
    requires_role,
    requires_text,
)
from models.vocabulary import HOTSPOT_MAY_SLEEP, TASK_CLOSED, Role, TaskState
from models.vocabulary import HotspotStatus as S

DEFAULT_MONITORING_DAYS = 180
#: A hotspot added by hand: the largest radius of its footprint (metres) and the longest note (characters).
MANUAL_MAX_RADIUS_M, MANUAL_NOTE_CHARS = 2_000.0, 2_000
#: Statuses a hotspot may be merged from; a recurred one is not (it waits for its task, "recurred → assigned").
#: Not while a suppression task is under way (assigned, suppressing): the task and its hotspot stay a pair.
_MERGEABLE = (S.DETECTED, S.VERIFIED, S.DORMANT, S.ERADICATED, S.MONITORING, S.CLOSED)
#: Transitions only a detection run makes: a recurrence at a cleared hotspot; no cluster for some windows (the
#: hotspot sleeps) and a cluster again (it wakes up); one cluster covering several hotspots (the others merge).
#: In this order, which the machine's transitions and so the help and the pages keep (a frozenset's changed with each
#: process's string hashing: the help listed «Đã gộp vào điểm khác» before or after «Tạm lắng»).
BY_DETECTION = (
    *((source, S.RECURRED) for source in (S.ERADICATED, S.MONITORING, S.CLOSED)),
    *((source, S.DORMANT) for source in S if source in HOTSPOT_MAY_SLEEP),
    (S.DORMANT, S.DETECTED),
    *((source, S.MERGED) for source in _MERGEABLE),
)
#: The actor role of hotspot detection runs: only detection records a recurrence.
SYSTEM_ROLE = "system"


@dataclass(frozen=True)
class HotspotFacts:
    """Facts supplied with a transition request (who acts, what was done, what was observed)."""

    note: str = ""
    actor_role: str | None = None
    monitoring_since: date | None = None
    as_of: date | None = None
    incident_in_footprint: bool | None = None
    #: The transition accompanies a change of the hotspot's suppression task (assignment, start, decline, cancel).
    with_task: bool = False
    #: State of the hotspot's newest suppression task (None: it never had one).
    task_state: str | None = None


def monitoring_ends(monitoring_since: date, monitoring_days: int = DEFAULT_MONITORING_DAYS) -> date:
    """First day on which a hotspot monitored since ``monitoring_since`` may be closed."""
    return monitoring_since + timedelta(days=monitoring_days)


@dataclass(frozen=True)
class _PeriodElapsed:
    """Requirement that the monitoring period of ``days`` has ended by ``as_of``; it keeps its period, which the pages
    tell before monitoring starts (monitoring_days)."""

    days: int

    def __call__(self, facts: HotspotFacts) -> Missing | None:
        """Report a missing date or a period still running."""
        if facts.monitoring_since is None or facts.as_of is None:
            return Missing(
                "cần ngày bắt đầu theo dõi và ngày kết thúc",
                "monitoring start and closing date are required (monitoring_since, as_of)",
            )
        end = monitoring_ends(facts.monitoring_since, self.days)
        if facts.as_of < end:
            return Missing(
                f"thời gian theo dõi {self.days} ngày kéo dài đến {end:%d/%m/%Y}",
                f"the {self.days}-day monitoring period runs until {end.isoformat()}",
            )
        return None


def _no_incident(facts: HotspotFacts) -> Missing | None:
    """Requirement that no incident occurred within the footprint during monitoring."""
    if facts.incident_in_footprint is None:
        return Missing(
            "chưa xác định có vụ việc trong phạm vi điểm nóng hay không",
            "whether an incident occurred within the footprint must be stated (incident_in_footprint)",
        )
    if facts.incident_in_footprint:
        return Missing(
            "đã có vụ việc trong phạm vi điểm nóng trong thời gian theo dõi",
            "an incident occurred within the footprint during monitoring",
        )
    return None


def _with_task(what_vi: str, what_en: str) -> Requirement:
    """Requirement (a gate) that the transition is made together with a change of the suppression task."""

    def check(facts: HotspotFacts) -> Missing | None:
        """Refuse a direct request for a status that belongs to the task."""
        if facts.with_task:
            return None
        return Missing(
            f"trạng thái này đi theo nhiệm vụ đấu tranh, triệt xóa: {what_vi}",
            f"this status follows the suppression task: {what_en}",
        )

    return Gate(check)


def _task_accepted(facts: HotspotFacts) -> Missing | None:
    """Requirement that command has accepted (nghiệm thu) the work of the hotspot's suppression task."""
    if facts.task_state == TaskState.ACCEPTED:
        return None
    return Missing(
        "ban chỉ huy phải nghiệm thu kết quả nhiệm vụ đấu tranh, triệt xóa trước",
        f"the suppression task must be accepted first (task state: {facts.task_state!r})",
    )


def _no_task_under_way(facts: HotspotFacts) -> Missing | None:
    """Requirement that the hotspot has no suppression task still open (detection neither merges nor puts to sleep
    a hotspot the police are working on: the task and its hotspot stay a pair)."""
    if facts.task_state is None or facts.task_state in TASK_CLOSED:
        return None
    return Missing(
        "điểm nóng đang có nhiệm vụ đấu tranh, triệt xóa chưa kết thúc",
        f"the hotspot has a suppression task under way ({facts.task_state!r})",
    )


def hotspot_lifecycle(monitoring_days: int = DEFAULT_MONITORING_DAYS) -> StateMachine:
    """The hotspot state machine with a given monitoring period in days."""
    if monitoring_days < 0:
        raise ValueError(f"monitoring_days must be ≥ 0, got {monitoring_days}")
    by_detection = (requires_role(SYSTEM_ROLE, "hệ thống phát hiện"),)
    by_assignment = (_with_task("giao nhiệm vụ cho tổ công tác", "assign the task to a team"),)
    by_withdrawal = (_with_task("khi nhiệm vụ bị từ chối hoặc hủy", "when the task is declined or cancelled"),)
    # A dismissal says why: the team that reported the spot reads it in its inbox and its list of reports.
    with_reason = (requires_text("note", "lý do loại bỏ", "a reason for dismissing"),)
    return StateMachine(
        name="hotspot",
        labels_vi=S.labels(),
        initial=S.DETECTED,
        transitions={
            (S.DETECTED, S.VERIFIED): (),
            (S.DETECTED, S.DISMISSED): with_reason,
            (S.VERIFIED, S.ASSIGNED): by_assignment,
            (S.ASSIGNED, S.SUPPRESSING): (
                _with_task("tổ công tác bắt đầu thực hiện nhiệm vụ", "the team starts the task"),
            ),
            (S.ASSIGNED, S.VERIFIED): by_withdrawal,
            (S.SUPPRESSING, S.VERIFIED): by_withdrawal,
            (S.SUPPRESSING, S.ERADICATED): (
                requires_role(Role.COMMAND, Role.COMMAND.label),
                _task_accepted,
                requires_text("note", "ghi chú kết quả đã làm", "a note of what was done"),
            ),
            (S.ERADICATED, S.MONITORING): (),
            (S.MONITORING, S.CLOSED): (
                requires_role(Role.COMMAND, Role.COMMAND.label),
                _PeriodElapsed(monitoring_days),
                _no_incident,
            ),
            (S.RECURRED, S.ASSIGNED): by_assignment,
            (S.DORMANT, S.DISMISSED): with_reason,
            **{
                pair: by_detection + ((_no_task_under_way,) if pair[1] in (S.DORMANT, S.MERGED) else ())
                for pair in BY_DETECTION
            },
        },
    )


HOTSPOT_LIFECYCLE = hotspot_lifecycle()


def monitoring_days(machine: StateMachine) -> int:
    """The monitoring period (days) a hotspot lifecycle ``machine`` requires before closing: the number its own
    closing requirement checks (DIABAN_MONITORING_DAYS in the app, another in a test), not a copy of the setting."""
    return next(r.days for r in machine.transitions[(S.MONITORING, S.CLOSED)] if isinstance(r, _PeriodElapsed))
