"""The hotspot list's «Mới» and «Gần đây» filters: hotspots that entered the register in the last N local days (today
the first, in Hải Phòng's day), and hotspots within some metres of a place, nearest first with their distance —
combined with the other filters, inside the user's area like every hotspot read, and refused in Vietnamese (422, never
500) when malformed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from api.params import local_day_start
from gis.services.boundary_import import import_boundaries
from gis.store.selection import HotspotFilter
from models.vocabulary import LOCAL_TZ, local_today
from tests.conftest import SECOND_PROVINCE

AREA, OTHER = "10507", "10525"


def ids(answer: dict) -> list[int]:
    """The listed hotspots' ids in the order of the answer."""
    return [f["id"] for f in answer["features"]]


def created(conn: Connection, hotspot: int, days_back: int, minutes: int) -> None:
    """Put a hotspot's entry into the register ``minutes`` after the start of the local day ``days_back`` days ago
    (negative minutes: before that day's start)."""
    at = local_day_start(local_today(), -days_back) + timedelta(minutes=minutes)
    conn.execute(text("UPDATE hotspots SET created_at = :at WHERE id = :id"), {"at": at, "id": hotspot})


def test_new_hotspots_are_those_entered_since_the_start_of_the_local_day(client, conn, make_hotspot) -> None:
    """«Hôm nay» starts at Hải Phòng's midnight, «7 ngày» six local days before it: a hotspot found one minute before
    a boundary is not new, one found at it is."""
    at_midnight, just_before, week_start, before_week = (make_hotspot(AREA) for _ in range(4))
    created(conn, at_midnight, 0, 0)
    created(conn, just_before, 0, -1)
    created(conn, week_start, 6, 0)
    created(conn, before_week, 6, -1)
    listed = lambda **params: sorted(ids(client.get("/api/hotspots", params=params).json()))  # noqa: E731
    assert listed(new_days=1) == [at_midnight]
    assert listed(new_days=2) == [at_midnight, just_before]
    assert listed(new_days=7) == [at_midnight, just_before, week_start]
    assert listed(new_days=30) == [at_midnight, just_before, week_start, before_week]


def test_new_combines_with_the_other_filters(client, conn, make_hotspot, make_team) -> None:
    here, there, old = make_hotspot(AREA), make_hotspot(OTHER), make_hotspot(AREA)
    created(conn, old, 40, 0)
    assert sorted(ids(client.get("/api/hotspots", params={"new_days": 30}).json())) == [here, there]
    assert ids(client.get("/api/hotspots", params={"new_days": 30, "commune": AREA}).json()) == [here]
    assert client.post(f"/api/hotspots/{there}/transitions", json={"to": "verified", "version": 1}).is_success
    assert ids(client.get("/api/hotspots", params={"new_days": 30, "status": "verified"}).json()) == [there]
    team = make_team("Tổ Mới", [OTHER])
    task = {"kind": "suppression", "hotspot_id": there, "team_id": team}
    assert client.post("/api/tasks", json=task).is_success
    assert ids(client.get("/api/hotspots", params={"new_days": 1, "team": team}).json()) == [there]
    listed = client.get("/api/hotspots", params={"new_days": 1}).json()["features"]
    assert all(f["properties"]["created_at"] and f["properties"]["distance_m"] is None for f in listed)


def recurred(conn: Connection, hotspot: int, days_back: int, found_days_back: int | None = None) -> None:
    """Record, as detection does, that a closed hotspot recurred at noon of the local day ``days_back`` days ago,
    found by a detection run at noon ``found_days_back`` days ago (default: the same day)."""
    noon = lambda days: local_day_start(local_today(), -days) + timedelta(hours=12)  # noqa: E731
    found = noon(days_back if found_days_back is None else found_days_back)
    run = conn.execute(
        text("""INSERT INTO detection_runs (started_at, actor, window_from, window_to, params, n_clusters, n_new,
                                            n_updated, n_recurred)
                VALUES (:found, 'phat-hien', :found - interval '90 days', :found, '{}', 1, 0, 0, 1) RETURNING id"""),
        {"found": found},
    ).scalar_one()
    conn.execute(
        text("""INSERT INTO hotspot_events (hotspot_id, actor, event, from_status, to_status, note, run_id, details, at)
                VALUES (:h, 'detection run ' || :run, 'recurred', 'closed', 'recurred', 'phức tạp trở lại', :run,
                        '{}', :at)"""),
        {"h": hotspot, "run": run, "at": noon(days_back)},
    )
    conn.execute(text("UPDATE hotspots SET status = 'recurred' WHERE id = :h"), {"h": hotspot})


