"""How a suppression task and its hotspot move together (README, "Hotspot and task coupling").

The rules, in one place:

- A suppression task is opened for a hotspot that is verified or has recurred (a detected one is verified
  first); opening it without a team changes nothing on the hotspot.
- Assigning the task to a team moves the hotspot to ``assigned``; the team starting the work moves it to
  ``suppressing``. Pausing, completing and a returned task (trả lại) keep it ``suppressing``.
- Command accepting the completed work (nghiệm thu) is the moment command may record ``eradicated`` with
  the note of what was done; then ``monitoring`` and ``closed`` follow the hotspot lifecycle (closing needs
  command, the elapsed monitoring period and no incident in the footprint).
- A task declined by the team, or cancelled by command, gives the hotspot back: it returns to ``verified``,
  waiting for a new task.
- Recurrence (detection) reopens an eradicated, monitored or closed hotspot whose task was accepted; a new
  task may then be opened.

:func:`companion` says which hotspot transition must accompany a task change; :func:`consistent` is the
relation every hotspot and its suppression tasks satisfy after any action; :func:`task_actions` and
:func:`hotspot_actions` list what a role may do next (the pages show exactly these buttons); :func:`task_targets`
and :func:`hotspot_targets` what a refused move names as allowed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from models.domain.access import (
    COMMAND_TASK_TARGETS,
    TEAM_HOTSPOT_TARGETS,
    TEAM_TASK_TARGETS,
    may_target,
)
from models.domain.hotspot_lifecycle import HotspotFacts
from models.domain.state_machine import StateMachine, TransitionError
from models.domain.task_lifecycle import TASK_LIFECYCLE, TaskFacts
from models.errors import Conflict
from models.vocabulary import HOTSPOT_TASKABLE, TASK_CLOSED, Role, codes
from models.vocabulary import HotspotStatus as H
from models.vocabulary import TaskState as T

#: Hotspot statuses that only a change of the suppression task enters.
TASK_OWNED = frozenset({H.ASSIGNED, H.SUPPRESSING})
#: Task states during which the team works on the hotspot (it is being suppressed).
_WORKING = (T.IN_PROGRESS, T.PAUSED, T.RETURNED, T.COMPLETED)

#: Statuses only detection runs set (models.domain.hotspot_lifecycle.BY_DETECTION): never while a task is under way.
_BY_DETECTION_ONLY = frozenset({H.DORMANT, H.MERGED})
#: Hotspot statuses consistent with the state of its newest suppression task (None: it never had one).
CONSISTENT: Mapping[str | None, frozenset[str]] = MappingProxyType(
    {
        None: frozenset({H.DETECTED, H.DISMISSED}) | HOTSPOT_TASKABLE | _BY_DETECTION_ONLY,
        T.UNASSIGNED: HOTSPOT_TASKABLE,
        T.ASSIGNED: frozenset({H.ASSIGNED}),
        **{state: frozenset({H.SUPPRESSING}) for state in _WORKING},
        T.ACCEPTED: frozenset({H.SUPPRESSING, H.ERADICATED, H.MONITORING, H.CLOSED, H.RECURRED, H.MERGED}),
        T.DECLINED: frozenset({H.DETECTED, H.DISMISSED}) | HOTSPOT_TASKABLE | _BY_DETECTION_ONLY,
        T.CANCELED: frozenset({H.DETECTED, H.DISMISSED}) | HOTSPOT_TASKABLE | _BY_DETECTION_ONLY,
    }
)

#: (task from, task to) → (hotspot statuses it may find, hotspot status it moves to). Absent: the hotspot stays.
COMPANIONS: Mapping[tuple[str, str], tuple[frozenset[str], str]] = MappingProxyType(
    {
        (T.UNASSIGNED, T.ASSIGNED): (HOTSPOT_TASKABLE, H.ASSIGNED),
        (T.ASSIGNED, T.IN_PROGRESS): (frozenset({H.ASSIGNED}), H.SUPPRESSING),
        (T.ASSIGNED, T.DECLINED): (frozenset({H.ASSIGNED}), H.VERIFIED),
        (T.ASSIGNED, T.CANCELED): (frozenset({H.ASSIGNED}), H.VERIFIED),
        **{(state, T.CANCELED): (frozenset({H.SUPPRESSING}), H.VERIFIED) for state in _WORKING},
    }
)


class CouplingBroken(Conflict):
    """A task change would leave the task and its hotspot in an inconsistent pair of states."""

    code = "coupling_refused"


def consistent(task_states: Sequence[str], hotspot_status: str) -> bool:
    """Whether a hotspot and its suppression tasks (oldest first) form a consistent whole.

    Every task but the newest is finished (accepted, declined or cancelled), and the hotspot's status is one
    that :data:`CONSISTENT` allows for the newest task's state.
    """
    *older, newest = [None, *task_states]
    if any(state not in TASK_CLOSED for state in older if state is not None):
        return False
    return hotspot_status in CONSISTENT[newest]


def companion(task_source: str, task_target: str, hotspot_status: str) -> str | None:
    """The hotspot status that must accompany a suppression task's change (None: the hotspot stays).

    Raises CouplingBroken when the hotspot is not where the change needs it (a detected hotspot cannot be
    assigned before it is verified, say) or when the pair after the change would not be consistent.
    """
    sources, target = COMPANIONS.get((task_source, task_target), (None, None))
    if sources is not None and hotspot_status not in sources:
        raise CouplingBroken(
            f"điểm nóng đang ở trạng thái «{H(hotspot_status).label}»: cần {_labels(sources, H)} để nhiệm vụ"
            f" chuyển sang «{T(task_target).label}»"
            + (" (hãy xác minh điểm nóng trước)" if hotspot_status == H.DETECTED else ""),
            f"hotspot is {hotspot_status!r}; task {task_source!r} → {task_target!r} needs one of {list(codes(sources))}",
        )
    after = target or hotspot_status
    if after not in CONSISTENT[task_target]:
        raise CouplingBroken(
            f"nhiệm vụ «{T(task_target).label}» không khớp với điểm nóng «{H(after).label}»",
            f"task {task_target!r} is inconsistent with hotspot {after!r}",
        )
    return target


def check_taskable(hotspot_status: str) -> None:
    """Raise CouplingBroken unless a new suppression task may be opened for a hotspot in this status."""
    if hotspot_status not in HOTSPOT_TASKABLE:
        hint = " (hãy xác minh điểm nóng trước)" if hotspot_status == H.DETECTED else ""
        raise CouplingBroken(
            f"chỉ giao nhiệm vụ cho điểm nóng {_labels(HOTSPOT_TASKABLE, H)}; điểm nóng này"
            f" «{H(hotspot_status).label}»{hint}",
            f"a suppression task needs a hotspot in {list(codes(HOTSPOT_TASKABLE))}, not {hotspot_status!r}",
        )


def task_still_open(task_state: str | None) -> bool:
    """Whether a hotspot's newest task (its state; None: none) is still open — not accepted, declined or cancelled —,
    so that its team holds the hotspot's work: the team the register names, and what keeps command from opening
    another task (:func:`may_open_task`)."""
    return task_state is not None and task_state not in TASK_CLOSED


def may_open_task(role: str, hotspot_status: str, task_state: str | None) -> bool:
    """Whether the role may open a suppression task for the hotspot now: command, a verified or recurred hotspot,
    and no task of it still open (:func:`task_still_open`)."""
    return role == Role.COMMAND and hotspot_status in HOTSPOT_TASKABLE and not task_still_open(task_state)


@dataclass(frozen=True)
class Action:
    """A transition a user may make now, and whether it needs a written note (reason, comment, result)."""

    to: str
    note_required: bool


def _available(
    machine: StateMachine, source: str, permitted: Callable[[str], bool], facts: Callable[[str], Any]
) -> list[Action]:
    """Targets the machine allows from ``source`` that the role may take and whose requirements the facts meet,
    once with the note the user will write (``facts("…")``); those refused without a note need one."""
    actions = []
    for target in machine.allowed(source):
        if not permitted(target):
            continue
        try:
            machine.check(source, target, facts("ghi chú"))
        except TransitionError:
            continue
        try:
            machine.check(source, target, facts(""))
            needs_note = False
        except TransitionError:
            needs_note = True
        actions.append(Action(target, needs_note))
    return actions


def task_actions(task_state: str, role: str) -> list[Action]:
    """Task transitions a role may make now (the team works, command accepts, returns or cancels)."""
    return _available(
        TASK_LIFECYCLE,
        task_state,
        lambda target: may_target(role, target, TEAM_TASK_TARGETS, COMMAND_TASK_TARGETS),
        lambda note: TaskFacts(comment=note, reason=note),
    )


def hotspot_actions(machine: StateMachine, status: str, role: str, facts: HotspotFacts) -> list[Action]:
    """Hotspot transitions a role may request directly now, given the facts (task state, monitoring) known."""
    return _available(
        machine,
        status,
        lambda target: target not in TASK_OWNED and may_target(role, target, TEAM_HOTSPOT_TARGETS, None),
        lambda note: replace(facts, note=note, actor_role=role, with_task=False),
    )


def task_targets(task_state: str, role: str) -> tuple[str, ...]:
    """Task states a role may ask to move a task in ``task_state`` to, whatever else the move needs (a reason, a
    comment): what a refused move names as allowed — the team was offered «Đã hủy», command's."""
    return tuple(
        target
        for target in TASK_LIFECYCLE.open_to(task_state)
        if may_target(role, target, TEAM_TASK_TARGETS, COMMAND_TASK_TARGETS)
    )


