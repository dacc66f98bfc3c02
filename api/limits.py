"""Request bodies: size limits and strict JSON, enforced before anything parses a body (before authentication too).

Size: every request may carry at most ``DIABAN_MAX_BODY_KB`` (1 MB: JSON and forms); a route that takes
files declares FastAPI's ``max_body_size=upload_body_size()`` (``DIABAN_MAX_UPLOAD_MB``). A declared
``Content-Length`` over the limit is refused with 413 at once, without reading the body; a body without one
(chunked) is counted as it arrives and refused when it passes the limit. The refusal is the usual error
body and never echoes the request. (FastAPI's own app-wide limit is not used: over a declared length it
answers in plain text, past every handler.)

Strict JSON: no ``NaN`` / ``Infinity`` (Python's parser takes them) and no lone surrogate escape such as
``"\\ud800"`` (no UTF-8 text holds one, so storing it failed): 422.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gis.io.exports import vn_megabytes
from gis.settings import ApiSettings
from models.vocabulary import vietnamese_reason

BODY_TOO_LARGE = "body_too_large"
INVALID_JSON = "invalid_json"
_SURROGATE = re.compile("[\ud800-\udfff]")
#: Where the limit of the request being read is kept (for the refusal's message).
_LIMIT_KEY = "diaban.max_body_size"


def upload_body_size() -> int:
    """The largest body of a route that takes files (DIABAN_MAX_UPLOAD_MB), in bytes: that route's
    ``max_body_size=``."""
    return ApiSettings().max_upload_mb * 2**20


class BodyTooLarge(HTTPException):
    """A body passed its limit while it was being read (413)."""

    def __init__(self) -> None:
        super().__init__(413, "request body too large")


def too_large_message(scope: Scope, english: bool = True) -> str:
    """What a refused body is told (its limit in MB written the Vietnamese way, never the body itself), with the
    English reason unless ``english`` is false (what a page shows)."""
    limit = scope.get(_LIMIT_KEY)
    if limit is None:
        return "nội dung yêu cầu quá lớn" + (" (request body too large)" if english else "")
    reason = f" (request body too large: at most {limit} bytes)" if english else ""
    return f"nội dung yêu cầu quá lớn: tối đa {vn_megabytes(limit)}{reason}"


def iter_routes(app: FastAPI) -> Iterator[Any]:
    """Every route of the app, those of included routers too (FastAPI keeps an included router as one entry whose
    routes are its "effective route contexts")."""
    for route in app.router.routes:
        nested = getattr(route, "effective_route_contexts", None)
        yield from nested() if nested else (route,)


class RequestBodies:
    """ASGI middleware: 413 for a body over its route's limit before the app reads it, 422 for a JSON body that is
    not strict JSON; an accepted body is handed on unchanged."""

    def __init__(self, app: ASGIApp, fastapi: FastAPI, default: int) -> None:
        self.app = app
        self.fastapi = fastapi
        self.default = default

    def limit_for(self, scope: Scope) -> int:
        """The ``max_body_size`` of the route the request goes to, else the app's default."""
        for route in iter_routes(self.fastapi):
            limit = getattr(route, "max_body_size", None)
            if limit is not None and route.matches(scope)[0] == Match.FULL:
                return int(limit)
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        # Only a body larger than the default (or of unknown size) needs its route looked up: the search over every
        # route cost a tenth of a warm tile's Python time when every GET (no body, no length) made it (issue 18).
        if declared is None and not _chunked(scope):
            declared = 0  # neither a length nor chunks: no body (RFC 9112 §6.3)
        limit = self.default if declared is not None and declared <= self.default else self.limit_for(scope)
        scope[_LIMIT_KEY] = limit
        if declared is not None and declared > limit:
            await _too_large(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        if not _is_json(scope):
            await self.app(scope, counted, send)
            return
        try:
            body, last = await _read_all(counted)
        except BodyTooLarge:
            await _too_large(scope, receive, send)
            return
        problem = strict_json_problem(body)
        if problem:
            await _refuse(scope, receive, send, 422, problem, INVALID_JSON)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return (
                last if last["type"] != "http.request" else {"type": "http.request", "body": body, "more_body": False}
            )

        await self.app(scope, replay, send)


def strict_json_problem(body: bytes) -> str | None:
    """Why a JSON body is not strict JSON (NaN, Infinity, a lone surrogate), or None (malformed JSON is left to the
    app's own parser, which reports where it breaks)."""

    def refuse(constant: str) -> None:
        raise _NotStrict(constant)

    try:
        value = json.loads(body, parse_constant=refuse)
    except _NotStrict as exc:
        return f"JSON không hợp lệ: không dùng {exc} cho số (invalid JSON: {exc} is not a JSON number)"
    except RecursionError:  # [[[[…]]]] thousands deep (within the size limit): the parser recurses once per level
        return "JSON không hợp lệ: lồng nhau quá sâu (invalid JSON: nested too deeply)"
    except ValueError:
        return None
    if _has_lone_surrogate(value):
        return (
            "JSON không hợp lệ: chuỗi chứa mã \\uD800–\\uDFFF đứng lẻ, không phải văn bản Unicode"
            " (invalid JSON: a lone surrogate escape is not text)"
        )
    return None


class _NotStrict(ValueError):
    """A JSON constant (NaN, Infinity, -Infinity) that strict JSON does not have."""


def _has_lone_surrogate(value: Any) -> bool:
    """Whether any string (key or value) of a parsed JSON document holds a lone surrogate."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _is_json(scope: Scope) -> bool:
    """Whether the app will parse the body as JSON (FastAPI does when no content type is given)."""
    if scope["method"] in ("GET", "HEAD", "OPTIONS"):
        return False
    for name, value in scope["headers"]:
        if name == b"content-type":
            kind = value.split(b";", 1)[0].strip().lower()
            return kind == b"application/json" or kind.endswith(b"+json")
    return True


async def _read_all(receive: Receive) -> tuple[bytes, Message]:
    """The whole body, and the last message (a disconnect stops reading)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), message


async def _refuse(
    scope: Scope, receive: Receive, send: Send, status: int, detail: str, code: str, message: str | None = None
) -> None:
    """Answer with the error body, without the app (``message``: the Vietnamese alone, else the detail without its
    English gloss)."""
    body = {"detail": detail, "message": message or vietnamese_reason(detail), "code": code}
    await JSONResponse(body, status_code=status)(scope, receive, send)


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    """413 naming the limit of the route."""
    message = too_large_message(scope, english=False)
    await _refuse(scope, receive, send, 413, too_large_message(scope), BODY_TOO_LARGE, message)


def _chunked(scope: Scope) -> bool:
    """Whether the body comes in chunks (its size unknown until the last)."""
    return any(name == b"transfer-encoding" for name, _ in scope["headers"])


def _content_length(scope: Scope) -> int | None:
    """The declared body size, None when absent or unreadable (then the body is counted as it comes)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
