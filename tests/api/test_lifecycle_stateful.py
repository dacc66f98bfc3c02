"""Stateful property: random sequences of lifecycle requests by every role, in and out of their area, over HTTP.

Command, a planner, an administrator and two area teams (A and B, one commune each) act on three hotspots (two in
A's commune, one in B's) and the suppression and conversion tasks they open, through the real API on PostGIS (one
savepoint per request, as each request is its own transaction in production). Some requests are what a user's page
offers now (they must succeed), the others arbitrary: any target state, a wrong role, a team outside its area, a
stale or future version, a replay of an earlier request. Detection's recurrence is played through the service with
the lifecycle's system role.

The test keeps its own model of every hotspot and task (status or state, version, team) and predicts each answer
from the declared rules — the state machines (``TASK_LIFECYCLE``, ``hotspot_lifecycle``), who may move what
(``models.domain.access``), the coupling of a task and its hotspot (``models.domain.coupling``) and the documented
area scope (a team sees its area and what is assigned to it, never another team's task) — not from a copy of them.
After every step:

- no answer is a 500, every refusal is a 4xx with a Vietnamese message, and the status is the predicted one;
- the stored hotspots and tasks equal the model (a refused request changed nothing, not even a version);
- the histories only grow: earlier events are unchanged and every change appended exactly its events;
- each user's hotspot and task lists hold exactly what the model says they may see (counts included), with the
  stored status and version, and a hotspot card names its task only to users who may see that task.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import bearer_headers, examples, requests_in_savepoints
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import Connection, Engine, text

from api.app import create_app
from gis.services.hotspots import transition_hotspot
from gis.store.scoping import UNRESTRICTED
from models.domain.access import (
    COMMAND_TASK_TARGETS,
    TEAM_HOTSPOT_TARGETS,
    TEAM_TASK_TARGETS,
    Principal,
    may_target,
)
from models.domain.coupling import CouplingBroken, companion
from models.domain.hotspot_lifecycle import SYSTEM_ROLE, HotspotFacts, hotspot_lifecycle
from models.domain.state_machine import TransitionError, TransitionNotAllowed
from models.domain.task_lifecycle import TASK_LIFECYCLE, TaskFacts
from models.vocabulary import (
    HOTSPOT_TASKABLE,
    READERS,
    TASK_CLOSED,
    TASK_REASSIGNABLE,
    WRITERS,
    HotspotStatus,
    Role,
    TaskKind,
    TaskState,
    local_today,
)

COMMUNES = {"A": "10507", "B": "10525"}
#: The hotspots of an example: two in team A's commune, one in team B's.
HOTSPOT_AREAS = ("A", "A", "B")
#: Closing needs the monitoring period to have passed: none here.
MACHINE = hotspot_lifecycle(0)
ACTORS = ("command", "planner", "admin", "team_a", "team_b")
READING = tuple(a for a in ACTORS if a != "admin")
#: A version as sent: the one read, one behind (stale), one ahead.
VERSION_SHIFTS = (0, 0, 0, 0, -1, 1)
#: Offered targets that take work back (the forward walk leaves them out).
BACKWARD = frozenset(
    {TaskState.CANCELED, TaskState.DECLINED, TaskState.RETURNED, TaskState.PAUSED, HotspotStatus.DISMISSED}
)
#: Letters only Vietnamese text has (the messages of refusals are Vietnamese).
VIETNAMESE = re.compile("[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]")


@dataclass
class Actor:
    """A user of the example: role, team key ('A', 'B' or None) and request headers."""

    name: str
    role: str
    team: str | None
    headers: dict[str, str]


@dataclass
class HotspotModel:
    """What the test believes of a hotspot."""

    id: int
    area: str
    status: str = HotspotStatus.DETECTED
    version: int = 1


@dataclass
class TaskModel:
    """What the test believes of a task."""

    id: int
    kind: str
    area: str
    hotspot: int | None
    year: int | None
    state: str = TaskState.UNASSIGNED
    version: int = 1
    team: str | None = None


@dataclass
class Outcome:
    """A predicted answer: its status, and for a success the model's changes and the events it appends."""

    status: int
    apply: Callable[[], None] = lambda: None
    task_events: int = 0
    hotspot_events: int = 0
    admin_events: int = 0
    #: A request whose answer the model cannot tell exactly (none so far): any of these statuses.
    either: tuple[int, ...] = ()


@dataclass
class Request:
    """A request as sent (kept for replays)."""

    actor: str
    method: str
    path: str
    body: dict[str, Any] | None
    predict: Callable[[], Outcome]
    label: str = ""


