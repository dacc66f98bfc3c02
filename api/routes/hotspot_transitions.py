"""Hotspot lifecycle transitions (the hotspot list and detail live in api/routes/hotspots.py)."""

from typing import Any

from fastapi import APIRouter

from api.deps import AreaScopeDep, ConnDep, HotspotMachine, Writer
from api.schemas import HotspotTransitionOut, TransitionIn
from gis.services.hotspots import transition_hotspot
from models.domain.access import TEAM_HOTSPOT_TARGETS, require_target

router = APIRouter(prefix="/api/hotspots", tags=["hotspots"])


@router.post("/{hotspot_id:int}/transitions", response_model=HotspotTransitionOut)
def post_transition(
    hotspot_id: int, body: TransitionIn, conn: ConnDep, user: Writer, scope: AreaScopeDep, machine: HotspotMachine
) -> dict[str, Any]:
    """Move a hotspot to `to` (409 not allowed from its status, 412 stale version, 422 requirement missing)."""
    require_target(user, body.to, TEAM_HOTSPOT_TARGETS)
    return transition_hotspot(conn, machine, hotspot_id, body.to, body.note, body.version, user, scope)
