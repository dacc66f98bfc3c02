"""The inbox: task events that need the logged-in user's attention."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from api.audit import record_read
from api.deps import ConnDep, Writer
from api.schemas import InboxOut
from gis.store.hotspots import report_notices, reports_awaiting_command
from gis.store.scoping import AreaScope
from gis.store.tasks import inbox
from models.vocabulary import Role

router = APIRouter(prefix="/api/inbox", tags=["tasks"])


@router.get("", response_model=InboxOut)
def get_inbox(
    request: Request, conn: ConnDep, user: Writer, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> dict[str, Any]:
    """Events newest first: to a team, its tasks assigned, its work accepted or returned, tasks cancelled and outside
    comments; to command, work completed or declined and comments from teams, naming the team of each. A team also
    hears (``reports``) what became of the spots its members reported: verified, dismissed with command's reason,
    given to another team, merged; command (``team_reports``) the spots teams reported that still wait for it. The
    read (notes) is recorded, with the rows of all."""
    events = inbox(conn, user, limit)
    team = user.role == Role.TEAM
    reports = report_notices(conn, AreaScope.of(user), limit) if team else []
    team_reports = [] if team else reports_awaiting_command(conn, AreaScope.of(user), limit)
    record_read(request, conn, user, len(events) + len(reports) + len(team_reports))
    return {"events": events, "reports": reports, "team_reports": team_reports}
