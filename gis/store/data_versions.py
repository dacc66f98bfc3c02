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


def bump_data_version(conn: Connection, name: str) -> None:
    """Raise a table's version by hand, for a change its statement trigger does not see (a partition attached)."""
    conn.execute(
        text("UPDATE data_versions SET version = version + 1, changed_at = now() WHERE name = :name"), {"name": name}
    )
