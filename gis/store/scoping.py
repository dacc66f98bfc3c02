"""Area scoping as SQL conditions: a team sees its current area of responsibility and its own tasks; a provincial
command or planner sees the communes of one province; everyone else (the Ministry) sees the whole country."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from gis.store.sql import current_unit, valid_on
from models.domain.access import Principal
from models.errors import NotFound
from models.vocabulary import AreaLevel, Role, TaskKind

#: Communes in team ``:scope_team``'s area of responsibility today (the local date).
TEAM_COMMUNES = f"SELECT ta.commune_code FROM team_areas ta WHERE ta.team_id = :scope_team AND {valid_on('ta')}"
#: Communes of province ``:scope_province`` (every version of a unit: a code keeps its province over time).
#: A semi-join on ix_admin_units_province (province_code, code).
PROVINCE_COMMUNES = "SELECT pu.code FROM admin_units pu WHERE pu.province_code = :scope_province"
#: Who did something, as a scope reads it when the actor is a user of a team it may not see (``AreaScope.people``).
OTHER_TEAM = "tổ công tác khác"


def in_team_area(column: str) -> str:
    """Condition that ``column`` (a commune code) is in the area of team ``:scope_team`` today."""
    return f"{column} IN ({TEAM_COMMUNES})"


def in_province(column: str) -> str:
    """Condition that ``column`` (a commune code) is a unit of province ``:scope_province``."""
    return f"{column} IN ({PROVINCE_COMMUNES})"


@dataclass(frozen=True)
class AreaScope:
    """What a user may see: everything (neither set), one province's communes, or one team's area and assignments.

    Frozen and hashable: it is part of the key of cached map answers (``key``).
    """

    team_id: int | None = None
    province_code: str | None = None

    def __post_init__(self) -> None:
        if self.team_id is not None and self.province_code is not None:
            raise ValueError("a scope is a team's area or a province, not both")

    @classmethod
    def of(cls, principal: Principal) -> AreaScope:
        """The scope of a user: a team user's team, else the user's province (None: the whole country)."""
        if principal.role == Role.TEAM:
            return cls(team_id=principal.team_id)
        return cls(province_code=principal.province_code)

    @property
    def level(self) -> AreaLevel:
        """The nation, a province or a team's area."""
        if self.team_id is not None:
            return AreaLevel.TEAM
        return AreaLevel.NATION if self.province_code is None else AreaLevel.PROVINCE

    @property
    def key(self) -> tuple[str, ...]:
        """What distinguishes this scope's answers in caches and validators (empty for the whole country)."""
        if self.team_id is not None:
            return (AreaLevel.TEAM, str(self.team_id))
        return () if self.province_code is None else (AreaLevel.PROVINCE, self.province_code)

    @property
    def params(self) -> dict[str, Any]:
        """Bound parameters of the conditions below."""
        if self.team_id is not None:
            return {"scope_team": self.team_id}
        return {} if self.province_code is None else {"scope_province": self.province_code}

    def communes(self, column: str) -> str:
        """Condition on a commune code column: inside the team's area or the province."""
        if self.team_id is not None:
            return in_team_area(column)
        return "true" if self.province_code is None else in_province(column)

    def incidents(self, alias: str = "i") -> str:
        """Condition on incidents (or any row with a commune_code): inside the scope (an incident no commune holds
        is seen only nation-wide)."""
        return self.communes(f"{alias}.commune_code")

    def tasks(self, alias: str = "t") -> str:
        """Condition on tasks: a team's own or unassigned inside its area (never another team's task); a province's
        tasks are those of its communes."""
        if self.team_id is None:
            return self.communes(f"{alias}.commune_code")
        return (
            f"({alias}.team_id = :scope_team OR ({alias}.team_id IS NULL AND {in_team_area(f'{alias}.commune_code')}))"
        )

    def hotspots(self, alias: str = "h") -> str:
        """Condition on hotspots: inside the team's area or whose newest suppression task (the one the coupling rules
        follow) is the team's; inside the province. A team that declined a hotspot outside its area loses it once
        command gives it to another team, as it does when its task is reassigned."""
        if self.team_id is None:
            return self.communes(f"{alias}.commune_code")
        return (
            f"({in_team_area(f'{alias}.commune_code')} OR :scope_team = (SELECT st.team_id FROM tasks st "
            f"WHERE st.hotspot_id = {alias}.id AND st.kind = '{TaskKind.SUPPRESSION}' ORDER BY st.id DESC LIMIT 1))"
        )

    def teams(self, alias: str = "tm") -> str:
        """Condition on teams: the team itself; for a province, teams whose area today has one of its communes."""
        if self.team_id is not None:
            return f"{alias}.id = :scope_team"
        if self.province_code is None:
            return "true"
        return (
            f"EXISTS (SELECT 1 FROM team_areas sa WHERE sa.team_id = {alias}.id AND {valid_on('sa')}"
            f" AND {in_province('sa.commune_code')})"
        )

    def actor(self, username: str) -> str:
        """A username column as the scope may read it: the user, or OTHER_TEAM for a user of a team it may not see."""
        if not self.key:
            return username
        return f"CASE WHEN {self.people(username)} THEN {username} ELSE '{OTHER_TEAM}' END"

    def people(self, username: str) -> str:
        """Condition that a username column (an actor in a history) names no user of a team the scope may not see:
        a team never learns who of another team did what."""
        if not self.key:
            return "true"
        return (
            f"NOT EXISTS (SELECT 1 FROM users su JOIN teams stm ON stm.id = su.team_id WHERE su.username = {username}"
            f" AND NOT ({self.teams('stm')}))"
        )


