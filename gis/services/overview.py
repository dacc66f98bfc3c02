"""What a working page opens with: the years with a classification, the newest approved, the last incident day,
the team's area, the KPI targets to show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection

from gis.reference import targets_for
from gis.store.classifications import find_run
from gis.store.incidents import latest_incident_time
from gis.store.provinces import sole_province
from gis.store.scoping import AreaScope, scope_communes
from models.domain.access import Principal
from models.vocabulary import LOCAL_TZ, Role, RunStatus, local_today

#: How many years back the pages look for classification runs.
CLASSIFICATION_YEARS = 6
#: Years whose drug-free targets the command page shows beside the current share.
TARGET_YEARS = (2025, 2030)


@dataclass(frozen=True)
class Overview:
    """The facts a working page starts from."""

    years: tuple[int, ...]
    approved_year: int | None
    last_incident: date | None
    team_communes: tuple[str, ...]
    drug_free_targets: dict[int, float]


def overview(conn: Connection, user: Principal, today: date | None = None) -> Overview:
    """Recent years with a classification run (next year's draft included), the newest approved, the last
    incident's local date in the user's scope, the team's communes today and the drug-free targets of the user's
    province (the country's for a nation-wide user of a database of several provinces)."""
    today = today or local_today()
    years = range(today.year + 1, today.year - CLASSIFICATION_YEARS, -1)
    runs = [run for run in (find_run(conn, year) for year in years) if run is not None]
    approved = next((run["year"] for run in runs if run["status"] == RunStatus.APPROVED), None)
    scope = AreaScope.of(user)
    last = latest_incident_time(conn, scope)
    communes = scope_communes(conn, scope) if user.role == Role.TEAM else ()
    targets = targets_for(user.province_code or sole_province(conn))
    shown = {year: share for year in TARGET_YEARS if (share := targets.drug_free_target(year)) is not None}
    return Overview(
        years=tuple(run["year"] for run in runs),
        approved_year=approved,
        last_incident=last.astimezone(LOCAL_TZ).date() if last else None,
        team_communes=tuple(communes or ()),
        drug_free_targets=shown,
    )
