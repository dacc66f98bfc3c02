"""Data versions: counters raised by triggers whenever incidents or team areas change (migration 0005)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, text


@dataclass(frozen=True)
class DataVersions:
    """The versions of the incidents and of the team areas, and the database's today (areas are dated)."""

    incidents: int
    team_areas: int
    today: date


def data_versions(conn: Connection) -> DataVersions:
    """The current versions, in one round trip."""
    row = conn.execute(text("""SELECT max(version) FILTER (WHERE name = 'incidents'),
                                      max(version) FILTER (WHERE name = 'team_areas'), current_date
                               FROM data_versions""")).one()
    return DataVersions(*row)
