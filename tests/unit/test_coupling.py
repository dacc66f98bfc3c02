"""Hotspot–task coupling rules (pure): which hotspot change accompanies a task change, the consistency relation,
and the actions each role is offered."""

import random
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.domain.coupling import (
    CONSISTENT,
    Action,
    CouplingBroken,
    check_taskable,
    closing_waits,
    companion,
    consistent,
    hotspot_actions,
    hotspot_targets,
    task_actions,
    task_targets,
)
from models.domain.hotspot_lifecycle import BY_DETECTION, HOTSPOT_LIFECYCLE, HotspotFacts, hotspot_lifecycle
from models.domain.state_machine import TransitionError
from models.domain.task_lifecycle import TASK_LIFECYCLE, TaskFacts
from models.vocabulary import HOTSPOT_TASKABLE, TASK_CLOSED, HotspotStatus, TaskState

ALL_TASK_STEPS = [(s, t) for s in TASK_LIFECYCLE.states for t in TASK_LIFECYCLE.allowed(s)]


def test_the_relation_covers_every_task_state() -> None:
    assert set(CONSISTENT) == {None, *TaskState.values()}
    assert all(set(v) <= set(HotspotStatus.values()) for v in CONSISTENT.values())


@pytest.mark.parametrize(("source", "target"), ALL_TASK_STEPS)
def test_every_task_step_from_a_consistent_pair_ends_consistent_or_is_refused(source: str, target: str) -> None:
    for hotspot in HotspotStatus.values():
        if not consistent([source], hotspot):
            continue
        try:
            moved = companion(source, target, hotspot)
        except CouplingBroken:
            continue
        after = moved or hotspot
        assert consistent([target], after), (source, target, hotspot, after)
        if moved is not None:  # the hotspot's own lifecycle has the companion transition
            HOTSPOT_LIFECYCLE.check(hotspot, moved, HotspotFacts(actor_role="command", with_task=True))


def test_the_reported_flow_moves_the_hotspot_with_the_task() -> None:
    assert companion("unassigned", "assigned", "verified") == "assigned"
    assert companion("unassigned", "assigned", "recurred") == "assigned"
    assert companion("assigned", "in_progress", "assigned") == "suppressing"
    for step in (("in_progress", "paused"), ("in_progress", "completed"), ("completed", "returned")):
        assert companion(*step, "suppressing") is None  # a returned task keeps the hotspot suppressing
    assert companion("completed", "accepted", "suppressing") is None  # command then records eradicated
    assert companion("assigned", "declined", "assigned") == "verified"
    assert companion("paused", "canceled", "suppressing") == "verified"
    assert companion("unassigned", "canceled", "recurred") is None


def test_a_detected_hotspot_is_verified_before_it_gets_a_task() -> None:
    with pytest.raises(CouplingBroken, match="hãy xác minh điểm nóng trước"):
        companion("unassigned", "assigned", "detected")
    with pytest.raises(CouplingBroken, match="hãy xác minh điểm nóng trước"):
        check_taskable("detected")
    check_taskable("verified"), check_taskable("recurred")
    with pytest.raises(CouplingBroken):
        check_taskable("suppressing")


def test_older_tasks_must_be_finished() -> None:
    assert consistent(["accepted", "assigned"], "assigned")
    assert consistent(["declined", "canceled", "unassigned"], "verified")
    assert not consistent(["in_progress", "assigned"], "assigned")
    assert not consistent([], "suppressing") and not consistent(["completed"], "eradicated")
    assert consistent(["accepted"], "recurred") and consistent(["accepted"], "suppressing")


