"""Attributable reads (finding 9 of issue 15: ~15,000 requests left 0 access lines): every read of incident-level
data and every export leaves an append-only line (user, route, parameters, rows, time), `diaban audit` shows it,
and lines are kept DIABAN_ACCESS_LOG_DAYS days.
"""

from __future__ import annotations

import json
import sys

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from api.cli.main import main

COMMUNE = "10507"


def lines(conn: Connection) -> list[dict]:
    return [
        dict(r)
        for r in conn.execute(
            text("SELECT username, role, route, params, rows, address FROM access_log ORDER BY id")
        ).mappings()
    ]


@pytest.fixture
def incidents(conn: Connection) -> None:
    conn.execute(
        text("""INSERT INTO incidents (ref, occurred_at, kind, assignment, commune_code, geom)
                SELECT 'AL-' || n, now() - n * interval '1 day', 'tip', 'inside', code,
                       ST_Translate(ST_PointOnSurface(geom), n * 0.0001, 0)
                FROM admin_units, generate_series(1, 3) n WHERE code = :c AND valid_to IS NULL"""),
        {"c": COMMUNE},
    )


def test_every_incident_read_is_recorded_with_user_route_parameters_and_rows(client, conn, incidents) -> None:
    before = len(lines(conn))
    page = client.get(f"/api/incidents?commune={COMMUNE}&limit=2&kind=tip")
    assert page.status_code == 200 and page.json()["numberReturned"] == 2
    (line,) = lines(conn)[before:]
    assert line["username"] == "test-command" and line["role"] == "command"
    assert line["route"] == "GET /api/incidents" and line["rows"] == 2
    assert line["params"] == {"commune": COMMUNE, "limit": "2", "kind": "tip"}
    assert line["address"] == "testclient"
    assert client.get("/api/incidents?kind=not-a-kind").status_code == 422
    assert len(lines(conn)) == before + 1  # a refused request read nothing


def test_hotspot_detail_street_tiles_and_exports_are_recorded(client, conn, incidents, make_hotspot) -> None:
    hotspot = make_hotspot(COMMUNE)
    conn.execute(
        text("INSERT INTO hotspot_incidents SELECT :h, id FROM incidents WHERE ref LIKE 'AL-%'"), {"h": hotspot}
    )
    before = len(lines(conn))
    assert client.get(f"/api/hotspots/{hotspot}").status_code == 200
    lon, lat = conn.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM incidents WHERE ref = 'AL-1'")).one()
    for z in (12, 17):  # a count grid, then single incidents
        x, y = _tile(lon, lat, z)
        assert client.get(f"/tiles/incidents/{z}/{x}/{y}.mvt").status_code == 200
    assert client.get("/api/reports/kpi.xlsx?year=2025").status_code in (200, 404)
    recorded = lines(conn)[before:]
    assert [(line["route"], line["rows"]) for line in recorded][:2] == [
        ("GET /api/hotspots/{hotspot_id}", 3),
        ("GET /tiles/incidents/{z}/{x}/{y}.mvt", 3),
    ]
    assert (
        str(recorded[1]["params"]["z"]) == "17"
    )  # the street-zoom tile; the zoom-12 grid of counts is not detailed data


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    import math

    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def test_the_app_cannot_change_or_erase_a_line(conn) -> None:
    conn.execute(text("INSERT INTO access_log (username, route, params) VALUES ('x', 'GET /api/incidents', '{}')"))
    for statement in ("UPDATE access_log SET username = 'y'", "DELETE FROM access_log", "TRUNCATE access_log"):
        with pytest.raises(DBAPIError, match="permission denied"), conn.begin_nested():
            conn.execute(text(statement))


