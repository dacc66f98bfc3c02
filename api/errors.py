"""One mapping from domain exceptions to HTTP status codes (as tipg does)."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError

from gis.db import DatabaseUnavailable
from gis.readers import FileFormatError
from gis.surfaces import GridTooLarge
from models.access import PermissionDenied
from models.classification_review import RunApproved
from models.errors import AlreadyExists, InvalidRequest, NotFound, StaleVersion
from models.incident_validation import ContractError
from models.state_machine import TransitionNotAllowed, TransitionRequirementMissing

#: A transition missing its requirement (note, reason, approval, elapsed monitoring period, clean footprint)
#: is 422: the transition exists from this state, but the request does not satisfy it.
DEFAULT_STATUS_CODES: dict[type[Exception], int] = {
    ContractError: 400,
    FileFormatError: 400,
    PermissionDenied: 403,
    NotFound: 404,
    TransitionNotAllowed: 409,
    AlreadyExists: 409,
    RunApproved: 409,
    StaleVersion: 412,
    TransitionRequirementMissing: 422,
    InvalidRequest: 422,
    DataError: 422,
    GridTooLarge: 422,
    DatabaseUnavailable: 503,
}


def error_body(exc: Exception) -> dict:
    """`{"detail": message}`, in Vietnamese for refused transitions, which also list the allowed states."""
    if isinstance(exc, TransitionNotAllowed):
        allowed = ", ".join(exc.allowed) or "không có (trạng thái cuối)"
        return {"detail": f"không thể chuyển từ '{exc.source}' sang '{exc.target}'; được phép: {allowed}",
                "allowed": list(exc.allowed)}
    if isinstance(exc, TransitionRequirementMissing):
        return {"detail": f"chưa đủ điều kiện chuyển từ '{exc.source}' sang '{exc.target}': {exc.missing}"}
    if isinstance(exc, DataError):  # never echo SQL: say what is wrong in the request
        return {"detail": "giá trị không hợp lệ hoặc vượt giới hạn (invalid or out-of-range value)"}
    return {"detail": str(exc)}


def add_exception_handlers(app: FastAPI, status_codes: dict[type[Exception], int]) -> None:
    """Answer each mapped exception with its status and its error body."""
    for exc_type, status in status_codes.items():
        def handler(request: Request, exc: Exception, status: int = status) -> JSONResponse:
            return JSONResponse(status_code=status, content=error_body(exc))

        app.add_exception_handler(exc_type, handler)