def test_a_monitored_hotspot_says_what_keeps_it_from_being_closed() -> None:
    machine = hotspot_lifecycle(180)
    watched = HotspotFacts(task_state="accepted", monitoring_since=date(2026, 1, 1), incident_in_footprint=False)
    assert closing_waits(machine, "monitoring", replace(watched, as_of=date(2026, 6, 29))) == [
        "thời gian theo dõi 180 ngày kéo dài đến 30/06/2026"
    ]
    assert closing_waits(machine, "monitoring", replace(watched, as_of=date(2026, 6, 30))) == []
    dirty = replace(watched, as_of=date(2026, 7, 1), incident_in_footprint=True)
    assert closing_waits(machine, "monitoring", dirty) == [
        "đã có vụ việc trong phạm vi điểm nóng trong thời gian theo dõi"
    ]
    assert closing_waits(machine, "eradicated", dirty) == []  # closing is no step from there


@pytest.mark.parametrize("role", ["team", "command"])
def test_a_refusal_names_every_move_offered_and_none_that_a_direct_request_cannot_make(role: str) -> None:
    """What a refused move names as allowed holds every button the pages offer (whatever the facts) and no move
    that only a task's change or detection makes: asking for one of them is never refused for who asks."""
    facts = HotspotFacts(note="ghi chú", actor_role=role, task_state=TaskState.ACCEPTED, incident_in_footprint=False)
    for status in HOTSPOT_LIFECYCLE.states:
        named = hotspot_targets(HOTSPOT_LIFECYCLE, status, role)
        offered = {a.to for a in hotspot_actions(HOTSPOT_LIFECYCLE, status, role, facts)}
        assert offered <= set(named)
        for target in named:
            assert (status, target) not in BY_DETECTION
            try:
                HOTSPOT_LIFECYCLE.check(
                    status, target, replace(facts, monitoring_since=date(2020, 1, 1), as_of=date.today())
                )
            except TransitionError as refused:
                raise AssertionError(f"{status} → {target} named for {role} but refused: {refused}") from None
    for state in TASK_LIFECYCLE.states:
        named = task_targets(state, role)
        assert {a.to for a in task_actions(state, role)} == set(named)  # a task's moves need a note at most


def test_actions_offered_to_each_role() -> None:
    assert task_actions("completed", "command") == [
        Action("accepted", False),
        Action("returned", True),
        Action("canceled", True),  # with a reason: the team it is taken from reads it
    ]
    assert task_actions("completed", "team") == []
    assert task_actions("assigned", "team") == [Action("in_progress", False), Action("declined", True)]
    assert task_actions("assigned", "planner") == []
    machine = hotspot_lifecycle(0)
    detected = HotspotFacts()
    assert hotspot_actions(machine, "detected", "command", detected) == [
        Action("verified", False),
        Action("dismissed", True),  # with a reason: the team that reported it reads it
    ]
    assert hotspot_actions(machine, "detected", "team", detected) == [Action("verified", False)]
    assert hotspot_actions(machine, "verified", "command", detected) == []  # assigning goes through a task
    assert hotspot_actions(machine, "suppressing", "command", HotspotFacts(task_state="completed")) == []
    accepted = HotspotFacts(task_state="accepted")
    assert hotspot_actions(machine, "suppressing", "command", accepted) == [Action("eradicated", True)]
    assert hotspot_actions(machine, "suppressing", "team", accepted) == []
    monitored = HotspotFacts(monitoring_since=date(2025, 1, 1), as_of=date(2025, 1, 1), incident_in_footprint=False)
    assert hotspot_actions(machine, "monitoring", "command", monitored) == [Action("closed", False)]
    assert hotspot_actions(hotspot_lifecycle(180), "monitoring", "command", monitored) == []
    dirty = HotspotFacts(monitoring_since=date(2025, 1, 1), as_of=date(2025, 1, 1), incident_in_footprint=True)
    assert hotspot_actions(machine, "monitoring", "command", dirty) == []