def _refusal(error: Exception) -> int:
    """The status a refused transition answers."""
    return 409 if isinstance(error, TransitionNotAllowed | CouplingBroken) else 422


class Lifecycle(RuleBasedStateMachine):
    """The model and the rules; ``world`` (client, conn, users, teams) is bound by the test."""

    world: dict[str, Any]

    def __init__(self) -> None:
        super().__init__()
        w = self.world
        self.client: TestClient = w["client"]
        self.conn: Connection = w["conn"]
        self.teams: dict[str, int] = w["teams"]
        self.actors: dict[str, Actor] = w["actors"]
        self.example = self.conn.begin_nested()
        self.hotspots = [HotspotModel(w["make_hotspot"](COMMUNES[area]), area) for area in HOTSPOT_AREAS]
        self.first_hotspot = self.hotspots[0].id
        self.first_audit = self.conn.execute(text("SELECT coalesce(max(id), 0) + 1 FROM admin_audit")).scalar_one()
        self.tasks: list[TaskModel] = []
        #: Each team's area today: the administrator may widen it to both communes, or give it back.
        self.areas = {key: {key} for key in self.teams}
        self.first_task = self.conn.execute(text("SELECT coalesce(max(id), 0) + 1 FROM tasks")).scalar_one()
        self.last: Request | None = None
        self.created_id = 0  # the id of the task or hotspot the last successful creation answered
        self.log: list[str] = []
        self.before = self.snapshot()

    def teardown(self) -> None:
        self.example.rollback()

    # ------------------------------------------------------------------------------------------- the model
    def team_id(self, key: str | None) -> int | None:
        return None if key is None else self.teams[key]

    def hotspot(self, hotspot_id: int) -> HotspotModel:
        return next(h for h in self.hotspots if h.id == hotspot_id)

    def newest_task(self, hotspot: HotspotModel) -> TaskModel | None:
        mine = [t for t in self.tasks if t.hotspot == hotspot.id]
        return mine[-1] if mine else None

    def sees_task(self, actor: Actor, task: TaskModel) -> bool:
        """The documented scope: a team sees its own tasks and the unassigned ones of its area; the others all."""
        if actor.role != Role.TEAM:
            return actor.role in READERS
        return task.team == actor.team or (task.team is None and task.area in self.areas[actor.team])

    def sees_hotspot(self, actor: Actor, hotspot: HotspotModel) -> bool:
        """A team sees the hotspots of its area and those whose newest task is assigned to it; the others all."""
        if actor.role != Role.TEAM:
            return actor.role in READERS
        newest = self.newest_task(hotspot)
        return hotspot.area in self.areas[actor.team] or (newest is not None and newest.team == actor.team)

    def hotspot_facts(self, hotspot: HotspotModel, note: str, role: str) -> HotspotFacts:
        newest = self.newest_task(hotspot)
        today = local_today()
        return HotspotFacts(
            note=note,
            actor_role=role,
            monitoring_since=today,
            as_of=today,
            incident_in_footprint=False,
            task_state=newest.state if newest else None,
        )

    # ------------------------------------------------------------------------------------ the predictions
    def predict_hotspot_transition(
        self, actor: Actor, hotspot: HotspotModel, to: str, note: str, version: int
    ) -> Outcome:
        if actor.role not in WRITERS or not may_target(actor.role, to, TEAM_HOTSPOT_TARGETS, None):
            return Outcome(403)
        if not self.sees_hotspot(actor, hotspot):
            return Outcome(404)
        if version != hotspot.version:
            return Outcome(412)
        try:
            MACHINE.check(hotspot.status, to, self.hotspot_facts(hotspot, note, actor.role))
        except TransitionError as refused:
            return Outcome(_refusal(refused))

        def apply() -> None:
            hotspot.status, hotspot.version = to, hotspot.version + 1

        return Outcome(200, apply, hotspot_events=1)

    def _task_move(self, task: TaskModel, to: str) -> tuple[HotspotModel | None, str | None]:
        """The hotspot and the status it moves to with the task (raises CouplingBroken)."""
        if task.kind != TaskKind.SUPPRESSION or task.hotspot is None:
            return None, None
        hotspot = self.hotspot(task.hotspot)
        return hotspot, companion(task.state, to, hotspot.status)

    def predict_task_transition(self, actor: Actor, task: TaskModel, to: str, note: str, version: int) -> Outcome:
        if actor.role not in WRITERS or not may_target(actor.role, to, TEAM_TASK_TARGETS, COMMAND_TASK_TARGETS):
            return Outcome(403)
        if not self.sees_task(actor, task):
            return Outcome(404)
        if version != task.version:
            return Outcome(412)
        try:
            TASK_LIFECYCLE.check(task.state, to, TaskFacts(comment=note, reason=note))
            hotspot, moved = self._task_move(task, to)
        except TransitionError as refused:
            return Outcome(_refusal(refused))

        def apply() -> None:
            task.state, task.version = to, task.version + 1
            if hotspot is not None and moved is not None:
                hotspot.status, hotspot.version = moved, hotspot.version + 1

        return Outcome(200, apply, task_events=1, hotspot_events=int(moved is not None))

    def predict_create(
        self, actor: Actor, kind: str, where: HotspotModel | str, team: str | None, year: int | None
    ) -> Outcome:
        if actor.role != Role.COMMAND:
            return Outcome(403)
        if isinstance(where, HotspotModel):
            hotspot, area = where, where.area
            if hotspot.status not in HOTSPOT_TASKABLE:
                return Outcome(409)
            open_ = [t for t in self.tasks if t.hotspot == hotspot.id and t.state not in TASK_CLOSED]
        else:
            hotspot, area = None, where
            open_ = [
                t
                for t in self.tasks
                if t.kind == TaskKind.CONVERSION and (t.area, t.year) == (area, year) and t.state not in TASK_CLOSED
            ]
        if open_:
            return Outcome(409)
        task = TaskModel(0, kind, area, hotspot.id if hotspot else None, year)
        moved = None
        if team is not None:
            _, moved = self._task_move(task, TaskState.ASSIGNED)

        def apply() -> None:
            task.id = self.created_id
            self.tasks.append(task)
            if team is not None:
                task.state, task.version, task.team = TaskState.ASSIGNED, 2, team
                if hotspot is not None and moved is not None:
                    hotspot.status, hotspot.version = moved, hotspot.version + 1

        return Outcome(201, apply, task_events=1 + (team is not None), hotspot_events=int(moved is not None))

    def predict_assignment(self, actor: Actor, task: TaskModel, team: str, version: int) -> Outcome:
        if actor.role != Role.COMMAND:
            return Outcome(403)
        if version != task.version:
            return Outcome(412)
        first = task.state == TaskState.UNASSIGNED
        if task.state not in TASK_REASSIGNABLE or (not first and team == task.team):
            return Outcome(422)
        hotspot, moved = None, None
        if first:
            try:
                hotspot, moved = self._task_move(task, TaskState.ASSIGNED)
            except TransitionError as refused:
                return Outcome(_refusal(refused))

        def apply() -> None:
            task.state, task.version, task.team = TaskState.ASSIGNED, task.version + 1, team
            if hotspot is not None and moved is not None:
                hotspot.status, hotspot.version = moved, hotspot.version + 1

        return Outcome(200, apply, task_events=1, hotspot_events=int(moved is not None))

    def predict_report(self, actor: Actor, area: str) -> Outcome:
        if actor.role not in WRITERS:
            return Outcome(403)
        if actor.team is not None and area not in self.areas[actor.team]:
            return Outcome(403)

        def apply() -> None:
            self.hotspots.append(HotspotModel(self.created_id, area))

        return Outcome(201, apply, hotspot_events=1)

    def predict_comment(self, actor: Actor, task: TaskModel) -> Outcome:
        if actor.role not in WRITERS:
            return Outcome(403)
        if not self.sees_task(actor, task):
            return Outcome(404)
        if task.state in TASK_CLOSED:  # a closed task takes no more notes (task_lifecycle.note_refusal)
            return Outcome(409)
        return Outcome(201, task_events=1)

    def predict_patch(self, actor: Actor, task: TaskModel, version: int) -> Outcome:
        if actor.role != Role.COMMAND:
            return Outcome(403)
        if version != task.version:
            return Outcome(412)

        def apply() -> None:
            task.version += 1

        return Outcome(200, apply, task_events=1)

    # ----------------------------------------------------------------------------------- sending and checks
    def snapshot(self) -> dict[str, list[tuple]]:
        """Every stored row the example may touch: hotspots, tasks, their histories and the administrators' audit."""
        ids = {"h": self.first_hotspot}
        q = {
            "hotspots": ("SELECT id, status, version FROM hotspots WHERE id >= :h ORDER BY id", ids),
            "tasks": (
                "SELECT id, kind, state, version, team_id, priority, due_date FROM tasks WHERE id >= :t ORDER BY id",
                {"t": self.first_task},
            ),
            "hotspot_events": (
                "SELECT id, hotspot_id, at, actor, event, from_status, to_status, note, details::text"
                " FROM hotspot_events WHERE hotspot_id >= :h ORDER BY id",
                ids,
            ),
            "task_events": (
                "SELECT id, task_id, at, actor, event, from_state, to_state, note, details::text, team_id"
                " FROM task_events WHERE task_id >= :t ORDER BY id",
                {"t": self.first_task},
            ),
            "admin_audit": ("SELECT * FROM admin_audit WHERE id >= :a ORDER BY id", {"a": self.first_audit}),
        }
        return {name: [tuple(r) for r in self.conn.execute(text(sql), params)] for name, (sql, params) in q.items()}

    def send(self, request: Request) -> Any:
        """Send a request, compare its answer and the stored rows with the prediction, update the model."""
        actor = self.actors[request.actor]
        outcome = request.predict()
        response = self.client.request(request.method, request.path, json=request.body, headers=actor.headers)
        what = f"{request.actor} {request.method} {request.path} {request.body} → {response.status_code}"
        self.log.append(what)
        context = "\n".join(self.log[-12:]) + f"\n{response.text[:400]}"
        assert response.status_code < 500, context
        expected = outcome.either or (outcome.status,)
        assert response.status_code in expected, f"expected {expected}\n{context}"
        if response.status_code >= 400:
            detail = response.json().get("detail", "")
            assert isinstance(detail, str) and VIETNAMESE.search(detail.lower()), context
        else:
            if request.method == "POST" and request.path in ("/api/tasks", "/api/hotspots"):
                self.created_id = response.json()["id"]
            outcome.apply()
        after = self.snapshot()
        self.check_history(self.before, after, outcome if response.status_code < 400 else Outcome(0), context)
        self.before = after
        self.last = request
        return response

    def check_history(self, before: dict, after: dict, outcome: Outcome, context: str) -> None:
        """Earlier events are unchanged, each change appended its events, the rows equal the model."""
        appended = {
            "task_events": outcome.task_events,
            "hotspot_events": outcome.hotspot_events,
            "admin_audit": outcome.admin_events,
        }
        for name, added in appended.items():
            assert after[name][: len(before[name])] == before[name], f"{name} rewritten\n{context}"
            assert len(after[name]) - len(before[name]) == added, f"{name}: expected {added} new\n{context}"
        assert [r[:3] for r in after["hotspots"]] == [(h.id, h.status, h.version) for h in self.hotspots], context
        stored = [(r[0], r[1], r[2], r[3], r[4]) for r in after["tasks"]]
        modelled = [(t.id, t.kind, t.state, t.version, self.team_id(t.team)) for t in self.tasks]
        assert stored == modelled, f"{stored} != {modelled}\n{context}"

    def transition(
        self, actor: str, resource: str, to: str, note: str, version: int, predict: Callable[[], Outcome]
    ) -> None:
        """Ask for a transition of a hotspot or task (its URL ``resource``); ``predict`` gives the model's answer."""
        body = {"to": to, "note": note, "version": version}
        self.send(Request(actor, "POST", f"{resource}/transitions", body, predict))

    def version(self, current: int, shift: int) -> int:
        sent = current + shift
        return sent if sent >= 1 else current + 1

    # ------------------------------------------------------------------------------------------------ rules
    @rule(
        actor=st.sampled_from(ACTORS),
        pick=st.integers(0, 99),
        to=st.sampled_from(MACHINE.states),
        note=st.sampled_from(("", " ", "ghi chú")),
        shift=st.sampled_from(VERSION_SHIFTS),
    )
    def hotspot_transition(self, actor: str, pick: int, to: str, note: str, shift: int) -> None:
        hotspot = self.hotspots[pick % len(self.hotspots)]
        version = self.version(hotspot.version, shift)
        self.transition(
            actor, f"/api/hotspots/{hotspot.id}", to, note, version,
            lambda: self.predict_hotspot_transition(self.actors[actor], hotspot, to, note, version),
        )  # fmt: skip

    @rule(
        actor=st.sampled_from(("command", "command", "team_a")),
        pick=st.integers(0, 99),
        team=st.sampled_from(("A", "B", None)),
    )
    def open_suppression_task(self, actor: str, pick: int, team: str | None) -> None:
        hotspot = self.hotspots[pick % len(self.hotspots)]
        body: dict[str, Any] = {"kind": "suppression", "hotspot_id": hotspot.id}
        if team is not None:
            body["team_id"] = self.teams[team]
        self.send(
            Request(
                actor,
                "POST",
                "/api/tasks",
                body,
                lambda: self.predict_create(self.actors[actor], TaskKind.SUPPRESSION, hotspot, team, None),
            )
        )

    @rule(area=st.sampled_from(("A", "B")), team=st.sampled_from(("A", "B", None)), year=st.sampled_from((2026, 2027)))
    def open_conversion_task(self, area: str, team: str | None, year: int) -> None:
        body: dict[str, Any] = {"kind": "conversion", "commune_code": COMMUNES[area], "year": year}
        if team is not None:
            body["team_id"] = self.teams[team]
        self.send(
            Request(
                "command",
                "POST",
                "/api/tasks",
                body,
                lambda: self.predict_create(self.actors["command"], TaskKind.CONVERSION, area, team, year),
            )
        )

    @precondition(lambda self: self.tasks)
    @rule(
        actor=st.sampled_from(ACTORS),
        pick=st.integers(0, 99),
        to=st.sampled_from(TASK_LIFECYCLE.states),
        note=st.sampled_from(("", " ", "ghi chú")),
        shift=st.sampled_from(VERSION_SHIFTS),
    )
    def task_transition(self, actor: str, pick: int, to: str, note: str, shift: int) -> None:
        task = self.tasks[pick % len(self.tasks)]
        version = self.version(task.version, shift)
        self.transition(
            actor, f"/api/tasks/{task.id}", to, note, version,
            lambda: self.predict_task_transition(self.actors[actor], task, to, note, version),
        )  # fmt: skip

    @precondition(lambda self: self.tasks)
    @rule(
        actor=st.sampled_from(("command", "command", "team_a", "planner")),
        pick=st.integers(0, 99),
        team=st.sampled_from(("A", "B")),
        shift=st.sampled_from(VERSION_SHIFTS),
    )
    def assign(self, actor: str, pick: int, team: str, shift: int) -> None:
        task = self.tasks[pick % len(self.tasks)]
        self.send(self._assignment(actor, task, team, self.version(task.version, shift)))

    @precondition(lambda self: any(t.state == TaskState.ASSIGNED for t in self.tasks))
    @rule(pick=st.integers(0, 99))
    def reassign(self, pick: int) -> None:
        """Command gives an assigned task (not yet started) to the other team, at the version read."""
        assigned = [t for t in self.tasks if t.state == TaskState.ASSIGNED]
        task = assigned[pick % len(assigned)]
        other = next(key for key in self.teams if key != task.team)
        self.send(self._assignment("command", task, other, task.version))

    def _assignment(self, actor: str, task: TaskModel, team: str, version: int) -> Request:
        body = {"team_id": self.teams[team], "version": version}
        return Request(
            actor,
            "POST",
            f"/api/tasks/{task.id}/assignment",
            body,
            lambda: self.predict_assignment(self.actors[actor], task, team, version),
        )

    @precondition(lambda self: self.tasks)
    @rule(actor=st.sampled_from(ACTORS), pick=st.integers(0, 99))
    def comment(self, actor: str, pick: int) -> None:
        task = self.tasks[pick % len(self.tasks)]
        self.send(
            Request(
                actor,
                "POST",
                f"/api/tasks/{task.id}/comments",
                {"note": "đã kiểm tra hiện trường"},
                lambda: self.predict_comment(self.actors[actor], task),
            )
        )

    @precondition(lambda self: self.tasks)
    @rule(
        actor=st.sampled_from(("command", "team_a", "team_b")),
        pick=st.integers(0, 99),
        priority=st.sampled_from(("low", "high")),
        shift=st.sampled_from(VERSION_SHIFTS),
    )
    def patch(self, actor: str, pick: int, priority: str, shift: int) -> None:
        task = self.tasks[pick % len(self.tasks)]
        version = self.version(task.version, shift)
        body = {"priority": priority, "version": version}
        self.send(
            Request(
                actor,
                "PATCH",
                f"/api/tasks/{task.id}",
                body,
                lambda: self.predict_patch(self.actors[actor], task, version),
            )
        )

    @precondition(lambda self: self.last is not None)
    @rule()
    def replay(self) -> None:
        """The last request again, exactly as sent (a double click, a retry with the version read before)."""
        assert self.last is not None
        self.send(self.last)

    @rule(actor=st.sampled_from(("command", "team_a", "team_b")), pick=st.integers(0, 999))
    def offered(self, actor: str, pick: int) -> None:
        """One of the actions a user's page offers now, on a hotspot card or in the task list: it must succeed."""
        self.take_offered(actor, pick, forward=False)

    @rule(actor=st.sampled_from(("command", "command", "team_a", "team_b")), pick=st.integers(0, 999))
    def advance(self, actor: str, pick: int) -> None:
        """An offered action that takes the work forward (no cancel, decline, return, pause or dismissal), so that
        walks reach eradication, monitoring, closing and recurrence."""
        self.take_offered(actor, pick, forward=True)

    def take_offered(self, actor: str, pick: int, forward: bool) -> None:
        user = self.actors[actor]
        options: list[Request] = []
        for hotspot in self.hotspots:
            card = self.client.get(f"/api/hotspots/{hotspot.id}", headers=user.headers)
            if card.status_code != 200:
                continue
            p = card.json()["properties"]
            options += [self._offered_hotspot(actor, hotspot, a["to"], p["version"]) for a in p["actions"]]
            if p["task_id"] is not None:
                task = next(t for t in self.tasks if t.id == p["task_id"])
                options += [self._offered_task(actor, task, a["to"], p["task_version"]) for a in p["task_actions"]]
            if p["may_open_task"]:
                options += [self._offered_opening(actor, hotspot, team) for team in self.teams]
        listed = self.client.get("/api/tasks", params={"limit": 1000}, headers=user.headers).json()["tasks"]
        for shown in listed:
            task = next(t for t in self.tasks if t.id == shown["id"])
            options += [self._offered_task(actor, task, a["to"], shown["version"]) for a in shown["actions"]]
        if forward:
            options = [o for o in options if o.body is None or o.body.get("to") not in BACKWARD]
        if options:
            request = options[pick % len(options)]
            response = self.send(request)
            assert response.status_code < 300, f"offered action refused: {request.label}"

    def _offered_opening(self, actor: str, hotspot: HotspotModel, team: str) -> Request:
        body = {"kind": "suppression", "hotspot_id": hotspot.id, "team_id": self.teams[team]}
        return Request(
            actor,
            "POST",
            "/api/tasks",
            body,
            lambda: self.predict_create(self.actors[actor], TaskKind.SUPPRESSION, hotspot, team, None),
            label=f"new task for hotspot {hotspot.id}, team {team}",
        )

    def _offered_hotspot(self, actor: str, hotspot: HotspotModel, to: str, version: int) -> Request:
        body = {"to": to, "note": "ghi chú", "version": version}
        return Request(
            actor,
            "POST",
            f"/api/hotspots/{hotspot.id}/transitions",
            body,
            lambda: self.predict_hotspot_transition(self.actors[actor], hotspot, to, "ghi chú", version),
            label=f"hotspot {hotspot.id} → {to}",
        )

    def _offered_task(self, actor: str, task: TaskModel, to: str, version: int) -> Request:
        body = {"to": to, "note": "ghi chú", "version": version}
        return Request(
            actor,
            "POST",
            f"/api/tasks/{task.id}/transitions",
            body,
            lambda: self.predict_task_transition(self.actors[actor], task, to, "ghi chú", version),
            label=f"task {task.id} → {to}",
        )

    @rule(team=st.sampled_from(("A", "B")), both=st.booleans())
    def change_area(self, team: str, both: bool) -> None:
        """The administrator widens a team's area to both communes from today, or gives it back its own."""
        area = set(COMMUNES) if both else {team}
        body = {"communes": sorted(COMMUNES[a] for a in area), "valid_from": str(local_today())}
        response = self.client.put(
            f"/api/teams/{self.teams[team]}/area", json=body, headers=self.actors["admin"].headers
        )
        assert response.status_code == 200, response.text
        self.areas[team] = area
        self.log.append(f"admin: team {team} area {sorted(area)}")
        after = self.snapshot()
        self.check_history(self.before, after, Outcome(200, admin_events=1), "\n".join(self.log[-12:]))
        self.before = after

    @rule(actor=st.sampled_from(ACTORS), area=st.sampled_from(("A", "B")))
    def report_hotspot(self, actor: str, area: str) -> None:
        """A hotspot reported by hand at a point of a commune (a team only inside its area)."""
        lon, lat = self.world["points"][area]
        body = {"lon": lon, "lat": lat, "note": "tin báo của người dân", "radius_m": 50.0}
        self.send(Request(actor, "POST", "/api/hotspots", body, lambda: self.predict_report(self.actors[actor], area)))

    @rule(pick=st.integers(0, 99))
    def detection_recurs(self, pick: int) -> None:
        """Detection finds a new cluster at a hotspot: a recurrence where the lifecycle allows it."""
        hotspot = self.hotspots[pick % len(self.hotspots)]
        facts = self.hotspot_facts(hotspot, "", SYSTEM_ROLE)
        try:
            MACHINE.check(hotspot.status, HotspotStatus.RECURRED, facts)
            expected = True
        except TransitionError:
            expected = False
        system = Principal(0, "detection", SYSTEM_ROLE)
        try:
            with self.conn.begin_nested():
                transition_hotspot(
                    self.conn, MACHINE, hotspot.id, HotspotStatus.RECURRED, "", hotspot.version, system, UNRESTRICTED
                )
            happened = True
        except TransitionError:
            happened = False
        assert happened == expected, (hotspot, facts)
        self.log.append(f"detection recurs at {hotspot.id}: {happened}")
        if happened:
            hotspot.status, hotspot.version = HotspotStatus.RECURRED, hotspot.version + 1
        after = self.snapshot()
        self.check_history(self.before, after, Outcome(200, hotspot_events=int(happened)), "\n".join(self.log[-12:]))
        self.before = after

    # ------------------------------------------------------------------------------------------- invariants
    @invariant()
    def lists_agree_with_the_model(self) -> None:
        """Each user's lists hold exactly what the user may see, with the stored state; a card names its task only
        to users who may see that task."""
        context = "\n".join(self.log[-12:])
        for name in READING:
            actor = self.actors[name]
            tasks = self.client.get("/api/tasks", params={"limit": 1000}, headers=actor.headers).json()
            expected = [(t.id, t.state, t.version) for t in self.tasks if self.sees_task(actor, t)]
            listed = sorted((t["id"], t["state"], t["version"]) for t in tasks["tasks"])
            assert listed == sorted(expected), f"{name} tasks {listed} != {expected}\n{context}"
            assert tasks["numberMatched"] == len(expected), context
            hotspots = self.client.get("/api/hotspots", headers=actor.headers).json()["features"]
            shown = {f["id"]: f["properties"] for f in hotspots}
            visible = {h.id: h for h in self.hotspots if self.sees_hotspot(actor, h)}
            assert set(shown) & {h.id for h in self.hotspots} == set(visible), f"{name} hotspots\n{context}"
            for hotspot_id, p in shown.items():
                if hotspot_id not in visible:
                    continue
                assert (p["status"], p["version"]) == (visible[hotspot_id].status, visible[hotspot_id].version)
                newest = self.newest_task(visible[hotspot_id])
                if p["task_id"] is not None:
                    assert newest is not None and p["task_id"] == newest.id
                    assert self.sees_task(actor, newest), (
                        f"{name} sees task {newest} on hotspot {hotspot_id}\n{context}"
                    )
            if actor.role in WRITERS:
                inbox = self.client.get("/api/inbox", params={"limit": 500}, headers=actor.headers).json()["events"]
                mine = [e for e in inbox if e["task_id"] >= self.first_task]
                tasks_by_id = {t.id: t for t in self.tasks}
                for e in mine:
                    task = tasks_by_id[e["task_id"]]
                    if e["taken_away"]:  # a task command gave to another team: that it did, nothing of the task since
                        assert actor.role == Role.TEAM and (e["task_state"], e["details"]) == (None, {}), context
                        continue
                    assert self.sees_task(actor, task), f"{name}'s inbox: {e} of {task}\n{context}"
                    assert e["task_state"] == task.state, context


