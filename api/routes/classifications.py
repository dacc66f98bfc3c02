"""Yearly commune classification: GeoJSON per year, review list, overrides, approval or discarding the draft, new runs,
export, and the history of a year's versions."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import Connection

from api.audit import record_read
from api.cache import CachedResponse, cached_response
from api.deps import AreaScopeDep, ConnDep, ReadConnDep, Reader, ReplicaConnDep, current_versions, require_roles
from api.downloads import disposition
from api.params import Version
from api.routes.reports import XLSX
from api.schemas import (
    ApproveIn,
    ClassificationMapOut,
    ClassificationOut,
    DiscardIn,
    HistoryVersion,
    OverrideIn,
    OverrideOut,
    ReviewOut,
    RunCreated,
    RunIn,
    RunOut,
)
from api.slots import heavy
from gis.services.classification import (
    classification_collection_json,
    draft_year,
    export_classification,
    require_whole_country,
    review_report,
)
from gis.store.classifications import approve, discard_draft, override, run_history
from gis.store.data_versions import DataVersions, data_versions
from gis.store.scoping import AreaScope, require_commune_in_scope
from models.domain.access import Principal, report_province
from models.domain.dates import FIRST_YEAR, LAST_YEAR
from models.vocabulary import Role

router = APIRouter(prefix="/api/classifications", tags=["classifications"])

Year = Annotated[int, Path(ge=FIRST_YEAR, le=LAST_YEAR, examples=[2025])]
Province = Annotated[
    str | None,
    Query(
        pattern=r"^[A-Za-z0-9_.-]{1,8}$",
        description="only this province's communes; default: the user's province, else every commune",
    ),
]
DraftFirst = Annotated[
    bool,
    Query(
        alias="draft",
        description="without a version: the year's draft (a correction awaiting approval too) before the approved"
        " run — what the planner reviews, overrides and approves",
    ),
]
CurrentGeometry = Annotated[
    bool,
    Query(
        alias="current_geometry",
        description="false: the current units' features without geometry (a page that has them from /api/communes"
        " paints them by code); a unit no longer current, of a year classified on its period's units, keeps its own",
    ),
]
Planner = Annotated[Principal, Depends(require_roles(Role.PLANNER))]
PlanningReader = Annotated[Principal, Depends(require_roles(Role.PLANNER, Role.COMMAND))]
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "geojson": "application/geo+json",
    "xlsx": XLSX,
}
#: A GeoJSON export is a FeatureCollection whose features' properties are named by the export's columns
#: (Vietnamese headers, or machine names with ``raw``); CSV and Excel are files.
_EXPORT_SCHEMAS: dict[str, dict] = {
    "geojson": {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"const": "FeatureCollection"},
            "run": {"type": "object"},
            "features": {"type": "array", "items": {"type": "object"}},
        },
    },
}
EXPORT_RESPONSE: dict[int | str, dict] = {
    200: {
        "description": "the classification as a file (CSV, GeoJSON or Excel)",
        "content": {
            media: {"schema": _EXPORT_SCHEMAS.get(fmt, {"type": "string", "format": "binary"})}
            for fmt, media in MEDIA_TYPES.items()
        },
    }
}


@dataclass(frozen=True)
class Asked:
    """Which run of which year a classification answer shows, of which communes, simplified how far."""

    year: int
    version: int | None
    simplify_m: float
    scope: AreaScope
    draft_first: bool
    current_geometry: bool


async def _asked(
    user: Reader,
    scope: AreaScopeDep,
    year: Year,
    version: Version = None,
    simplify_m: Annotated[float, Query(ge=0, le=1000)] = 0,
    province: Province = None,
    draft_first: DraftFirst = False,
    current_geometry: CurrentGeometry = True,
) -> Asked:
    """The parameters of a classification answer (teams: own area; a provincial user: own province); async: nothing
    here waits, so no worker thread."""
    return Asked(year, version, simplify_m, _reported(user, scope, province), draft_first, current_geometry)


AskedDep = Annotated[Asked, Depends(_asked)]


async def _remembered_versions(request: Request, conn: ReplicaConnDep) -> DataVersions:
    """The data versions as this process remembers them (:func:`api.deps.current_versions`)."""
    return await current_versions(request, conn)


def _classes_response(
    request: Request, conn: Connection, asked: Asked, versions: DataVersions, model: type[BaseModel]
) -> Response:
    """A year's classes as ``model`` (with every criterion, or only what a map shows), cached and revalidated by ETag
    (:func:`_versioned_json`).

    The classifications' version is every year's (a statement trigger per table, see gis/store/data_versions.py): a
    change to one year's run changes the key of the others too, a needless download at worst. Keyed per year it would
    need triggers that read the changed rows (one per event and table: PostgreSQL gives a statement trigger its
    transition table for one event only) and a map of years in every read of the versions, for the few changes a
    planning season makes."""
    detail = model is ClassificationOut

    def read() -> str:
        return classification_collection_json(
            conn,
            asked.year,
            asked.version,
            asked.simplify_m,
            asked.scope,
            detail,
            asked.draft_first,
            asked.current_geometry,
        )

    return _versioned_json(request, ("classification", detail, asked), asked.scope, versions, model, read)


def _versioned_json(
    request: Request,
    asked: tuple,
    scope: AreaScope,
    versions: DataVersions,
    model: type[BaseModel],
    read: Callable[[], dict | str],
) -> Response:
    """``read()`` (a dict, or JSON text as the database wrote it) written by ``model`` (dates in ISO 8601, the model's
    fields only, as FastAPI wrote it), cached and revalidated by ETag (:func:`api.cache.cached_response`) under a key
    of what was ``asked`` and of what it depends on: the classifications' version (a run, an override or an approval:
    which run is shown and its classes), the boundaries' and today (the units named and drawn) and, for a team, its
    area's version."""
    team_area = versions.team_areas if scope.team_id is not None else None
    key = (*asked, versions.classifications, versions.boundaries, versions.today, team_area)

    def build() -> CachedResponse:
        answer = read()
        valid = model.model_validate_json(answer) if isinstance(answer, str) else model.model_validate(answer)
        return CachedResponse(valid.model_dump_json().encode(), "application/json")

    return cached_response(request, request.app.state.cache, key, build)


