"""schemathesis over the OpenAPI description, logged in as command: no generated request may cause a 5xx, and
every answer has a documented status, a documented content type and the documented shape.

Requests run in-process against the test database, each in a savepoint of the test's rolled-back
transaction, so that a refused write (an integrity error, say) cannot poison the next request.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from conftest import bearer_headers
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Connection, Engine

from api.app import create_app
from api.deps import get_connection

#: Each answer is declared in the OpenAPI description: its status, its media type and its body's schema.
SHAPE_CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def api_schema(engine: Engine, conn: Connection, make_user):
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
    app.state.fuzz_headers = bearer_headers(app, conn, make_user("fuzz-command", "command"))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    schema.app = app
    return schema


def test_no_generated_request_causes_a_server_error(api_schema) -> None:
    # Driven through Hypothesis directly: schemathesis' own pytest plugin does not support this pytest.
    headers = api_schema.app.state.fuzz_headers
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 30

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=5, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
        )
        def no_server_error(case) -> None:
            response = case.call(headers=headers)
            assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:300]}"
            case.validate_response(response, checks=SHAPE_CHECKS, headers=headers)

        no_server_error()
