"""Commune-level units (xã, phường, đặc khu) as GeoJSON."""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import CurrentUser, ReplicaConnDep
from api.schemas import CommuneProperties, FeatureCollection
from gis.store.communes import communes_geojson

router = APIRouter(prefix="/api/communes", tags=["communes"])


@router.get("", response_model=FeatureCollection[CommuneProperties])
def list_communes(
    conn: ReplicaConnDep,
    user: CurrentUser,
    simplify_m: Annotated[float, Query(ge=0, le=1000, description="simplification tolerance, metres")] = 0,
) -> dict[str, Any]:
    """Current boundaries with code, name, full_name, kind, area_km2 and province (a provincial user: their
    province's; a team: those of the provinces its area lies in)."""
    return communes_geojson(conn, simplify_m, user.province_code, user.team_id)