@pytest.fixture
def world(engine: Engine, conn: Connection, make_user, make_team, make_hotspot) -> Iterator[dict[str, Any]]:
    """The app on the test's transaction (a savepoint per request), teams A and B, one user per role."""
    app = create_app(engine)
    app.state.hotspot_machine = MACHINE
    requests_in_savepoints(app, conn)
    teams = {key: make_team(f"Tổ {key}", [code]) for key, code in COMMUNES.items()}
    roles: dict[str, tuple[str, str | None]] = {
        "command": (Role.COMMAND, None),
        "planner": (Role.PLANNER, None),
        "admin": (Role.ADMIN, None),
    }
    roles |= {"team_a": (Role.TEAM, "A"), "team_b": (Role.TEAM, "B")}
    with TestClient(app) as client:
        actors = {
            name: Actor(
                name,
                role,
                team,
                bearer_headers(app, conn, make_user(f"fsm-{name}", role, teams[team] if team else None)),
            )
            for name, (role, team) in roles.items()
        }
        points = {
            key: tuple(
                conn.execute(
                    text("""SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM admin_units
                            WHERE code = :c AND valid_to IS NULL) s"""),
                    {"c": code},
                ).one()
            )
            for key, code in COMMUNES.items()
        }
        yield {
            "client": client,
            "conn": conn,
            "teams": teams,
            "actors": actors,
            "make_hotspot": make_hotspot,
            "points": points,
        }


