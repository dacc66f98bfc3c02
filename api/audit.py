"""Recording reads of incident-level data, task notes and photos, exports and audit trails in the access log
(gis.store.access_log).

Most routes record their own read with the rows they answered (:func:`record_read`). The task and inbox routes
answer notes and photos without counting rows; :func:`record_routed_read`, added to their routers by the app,
records those listed in :data:`ROUTED_READS` instead.
"""

from __future__ import annotations

from fastapi import Request
from sqlalchemy import Connection

from api.deps import ConnDep, CurrentUser
from api.login import client_address
from gis.store.access_log import AccessLine, record_line
from models.domain.access import Principal

#: Routes (method and template) whose answers carry task notes or photos, recorded by :func:`record_routed_read`: a
#: task with its history and photo list, a photo, the inbox's events, and the changes of a task that answer it whole.
ROUTED_READS = frozenset(
    {
        "GET /api/tasks/{task_id}",
        "PATCH /api/tasks/{task_id}",
        "POST /api/tasks/{task_id}/assignment",
        "GET /api/tasks/{task_id}/photos/{photo_id}",
        "GET /api/inbox",
    }
)


def _route(request: Request) -> str:
    """The request's method and route template (its path when no route matched)."""
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path_format', request.url.path)}"


def access_line(request: Request, user: Principal) -> AccessLine:
    """The access line of this request (its rows aside): the route's template, its path and query parameters."""
    params: dict[str, object] = dict(request.path_params)
    for key in request.query_params:
        values = request.query_params.getlist(key)
        params[key] = values[0] if len(values) == 1 else values
    return AccessLine(
        username=user.username,
        role=user.role,
        route=_route(request),
        params=params,
        address=client_address(request),
    )


def record_read(request: Request, conn: Connection, user: Principal, rows: int | None) -> None:
    """One access line for this request, with the rows answered."""
    record_line(conn, access_line(request, user), rows)


def record_routed_read(request: Request, conn: ConnDep, user: CurrentUser) -> None:
    """Router dependency: a line without a row count for a request to one of :data:`ROUTED_READS`. It is written in
    the request's transaction before the route runs, so a read the route refuses (403, 404) rolls back with it."""
    if _route(request) in ROUTED_READS:
        record_read(request, conn, user, None)
