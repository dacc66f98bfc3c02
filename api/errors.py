"""One table from domain errors to HTTP statuses (as tipg does), one error body, and the log line of each error.

Every error a user can meet derives from ``models.errors.DiabanError``; its family decides the status
(the first class of its MRO found in :data:`STATUS_BY_ERROR`), so a new error class needs no entry
here. The body is always ``{"detail": <Vietnamese message (English reason)>, "message": <the Vietnamese alone>,
"code": <stable code>}``
(plus ``allowed`` for refused transitions), the same shape as FastAPI's own 4xx answers carry in
``detail``; ``ErrorOut`` documents it in the OpenAPI description.
"""

from __future__ import annotations

import logging

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import exc as sa_exc
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException

from api.limits import BODY_TOO_LARGE, iter_routes, too_large_message
from api.validation_vi import http_detail_vi, invalid_field, message_vi
from gis.store.db import QueryTimeout, unavailable
from maps.pages import error_page
from models.domain.state_machine import TransitionNotAllowed
from models.errors import (
    Busy,
    Conflict,
    DiabanError,
    InvalidInput,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    StaleVersion,
    Unavailable,
)
from models.vocabulary import vietnamese_reason

log = logging.getLogger("diaban.api")

#: Domain error family → HTTP status. A transition missing its requirement (note, reason, approval, elapsed
#: monitoring period, clean footprint) is an InvalidRequest: 422, the transition exists but the request does
#: not satisfy it; a transition the lifecycle does not have is a Conflict: 409.
STATUS_BY_ERROR: dict[type[Exception], int] = {
    InvalidInput: 400,
    PermissionDenied: 403,
    NotFound: 404,
    Conflict: 409,
    StaleVersion: 412,
    InvalidRequest: 422,
    DataError: 422,
    psycopg.DataError: 422,
    Busy: 429,
    QueryTimeout: 504,
    Unavailable: 503,
    DiabanError: 500,
}
#: Failures to reach or use the database (driver, pool): answered as the domain's Unavailable (503, Retry-After), or
#: for a statement cut by the server's timeout as QueryTimeout (504: the request's weight, not a broken server).
DATABASE_FAILURES: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)
#: Code of a request whose value the database refused (psycopg's and SQLAlchemy's DataError).
INVALID_VALUE = "invalid_value"
#: Seconds a client should wait before retrying while the database is unavailable.
RETRY_AFTER_S = 5
#: Tag of the routes that answer people's browsers with HTML (api.routes.pages): their errors are pages too.
PAGE_TAG = "pages"


class ImportRefused(InvalidRequest):
    """An uploaded file none of whose rows could be kept, or (an all-or-nothing import, ``message``) one of whose rows
    was refused (422, rolled back): the body carries the import's report (``report``), so that every refused row is
    shown with its line and reason."""

    code = "nothing_imported"

    def __init__(
        self,
        report: dict,
        message: str = "không có dòng nào hợp lệ trong tệp: không nhập gì",
        reason: str | None = "every row of the file was rejected; nothing stored",
    ) -> None:
        super().__init__(message, reason)
        self.report = report


class RowsRefused(ImportRefused):
    """An all-or-nothing import (the accounts file) one of whose rows was refused: nothing was created, the body's
    ``report`` lists every refused row."""

    code = "rows_refused"


class FieldError(BaseModel):
    """One invalid field of a request: where it is and what is wrong (the value itself is never echoed)."""

    loc: list[str | int]
    msg: str
    type: str


class ErrorOut(BaseModel):
    """The body of every refused request."""

    detail: str = Field(description="what is wrong, in Vietnamese (the English reason may follow in parentheses)")
    message: str | None = Field(
        default=None, description="what is wrong, in Vietnamese only: what the pages show a user (absent: detail)"
    )
    code: str = Field(description="stable machine code of the error (e.g. not_found, transition_not_allowed)")
    allowed: list[str] | None = Field(
        default=None, description="states allowed from the current one, for a refused transition"
    )


def status_of(exc: Exception) -> int:
    """The HTTP status of an error: that of the first class of its MRO in the table."""
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def _refused_value(exc: Exception) -> bool:
    """Whether the database refused a value (its message quotes the value; the statement's parameters may hold a
    note, a ref, an address)."""
    return isinstance(exc, DataError | psycopg.DataError)


def _logged(exc: Exception) -> tuple[str, object]:
    """The code and the text of an error's log line: a value the database refused only by its SQLSTATE, never the
    value, the statement or the database's message."""
    if _refused_value(exc):
        return INVALID_VALUE, f"SQLSTATE {getattr(getattr(exc, 'orig', exc), 'sqlstate', None)}"
    return getattr(exc, "code", type(exc).__name__), exc