@router.get(
    "/{year:int}",
    response_model=ClassificationOut,
    responses={304: {"description": "unchanged since the ETag the browser sent"}},
)
def get_classification(request: Request, conn: ReplicaConnDep, asked: AskedDep) -> Response:
    """Communes with category, level, method, criteria and explanation (GeoJSON; teams: own area; a provincial user:
    own province).

    Cached and sent with an ETag, like the map of the classes: the planner page loaded the whole classification
    (205 KB compressed for Hải Phòng) again on every visit and after every override or approval. Its key is read
    afresh on every request (one statement), not remembered by the process: the planner page reads it again right
    after the planner's own override or approval, which another worker or server may have committed."""
    return _classes_response(request, conn, asked, data_versions(conn), ClassificationOut)


@router.get(
    "/{year:int}/map",
    response_model=ClassificationMapOut,
    responses={304: {"description": "unchanged since the ETag the browser sent"}},
)
def get_classification_map(
    request: Request,
    conn: ReplicaConnDep,
    asked: AskedDep,
    versions: Annotated[DataVersions, Depends(_remembered_versions)],
) -> Response:
    """The same communes with their names and class only, for a map of the classes (GeoJSON; a fraction of the
    whole: no criteria, indicators or reasons).

    Cached and sent with an ETag (see /api/communes): the command page's map of the classes (124 KB compressed) was
    sent again on every visit. bench/bench_pages.py, command page as chihuy, a revisit, before → after in one run
    (with /api/tasks/counts), load average 3.7–4.2 on 2 cores: 157.8 → 28.9 KB on the wire on the phone profile
    (API answers 148.3 → 19.4 KB), 157.3 → 28.4 KB on the desktop."""
    return _classes_response(request, conn, asked, versions, ClassificationMapOut)


def _reported(user: Principal, scope: AreaScope, province: str | None) -> AreaScope:
    """The communes a classification answer covers: a team's area, else the province asked for or the user's own."""
    if scope.team_id is not None:
        return scope
    return AreaScope(province_code=report_province(user, province))


@router.get(
    "/{year:int}/review",
    response_model=ReviewOut,
    responses={304: {"description": "unchanged since the ETag the browser sent"}},
)
def get_review(
    request: Request,
    conn: ConnDep,
    user: PlanningReader,
    scope: AreaScopeDep,
    year: Year,
    version: Version = None,
    province: Province = None,
    draft_first: DraftFirst = False,
) -> Response:
    """Communes in review order: legal/learned disagreements and changes vs the previous approved year first (a
    province's, on request or for a provincial user).

    Cached and sent with an ETag, its key read afresh like the whole classification's: the planner page read it
    again on every visit (nation-wide 91 KB compressed, nine tenths of a revisit)."""
    reported = _reported(user, scope, province)

    def read() -> dict:
        return review_report(conn, year, version, reported, draft_first)

    asked = ("review", year, version, reported, draft_first)
    return _versioned_json(request, asked, reported, data_versions(conn), ReviewOut, read)