def test_new_includes_the_hotspots_that_recurred_or_whose_recurrence_was_found_in_the_window(
    client, conn, make_hotspot
) -> None:
    """«Mới / phức tạp trở lại»: what is new to command this week is also a cleared hotspot that recurred (phức tạp trở lại)
    this week — or whose recurrence a detection run found this week, though the incident was older: command learnt of it
    now. Each says when it last recurred (``recurred_at``, as its history dates it); a hotspot that entered the register
    earlier and did not recur is not new, nor is one whose recurrence was known before the window."""
    this_week, found_today, last_month, quiet = (make_hotspot(AREA) for _ in range(4))
    for hotspot in (this_week, found_today, last_month, quiet):
        created(conn, hotspot, 200, 0)
    recurred(conn, this_week, 3)
    recurred(conn, found_today, 20, found_days_back=0)
    recurred(conn, last_month, 35)
    listed = lambda **params: sorted(ids(client.get("/api/hotspots", params=params).json()))  # noqa: E731
    assert listed(new_days=1) == [found_today]
    assert listed(new_days=7) == [this_week, found_today]
    assert listed(new_days=30) == [this_week, found_today]
    assert listed(new_days=60) == [this_week, found_today, last_month]
    shown = {f["id"]: f["properties"]["recurred_at"] for f in client.get("/api/hotspots").json()["features"]}
    day = lambda at: at and datetime.fromisoformat(at).astimezone(LOCAL_TZ).date()  # noqa: E731
    today = local_today()
    assert {h: day(shown[h]) for h in (this_week, found_today, last_month, quiet)} == {
        this_week: today - timedelta(days=3),
        found_today: today - timedelta(days=20),
        last_month: today - timedelta(days=35),
        quiet: None,
    }
    assert client.get(f"/api/hotspots/{found_today}").json()["properties"]["recurred_at"] == shown[found_today]


def place_at(conn: Connection, hotspot: int, origin: tuple[float, float], metres: float, bearing: float) -> None:
    """Move a hotspot's centroid ``metres`` from ``origin`` (lon, lat) towards ``bearing`` degrees, on the spheroid."""
    conn.execute(
        text("""UPDATE hotspots SET centroid = ST_Project(
                    ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, :m, radians(:b))::geometry
                WHERE id = :id"""),
        {"lon": origin[0], "lat": origin[1], "m": metres, "b": bearing, "id": hotspot},
    )


@pytest.fixture
def around(conn, make_hotspot) -> dict:
    """Three hotspots 300 m north, 800 m east and 1,500 m south-west of a point of commune AREA."""
    origin = tuple(
        conn.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM admin_units"
                " WHERE code = :c AND valid_to IS NULL) s"
            ),
            {"c": AREA},
        ).one()
    )
    made = {}
    for name, metres, bearing in (("far", 1500, 225), ("mid", 800, 90), ("near", 300, 0)):
        made[name] = make_hotspot(AREA)
        place_at(conn, made[name], origin, metres, bearing)
    return {"origin": origin, **made}


def test_near_a_place_lists_those_within_the_distance_nearest_first(client, around) -> None:
    lon, lat = around["origin"]
    near = lambda **params: client.get("/api/hotspots", params={"lon": lon, "lat": lat, **params}).json()  # noqa: E731
    assert ids(near(within_m=500)) == [around["near"]]
    assert ids(near()) == [around["near"], around["mid"]]  # 1 km unless said
    answer = near(within_m=2000)
    assert ids(answer) == [around["near"], around["mid"], around["far"]]
    assert [f["properties"]["distance_m"] for f in answer["features"]] == [300, 800, 1500]  # metres on the spheroid
    assert ids(near(within_m=2000, status="verified")) == []
    assert ids(near(within_m=2000, new_days=1)) == [around["near"], around["mid"], around["far"]]