def error_body(exc: Exception) -> dict:
    """The error body: Vietnamese message with the English reason, stable code, allowed states when refused."""
    if _refused_value(exc):  # never echo SQL: say what is wrong in the request
        return {
            "detail": "giá trị không hợp lệ hoặc vượt giới hạn (invalid or out-of-range value)",
            "message": "giá trị không hợp lệ hoặc vượt giới hạn",
            "code": INVALID_VALUE,
        }
    message = exc.message if isinstance(exc, DiabanError) else str(exc)
    body: dict = {"detail": str(exc), "message": message, "code": getattr(exc, "code", "error")}
    if isinstance(exc, TransitionNotAllowed):
        body["allowed"] = list(exc.allowed)
    if isinstance(exc, ImportRefused):
        body["report"] = exc.report
    return body


def wants_page(request: Request) -> bool:
    """Whether an error is answered as a page: the request went to a page route (:data:`PAGE_TAG`) from a client
    that takes HTML (a browser's Accept names text/html; one asking for JSON alone gets the API's body), or to an
    address with no route outside the API and the static files from a browser (a link or a mistyped address: it had
    shown the API's JSON)."""
    route = request.scope.get("route")
    accept = request.headers.get("accept", "")
    if route is None:
        return "text/html" in accept and not request.url.path.startswith(("/api/", "/static/"))
    if PAGE_TAG not in (getattr(route, "tags", None) or ()):
        return False
    return "text/html" in accept or "application/json" not in accept


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """The methods some route of the app answers at ``path`` (routes of included routers too)."""
    methods: set[str] = set()
    for route in iter_routes(app):
        regex, answered = getattr(route, "path_regex", None), getattr(route, "methods", None)
        if regex is not None and answered and regex.match(path):
            methods |= set(answered)
    return sorted(methods)


def add_exception_handlers(app: FastAPI) -> None:
    """Answer each domain error with its status and body, and log it (one line; a traceback only for 5xx)."""

    def handler(request: Request, exc: Exception) -> Response:
        status = status_of(exc)
        user = getattr(request.state, "username", "-")
        if status >= 500:
            log.error(
                "%s %s → %d %s (user %s)",
                request.method,
                request.url.path,
                status,
                exc,
                user,
                exc_info=exc if status == 500 else None,
            )
        else:
            log.info("%s %s → %d %s: %s (user %s)", request.method, request.url.path, status, *_logged(exc), user)
        headers = {"Retry-After": str(RETRY_AFTER_S)} if status in (429, 503) else None
        if wants_page(request):  # a person's browser: the Vietnamese message on a page, not the API's JSON
            message = error_body(exc).get("message") or str(exc)
            return HTMLResponse(error_page(message, status), status_code=status, headers=headers)
        return JSONResponse(status_code=status, content=error_body(exc), headers=headers)

    def validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {
                "loc": [p if isinstance(p, int) else str(p) for p in e.get("loc", ())],
                "msg": message_vi(e),
                "type": str(e.get("type", "")),
            }
            for e in exc.errors()
        ]

        def where(english: bool) -> str:
            """The first five invalid fields by their labels, each with what is wrong (the English gloss of a
            validator's own message, as «(date must be written YYYY-MM-DD)», only when ``english``)."""
            return "; ".join(
                invalid_field(e, str(e["msg"]) if english else vietnamese_reason(str(e["msg"]))) for e in errors[:5]
            )

        log.info("%s %s → 422 validation_error: %s", request.method, request.url.path, where(english=True))
        return JSONResponse(
            status_code=422,
            content={
                "detail": f"dữ liệu gửi lên không hợp lệ — {where(english=True)}",
                "message": f"dữ liệu gửi lên không hợp lệ — {where(english=False)}",
                "code": "validation_error",
                "errors": errors,
            },
        )

    def http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:  # every method of the path, not only those of the first route that matched it
            headers["Allow"] = ", ".join(allowed_methods(app, request.url.path))
        if exc.status_code == 413:  # the body limit: say the limit, in Vietnamese, never echo the body
            content = {
                "detail": too_large_message(request.scope),
                "message": too_large_message(request.scope, english=False),
                "code": BODY_TOO_LARGE,
            }
        else:
            content = {
                "detail": http_detail_vi(exc.status_code, str(exc.detail)),
                "message": http_detail_vi(exc.status_code, str(exc.detail), english=False),
                "code": f"http_{exc.status_code}",
            }
        if exc.status_code == 404 and wants_page(request):
            return HTMLResponse(error_page(content["message"], 404), status_code=404, headers=headers or None)
        return JSONResponse(status_code=exc.status_code, headers=headers or None, content=content)

    def database(request: Request, exc: Exception) -> Response:
        domain = unavailable(exc)
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        log.error("%s %s: database failure: %s", request.method, request.url.path, reason[0] if reason else type(exc))
        return handler(request, domain)

    for exc_type in STATUS_BY_ERROR:
        app.add_exception_handler(exc_type, handler)
    for exc_type in DATABASE_FAILURES:
        app.add_exception_handler(exc_type, database)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(HTTPException, http)
