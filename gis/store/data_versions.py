"""Data versions: counters raised by triggers whenever incidents, team areas, boundaries or classifications change
(migrations 0004, 0006, 0007, 0018)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, text

from gis.store.sql import LOCAL_TODAY


@dataclass(frozen=True)
class DataVersions:
    """The versions of the incidents, of the team areas, of the current boundaries and of the classifications (runs
    and results: their two counters added, so that it rises with either), and Hải Phòng's today (areas are dated)."""

    incidents: int
    team_areas: int
    today: date
    boundaries: int
    classifications: int


def data_versions(conn: Connection) -> DataVersions:
    """The current versions, in one round trip."""
    row = conn.execute(
        text(f"""SELECT max(version) FILTER (WHERE name = 'incidents'),
                                       max(version) FILTER (WHERE name = 'team_areas'), {LOCAL_TODAY},
                                       max(version) FILTER (WHERE name = 'admin_unit_parts'),
                                       CAST(sum(version) FILTER (WHERE name IN ('classification_runs',
                                                                       'classification_results')) AS bigint)
                                FROM data_versions""")
    ).one()
    return DataVersions(*row)


def bump_data_version(conn: Connection, name: str) -> None:
    """Raise a table's version by hand, for a change its statement trigger does not see (a partition attached)."""
    conn.execute(
        text("UPDATE data_versions SET version = version + 1, changed_at = now() WHERE name = :name"), {"name": name}
    )
