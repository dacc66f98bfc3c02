"""The server's log lines and error answers never carry the values a failing statement was given or the database's
echo of them: a note, a ref or an address may hold what the law makes sensitive."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from gis.store.db import app_engine

MARK = "Nguyễn Văn Bímật"


def test_a_failing_statement_of_the_app_engine_names_none_of_its_values(cluster) -> None:
    engine = app_engine(cluster.url(), pool_size=1)
    try:
        with pytest.raises(DBAPIError) as failed, engine.connect() as conn:
            conn.execute(text("SELECT 1 / 0 WHERE CAST(:v AS text) IS NOT NULL"), {"v": MARK})
        assert "division by zero" in str(failed.value) and MARK not in str(failed.value)
    finally:
        engine.dispose()


def test_a_value_the_database_refuses_is_neither_logged_nor_answered(client, conn: Connection, caplog) -> None:
    def refused() -> None:
        with conn.begin_nested():
            conn.execute(text("SELECT CAST(:v AS integer)"), {"v": MARK})  # the server's message quotes the value

    client.app.add_api_route("/api/thu-gia-tri", refused)
    caplog.set_level(logging.INFO, logger="diaban")
    response = client.get("/api/thu-gia-tri")
    assert response.status_code == 422 and response.json()["code"] == "invalid_value"
    assert "invalid_value" in caplog.text or "DataError" in caplog.text
    assert MARK not in caplog.text and MARK not in response.text


def test_a_client_writes_no_line_of_its_own_into_the_log(client, caplog) -> None:
    """A path is decoded from what the client sent: a line break in it (``%0A``) started a forged line under the
    server's own, here a deletion by an administrator that never happened; escapes of terminals are kept out too."""
    from api.logs import OneLineFormatter

    forged = "2026-12-05 10:00:00,000 INFO diaban.requests: DELETE /api/users/1 204 1.0 ms user=admin"
    caplog.set_level(logging.INFO, logger="diaban")
    assert client.get(f"/api/tasks/1%0A{forged}%1B[2J", headers={"Authorization": ""}).status_code == 404
    (handler,) = [h for h in logging.getLogger("diaban").handlers if getattr(h, "_diaban", False)]
    assert isinstance(handler.formatter, OneLineFormatter)
    lines = [handler.format(record) for record in caplog.records if record.name.startswith("diaban")]
    assert any(forged in line for line in lines)
    assert not any(line.splitlines() != [line] or "\x1b" in line for line in lines)
    assert any("/api/tasks/1\\u000a" in line and "\\u001b[2J" in line for line in lines)
