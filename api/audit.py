"""Recording reads of incident-level data, task notes and photos, exports and audit trails in the access log
(gis.store.access_log): each route records its own read with the rows it answered (:func:`record_read`)."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy import Connection

from api.login import client_address
from gis.store.access_log import AccessLine, record_line
from models.domain.access import Principal


def access_line(request: Request, user: Principal) -> AccessLine:
    """The access line of this request (its rows aside): the route's template, its path and query parameters."""
    route = request.scope.get("route")
    params: dict[str, object] = dict(request.path_params)
    for key in request.query_params:
        values = request.query_params.getlist(key)
        params[key] = values[0] if len(values) == 1 else values
    return AccessLine(
        username=user.username,
        role=user.role,
        route=f"{request.method} {getattr(route, 'path_format', request.url.path)}",
        params=params,
        address=client_address(request),
    )


def record_read(request: Request, conn: Connection, user: Principal, rows: int | None) -> None:
    """One access line for this request, with the rows answered."""
    record_line(conn, access_line(request, user), rows)
