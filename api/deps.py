"""Typed FastAPI dependencies shared by the routers."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection, Engine


def get_engine(request: Request) -> Engine:
    """The engine the app was created with."""
    return request.app.state.engine


def get_connection(request: Request) -> Iterator[Connection]:
    """A connection in a transaction, committed when the request succeeds."""
    with request.app.state.engine.begin() as conn:
        yield conn


ConnDep = Annotated[Connection, Depends(get_connection)]
EngineDep = Annotated[Engine, Depends(get_engine)]