#: One step of a walk: (actor role, take an offered action (else an arbitrary attempt)?, pick, with a note?).
#: Offered actions keep the walks deep (eradicated, monitoring, closed, recurred, a second task); arbitrary
#: attempts try everything else, which the rules must refuse or keep consistent.
steps = st.lists(
    st.tuples(st.sampled_from(["command", "team", "system"]), st.booleans(), st.integers(0, 999), st.booleans()),
    max_size=60,
)
MACHINE = hotspot_lifecycle(0)
#: Facts of every hotspot attempt: the 0-day monitoring period has passed, with no incident in the footprint.
QUIET = HotspotFacts(monitoring_since=date(2025, 1, 1), as_of=date(2025, 1, 1), incident_in_footprint=False)


def offered(role: str, tasks: list[str], hotspot: str) -> list[tuple[str, str]]:
    """What a page would offer the role now: ("task" | "hotspot" | "new task", target)."""
    task = tasks[-1] if tasks else None
    options: list[tuple[str, str]] = []
    if role == "command" and (task is None or task in TASK_CLOSED) and hotspot in HOTSPOT_TASKABLE:
        options.append(("new task", "unassigned"))
    if role == "command" and task == "unassigned":
        options.append(("task", "assigned"))  # the assignment
    if task is not None:
        options += [("task", a.to) for a in task_actions(task, role)]
    facts = replace(QUIET, task_state=task)
    options += [("hotspot", a.to) for a in hotspot_actions(MACHINE, hotspot, role, facts)]
    if role == "system":  # what detection runs do: recurrences, sleeping and waking up, merges
        options += [("hotspot", s) for s in MACHINE.allowed(hotspot) if (hotspot, s) in BY_DETECTION]
    return sorted(options)  # a set's order changes with PYTHONHASHSEED: the walks must not


def walk(moves) -> list[tuple[tuple[str, ...], str]]:
    """Apply the steps through the same checks as the services; return the (tasks, hotspot) after each step."""
    hotspot, tasks = "detected", []
    seen: list[tuple[tuple[str, ...], str]] = [((), hotspot)]
    for role, take_offered, pick, with_note in moves:
        note = "ghi chú" if with_note else ""
        if take_offered:
            options = offered(role, tasks, hotspot)
            if not options:
                continue
            what, target = options[pick % len(options)]
        else:
            what = ("task", "hotspot", "new task")[pick % 3]
            states = MACHINE.states if what == "hotspot" else TASK_LIFECYCLE.states
            target = states[pick // 3 % len(states)]
        try:
            if what == "new task":
                check_taskable(hotspot)
                if tasks and tasks[-1] not in TASK_CLOSED:
                    continue  # the unique index refuses a second open task
                tasks.append("unassigned")
            elif what == "task" and tasks:
                source = tasks[-1]
                TASK_LIFECYCLE.check(source, target, TaskFacts(comment=note, reason=note))
                moved = companion(source, target, hotspot)
                if moved is not None:
                    MACHINE.check(hotspot, moved, HotspotFacts(note=note, actor_role=role, with_task=True))
                tasks[-1], hotspot = target, moved or hotspot
            elif what == "hotspot":
                facts = replace(QUIET, note=note, actor_role=role, task_state=tasks[-1] if tasks else None)
                MACHINE.check(hotspot, target, facts)
                hotspot = target
        except (TransitionError, CouplingBroken):
            pass
        seen.append((tuple(tasks), hotspot))
    return seen


@settings(max_examples=400, deadline=None)
@given(moves=steps)
def test_no_sequence_of_offered_or_arbitrary_actions_breaks_the_pair(moves) -> None:
    for tasks, hotspot in walk(moves):
        assert consistent(tasks, hotspot), (tasks, hotspot)


def test_offered_actions_reach_every_status_and_a_second_task() -> None:
    """The walks above mean something: offered actions alone lead everywhere, recurrence and a new task included."""
    rng = random.Random(11)
    reached, second_task = set(), False
    for _ in range(300):
        moves = [(rng.choice(["command", "team", "system"]), True, rng.randrange(1000), True) for _ in range(40)]
        for tasks, hotspot in walk(moves):
            reached.add(hotspot)
            second_task |= len(tasks) > 1
    assert reached == set(HotspotStatus.values()) and second_task
