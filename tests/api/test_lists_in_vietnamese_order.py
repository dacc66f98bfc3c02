"""Names a user reads in a list come in Vietnamese dictionary order (models.text.vietnamese_key, as the pages'
``localeCompare(…, "vi")``), not in the database's code-point order (the managed cluster is initialised without a
locale): «Tổ Em» came before «Tổ Đông», «Hải An» before «Đồ Sơn». The teams a commune's assignment suggests (on equal
workload), the teams sharing a commune the administrator is told of, the periodic report's teams and its communes of
equal count."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from gis.store import period_counts
from gis.store.accounts import shared_communes
from gis.store.scoping import UNRESTRICTED
from gis.store.tasks import suggest_assignees
from models.domain.dates import DayWindow
from models.text import vietnamese_key
from models.vocabulary import local_today

AREA = "10507"
#: Two names code-point order puts the other way round: «E» (U+0045) before «Đ» (U+0110).
NAMES = ["Tổ Em", "Tổ Đông"]
IN_VIETNAMESE = sorted(NAMES, key=vietnamese_key)


def test_the_order_of_the_names_is_not_the_code_points() -> None:
    assert IN_VIETNAMESE == ["Tổ Đông", "Tổ Em"] and sorted(NAMES) != IN_VIETNAMESE


def test_suggested_teams_of_equal_workload_and_teams_sharing_a_commune(conn, make_team) -> None:
    for name in NAMES:
        make_team(name, [AREA])
    assert [c["name"] for c in suggest_assignees(conn, AREA)] == IN_VIETNAMESE
    third = make_team("Tổ Ba", [AREA])
    assert [s["teams"] for s in shared_communes(conn, third)] == [IN_VIETNAMESE]


def test_the_periodic_reports_teams_and_communes_of_equal_count(client, conn, make_team, make_hotspot) -> None:
    today = local_today()
    for team_id in [make_team(name, [AREA]) for name in NAMES]:  # an overdue task each: a line per team
        hotspot = make_hotspot(AREA)
        assert client.post(f"/api/hotspots/{hotspot}/transitions", json={"to": "verified", "version": 1}).is_success
        made = client.post(
            "/api/tasks",
            json={
                "kind": "suppression",
                "hotspot_id": hotspot,
                "team_id": team_id,
                "due_date": str(today - timedelta(days=2)),
            },
        )
        assert made.status_code == 201, made.text
    # Two communes of the same count whose names code-point order puts the other way round.
    pair = conn.execute(
        text("""SELECT a.code, a.name, b.code, b.name FROM admin_units a, admin_units b
                WHERE a.valid_to IS NULL AND b.valid_to IS NULL AND a.name LIKE 'Đ%' AND b.name LIKE 'H%'
                ORDER BY a.code, b.code LIMIT 1""")
    ).one()
    for code in (pair[0], pair[2]):
        conn.execute(
            text("""INSERT INTO incidents (ref, occurred_at, kind, assignment, commune_code, geom)
                    SELECT 'VO-' || code, now() - interval '1 hour', 'tip', 'inside', code, ST_PointOnSurface(geom)
                    FROM admin_units WHERE code = :c AND valid_to IS NULL"""),
            {"c": code},
        )
    period = DayWindow(today - timedelta(days=6), today)
    params = period_counts.window_params(period, period.year_before())
    teams_listed = [t["team"] for t in period_counts.task_counts(conn, params, UNRESTRICTED)]
    assert [name for name in teams_listed if name in NAMES] == IN_VIETNAMESE
    communes = period_counts.top_communes(conn, params, UNRESTRICTED, 1000)
    named = [c["name"] for c in communes if c["name"] in (pair[1], pair[3])]
    assert named == sorted([pair[1], pair[3]], key=vietnamese_key) and named != sorted(named)