def test_diaban_audit_shows_lines_and_prunes_old_ones(
    db_env, engine: Engine, owner_engine: Engine, monkeypatch, capsys
) -> None:
    for key in ("DIABAN_DATABASE_URL", "DIABAN_OWNER_DATABASE_URL"):
        monkeypatch.setenv(key, db_env[key])
    with owner_engine.begin() as conn:
        conn.execute(
            text("""INSERT INTO access_log (at, username, role, route, params, rows) VALUES
                    (now() - interval '400 days', 'cu-qua', 'command', 'GET /api/incidents', '{}', 5),
                    (now(), 'kiem-tra-audit', 'planner', 'GET /api/classifications/{year}/export',
                     '{"year": 2025}', 114)""")
        )
    try:
        capsys.readouterr()
        assert main(["audit", "--user", "kiem-tra-audit", "--json"]) == 0
        shown = json.loads(capsys.readouterr().out)
        assert [(r["route"], r["rows"], r["params"]) for r in shown] == [
            ("GET /api/classifications/{year}/export", 114, {"year": 2025})
        ]
        assert main(["audit", "--route", "export"]) == 0 and "kiem-tra-audit" in capsys.readouterr().out
        assert main(["audit", "--prune"]) == 0
        with engine.connect() as conn:
            left = set(
                conn.execute(
                    text("SELECT username FROM access_log WHERE username IN ('cu-qua', 'kiem-tra-audit')")
                ).scalars()
            )
        assert left == {"kiem-tra-audit"}  # older than DIABAN_ACCESS_LOG_DAYS (365) is gone
    finally:
        with owner_engine.begin() as conn:
            conn.execute(
                text("DELETE FROM access_log WHERE username IN ('cu-qua', 'kiem-tra-audit') OR route = 'diaban audit'")
            )


def test_reading_the_access_log_is_itself_recorded(db_env, engine: Engine, owner_engine: Engine, monkeypatch, capsys):
    import getpass

    monkeypatch.setenv("DIABAN_DATABASE_URL", db_env["DIABAN_DATABASE_URL"])
    try:
        capsys.readouterr()
        assert main(["audit", "--route", "/api/incidents", "--json"]) == 0
        shown = json.loads(capsys.readouterr().out)
        with engine.connect() as conn:
            line = conn.execute(
                text("SELECT username, role, params, rows FROM access_log WHERE route = 'diaban audit'")
            ).one()
        assert tuple(line) == (
            getpass.getuser(),
            "cli",
            {"route": "/api/incidents", "limit": 1000, "json": True},
            len(shown),
        )
    finally:
        with owner_engine.begin() as conn:
            conn.execute(text("DELETE FROM access_log WHERE route = 'diaban audit'"))


def test_a_command_lines_options_are_shown_by_their_vietnamese_names() -> None:
    """The administrator's page and Excel export read a command's options by name, its yes/no ones as «có»/«không»:
    they showed «json=True; user=nobody» and «out=/tmp/h.csv; dạng thô=False»."""
    from gis.store.access_log import with_what

    audit = with_what(
        {"route": "diaban audit", "role": "cli", "params": {"json": True, "user": "nobody", "limit": 1000}}
    )
    assert audit["params_text"] == "in dạng JSON=có; người dùng=nobody; số dòng=1000"
    export = {"out": "/tmp/h.csv", "raw": False, "format": "csv", "footprints": False, "date_from": "2026-01-02"}
    shown = with_what({"route": "diaban hotspots export", "role": "cli", "params": export})["params_text"]
    assert shown == "tệp ghi ra=/tmp/h.csv; dạng thô=không; định dạng=csv; kèm vùng điểm nóng=không; từ ngày=02/01/2026"
    # A client's query is shown by the API's names only (no «json» option there).
    assert with_what({"route": "GET /api/inbox", "role": "team", "params": {"json": "1"}})["params_text"] == "json=1"


#: The command line's hotspot exports logged after line ``:before`` (test_cli.py's, committed earlier in the session's
#: database, are not this test's).
EXPORTS = "route = 'diaban hotspots export' AND id > :before"


def test_command_line_exports_are_recorded_as_the_system_user(
    db_env, engine: Engine, owner_engine: Engine, tmp_path, monkeypatch
) -> None:
    import getpass

    monkeypatch.setenv("DIABAN_DATABASE_URL", db_env["DIABAN_DATABASE_URL"])
    monkeypatch.setattr(sys, "stdout", open(tmp_path / "out", "w"))  # noqa: SIM115 - closed with the test
    with engine.connect() as conn:
        before = conn.execute(text("SELECT coalesce(max(id), 0) FROM access_log")).scalar_one()
    try:
        assert main(["hotspots", "export", "--format", "csv", "--out", str(tmp_path / "h.csv")]) == 0
        with engine.connect() as conn:
            line = conn.execute(
                text(f"SELECT username, role, route, rows FROM access_log WHERE {EXPORTS}"), {"before": before}
            ).one()
        assert tuple(line)[:3] == (getpass.getuser(), "cli", "diaban hotspots export")
    finally:
        sys.stdout.close()
        with owner_engine.begin() as conn:
            conn.execute(text(f"DELETE FROM access_log WHERE {EXPORTS}"), {"before": before})


