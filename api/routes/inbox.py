"""The inbox: task events that need the logged-in user's attention."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from api.audit import record_read
from api.deps import ConnDep, Writer
from api.schemas import InboxOut
from gis.store.tasks import inbox

router = APIRouter(prefix="/api/inbox", tags=["tasks"])


@router.get("", response_model=InboxOut)
def get_inbox(
    request: Request, conn: ConnDep, user: Writer, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> dict[str, Any]:
    """Events newest first: to a team, its tasks assigned, returned or cancelled and outside comments;
    to command, work completed or declined and comments from teams. The read (notes) is recorded."""
    events = inbox(conn, user, limit)
    record_read(request, conn, user, len(events))
    return {"events": events}
