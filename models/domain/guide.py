"""Who does what next, read off the lifecycles: the steps the pages' «Hướng dẫn» lists for each hotspot status and
task state.

Derived, not written: the transitions come from the state machines, the actor of each from the same rules that let
a user press the button (``models.domain.access``), detection's own moves from ``BY_DETECTION`` and the hotspot
changes that follow a task change from ``models.domain.coupling.COMPANIONS``. A changed rule changes the help.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.domain.access import COMMAND_TASK_TARGETS, TEAM_HOTSPOT_TARGETS, TEAM_TASK_TARGETS, may_target
from models.domain.coupling import COMPANIONS, TASK_OWNED
from models.domain.hotspot_lifecycle import BY_DETECTION
from models.domain.state_machine import StateMachine
from models.domain.task_lifecycle import TASK_LIFECYCLE
from models.vocabulary import Role, TaskState

#: Who makes the moves no user requests: the detection run (clusters of incidents), named as users read it.
DETECTION_ACTOR = "Hệ thống (tự động, khi chạy phát hiện)"
#: The roles that act on hotspots and tasks, in the order the help names them.
_ACTING_ROLES = (Role.COMMAND, Role.TEAM)


@dataclass(frozen=True)
class Step:
    """One way out of a state: who moves it (Vietnamese), to which state, and through which task change when the
    move follows one (a hotspot's status following its suppression task), else None."""

    actor: str
    target: str
    via_task: str | None = None


def task_actors(target: str) -> tuple[str, ...]:
    """Labels of the roles that move a task into ``target``; assigning a task is command's (it opens tasks:
    ``models.domain.coupling.may_open_task``)."""
    roles = [r for r in _ACTING_ROLES if may_target(r, target, TEAM_TASK_TARGETS, COMMAND_TASK_TARGETS)]
    return tuple(r.label for r in roles or [Role.COMMAND])


def task_steps(state: str) -> list[Step]:
    """The task's ways out of ``state`` and who takes each."""
    return [Step(actor, target) for target in TASK_LIFECYCLE.allowed(state) for actor in task_actors(target)]


def hotspot_steps(machine: StateMachine, status: str) -> list[Step]:
    """The hotspot's ways out of ``status`` and who takes each: detection, a task change (by whom), or a user."""
    steps: list[Step] = []
    for target in machine.allowed(status):
        if (status, target) in BY_DETECTION:
            steps.append(Step(DETECTION_ACTOR, target))
            continue
        via = [(task_to, found) for (_, task_to), (found, to) in COMPANIONS.items() if to == target and status in found]
        if via or target in TASK_OWNED:
            for task_to in dict.fromkeys(task_to for task_to, _ in via):
                steps += [Step(actor, target, TaskState(task_to).label) for actor in task_actors(task_to)]
            continue
        steps += [Step(r.label, target) for r in _ACTING_ROLES if may_target(r, target, TEAM_HOTSPOT_TARGETS, None)]
    return steps
