"""Standard logging for the app and the CLI, and one log line per HTTP request.

Lines go to standard error as ``time level logger: message``. A request line names the method, the
path (never the query string, which may carry search terms), the status, the duration, the user (for a refused
login the account tried) and the client's address (never a token, a cookie or a password).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models.text import one_line

REQUESTS = logging.getLogger("diaban.requests")
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class OneLineFormatter(logging.Formatter):
    """A formatter whose messages stay one line (:func:`one_line`). A request's path is decoded from what the client
    sent, so ``/api/x%0A… user=admin`` wrote a second line of the client's making, a forged request, under the
    server's own (a traceback still follows its message on lines of its own)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        """The line of ``record`` with its message escaped."""
        record.message = one_line(record.message)
        return super().formatMessage(record)


def configure_logging(level: str = "INFO") -> None:
    """Send the ``diaban`` loggers to standard error at ``level`` (idempotent)."""
    logger = logging.getLogger("diaban")
    logger.setLevel(level.upper())
    if not any(getattr(h, "_diaban", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(OneLineFormatter(_FORMAT))
        handler._diaban = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.propagate = False


class RequestLog:
    """ASGI middleware writing one line per HTTP request: method, path, status, duration, user (``user=-`` and
    ``tried=<login name>`` for a refused login), client address (a trusted proxy's X-Forwarded-For, set by uvicorn)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status: dict[str, Any] = {"code": 500}

        async def record(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            state = scope.get("state", {})
            tried = state.get("login_tried")
            client = scope.get("client")
            REQUESTS.info(
                "%s %s %d %.1f ms user=%s%s client=%s",
                scope["method"],
                scope["path"],
                status["code"],
                (time.perf_counter() - start) * 1000,
                state.get("username", "-"),
                "" if tried is None else f" tried={tried}",
                client[0] if client else "-",
            )
