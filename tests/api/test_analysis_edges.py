"""Hotspot and heat endpoints on a few incidents of the test's own: a manual hotspot, incidents without a point, a
stray incident far away (the cases that need the city without the generated incidents of test_analysis_api.py)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection

from gis.services.incident_import import import_incidents


def test_manual_hotspot_from_a_tip(client) -> None:
    created = client.post("/api/hotspots", json={"lon": 106.683, "lat": 20.86, "note": "tin báo"})
    assert created.status_code == 201
    assert created.json()["properties"]["origin"] == "manual"
    assert client.post("/api/hotspots", json={"lon": 200, "lat": 20.86, "note": "x"}).status_code == 422


def test_heat_overlay_says_how_many_incidents_without_a_point_were_left_out(
    client, conn: Connection, tmp_path: Path
) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text(
        "ref,occurred_at,kind,lon,lat,address\n"
        "W1,2025-10-01T10:00:00,tip,106.6830,20.8600,\n"
        "W2,2025-10-01T11:00:00,tip,106.6840,20.8610,\n"
        'W3,2025-10-02T10:00:00,tip,,,"Phường Hồng Bàng, Thành phố Hải Phòng"\n',
        encoding="utf-8",
    )
    import_incidents(conn, path, imported_by="test")
    window = {"format": "overlay", "date_from": "2025-10-01", "date_to": "2025-10-02"}
    overlay = client.get("/api/heat", params=window).json()
    assert (overlay["n_incidents"], overlay["without_point"]) == (2, 1)
    listed = {f["properties"]["ref"]: f for f in client.get("/api/incidents", params={"date_from": "2025-10-01"}).json()["features"]}  # fmt: skip
    assert listed["W3"]["geometry"] is None and listed["W3"]["properties"]["assignment"] == "address"
    assert listed["W3"]["properties"]["commune_code"] == "11311" and listed["W1"]["geometry"]["type"] == "Point"


def test_one_stray_incident_far_away_breaks_no_analysis(client, conn: Connection, tmp_path: Path) -> None:
    """An incident 1,100 km away (kept as outside by the import) must not stretch any grid over the sea."""
    rows = "".join(f"S{i},2025-11-0{1 + i % 5}T10:00:00,tip,{106.68 + i * 0.001:.4f},20.86\n" for i in range(30))
    path = tmp_path / "stray.csv"
    path.write_text("ref,occurred_at,kind,lon,lat\n" + rows + "FAR,2025-11-03T10:00:00,tip,116.50,14.00\n")
    report = import_incidents(conn, path, imported_by="test")
    assert report.outside == 1
    window = {"date_from": "2025-11-01", "date_to": "2025-11-06"}
    overlay = client.get("/api/heat", params={**window, "format": "overlay"})
    assert overlay.status_code == 200, overlay.text
    body = overlay.json()
    assert body["outside_city"] == 1 and body["n_incidents"] == 30
    (south, west), (north, east) = body["bounds"]
    assert 20.0 < south < north < 21.5 and 105.5 < west < east < 108.0, "the grid stays on the city"
    assert client.get("/api/heat", params=window).status_code == 200
    assert client.get("/api/gistar", params={**window, "all_cells": True}).status_code == 200
    assert client.get("/api/emerging", params={"steps": 3}).status_code == 200
