"""Request body limits, enforced before anything reads or parses a body (before authentication too).

Every request may carry at most ``DIABAN_MAX_BODY_KB`` (1 MB: JSON and forms); a route that takes files
declares ``openapi_extra=UPLOAD`` and gets ``DIABAN_MAX_UPLOAD_MB`` instead (the marker also shows in the
OpenAPI description). A declared ``Content-Length`` over the limit is refused with 413 at once, without
reading the body; a body without one (chunked) is counted as it arrives and refused when it passes the
limit. The refusal never echoes the body.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: ``openapi_extra`` of a route that takes files (photos): the upload limit applies to it.
UPLOAD: dict[str, Any] = {"x-body-limit": "upload"}
BODY_TOO_LARGE = "body_too_large"


class BodyTooLarge(HTTPException):
    """A body passed its limit while it was being read (413)."""

    code = BODY_TOO_LARGE

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large_message(limit))


def too_large_message(limit: int) -> str:
    """What a refused body is told (never the body itself)."""
    return f"nội dung yêu cầu quá lớn: tối đa {limit:,} byte (request body too large: at most {limit} bytes)"


def route_limits(routes: Callable[[], list[BaseRoute]], default: int, upload: int) -> Callable[[Scope], int]:
    """The limit of the route a request goes to: ``upload`` for routes marked UPLOAD, else ``default``."""

    def limit_for(scope: Scope) -> int:
        for route in routes():
            if isinstance(route, APIRoute) and (route.openapi_extra or {}).get("x-body-limit") == "upload":
                if route.matches(scope)[0] == Match.FULL:
                    return upload
        return default

    return limit_for


class BodyLimit:
    """ASGI middleware refusing bodies over their route's limit with 413 before the app reads them."""

    def __init__(self, app: ASGIApp, default: int, limit_for: Callable[[Scope], int]) -> None:
        self.app = app
        self.default = default
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        # Only a body larger than every route's default (or of unknown size) needs its route looked up.
        limit = self.default if declared is not None and declared <= self.default else self.limit_for(scope)
        if declared is not None and declared > limit:
            response = JSONResponse({"detail": too_large_message(limit), "code": BODY_TOO_LARGE}, status_code=413)
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)


def _content_length(scope: Scope) -> int | None:
    """The declared body size, None when absent or unreadable (then the body is counted as it comes)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
