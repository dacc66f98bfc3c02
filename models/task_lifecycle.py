"""Lifecycle of a field task (suppressing a spot, or converting a commune) and its overdue days.

Modelled on ArcGIS Workforce: declining needs a reason and returning completed work needs a
comment, so the append-only history always explains why work went back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from models.state_machine import StateMachine, requires_text

TASK_KINDS_VI = {
    "suppression": "Đấu tranh, triệt xóa điểm, tụ điểm",
    "conversion": "Chuyển hóa địa bàn",
}

TASK_LABELS_VI = {
    "unassigned": "Chưa giao",
    "assigned": "Đã giao",
    "in_progress": "Đang thực hiện",
    "paused": "Tạm dừng",
    "completed": "Đã hoàn thành, chờ nghiệm thu",
    "accepted": "Đã nghiệm thu",
    "returned": "Trả lại để làm tiếp",
    "declined": "Từ chối nhận",
    "canceled": "Đã hủy",
}

#: States in which the assignee no longer owes work, so the due date no longer applies.
WORK_DONE_STATES = frozenset({"completed", "accepted", "declined", "canceled"})


@dataclass(frozen=True)
class TaskFacts:
    """Facts supplied with a transition request."""

    comment: str = ""
    reason: str = ""


_FLOW = {
    ("unassigned", "assigned"): (),
    ("assigned", "in_progress"): (),
    ("in_progress", "paused"): (),
    ("paused", "in_progress"): (),
    ("in_progress", "completed"): (),
    ("completed", "accepted"): (),
    ("completed", "returned"): (requires_text("comment", "a comment on why the work is returned"),),
    ("returned", "in_progress"): (),
    ("assigned", "declined"): (requires_text("reason", "a reason for declining"),),
}
_NON_TERMINAL = {source for source, _ in _FLOW}

TASK_LIFECYCLE = StateMachine(
    name="task",
    labels_vi=TASK_LABELS_VI,
    initial="unassigned",
    transitions={**_FLOW, **{(state, "canceled"): () for state in sorted(_NON_TERMINAL)}},
)


def overdue_days(state: str, due: date | None, as_of: date) -> int:
    """Whole days past the due date while work is still owed (0 when not overdue or no due date)."""
    if due is None or state in WORK_DONE_STATES:
        return 0
    return max((as_of - due).days, 0)
