"""What the pages say about the data they show: the demo band while synthetic incidents are loaded, none otherwise;
the command page's KPI panel against this year's target (from the KPI report's rules)."""

from __future__ import annotations

import json
import re
from datetime import date

from conftest import TEST_PASSWORD
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from gis.services.overview import kpi_panel
from gis.store.incidents import has_synthetic_incidents
from maps.pages import DEMO_BAND
from models.synthetic.scenario import SOURCE

COMMUNE = "10507"


def add_incident(conn: Connection, ref: str, source: str | None) -> None:
    conn.execute(
        text("""INSERT INTO incidents (ref, occurred_at, kind, assignment, commune_code, geom, source)
                SELECT :ref, now(), 'tip', 'inside', code, ST_PointOnSurface(geom), :source
                FROM admin_units WHERE code = :c AND valid_to IS NULL"""),
        {"ref": ref, "c": COMMUNE, "source": source},
    )


def page_of(client: TestClient, make_user, role: str) -> str:
    client.headers.pop("Authorization", None)
    make_user(f"mark-{role}", role)
    answer = client.post("/login", data={"username": f"mark-{role}", "password": TEST_PASSWORD})
    assert answer.status_code == 200, answer.text  # followed to the page
    return answer.text


def test_the_demo_band_follows_the_data(client: TestClient, conn: Connection, make_user) -> None:
    add_incident(conn, "REAL-1", "Công an xã")
    assert not has_synthetic_incidents(conn)
    assert DEMO_BAND not in page_of(client, make_user, "planner") and DEMO_BAND not in client.get("/login").text
    add_incident(conn, "SYN-1", SOURCE)  # the data version changes: looked up again
    assert has_synthetic_incidents(conn)
    assert DEMO_BAND in client.get("/").text and DEMO_BAND in client.get("/login").text


def test_the_kpi_panel_is_this_years_value_against_this_years_target(client: TestClient, conn: Connection) -> None:
    """Without a classification of this year the panel says which year it shows; the recurrences are this
    calendar year's, counted and judged by the KPI report's own line: unknown while no hotspot record covers the
    year (0 and «đạt» was the answer), 0 against a limit of 0 once the records cover it."""
    today = date(2026, 12, 3)
    panel = kpi_panel(conn, today, approved_year=None, run_years=())
    assert panel["year"] == 2026 and panel["drugFree"] is None
    assert panel["finalTarget"] == {"year": 2030, "share": 0.6}
    assert panel["recurrences"] == {"year": 2026, "value": None, "target": 0, "met": None, "bound": "at_most"}
    conn.execute(
        text(
            "INSERT INTO hotspots (status, kind, origin, n_incidents, kinds, first_seen, radius_m, commune_code, version,"
            " centroid) SELECT 'detected', 'spot', 'manual', 0, '{}', TIMESTAMPTZ '2025-06-01 09:00+07', 50, code, 1,"
            " ST_PointOnSurface(geom) FROM admin_units WHERE valid_to IS NULL ORDER BY code LIMIT 1"
        )
    )
    recurrences = kpi_panel(conn, today, approved_year=None, run_years=())["recurrences"]
    assert recurrences == {"year": 2026, "value": 0, "target": 0, "met": True, "bound": "at_most"}


def test_the_command_page_carries_the_kpi_panel(client: TestClient, make_user) -> None:
    page = page_of(client, make_user, "command")
    config = json.loads(re.search(r"diabanStart\(Object\.assign\((\{.*?\}), \{map:", page, re.S).group(1))
    assert config["kpi"]["year"] == date.today().year and config["kpi"]["finalTarget"]["year"] == 2030
    assert config["maxBounds"] and config["minZoom"] == 8
    assert "user-scalable=no" not in page