@pytest.mark.parametrize("days", ["0", "-1"])
def test_a_retention_of_no_days_is_refused_rather_than_erasing_the_log(
    db_env, engine: Engine, owner_engine: Engine, monkeypatch, days: str
) -> None:
    for key in ("DIABAN_DATABASE_URL", "DIABAN_OWNER_DATABASE_URL"):
        monkeypatch.setenv(key, db_env[key])
    monkeypatch.setenv("DIABAN_ACCESS_LOG_DAYS", days)
    with owner_engine.begin() as conn:
        conn.execute(
            text("INSERT INTO access_log (username, route, params) VALUES ('giu-lai', 'GET /api/incidents', '{}')")
        )
    try:
        assert main(["audit", "--prune"]) != 0
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM access_log WHERE username = 'giu-lai'")).scalar() == 1
    finally:
        with owner_engine.begin() as conn:
            conn.execute(text("DELETE FROM access_log WHERE username = 'giu-lai'"))


def test_diaban_audit_prints_what_a_client_sent_on_one_line_that_does_nothing_to_the_terminal(
    db_env, owner_engine: Engine, monkeypatch, capsys
) -> None:
    """A recorded read keeps its query as the client sent it, any parameter of it: a team member's right-to-left
    override turned the rest of the operator's line around (rows, address), a C1 CSI (U+009B) starts a terminal's
    escape sequence; they are printed as escapes."""
    for key in ("DIABAN_DATABASE_URL", "DIABAN_OWNER_DATABASE_URL"):
        monkeypatch.setenv(key, db_env[key])
    unprintable = "\u202e\u009b\u2028"
    hostile = {"x": "\u202e\u009b2J\u2028"}
    with owner_engine.begin() as conn:
        conn.execute(
            text("""INSERT INTO access_log (username, role, route, params, rows)
                    VALUES ('to-chen-ky-tu', 'team', 'GET /api/inbox', CAST(:p AS jsonb), 3)"""),
            {"p": json.dumps(hostile)},
        )
    try:
        capsys.readouterr()
        assert main(["audit", "--user", "to-chen-ky-tu"]) == 0
        (line, _) = capsys.readouterr().out.splitlines()
        assert not set(unprintable) & set(line)
        assert line.endswith(" · 3 dòng · cột ô bản đồ=\\u202e\\u009b2J\\u2028")
    finally:
        with owner_engine.begin() as conn:
            conn.execute(text("DELETE FROM access_log WHERE username = 'to-chen-ky-tu' OR route = 'diaban audit'"))


def test_diaban_audit_names_roles_reads_and_parameters_in_vietnamese_as_the_page_does(
    db_env, owner_engine: Engine, monkeypatch, capsys
) -> None:
    """The command's text showed role codes, routes and the parameters' JSON («command  GET /api/inbox
    {"limit": "1"}») where the page and the Excel export read Vietnamese: it now prints the same rendering."""
    for key in ("DIABAN_DATABASE_URL", "DIABAN_OWNER_DATABASE_URL"):
        monkeypatch.setenv(key, db_env[key])
    with owner_engine.begin() as conn:
        conn.execute(
            text("""INSERT INTO access_log (username, role, route, params, rows, address)
                    VALUES ('chi-huy-audit', 'command', 'GET /api/incidents', '{"limit": "1", "kind": "tip"}', 1,
                            '10.0.0.9')""")
        )
    try:
        capsys.readouterr()
        assert main(["audit", "--user", "chi-huy-audit"]) == 0
        (line, total) = capsys.readouterr().out.splitlines()
        assert line.endswith(
            "  chi-huy-audit (Ban chỉ huy): Danh sách vụ việc · 1 dòng · 10.0.0.9 · loại=Tin báo, tố giác; số dòng=1"
        ), line
        assert total == "1 dòng truy cập"
    finally:
        with owner_engine.begin() as conn:
            conn.execute(text("DELETE FROM access_log WHERE username = 'chi-huy-audit' OR route = 'diaban audit'"))
