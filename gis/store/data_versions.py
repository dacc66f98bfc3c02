"""Data versions: counters raised by triggers whenever incidents, team areas or boundaries change (migrations 0004,
0006)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, text

from gis.store.sql import LOCAL_TODAY


@dataclass(frozen=True)
class DataVersions:
    """The versions of the incidents, of the team areas and of the current boundaries, and Hải Phòng's today
    (areas are dated)."""

    incidents: int
    team_areas: int
    today: date
    boundaries: int


def data_versions(conn: Connection) -> DataVersions:
    """The current versions, in one round trip."""
    row = conn.execute(
        text(f"""SELECT max(version) FILTER (WHERE name = 'incidents'),
                                       max(version) FILTER (WHERE name = 'team_areas'), {LOCAL_TODAY},
                                       max(version) FILTER (WHERE name = 'admin_unit_parts')
                                FROM data_versions""")
    ).one()
    return DataVersions(*row)
