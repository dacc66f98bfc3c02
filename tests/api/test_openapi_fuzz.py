"""schemathesis over the OpenAPI description, logged in as command: no generated request may cause a 5xx, and
every answer has a documented status, a documented content type and the documented shape.

Requests run in-process against the test database, each in a savepoint of the test's rolled-back
transaction, so that a refused write (an integrity error, say) cannot poison the next request.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import bearer_headers, examples
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine

from api.app import create_app

#: Each answer is declared in the OpenAPI description: its status, its media type and its body's schema.
SHAPE_CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]


def test_no_generated_request_causes_a_server_error(api_schema) -> None:
    # Driven through Hypothesis directly: schemathesis' own pytest plugin does not support this pytest.
    headers = api_schema.app.state.fuzz_headers
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 30

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples(3, 10),
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def no_server_error(case) -> None:
            response = case.call(headers=headers)
            assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:300]}"
            case.validate_response(response, checks=SHAPE_CHECKS, headers=headers)

        no_server_error()


#: What the served run may not find, whatever else it reports: server errors (ST101, ST102), undocumented statuses
#: (ST103), answers that break their documented media type, headers or schema (ST104-ST110), and timeouts.
FORBIDDEN = ("ST101", "ST102", "ST103", "ST104", "ST105", "ST106", "ST107", "ST108", "ST109", "ST110")


@pytest.fixture(scope="module")
def fuzz_city(cluster, boundaries_path) -> Iterator[tuple[Engine, int]]:
    """A scratch database with the communes, some incidents, detected hotspots and a command user (fuzzing writes
    there, not into the session's database)."""
    from conftest import migrated_database
    from sqlalchemy import create_engine, text

    from gis.services.boundary_import import import_boundaries
    from gis.services.classification import draft_year
    from gis.services.detection import run_detection
    from gis.store.accounts import create_user
    from gis.store.classifications import approve

    migrated_database(cluster, "fuzz_city")
    engine = create_engine(cluster.url("fuzz_city"), pool_size=10, max_overflow=10)
    with engine.begin() as conn:
        import_boundaries(conn, boundaries_path)
        conn.execute(
            text("""INSERT INTO incidents (ref, occurred_at, kind, assignment, commune_code, geom)
                    SELECT 'FZ-' || code || '-' || n, now() - n * interval '3 days', 'tip', 'inside', code,
                           ST_Translate(ST_PointOnSurface(geom), (n % 4) * 0.0003, (n / 4) * 0.0003)
                    FROM admin_units, generate_series(1, 12) n WHERE valid_to IS NULL""")
        )
        run_detection(conn, actor="fuzz")
        # An approved year, the years' OpenAPI example (2025), so that the fuzzer reads a classification and its
        # exports: a GeoJSON export documented as a binary string went unseen without both (checked: ST108 here).
        draft_year(conn, 2025, actor="fuzz")
        approve(conn, 2025, actor="fuzz-approver")
        user_id = create_user(conn, "fuzz-served", "-", "command", None)
    yield engine, user_id
    engine.dispose()
    cluster.drop_database("fuzz_city")


@pytest.mark.slow
def test_schemathesis_with_all_checks_against_the_served_app(fuzz_city, tmp_path) -> None:
    """The acceptance run of issue 15: the schemathesis command line, every check, against uvicorn serving the app:
    no server error, no schema violation, no undocumented status, no answer over 10 s.

    Logout and the password change are left out (they would end the fuzzer's own session); the other checks
    (schema-valid requests refused by rules the schema cannot say, such as a stale version) are reported by
    schemathesis but are not errors of the service.
    """
    import subprocess
    import sys
    import xml.etree.ElementTree as ET
    from pathlib import Path

    from conftest import serve
    from fastapi.testclient import TestClient
    from sqlalchemy import text

    engine, user_id = fuzz_city
    app = create_app(engine)
    with engine.begin() as conn:
        headers = bearer_headers(app, conn, user_id, 120)
    report = tmp_path / "junit.xml"
    with serve(app) as base:
        run = subprocess.run(
            [
                str(Path(sys.executable).parent / "schemathesis"),
                "run",
                f"{base}/openapi.json",
                "--checks",
                "all",
                "-H",
                f"Authorization: {headers['Authorization']}",
                "--max-examples",
                str(examples(10, 20)),
                "--seed",
                "15",
                "--workers",
                "1",
                "--suppress-health-check",
                "all",
                "--exclude-path",
                "/api/auth/logout",
                "--exclude-path",
                "/api/auth/password",
                "--max-response-time",
                "10",
                "--report",
                "junit",
                "--report-junit-path",
                str(report),
            ],
            capture_output=True,
            text=True,
            timeout=1200,
            cwd=tmp_path,  # its cache of failures stays out of the checkout
        )
    output = run.stdout + run.stderr
    assert "operations" in output.lower(), output[-3000:]
    print(output[output.find("SUMMARY") :])  # the other checks' findings, for the record (pytest -s)
    found = [code for code in FORBIDDEN if code in output]
    errors = [e.get("message", "") for e in ET.parse(report).iter("error")]
    assert not found and not errors, f"{found} {errors}\n{output[-6000:]}"
    with TestClient(app) as client:  # the fuzzer stayed logged in all along
        assert client.get("/api/auth/me", headers=headers).status_code == 200
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM access_log")).scalar() > 0
