"""Commune-level units (xã, phường, đặc khu) as GeoJSON."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from api.cache import CachedResponse, cached_response
from api.deps import CurrentUser, ReplicaConnDep, current_versions
from api.schemas import CommuneProperties, FeatureCollection, FormerCommune
from gis.store.communes import communes_geojson, shown_commune_codes

router = APIRouter(prefix="/api/communes", tags=["communes"])


async def boundaries_key(request: Request, conn: ReplicaConnDep, user: CurrentUser) -> tuple:
    """What a user's boundaries depend on: the boundaries' version, today (units end and begin on dates) and, for a
    team, its area's version (the provinces it lies in choose the units)."""
    versions = await current_versions(request, conn)
    return versions.boundaries, versions.today, versions.team_areas if user.team_id is not None else None


@router.get(
    "",
    response_model=FeatureCollection[CommuneProperties],
    responses={304: {"description": "unchanged since the ETag the browser sent"}},
)
def list_communes(
    request: Request,
    conn: ReplicaConnDep,
    user: CurrentUser,
    key: Annotated[tuple, Depends(boundaries_key)],
    simplify_m: Annotated[float, Query(ge=0, le=1000, description="simplification tolerance, metres")] = 0,
) -> Response:
    """Current boundaries with code, name, full_name, kind, area_km2 and province (a provincial user: their
    province's; a team: those of the provinces its area lies in).

    Cached and sent with an ETag: every page loads them, and the city's 114 units (125 KB compressed) were sent
    again on every visit, most of what a revisit cost a phone (bench/bench_pages.py, team page on a 1.6 Mbit/s,
    150 ms link: 152 KB before, 26 KB with a 304 instead), and 300 ms of the server's time each."""

    def build() -> CachedResponse:
        collection = communes_geojson(conn, simplify_m, user.province_code, user.team_id)
        return CachedResponse(collection.encode(), "application/json")

    cache = request.app.state.cache
    return cached_response(request, cache, ("communes", simplify_m, user.province_code, user.team_id, key), build)


#: At most this many former units a search answers (a name shared by many old communes nation-wide: «Bạch Đằng», 10).
FORMER_LIMIT = 20


@router.get("/former", response_model=list[FormerCommune])
def former_communes(
    conn: ReplicaConnDep,
    user: CurrentUser,
    q: Annotated[str, Query(min_length=2, max_length=100, description="a former commune's name, its district")],
) -> list[FormerCommune]:
    """The units before the 1 July 2025 reorganisation that `q` names (with or without accents and «phường»/«xã»,
    optionally its district: «Hạ Lý», «ha ly, Hồng Bàng»), each with a current unit it became part of among those
    the user's maps show (GET /api/communes'): the search box's suggestions for a name officers still use.

    Answered from the package's directory (`gis.unit_directory`), not sent with every page: Hải Phòng's 374 old units
    would be 21.6 KB (3.4 KB compressed) on each page, the country's 10,035 a nation-wide user's 554 KB (77 KB)."""
    from gis.unit_directory import unit_directory  # here: it loads pandas, which the server starts without

    shown = shown_commune_codes(conn, user.province_code, user.team_id)
    return [FormerCommune.model_validate(f) for f in unit_directory().former(q, shown, FORMER_LIMIT)]
