"""Lifecycle of a field task (suppressing a spot, or converting a commune) and its overdue days.

Modelled on ArcGIS Workforce: declining needs a reason and returning completed work needs a
comment, so the append-only history always explains why work went back. Cancelling needs a reason too: it took a
task from its team in one click, the team told «đã bị hủy» and nothing more (a walk-through's mis-click).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from models.domain.state_machine import Requirement, StateMachine, requires_text
from models.vocabulary import TASK_CLOSED, TASK_WORK_DONE
from models.vocabulary import TaskState as T


@dataclass(frozen=True)
class TaskFacts:
    """Facts supplied with a transition request."""

    comment: str = ""
    reason: str = ""


_FLOW: dict[tuple[str, str], tuple[Requirement, ...]] = {
    (T.UNASSIGNED, T.ASSIGNED): (),
    (T.ASSIGNED, T.IN_PROGRESS): (),
    (T.IN_PROGRESS, T.PAUSED): (),
    (T.PAUSED, T.IN_PROGRESS): (),
    (T.IN_PROGRESS, T.COMPLETED): (),
    (T.COMPLETED, T.ACCEPTED): (),
    (T.COMPLETED, T.RETURNED): (
        requires_text("comment", "ý kiến vì sao trả lại", "a comment on why the work is returned"),
    ),
    (T.RETURNED, T.IN_PROGRESS): (),
    (T.ASSIGNED, T.DECLINED): (requires_text("reason", "lý do từ chối", "a reason for declining"),),
}
_NON_TERMINAL = {source for source, _ in _FLOW}
_CANCEL = (requires_text("comment", "lý do hủy nhiệm vụ", "a reason for cancelling"),)

TASK_LIFECYCLE = StateMachine(
    name="task",
    labels_vi=T.labels(),
    initial=T.UNASSIGNED,
    transitions={**_FLOW, **{(state, T.CANCELED): _CANCEL for state in sorted(_NON_TERMINAL)}},
)


def overdue_days(state: str, due: date | None, as_of: date) -> int:
    """Whole days past the due date while work is still owed (0 when not overdue or no due date)."""
    if due is None or state in TASK_WORK_DONE:
        return 0
    return max((as_of - due).days, 0)


#: How a closed task is named when a note on it is refused (TASK_CLOSED: nothing more is done on it).
_CLOSED_WORDS = {T.CANCELED: "đã bị hủy", T.ACCEPTED: "đã được nghiệm thu", T.DECLINED: "đã bị tổ từ chối nhận"}


def note_refusal(task_id: int, state: str) -> str | None:
    """Why a note (a comment, a progress note with its photo) on task ``task_id`` in ``state`` is refused, in
    Vietnamese; None while it is accepted. A closed task (cancelled, accepted, declined: TASK_CLOSED) takes none: a
    phone still showing a task command had cancelled sent a progress note, stored after the cancel, for work nobody
    owes any more."""
    if state not in TASK_CLOSED:
        return None
    return (
        f"Nhiệm vụ #{task_id} {_CLOSED_WORDS[T(state)]}: không nhận thêm ghi chú, ảnh; hãy tải lại danh sách nhiệm vụ"
    )