SETTINGS = settings(
    derandomize=True,
    max_examples=examples(4, 16),
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def test_random_lifecycles_by_every_role_keep_state_scope_and_history(world: dict[str, Any]) -> None:
    machine = type("BoundLifecycle", (Lifecycle,), {"world": world})
    run_state_machine_as_test(machine, settings=SETTINGS)


def test_a_team_sees_a_hotspot_of_its_area_but_not_the_task_another_team_holds(world: dict[str, Any]) -> None:
    """Found by the machine above: team A's hotspot card and register named team B's task on a hotspot of A's area
    (id, version, team, due date) and offered buttons for it that the API refuses (404)."""
    client, actors, teams = world["client"], world["actors"], world["teams"]
    command, team_a, team_b = (actors[name].headers for name in ("command", "team_a", "team_b"))
    hotspot = world["make_hotspot"](COMMUNES["A"])
    client.post(f"/api/hotspots/{hotspot}/transitions", json={"to": "verified", "version": 1}, headers=command)
    task = client.post(
        "/api/tasks", json={"kind": "suppression", "hotspot_id": hotspot, "team_id": teams["B"]}, headers=command
    ).json()
    assert client.get(f"/api/tasks/{task['id']}", headers=team_a).status_code == 404
    card = client.get(f"/api/hotspots/{hotspot}", headers=team_a).json()["properties"]
    listed = client.get("/api/hotspots", headers=team_a).json()["features"]
    for p in (card, *(f["properties"] for f in listed if f["id"] == hotspot)):
        assert p["status"] == "assigned"
        hidden = ("task_id", "task_state", "task_version", "task_team_id", "task_team", "task_due_date")
        assert [p[k] for k in hidden] == [None] * len(hidden) and p["task_actions"] == []
    assert client.get("/api/hotspots", params={"team": teams["B"]}, headers=team_a).json()["features"] == []
    theirs = client.get(f"/api/hotspots/{hotspot}", headers=team_b).json()["properties"]
    assert (theirs["task_id"], theirs["task_team_id"]) == (task["id"], teams["B"])
    assert [a["to"] for a in theirs["task_actions"]] == ["in_progress", "declined"]


def test_a_task_reassigned_to_another_team_leaves_only_a_notice_in_the_first_teams_inbox(world: dict[str, Any]) -> None:
    """Found by the machine above: after command gave team A's task to team B, A's inbox still listed it, with the
    task's current state as B worked on it (a task A may no longer read: 404). A is told it was taken away, no more."""
    client, actors, teams = world["client"], world["actors"], world["teams"]
    command, team_a, team_b = (actors[name].headers for name in ("command", "team_a", "team_b"))
    body = {"kind": "conversion", "commune_code": COMMUNES["A"], "year": 2026, "team_id": teams["A"]}
    task = client.post("/api/tasks", json=body, headers=command).json()
    inbox_a = client.get("/api/inbox", headers=team_a).json()["events"]
    assert [(e["task_id"], e["to_state"]) for e in inbox_a] == [(task["id"], "assigned")]
    moved = client.post(
        f"/api/tasks/{task['id']}/assignment", json={"team_id": teams["B"], "version": 2}, headers=command
    )
    client.post(f"/api/tasks/{task['id']}/transitions", json={"to": "in_progress", "version": 3}, headers=team_b)
    assert moved.status_code == 200 and client.get(f"/api/tasks/{task['id']}", headers=team_a).status_code == 404
    inbox_a = client.get("/api/inbox", headers=team_a).json()["events"]
    assert [(e["task_id"], e["taken_away"], e["task_state"]) for e in inbox_a] == [(task["id"], True, None)]
    inbox_b = client.get("/api/inbox", headers=team_b).json()["events"]
    assert [(e["event"], e["task_state"]) for e in inbox_b] == [("reassigned", "in_progress")]
