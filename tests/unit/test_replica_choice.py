"""Which engine a read goes to (gis.store.replicas.Replicas.choose), on states set by hand: no server is reached
(the engines are never connected; the checks are the real engines' business, tests/ops/test_read_routing.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from gis.store.replicas import WRITE_MEMORY_S, Replicas, ReplicaState


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def replicas(clock: Clock) -> Replicas:
    """A primary and two replicas, both up, 0.5 s behind, at WAL position 100, checked just now."""
    routing = Replicas(  # engines are lazy: nothing connects until a statement runs
        create_engine("postgresql+psycopg://app@primary/diaban"),
        [create_engine("postgresql+psycopg://app@r1/diaban"), create_engine("postgresql+psycopg://app@r2/diaban")],
        max_lag_s=5.0,
        check_s=1.0,
        clock=clock,
    )
    routing._check_due = lambda: None  # type: ignore[method-assign]  # no background check in these tests
    for replica in routing.replicas:
        replica.state = ReplicaState(True, 100, 0.5, clock.now)
    return routing


def test_reads_take_the_replicas_in_turn(replicas: Replicas) -> None:
    chosen = [replicas.choose() for _ in range(4)]
    assert chosen == [replicas.replicas[0].engine, replicas.replicas[1].engine] * 2


def test_a_replica_down_or_lagging_is_skipped_and_with_none_left_the_primary_serves(replicas: Replicas) -> None:
    replicas.mark_down(replicas.replicas[0].engine)
    assert {replicas.choose() for _ in range(3)} == {replicas.replicas[1].engine}
    replicas.replicas[1].state.lag_s = 5.5
    assert replicas.choose() is replicas.primary


def test_a_state_not_checked_for_long_proves_nothing(replicas: Replicas, clock: Clock) -> None:
    clock.now += 3 * replicas.check_s + 2.5  # the check thread is stuck (a replica on a dead host)
    assert replicas.choose() is replicas.primary


def test_a_users_write_sends_their_reads_to_replicas_past_it_only(replicas: Replicas) -> None:
    replicas.note_write(7, 150)
    assert replicas.choose(replicas.last_write(7)) is replicas.primary
    assert replicas.choose(replicas.last_write(8)) is not replicas.primary  # another user is not held back
    replicas.replicas[1].state.replay_lsn = 150
    assert replicas.choose(replicas.last_write(7)) is replicas.replicas[1].engine
    assert replicas.replayed(replicas.replicas[1].engine) == 150 and replicas.replayed(replicas.primary) == 0


def test_writes_are_forgotten_once_every_replica_replayed_them_or_after_the_memory(
    replicas: Replicas, clock: Clock
) -> None:
    replicas.note_write(7, 150)
    replicas.note_write(8, 90)
    replicas._forget_replayed_writes()
    assert (replicas.last_write(7), replicas.last_write(8)) == (150, 0)
    clock.now += WRITE_MEMORY_S + 1
    replicas._forget_replayed_writes()
    assert replicas.last_write(7) == 0


def test_an_older_write_does_not_lower_the_users_position(replicas: Replicas) -> None:
    replicas.note_write(7, 150)
    replicas.note_write(7, 120)  # a slower request of the same user committed earlier
    assert replicas.last_write(7) == 150