UNRESTRICTED = AreaScope()


def scope_communes(conn: Connection, scope: AreaScope) -> tuple[str, ...] | None:
    """Commune codes a scope may see (None: all), for analyses that select incidents up front."""
    if scope.team_id is not None:
        return tuple(conn.execute(text(TEAM_COMMUNES), scope.params).scalars())
    if scope.province_code is not None:
        return tuple(conn.execute(text(PROVINCE_COMMUNES + " ORDER BY pu.code"), scope.params).scalars())
    return None


def units_outside(conn: Connection, scope: AreaScope) -> int:
    """The current units outside ``scope``. A year's classification run and a detection run cover every unit in the
    database, so that a user limited to a province may start one only when none lies outside it (a one-province
    deployment)."""
    if scope.level == AreaLevel.NATION:
        return 0
    return conn.execute(
        text(f"SELECT count(*) FROM admin_units u WHERE {current_unit('u')} AND NOT {scope.communes('u.code')}"),
        scope.params,
    ).scalar_one()


def require_commune_in_scope(conn: Connection, scope: AreaScope, commune_code: str) -> None:
    """NotFound (as for a unit that does not exist) unless the commune lies inside the scope."""
    if scope.level == AreaLevel.NATION:
        return
    inside = conn.execute(
        text(f"SELECT {scope.communes('CAST(:c AS text)')}"), {**scope.params, "c": commune_code}
    ).scalar()
    if not inside:
        raise NotFound(
            f"xã/phường/đặc khu mã {commune_code} nằm ngoài phạm vi được giao", "commune outside the user's scope"
        )


def require_team_in_scope(conn: Connection, scope: AreaScope, team_id: int) -> None:
    """NotFound (as for a team that does not exist) unless a command user's scope may see the team."""
    if scope.level == AreaLevel.NATION:
        return
    visible = conn.execute(
        text(f"SELECT 1 FROM teams tm WHERE tm.id = :team AND {scope.teams('tm')}"), {**scope.params, "team": team_id}
    ).scalar()
    if visible is None:
        raise NotFound(f"không có tổ công tác #{team_id}", "no such team in the user's scope")
