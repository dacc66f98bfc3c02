"""Hotspot lifecycle transitions (the hotspot list and detail live in api/routes/hotspots.py)."""

from typing import Any

from fastapi import APIRouter

from api.deps import AreaScopeDep, ConnDep, HotspotMachine, Writer
from api.params import IdempotencyKey
from api.schemas import HotspotTransitionOut, TransitionIn
from gis.services.hotspots import transition_hotspot
from models.domain.access import TEAM_HOTSPOT_TARGETS, require_target

router = APIRouter(prefix="/api/hotspots", tags=["hotspots"])


@router.post("/{hotspot_id:int}/transitions", response_model=HotspotTransitionOut)
def post_transition(
    hotspot_id: int,
    body: TransitionIn,
    conn: ConnDep,
    user: Writer,
    scope: AreaScopeDep,
    machine: HotspotMachine,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Move a hotspot to `to` (409 not allowed from its status, 412 stale version, 422 requirement missing). Sent again
    with the same `Idempotency-Key` (the answer was lost), the first answer is given and nothing changes (409: the key
    was used for another request)."""
    require_target(user, body.to, TEAM_HOTSPOT_TARGETS)
    return transition_hotspot(conn, machine, hotspot_id, body.to, body.note, body.version, user, scope, key=key)