def hotspot_targets(machine: StateMachine, status: str, role: str) -> tuple[str, ...]:
    """Hotspot statuses a role may ask for directly from ``status``, whatever else the move needs (a note, the task
    accepted, the monitoring period over): what a refused move names as allowed — not those only a change of the task
    or a detection run makes (command was offered «Đang đấu tranh» for an assigned hotspot, then refused it)."""
    return tuple(
        target
        for target in machine.open_to(status, HotspotFacts(actor_role=role, with_task=False))
        if may_target(role, target, TEAM_HOTSPOT_TARGETS, None)
    )


def closing_waits(machine: StateMachine, status: str, facts: HotspotFacts) -> list[str]:
    """What still keeps a hotspot from being closed by command, in Vietnamese, as the machine's own requirements say
    it (the monitoring period running until a date, an incident in the footprint since monitoring began); empty when
    it may be closed now or when closing is no step from ``status``. The pages tell a monitored hotspot's next step
    with it: without it a card showed no close button and no reason for weeks."""
    if (status, H.CLOSED) not in machine.transitions:
        return []
    as_command = replace(facts, actor_role=Role.COMMAND)
    return [missing.vi for check in machine.transitions[(status, H.CLOSED)] if (missing := check(as_command))]


def _labels(states: Iterable[str], vocabulary: type[H] | type[T]) -> str:
    """Vietnamese labels of some states, quoted, in declaration order."""
    wanted = set(states)
    return " hoặc ".join(f"«{vocabulary(s).label}»" for s in vocabulary.values() if s in wanted)
