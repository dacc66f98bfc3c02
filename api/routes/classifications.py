"""Yearly commune classification: GeoJSON per year, review list, overrides, approval, new runs, export."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field, StringConstraints

from api.deps import AreaScopeDep, ConnDep, Reader, require_roles
from gis.services.classification import draft_year, export_classification, review
from gis.store.classifications import (
    approve,
    classification_geojson,
    override,
    require_run,
)
from models.domain.access import Principal
from models.vocabulary import Category, Level

router = APIRouter(prefix="/api/classifications", tags=["classifications"])

Year = Annotated[int, Path(ge=2000, le=2100)]
Version = Annotated[int | None, Query(ge=1, description="run version; default: newest approved, else the draft")]
Planner = Annotated[Principal, Depends(require_roles("planner"))]
PlanningReader = Annotated[Principal, Depends(require_roles("planner", "command"))]
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "geojson": "application/geo+json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class OverrideIn(BaseModel):
    """A planner's change of one commune's final class; the reason is mandatory."""

    commune_code: Annotated[str, StringConstraints(max_length=16, pattern=r"^[0-9A-Za-z_-]+$")]
    category: Category
    level: Level | None = None
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class RunIn(BaseModel):
    """A new draft (or a correction of an approved year); replace discards an existing draft."""

    replace: bool = False
    note: Annotated[str | None, Field(max_length=2000)] = None


@router.get("/{year}")
def get_classification(
    conn: ConnDep,
    user: Reader,
    scope: AreaScopeDep,
    year: Year,
    version: Version = None,
    simplify_m: Annotated[float, Query(ge=0, le=1000)] = 0,
) -> dict[str, Any]:
    """Communes with category, level, method, criteria and explanation (GeoJSON; teams: own area)."""
    run = require_run(conn, year, version)
    return {
        "type": "FeatureCollection",
        "run": run,
        "features": classification_geojson(conn, run["id"], simplify_m, scope),
    }


@router.get("/{year}/review")
def get_review(conn: ConnDep, user: PlanningReader, year: Year, version: Version = None) -> dict[str, Any]:
    """Communes in review order: legal/learned disagreements and changes vs the previous approved year first."""
    run, items = review(conn, year, version)
    shown = items.drop(columns=["indicators", "sources", "criteria"]).astype(object)
    records = shown.where(shown.notna(), None).to_dict("records")
    return {
        "run": run,
        "n_disagreements": int(items["disagreement"].sum()),
        "n_changed": int(items["changed"].sum()),
        "items": records,
    }


@router.post("/{year}/overrides")
def post_override(conn: ConnDep, user: Planner, year: Year, body: OverrideIn) -> dict[str, Any]:
    """Override a commune's final class in the year's draft (409 when the year is approved)."""
    return override(conn, year, body.commune_code, body.category, body.level, body.reason, actor=user.username)


@router.post("/{year}/approve")
def post_approve(conn: ConnDep, user: Planner, year: Year) -> dict[str, Any]:
    """Approve the year's draft, making it an immutable snapshot (409 when already approved)."""
    return approve(conn, year, actor=user.username)


@router.post("/{year}/runs", status_code=201)
def post_run(conn: ConnDep, user: Planner, year: Year, body: RunIn | None = None) -> dict[str, Any]:
    """Compute a new draft; after approval it is a correction that supersedes the approved version."""
    body = body or RunIn()
    return draft_year(conn, year, actor=user.username, replace=body.replace, note=body.note)


@router.get("/{year}/export")
def get_export(
    conn: ConnDep,
    user: PlanningReader,
    year: Year,
    version: Version = None,
    fmt: Annotated[Literal["csv", "geojson", "xlsx"], Query(alias="format")] = "csv",
) -> Response:
    """The classification as CSV, GeoJSON or Excel (columns: code, name, class, method, missing data, criteria)."""
    content = export_classification(conn, year, fmt, version)
    filename = f"phan-loai-{year}.{fmt}"
    return Response(
        content, media_type=MEDIA_TYPES[fmt], headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
