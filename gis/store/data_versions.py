"""Data versions: counters raised by triggers whenever incidents or team areas change (migration 0005)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, text

from gis.store.sql import LOCAL_TODAY


@dataclass(frozen=True)
class DataVersions:
    """The versions of the incidents and of the team areas, and Hải Phòng's today (areas are dated)."""

    incidents: int
    team_areas: int
    today: date


def data_versions(conn: Connection) -> DataVersions:
    """The current versions, in one round trip."""
    row = conn.execute(
        text(f"""SELECT max(version) FILTER (WHERE name = 'incidents'),
                                       max(version) FILTER (WHERE name = 'team_areas'), {LOCAL_TODAY}
                                FROM data_versions""")
    ).one()
    return DataVersions(*row)
