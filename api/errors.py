"""One mapping from domain exceptions to HTTP status codes (as tipg does)."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gis.db import DatabaseUnavailable
from gis.readers import FileFormatError
from models.incident_validation import ContractError

DEFAULT_STATUS_CODES: dict[type[Exception], int] = {
    ContractError: 400,
    FileFormatError: 400,
    DatabaseUnavailable: 503,
}


def add_exception_handlers(app: FastAPI, status_codes: dict[type[Exception], int]) -> None:
    """Answer each mapped exception with its status and `{"detail": message}`."""
    for exc_type, status in status_codes.items():
        def handler(request: Request, exc: Exception, status: int = status) -> JSONResponse:
            return JSONResponse(status_code=status, content={"detail": str(exc)})

        app.add_exception_handler(exc_type, handler)
