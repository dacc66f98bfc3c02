"""Tests of the shared state machine and the hotspot and task lifecycles."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.domain.hotspot_lifecycle import (
    HOTSPOT_LIFECYCLE,
    HotspotFacts,
    hotspot_lifecycle,
)
from models.domain.state_machine import (
    InconsistentHistory,
    StateMachine,
    TransitionNotAllowed,
    TransitionRequirementMissing,
)
from models.domain.task_lifecycle import (
    TASK_LIFECYCLE,
    TaskFacts,
    overdue_days,
)
from models.vocabulary import HotspotStatus, TaskKind, TaskState

START = date(2025, 1, 1)  # monitoring start; 180 days later is 2025-06-30
CLOSABLE = HotspotFacts(
    actor_role="command", monitoring_since=START, as_of=date(2025, 6, 30), incident_in_footprint=False
)

random_hotspot_facts = st.builds(
    HotspotFacts,
    note=st.sampled_from(["", "   ", "đã triệt phá, bắt 3 đối tượng"]),
    actor_role=st.sampled_from([None, "team", "command", "system"]),
    monitoring_since=st.sampled_from([None, START]),
    as_of=st.sampled_from([None, date(2025, 6, 29), date(2025, 6, 30), date(2026, 1, 1)]),
    incident_in_footprint=st.sampled_from([None, True, False]),
    with_task=st.booleans(),
    task_state=st.sampled_from([None, "assigned", "accepted"]),
)
hotspot_facts = st.one_of(
    random_hotspot_facts,
    st.just(HotspotFacts(**{**CLOSABLE.__dict__, "note": "đã triệt xóa", "task_state": "accepted"})),
    st.just(HotspotFacts(actor_role="system")),
    st.just(HotspotFacts(with_task=True)),
)
task_facts = st.builds(
    TaskFacts,
    comment=st.sampled_from(["", " ", "thiếu ảnh hiện trường"]),
    reason=st.sampled_from(["", "ngoài địa bàn"]),
)


def attempts(machine: StateMachine, facts: st.SearchStrategy) -> st.SearchStrategy:
    """Random attempts: (aim at an allowed target?, which one, facts); aiming keeps walks deep."""
    return st.lists(st.tuples(st.booleans(), st.integers(0, 99), facts), max_size=60)


def track(machine: StateMachine, tried: list) -> tuple[str, list[tuple[str, str]]]:
    """Apply attempts through ``check``; return the tracked state and the accepted events."""
    state, events = machine.initial, []
    for aimed, pick, facts in tried:
        options = machine.allowed(state) if aimed and machine.allowed(state) else machine.states
        target = options[pick % len(options)]
        try:
            machine.check(state, target, facts)
        except TransitionNotAllowed as error:
            assert target not in machine.allowed(state)
            assert error.allowed == machine.allowed(state)
            assert all(repr(s) in str(error) for s in error.allowed)
        except TransitionRequirementMissing:
            assert target in machine.allowed(state)
        else:
            events.append((state, target))
            state = target
        assert state in machine.states
    return state, events


@settings(max_examples=300, deadline=None)
@given(tried=attempts(HOTSPOT_LIFECYCLE, hotspot_facts))
def test_hotspot_random_attempts_stay_declared_and_replay(tried):
    state, events = track(HOTSPOT_LIFECYCLE, tried)
    assert HOTSPOT_LIFECYCLE.replay(events) == state


@settings(max_examples=300, deadline=None)
@given(tried=attempts(TASK_LIFECYCLE, task_facts))
def test_task_random_attempts_stay_declared_and_replay(tried):
    state, events = track(TASK_LIFECYCLE, tried)
    assert TASK_LIFECYCLE.replay(events) == state


@given(
    events=st.lists(
        st.tuples(st.sampled_from(TASK_LIFECYCLE.states), st.sampled_from(TASK_LIFECYCLE.states)),
        min_size=1,
        max_size=8,
    )
)
def test_replay_accepts_only_chained_declared_events(events):
    chained = all(a[1] == b[0] for a, b in zip(events, events[1:])) and events[0][0] == TASK_LIFECYCLE.initial
    declared = all(t in TASK_LIFECYCLE.allowed(s) for s, t in events)
    if chained and declared:
        assert TASK_LIFECYCLE.replay(events) == events[-1][1]
    else:
        with pytest.raises((InconsistentHistory, TransitionNotAllowed)):
            TASK_LIFECYCLE.replay(events)


def test_messages_name_allowed_states():
    with pytest.raises(
        TransitionNotAllowed,
        match=r"cannot go from 'detected' to 'closed'; allowed from 'detected': 'verified', 'dismissed'",
    ):
        HOTSPOT_LIFECYCLE.check("detected", "closed")
    with pytest.raises(TransitionNotAllowed, match=r"allowed from 'accepted': none \(terminal state\)"):
        TASK_LIFECYCLE.check("accepted", "in_progress", TaskFacts())


def test_replay_reports_inconsistent_event():
    with pytest.raises(InconsistentHistory, match="event 1 starts from 'assigned' but the state is 'verified'"):
        HOTSPOT_LIFECYCLE.replay([("detected", "verified"), ("assigned", "suppressing")])


def test_eradication_requires_command_an_accepted_task_and_a_note():
    accepted = {"actor_role": "command", "task_state": "accepted"}
    for note in ("", "   "):
        with pytest.raises(TransitionRequirementMissing, match="note of what was done"):
            HOTSPOT_LIFECYCLE.check("suppressing", "eradicated", HotspotFacts(note=note, **accepted))
    with pytest.raises(TransitionRequirementMissing, match="must be accepted first"):
        HOTSPOT_LIFECYCLE.check("suppressing", "eradicated", HotspotFacts("phá bỏ", "command", task_state="completed"))
    with pytest.raises(TransitionRequirementMissing, match="role 'command' is required"):
        HOTSPOT_LIFECYCLE.check("suppressing", "eradicated", HotspotFacts("phá bỏ", "team", task_state="accepted"))
    HOTSPOT_LIFECYCLE.check("suppressing", "eradicated", HotspotFacts(note="phá bỏ lán trại", **accepted))


@pytest.mark.parametrize(
    ("source", "target"),
    [("verified", "assigned"), ("recurred", "assigned"), ("assigned", "suppressing"), ("assigned", "verified")],
)
def test_task_owned_statuses_only_move_with_the_task(source, target):
    with pytest.raises(TransitionRequirementMissing, match="follows the suppression task"):
        HOTSPOT_LIFECYCLE.check(source, target, HotspotFacts(actor_role="command"))
    HOTSPOT_LIFECYCLE.check(source, target, HotspotFacts(actor_role="command", with_task=True))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"actor_role": "team"}, "role 'command' is required"),
        ({"as_of": date(2025, 6, 29)}, "180-day monitoring period runs until 2025-06-30"),
        ({"monitoring_since": None}, "monitoring start and closing date are required"),
        ({"incident_in_footprint": True}, "an incident occurred within the footprint"),
        ({"incident_in_footprint": None}, "must be stated"),
    ],
)
def test_closing_requirements(changes, message):
    facts = HotspotFacts(**{**CLOSABLE.__dict__, **changes})
    with pytest.raises(TransitionRequirementMissing, match=message):
        HOTSPOT_LIFECYCLE.check("monitoring", "closed", facts)


def test_closing_allowed_on_the_last_day_and_period_is_configurable():
    HOTSPOT_LIFECYCLE.check("monitoring", "closed", CLOSABLE)
    short = hotspot_lifecycle(monitoring_days=30)
    short.check("monitoring", "closed", HotspotFacts(**{**CLOSABLE.__dict__, "as_of": date(2025, 1, 31)}))
    with pytest.raises(TransitionRequirementMissing, match="30-day"):
        short.check("monitoring", "closed", HotspotFacts(**{**CLOSABLE.__dict__, "as_of": date(2025, 1, 30)}))


@pytest.mark.parametrize("source", ["eradicated", "monitoring", "closed"])
def test_recurrence_is_declared_by_the_system(source):
    HOTSPOT_LIFECYCLE.check(source, "recurred", HotspotFacts(actor_role="system"))
    with pytest.raises(TransitionRequirementMissing, match="role 'system'"):
        HOTSPOT_LIFECYCLE.check(source, "recurred", HotspotFacts(actor_role="command"))
    assert HOTSPOT_LIFECYCLE.allowed("recurred") == ("assigned",)


def test_task_decline_needs_reason_and_return_needs_comment():
    with pytest.raises(TransitionRequirementMissing, match="reason for declining"):
        TASK_LIFECYCLE.check("assigned", "declined", TaskFacts(comment="no"))
    TASK_LIFECYCLE.check("assigned", "declined", TaskFacts(reason="ngoài địa bàn phụ trách"))
    with pytest.raises(TransitionRequirementMissing, match="comment on why the work is returned"):
        TASK_LIFECYCLE.check("completed", "returned", TaskFacts(reason="x"))
    TASK_LIFECYCLE.check("completed", "returned", TaskFacts(comment="thiếu biên bản"))
    assert TASK_LIFECYCLE.allowed("returned") == ("in_progress", "canceled")


def test_task_cancel_from_every_non_terminal_state_with_a_reason():
    """Cancelling needs a reason, as declining does: it took a task from its team in one click, unexplained."""
    assert TASK_LIFECYCLE.terminal == {"accepted", "declined", "canceled"}
    for state in set(TASK_LIFECYCLE.states) - TASK_LIFECYCLE.terminal:
        with pytest.raises(TransitionRequirementMissing, match="reason for cancelling"):
            TASK_LIFECYCLE.check(state, "canceled", TaskFacts(comment="  "))
        TASK_LIFECYCLE.check(state, "canceled", TaskFacts(comment="trùng kế hoạch"))


def test_each_machine_has_exactly_the_states_of_its_enum():
    assert HOTSPOT_LIFECYCLE.states == HotspotStatus.values()
    assert TASK_LIFECYCLE.states == TaskState.values()
    assert HOTSPOT_LIFECYCLE.labels_vi["recurred"] == "Phức tạp trở lại"
    assert TaskKind.values() == ("suppression", "conversion")
    used = {s for pair in HOTSPOT_LIFECYCLE.transitions for s in pair}
    assert used == set(HotspotStatus.values()), "every hotspot status is reachable or left by a transition"
    used = {s for pair in TASK_LIFECYCLE.transitions for s in pair}
    assert used == set(TaskState.values()), "every task state is reachable or left by a transition"
    with pytest.raises(ValueError, match="states without a label: \\['ghost'\\]"):
        StateMachine("x", {"a": "A"}, "a", {("a", "ghost"): ()})
    with pytest.raises(ValueError, match="unknown state 'ghost'"):
        TASK_LIFECYCLE.allowed("ghost")


@pytest.mark.parametrize(
    ("state", "due", "as_of", "days"),
    [
        ("in_progress", date(2025, 3, 1), date(2025, 3, 4), 3),
        ("in_progress", date(2025, 3, 1), date(2025, 3, 1), 0),
        ("returned", date(2025, 3, 1), date(2025, 2, 1), 0),
        ("completed", date(2025, 3, 1), date(2025, 4, 1), 0),
        ("paused", None, date(2025, 4, 1), 0),
    ],
)
def test_overdue_days(state, due, as_of, days):
    assert overdue_days(state, due, as_of) == days
