"""What a working page opens with: the years with a classification, the newest approved, the last incident day,
the team's area, the command page's KPI panel (this year's value against this year's target), and whether the data
is synthetic (demo)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection

from gis.reference import targets_for
from gis.services.analyses import Memo, no_memo
from gis.services.reports import kpi_report, yearly_hotspot_counts
from gis.store.accounts import team_name_of
from gis.store.classifications import find_run
from gis.store.communes import ViewExtent, view_extent
from gis.store.data_versions import data_versions
from gis.store.incidents import has_synthetic_incidents, latest_incident_time
from gis.store.provinces import sole_province, view_province
from gis.store.scoping import AreaScope, scope_communes
from models.domain.access import Principal
from models.domain.kpi import recurrences_row
from models.errors import NotFound
from models.vocabulary import LOCAL_TZ, Role, RunStatus, local_today

#: How many years back the pages look for classification runs.
CLASSIFICATION_YEARS = 6


@dataclass(frozen=True)
class Overview:
    """The facts a working page starts from."""

    years: tuple[int, ...]
    approved_year: int | None
    last_incident: date | None
    team_communes: tuple[str, ...]
    #: The team's name (None: a user of no team), which its printed map names.
    team_name: str | None = None
    kpi: dict[str, Any] | None = None
    synthetic: bool = False
    #: The short name of the province the user's view lies in ("Hải Phòng"; None: a nation-wide user).
    area: str | None = None
    #: That province's code (None: a nation-wide user) and the extent of its units (of every province's
    #: nation-wide; None before any boundary is loaded).
    province_code: str | None = None
    extent: ViewExtent | None = None


def cached_view_extent(conn: Connection, province_code: str | None, memo: Memo | None = None) -> ViewExtent | None:
    """The view extent of a province (None: nation-wide), kept in ``memo`` under the boundaries' version: over the
    national file's 3,321 units the nation's took 150-260 ms and a province's 6-12 ms, up to 350 ms before the tables
    had statistics (bench/bench_view_extent.py, load 5)."""
    version = data_versions(conn).boundaries
    return (memo or no_memo)(("view_extent", province_code, version), lambda: view_extent(conn, province_code))


def kpi_panel(
    conn: Connection,
    today: date,
    approved_year: int | None,
    run_years: tuple[int, ...],
    province_code: str | None = None,
) -> dict[str, Any]:
    """The command page's KPIs for a province (None: every unit): the drug-free share of this year's classification
    (draft or approved) against this year's target, else of the newest approved year against that year's target;
    the final target of the path; and the recurrences of this calendar year against their limit. The lines come
    from the KPI report (same rules), each with how its target binds it (``bound``, BOUND_WORDS). A province the
    report refuses (no unit of it loaded, or none in that year's run) has no share: ``drugFreeRefused`` carries the
    report's sentence, which the panel shows — the refusal refused the whole page."""
    targets = targets_for(province_code or sole_province(conn))
    year = today.year if today.year in run_years else approved_year
    share = None
    refused = None
    if year is not None:
        try:
            report = kpi_report(conn, year, province_code)
        except NotFound as error:
            refused = error.message
        else:
            row = next(k for k in report["kpis"] if k["key"] == "drug_free_share")
            share = {
                "year": year,
                "approved": report["approved"],
                **{k: row[k] for k in ("value", "target", "met", "note", "bound")},
            }
    final_year, final_share = targets.drug_free_points[-1]
    counts = yearly_hotspot_counts(conn, today.year, AreaScope(province_code=province_code))
    recurrences = recurrences_row(counts["recurred"], targets, counts["records_since"])
    return {
        "year": today.year,
        "drugFree": share,
        "drugFreeRefused": refused,
        "finalTarget": {"year": final_year, "share": final_share},
        "recurrences": {"year": today.year, **{k: recurrences[k] for k in ("value", "target", "met", "bound")}},
    }


def overview(conn: Connection, user: Principal, today: date | None = None, memo: Memo | None = None) -> Overview:
    """Recent years with a classification run (next year's draft included), the newest approved, the last
    incident's local date in the user's scope, the team's name and communes today, the KPI panel (command only, for the
    user's province or the whole country), the demo marking, and the province the user's view lies in with its
    extent (kept in ``memo`` per version of the boundaries)."""
    today = today or local_today()
    years = range(today.year + 1, today.year - CLASSIFICATION_YEARS, -1)
    runs = [run for run in (find_run(conn, year) for year in years) if run is not None]
    approved = next((run["year"] for run in runs if run["status"] == RunStatus.APPROVED), None)
    scope = AreaScope.of(user)
    last = latest_incident_time(conn, scope)
    communes = scope_communes(conn, scope) if user.role == Role.TEAM else ()
    run_years = tuple(run["year"] for run in runs)
    province = view_province(conn, scope)
    return Overview(
        years=run_years,
        approved_year=approved,
        last_incident=last.astimezone(LOCAL_TZ).date() if last else None,
        team_communes=tuple(communes or ()),
        team_name=team_name_of(conn, user.team_id) if user.team_id is not None else None,
        kpi=kpi_panel(conn, today, approved, run_years, user.province_code) if user.role == Role.COMMAND else None,
        synthetic=has_synthetic_incidents(conn),
        area=province["name"] if province else None,
        province_code=province["code"] if province else None,
        extent=cached_view_extent(conn, province["code"] if province else None, memo),
    )
