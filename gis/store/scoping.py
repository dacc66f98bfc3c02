"""Area scoping as SQL conditions: a team sees its current area of responsibility and its own tasks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from gis.store.sql import valid_on

#: Communes in team ``:scope_team``'s area of responsibility today (Hải Phòng's date).
TEAM_COMMUNES = f"SELECT ta.commune_code FROM team_areas ta WHERE ta.team_id = :scope_team AND {valid_on('ta')}"


def in_team_area(column: str) -> str:
    """Condition that ``column`` (a commune code) is in the area of team ``:scope_team`` today."""
    return f"{column} IN ({TEAM_COMMUNES})"


@dataclass(frozen=True)
class AreaScope:
    """What a user may see: everything (``team_id`` None) or one team's area and assignments."""

    team_id: int | None = None

    @property
    def params(self) -> dict[str, Any]:
        """Bound parameters of the conditions below."""
        return {} if self.team_id is None else {"scope_team": self.team_id}

    def incidents(self, alias: str = "i") -> str:
        """Condition on incidents (or any row with a commune_code): inside the team's area."""
        return "true" if self.team_id is None else in_team_area(f"{alias}.commune_code")

    def communes(self, column: str) -> str:
        """Condition on a commune code column: inside the team's area."""
        return "true" if self.team_id is None else in_team_area(column)

    def tasks(self, alias: str = "t") -> str:
        """Condition on tasks: assigned to the team, or unassigned inside its area (never another team's task)."""
        if self.team_id is None:
            return "true"
        return (
            f"({alias}.team_id = :scope_team OR ({alias}.team_id IS NULL AND {in_team_area(f'{alias}.commune_code')}))"
        )

    def hotspots(self, alias: str = "h") -> str:
        """Condition on hotspots: inside the team's area or with a task assigned to the team."""
        if self.team_id is None:
            return "true"
        return (
            f"({in_team_area(f'{alias}.commune_code')} OR EXISTS (SELECT 1 FROM tasks st "
            f"WHERE st.hotspot_id = {alias}.id AND st.team_id = :scope_team))"
        )


UNRESTRICTED = AreaScope()


def scope_communes(conn: Connection, scope: AreaScope) -> tuple[str, ...] | None:
    """Commune codes a scope may see (None: all), for analyses that select incidents up front."""
    if scope.team_id is None:
        return None
    return tuple(conn.execute(text(TEAM_COMMUNES), scope.params).scalars())
