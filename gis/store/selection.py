"""Which rows a request selects, as SQL conditions with bound parameters: the one selection builder.

Every filter (incidents for a list, a tile or an analysis; hotspots; tasks) is built with
:class:`Where`, which binds each value as a parameter, so no user value ever enters SQL text. The
same conditions serve SQLAlchemy statements (``:name``) and the raw binary cursor of the analyses
(``%(name)s``, see :meth:`Where.pyformat`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from gis.store.scoping import UNRESTRICTED, AreaScope
from gis.store.sql import in_values, valid_on
from models.vocabulary import TASK_OPEN, TASK_WORK_DONE, WGS84_SRID, codes

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@dataclass
class Where:
    """A conjunction of SQL conditions and the values bound to their parameters."""

    clauses: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def bind(self, value: Any) -> str:
        """A fresh placeholder bound to ``value``."""
        name = f"w{len(self.params)}"
        while name in self.params:
            name += "_"
        self.params[name] = value
        return f":{name}"

    def add(self, clause: str, params: dict[str, Any] | None = None) -> Where:
        """Add a condition (with the named parameters it uses, if any)."""
        self.clauses.append(clause)
        self.params.update(params or {})
        return self

    @property
    def sql(self) -> str:
        """The conditions joined by AND (``true`` when there are none)."""
        return " AND ".join(self.clauses) or "true"

    def pyformat(self) -> tuple[str, dict[str, Any]]:
        """The conditions with ``%(name)s`` placeholders, for a driver cursor (psycopg), and their values."""
        return pyformat(self.sql), dict(self.params)


def pyformat(sql: str) -> str:
    """SQL written with ``:name`` placeholders (SQLAlchemy's) in psycopg's ``%(name)s`` style, ``%`` escaped."""
    return _NAMED.sub(lambda m: f"%({m.group(1)})s", sql.replace("%", "%%"))


def _prefix(alias: str | None) -> str:
    return f"{alias}." if alias else ""


@dataclass(frozen=True)
class IncidentSelection:
    """Which incidents a list, a tile or an analysis uses: time window, kinds, lon/lat box, communes, the user's area.

    Frozen and hashable: it is part of the key of cached map answers.
    """

    start: datetime | None = None
    end: datetime | None = None
    kinds: tuple[str, ...] = ()
    bbox: tuple[float, float, float, float] | None = None
    communes: tuple[str, ...] | None = None
    scope: AreaScope = UNRESTRICTED

    def where(self, alias: str | None = "i", where: Where | None = None) -> Where:
        """The conditions on incidents (table alias ``alias``; None for an unqualified single table)."""
        w, p = where or Where(), _prefix(alias)
        if self.scope.key:
            w.add(self.scope.communes(f"{p}commune_code"), self.scope.params)
        if self.start is not None:
            w.add(f"{p}occurred_at >= {w.bind(self.start)}")
        if self.end is not None:
            w.add(f"{p}occurred_at < {w.bind(self.end)}")
        if self.kinds:
            w.add(f"{p}kind = ANY({w.bind(list(codes(self.kinds)))})")
        if self.bbox is not None:
            x0, y0, x1, y1 = (w.bind(float(v)) for v in self.bbox)
            w.add(f"{p}geom && ST_MakeEnvelope({x0}, {y0}, {x1}, {y1}, {WGS84_SRID})")
        if self.communes is not None:
            w.add(f"{p}commune_code = ANY({w.bind(sorted(self.communes))})")
        return w

    def within(self, communes: Iterable[str] | None) -> IncidentSelection:
        """The same selection limited to some communes (None: unchanged)."""
        if communes is None:
            return self
        return IncidentSelection(self.start, self.end, self.kinds, self.bbox, tuple(communes), self.scope)


#: A hotspot list's place to be near (``:near_lon``, ``:near_lat``), as a geography: distances on the spheroid, in
#: metres, answered through the index on ``hotspots.centroid::geography`` (ix_hotspots_centroid_geography).
NEAR_POINT = f"ST_SetSRID(ST_MakePoint(:near_lon, :near_lat), {WGS84_SRID})::geography"


def recurrences(alias: str = "h") -> str:
    """The recurrences of a hotspot (alias ``alias``), as ``FROM … WHERE …`` over its 'recurred' events (``re``, written
    by detection: at the hotspot itself, or recorded beside the hotspot continuing the cluster) and their detection run
    (``rr``); :data:`RECURRENCE_KNOWN` is when each became known."""
    return f"""hotspot_events re LEFT JOIN detection_runs rr ON rr.id = re.run_id
        WHERE re.hotspot_id = {alias}.id AND re.event = 'recurred'"""


#: When a recurrence (see :func:`recurrences`) became known: the day it happened (its first incident after the
#: clearing, as its history and the KPIs date it) or, when a detection run found it only later, the run's.
RECURRENCE_KNOWN = "greatest(re.at, rr.started_at)"


@dataclass(frozen=True)
class HotspotFilter:
    """Filters of the hotspot list: statuses, commune(s), lon/lat box, activity within dates, the user's area, the
    team and state of the newest suppression task, whether that task is held outside its team's area today, new in the
    register or recurred since an instant, and within a distance of a place."""

    statuses: tuple[str, ...] = ()
    communes: tuple[str, ...] | None = None
    bbox: tuple[float, float, float, float] | None = None
    start: datetime | None = None
    end: datetime | None = None
    scope: AreaScope = UNRESTRICTED
    team_id: int | None = None
    task_states: tuple[str, ...] = ()
    #: The newest task is overdue (True) or not (False) as of a local day (``as_of``).
    overdue: bool | None = None
    as_of: date | None = None
    #: The newest task is held by its team outside the team's area today (True, :func:`held_outside_area`) or not.
    outside_area: bool | None = None
    #: Entered the register (found by a detection run, reported by hand) at or after this instant, or recurred (phức
    #: tạp trở lại) known since then: «what is new» to command is both.
    new_since: datetime | None = None
    #: Within some metres of a place: (lon, lat, metres).
    near: tuple[float, float, float] | None = None

    def where(self, alias: str = "h", task_alias: str = "st") -> Where:
        """The conditions on hotspots (alias ``alias``; their newest suppression task ``task_alias``), the user's
        area scope included."""
        w = Where().add(self.scope.hotspots(alias), self.scope.params)
        # The newest task counts only if the user may see it: a team never learns of another team's task.
        seen = self.scope.tasks(task_alias)
        if self.team_id is not None:
            w.add(f"{task_alias}.team_id = {w.bind(self.team_id)} AND {seen}")
        if self.task_states:
            w.add(f"{task_alias}.state = ANY({w.bind(list(codes(self.task_states)))}) AND {seen}")
        if self.overdue is not None and self.as_of is not None:
            w.add(overdue_condition(w, task_alias, self.as_of, self.overdue, seen))
        if self.outside_area is not None:
            outside = f"coalesce({held_outside_area(task_alias)} AND {seen}, false)"
            w.add(outside if self.outside_area else f"NOT {outside}")
        if self.statuses:
            w.add(f"{alias}.status = ANY({w.bind(list(codes(self.statuses)))})")
        if self.communes is not None:
            w.add(f"{alias}.commune_code = ANY({w.bind(list(self.communes))})")
        if self.bbox:
            x0, y0, x1, y1 = (w.bind(float(v)) for v in self.bbox)
            w.add(f"{alias}.centroid && ST_MakeEnvelope({x0}, {y0}, {x1}, {y1}, {WGS84_SRID})")
        if self.start:
            w.add(f"coalesce({alias}.last_seen, {alias}.created_at) >= {w.bind(self.start)}")
        if self.end:
            w.add(f"coalesce({alias}.first_seen, {alias}.created_at) < {w.bind(self.end)}")
        if self.new_since:
            since = w.bind(self.new_since)
            w.add(
                f"({alias}.created_at >= {since}"
                f" OR EXISTS (SELECT 1 FROM {recurrences(alias)} AND {RECURRENCE_KNOWN} >= {since}))"
            )
        if self.near is not None:
            lon, lat, metres = self.near
            near = {"near_lon": float(lon), "near_lat": float(lat), "near_m": float(metres)}
            w.add(f"ST_DWithin({alias}.centroid::geography, {NEAR_POINT}, :near_m)", near)
        return w

    def distance(self, alias: str = "h") -> str | None:
        """The metres from the place of ``near`` to a hotspot's centroid (alias ``alias``), with the parameters
        :meth:`where` binds; None without a place."""
        return None if self.near is None else f"ST_Distance({alias}.centroid::geography, {NEAR_POINT})"


def held_outside_area(alias: str = "t") -> str:
    """Condition that a task (alias ``alias``) is still held by its team (``TASK_OPEN``) in a commune outside that
    team's area today (the area valid on Hải Phòng's date; a change planned for a later day does not count yet).

    An administrator who moves a commune to another team's area leaves the old team its open tasks there, by design:
    command gives them to the commune's new team, which does not see them meanwhile. A task no team holds any more
    (finished, or waiting for acceptance) is not work left in the wrong hands, and is never marked."""
    return (
        f"({alias}.team_id IS NOT NULL AND {in_values(f'{alias}.state', codes(TASK_OPEN))} AND NOT EXISTS ("
        f"SELECT 1 FROM team_areas oa WHERE oa.team_id = {alias}.team_id AND oa.commune_code = {alias}.commune_code"
        f" AND {valid_on('oa')}))"
    )


def team_unstaffed(alias: str = "t") -> str:
    """Condition that a task (alias ``alias``) is still held by its team (``TASK_OPEN``) and that team has no active
    member (its last one deactivated or moved): nobody can work it, and command may give it to another team even
    under way (gis.services.tasks.assign_task)."""
    return (
        f"({alias}.team_id IS NOT NULL AND {in_values(f'{alias}.state', codes(TASK_OPEN))} AND NOT EXISTS ("
        f"SELECT 1 FROM users su WHERE su.team_id = {alias}.team_id AND su.active))"
    )


@dataclass(frozen=True)
class TaskFilter:
    """Filters of the task list: state, kind, assignee team, commune, hotspot, overdue as of a date, held outside its
    team's area today (:func:`held_outside_area`)."""

    state: str | None = None
    kind: str | None = None
    team_id: int | None = None
    overdue: bool | None = None
    commune_code: str | None = None
    hotspot_id: int | None = None
    outside_area: bool | None = None

    def where(self, as_of: date, scope: AreaScope, alias: str = "t") -> Where:
        """The conditions on tasks (alias ``alias``) as of a local date, the user's area scope included."""
        w = Where().add(scope.tasks(alias), scope.params)
        for column in ("state", "kind", "team_id", "commune_code", "hotspot_id"):
            value = getattr(self, column)
            if value is not None:
                w.add(f"{alias}.{column} = {w.bind(value if isinstance(value, int) else str(value))}")
        if self.overdue is not None:
            w.add(overdue_condition(w, alias, as_of, self.overdue))
        if self.outside_area is not None:
            w.add(held_outside_area(alias) if self.outside_area else f"NOT {held_outside_area(alias)}")
        return w


def overdue_condition(w: Where, alias: str, as_of: date, overdue: bool, seen: str = "true") -> str:
    """Condition that a task (alias ``alias``) the user may see (condition ``seen``) is past its due date with work
    still owed (or, False, that it is not)."""
    late = (
        f"({alias}.due_date < {w.bind(as_of)} AND {alias}.state <> ALL({w.bind(list(codes(TASK_WORK_DONE)))})"
        f" AND {seen})"
    )
    return late if overdue else f"NOT coalesce({late}, false)"