@router.post("/{year:int}/overrides", response_model=OverrideOut)
def post_override(conn: ConnDep, user: Planner, scope: AreaScopeDep, year: Year, body: OverrideIn) -> dict:
    """Override a commune's final class in the year's draft (409 when the year is approved; a provincial planner only
    in their province)."""
    require_commune_in_scope(conn, scope, body.commune_code)
    return override(conn, year, body.commune_code, body.category, body.level, body.reason, actor=user.username)


@router.post("/{year:int}/approve", response_model=RunOut)
def post_approve(
    request: Request, conn: ConnDep, user: Planner, scope: AreaScopeDep, year: Year, body: ApproveIn | None = None
) -> dict:
    """Approve the year's draft, making it an immutable snapshot (409 when already approved; 403 when the approver
    ran the draft or overrode a commune in it and DIABAN_FOUR_EYES is on, or when the run holds units outside a
    provincial planner's province; 412 when ``body`` names a draft other than the year's draft as it is now)."""
    require_whole_country(conn, scope, year)
    seen = (body.run_id, body.last_override_at) if body else None
    return approve(conn, year, actor=user.username, four_eyes=request.app.state.four_eyes, seen=seen)


@router.post("/{year:int}/discard", response_model=RunOut)
def post_discard(conn: ConnDep, user: Planner, scope: AreaScopeDep, year: Year, body: DiscardIn) -> dict:
    """Discard the year's draft as read (a correction started by mistake: the approved version stays the year's
    result); 409 when the year has only approved versions, 412 when ``body`` names another draft than the year's as
    it is now, 403 for a provincial planner when the run holds units outside their province."""
    require_whole_country(conn, scope, year)
    return discard_draft(conn, year, (body.run_id, body.last_override_at), actor=user.username)


@router.get("/{year:int}/history", response_model=list[HistoryVersion])
def get_history(
    conn: ConnDep, user: PlanningReader, scope: AreaScopeDep, year: Year, province: Province = None
) -> list[dict]:
    """Every version of the year, newest first — approved, the draft, and the drafts discarded or replaced (kept in an
    append-only trail) — with who ran, approved, discarded or replaced it and when, and each override of the communes
    the reader covers (a province's, on request or for a provincial user, as the review): what an inspector reads of how
    the year's classification was reached. An empty list for a year never run."""
    return run_history(conn, year, _reported(user, scope, province))


@router.post("/{year:int}/runs", status_code=201, response_model=RunCreated)
def post_run(conn: ConnDep, user: Planner, scope: AreaScopeDep, year: Year, body: RunIn | None = None) -> dict:
    """Compute a new draft; after approval it is a correction that supersedes the approved version (403 for a
    provincial planner when the database holds units of other provinces)."""
    require_whole_country(conn, scope, year)
    body = body or RunIn()
    return draft_year(conn, year, actor=user.username, replace=body.replace, note=body.note)


@router.get("/{year:int}/export", response_class=Response, responses=EXPORT_RESPONSE)
def get_export(
    request: Request,
    conn: ReplicaConnDep,
    primary: ReadConnDep,
    user: PlanningReader,
    scope: AreaScopeDep,
    year: Year,
    version: Version = None,
    province: Province = None,
    fmt: Annotated[Literal["csv", "geojson", "xlsx"], Query(alias="format")] = "csv",
    raw: Annotated[
        bool, Query(description="CSV or GeoJSON for scripts: machine column names, codes and values as they are")
    ] = False,
) -> Response:
    """The classification as CSV, GeoJSON or Excel (columns: code, name, class, method, missing data, criteria; the
    Excel file under the reader's heading: their province's police, or the Ministry's), named by year, version,
    draft or approved and province: ``phan-loai-2025-v1-ban-nhap-tinh-31.xlsx``."""
    reported = _reported(user, scope, province)
    export = heavy(
        request,
        lambda: export_classification(
            conn, year, fmt, version, raw=raw, scope=reported, issuer=user.province_code, by=user.username
        ),
    )
    record_read(request, primary, user, export.rows)
    return Response(
        export.content,
        media_type=MEDIA_TYPES[fmt],
        headers=disposition(export.name or ""),
    )