def test_near_a_border_point_a_provincial_commander_sees_only_their_province(
    client: TestClient,
    conn: Connection,
    second_province_path: Path,
    make_user: Callable[..., int],
    bearer: Callable[..., dict[str, str]],
    make_hotspot: Callable[..., int],
) -> None:
    """Hải Phòng's and Quảng Ninh's hotspots a few kilometres apart (the test's Quảng Ninh units are not on the border): asked near the border, each
    province's commander lists its own only, however wide the distance; the Ministry's lists both."""
    import_boundaries(conn, second_province_path)
    # A hotspot in each of the two communes of the provinces nearest each other, at their nearest points.
    hai_phong, quang_ninh = conn.execute(
        text(f"""
        SELECT hp.code, qn.code FROM admin_units hp, admin_units qn
        WHERE hp.province_code = '31' AND qn.province_code = '{SECOND_PROVINCE}'
          AND hp.valid_to IS NULL AND qn.valid_to IS NULL
        ORDER BY ST_Distance(hp.geom::geography, qn.geom::geography) LIMIT 1""")
    ).one()
    ours, theirs = make_hotspot(hai_phong), make_hotspot(quang_ninh)
    for hotspot, own, other in ((ours, hai_phong, quang_ninh), (theirs, quang_ninh, hai_phong)):
        conn.execute(
            text("""UPDATE hotspots SET centroid = (SELECT ST_ClosestPoint(a.geom, b.geom) FROM admin_units a, admin_units b
                    WHERE a.code = :own AND b.code = :other AND a.valid_to IS NULL AND b.valid_to IS NULL)
                    WHERE id = :id"""),
            {"own": own, "other": other, "id": hotspot},
        )
    lon, lat, apart = conn.execute(
        text("""SELECT ST_X(m), ST_Y(m), d FROM (SELECT ST_Centroid(ST_MakeLine(a.centroid, b.centroid)) m,
                       ST_Distance(a.centroid::geography, b.centroid::geography) d
                FROM hotspots a, hotspots b WHERE a.id = :a AND b.id = :b) s"""),
        {"a": ours, "b": theirs},
    ).one()
    assert apart < 20_000  # both within reach of the point between them
    params = {"lon": lon, "lat": lat, "within_m": 20_000}
    nation = bearer(make_user("bo-gan-day", "command"))
    assert sorted(ids(client.get("/api/hotspots", params=params, headers=nation).json())) == sorted([ours, theirs])
    hp = bearer(make_user("hp-gan-day", "command", province_code="31"))
    assert ids(client.get("/api/hotspots", params=params, headers=hp).json()) == [ours]
    qn = bearer(make_user("qn-gan-day", "command", province_code=SECOND_PROVINCE))
    assert ids(client.get("/api/hotspots", params=params, headers=qn).json()) == [theirs]


@pytest.mark.parametrize(
    ("params", "said"),
    [
        ({"new_days": 0}, "mới hoặc phức tạp trở lại trong số ngày: phải lớn hơn hoặc bằng 1"),
        ({"new_days": 367}, "mới hoặc phức tạp trở lại trong số ngày: phải nhỏ hơn hoặc bằng 366"),
        ({"new_days": "tuần"}, "mới hoặc phức tạp trở lại trong số ngày: phải là số nguyên"),
        ({"lon": 200, "lat": 20.8}, "kinh độ: phải nhỏ hơn hoặc bằng 180"),
        ({"lon": "nan", "lat": 20.8}, "kinh độ"),
        ({"lon": 106.7, "lat": "inf"}, "vĩ độ"),
        ({"lon": 106.7, "lat": "20,8"}, "vĩ độ: phải là số"),
        ({"lat": 20.8}, "vị trí cần cả kinh độ (lon) và vĩ độ (lat)"),
        ({"within_m": 500}, "bán kính tìm quanh cần kèm vị trí"),
        ({"lon": 106.7, "lat": 20.8, "within_m": 5}, "bán kính tìm quanh: phải lớn hơn hoặc bằng 10"),
        ({"lon": 106.7, "lat": 20.8, "within_m": 50_000}, "bán kính tìm quanh: phải nhỏ hơn hoặc bằng 20000"),
        ({"lon": 106.7, "lat": 20.8, "within_m": 1.5}, "bán kính tìm quanh: phải là số nguyên"),
    ],
)
def test_bad_values_are_refused_in_vietnamese(client, params: dict, said: str) -> None:
    answer = client.get("/api/hotspots", params=params)
    assert answer.status_code == 422, answer.text
    assert said in answer.json()["message"], answer.json()


def test_near_is_answered_through_the_geography_index(conn) -> None:
    """The distance condition is one the index on centroid::geography answers (a scan measured every hotspot)."""
    flt = HotspotFilter(near=(106.68, 20.86, 1000.0))
    where = flt.where("h")
    conn.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(
        conn.execute(text(f"EXPLAIN SELECT h.id FROM hotspots h WHERE {where.sql}"), where.params).scalars()
    )
    assert "ix_hotspots_centroid_geography" in plan, plan
