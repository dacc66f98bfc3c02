"""Liveness and database check."""

from fastapi import APIRouter

from api.deps import ConnDep
from api.schemas import HealthOut
from gis.store.db import postgis_version

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut)
def health(conn: ConnDep) -> dict[str, str]:
    """OK when the database answers and has PostGIS."""
    version = postgis_version(conn)
    return {"status": "ok", "postgis": version}
