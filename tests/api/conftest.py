"""Fixtures of the API tests: the app's OpenAPI description driven by schemathesis, in the test's transaction."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from sqlalchemy import Connection, Engine

from api.app import create_app
from api.deps import get_connection
from api.security import create_access_token


@pytest.fixture
def api_schema(engine: Engine, conn: Connection, make_user):
    """The served OpenAPI description as a schemathesis schema, logged in as command (``schema.app.state.token``).

    Requests run in-process, each in a savepoint of the test's rolled-back transaction, so that a refused
    write (an integrity error, say) cannot poison the next request.
    """
    app = create_app(engine)

    def savepoint() -> Iterator[Connection]:
        nested = conn.begin_nested()
        try:
            yield conn
        except Exception:
            nested.rollback()
            raise
        else:
            nested.commit()

    app.dependency_overrides[get_connection] = savepoint
    app.state.token = create_access_token(make_user("schema-command", "command"), app.state.auth.secret_key, 30)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    schema.app = app
    return schema
