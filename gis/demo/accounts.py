"""Demo accounts: a command user, two planners (one runs a year, the other approves it: four eyes), an administrator
and one team per contiguous area of communes; one border commune is held by two neighbouring teams, as the
administrator's page then points out (shared communes).

The passwords are for the synthetic demo only and are printed on purpose; never use them on real data. Each team and
user created is audited as an administrator's creation is (who ran the seeding: ``actor``): accounts that log in with
a printed password had appeared with no line in the admin audit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np
from sqlalchemy import Connection, text

from gis.services.admin import create_team, create_user
from gis.store.accounts import NAMED_USER
from gis.store.sql import current_unit, to_metric
from models.analytics.areas import contiguous_areas, shared_border_unit
from models.errors import InvalidRequest
from models.vocabulary import Role

DEMO_PASSWORD = "demo-diaban-2025"
#: Who the admin audit says created the demo accounts when no one is named (tests, a demo scenario).
DEMO_ACTOR = "dữ liệu mẫu"
#: The demo planners: the first runs the demo years, the second approves one (four eyes: not who ran it).
DEMO_PLANNERS = ("thammuu", "thammuu2")
DEMO_STAFF = (
    ("chihuy", Role.COMMAND),
    *((planner, Role.PLANNER) for planner in DEMO_PLANNERS),
    ("quantri", Role.ADMIN),
)
#: Units closer than this (degrees, ≈ 50 m) count as neighbours: official boundaries have slivers and gaps.
_NEIGHBOUR_DEG = 0.0005


def commune_layout(conn: Connection) -> tuple[list[str], list[str], np.ndarray, list[tuple[int, int]]]:
    """Current communes: codes, names, metric points on surface (EPSG:32648) and index pairs of neighbours.

    Neighbours are found on the subdivided current boundaries (admin_unit_parts), which keeps the join fast.
    """
    rows = conn.execute(
        text(f"""
        SELECT code, name, ST_X(p) AS x, ST_Y(p) AS y
        FROM (SELECT u.code, u.name, {to_metric("ST_PointOnSurface(u.geom)")} AS p
              FROM admin_units u WHERE {current_unit("u")}) u ORDER BY code""")
    ).all()
    index = {r.code: i for i, r in enumerate(rows)}
    pairs = conn.execute(
        text("""
        SELECT DISTINCT a.code, b.code FROM admin_unit_parts a JOIN admin_unit_parts b
          ON a.code < b.code AND ST_DWithin(a.geom, b.geom, :d)"""),
        {"d": _NEIGHBOUR_DEG},
    ).all()
    xy = np.array([[r.x, r.y] for r in rows], dtype=float)
    return [r.code for r in rows], [r.name for r in rows], xy, [(index[a], index[b]) for a, b in pairs]


def seed_demo_accounts(
    conn: Connection, hash_password: Callable[[str], str], n_areas: int = 12, *, actor: str = DEMO_ACTOR
) -> list[dict]:
    """Create (or keep) the demo staff and one team per area, the neighbouring team of one border commune holding it
    too (models.analytics.areas.shared_border_unit), each creation audited as ``actor``'s; return every login with its
    role and team."""
    codes, names, xy, edges = commune_layout(conn)
    if len(codes) < n_areas:
        # A user's mistake (too many areas, no boundaries imported yet), not a bug: InvalidRequest, exit 2.
        raise InvalidRequest(
            f"cần ít nhất {n_areas} xã/phường hiện hành, có {len(codes)}: hãy nhập ranh giới trước hoặc giảm --areas",
            "fewer current communes than areas",
        )
    labels = contiguous_areas(xy, edges, n_areas)
    shared = shared_border_unit(labels, edges)
    password_hash = hash_password(DEMO_PASSWORD)
    logins = [_ensure_user(conn, actor, username, role, None, password_hash) for username, role in DEMO_STAFF]
    for area in range(n_areas):
        members = [int(i) for i in np.flatnonzero(labels == area)]
        name = f"Tổ công tác khu vực {area + 1:02d} ({names[members[0]]})"  # named by its own first commune
        if shared is not None and area == shared[1]:
            members.append(shared[0])
        team_id = conn.execute(text("SELECT id FROM teams WHERE name = :n"), {"n": name}).scalar()
        if team_id is None:
            held = [codes[i] for i in members]
            team_id = create_team(conn, actor, name, held, _in_force_since(conn, held))
        logins.append(
            {
                **_ensure_user(conn, actor, f"to{area + 1:02d}", "team", team_id, password_hash),
                "team": name,
                "communes": len(members),
            }
        )
    return logins


def _in_force_since(conn: Connection, communes: list[str]) -> date | None:
    """The day all of ``communes`` exist as they are now (their current boundaries' start), from which a demo team holds
    them: its area history began on the day the accounts were made, after the tasks the demo story dates in the past
    («Lịch sử địa bàn» of Tổ 01 from 07/12/2026, its tasks from 25/01/2026). None: today."""
    return conn.execute(
        text("SELECT max(valid_from) FROM admin_units WHERE code = ANY(:codes) AND valid_to IS NULL"),
        {"codes": communes},
    ).scalar()


def _ensure_user(
    conn: Connection, actor: str, username: str, role: str, team_id: int | None, password_hash: str
) -> dict:
    """The demo user, created (audited, its printed password not to be changed first) if missing (an existing one
    keeps its password)."""
    exists = conn.execute(text(f"SELECT 1 FROM users WHERE {NAMED_USER}"), {"u": username}).scalar()
    if exists is None:
        create_user(conn, actor, username, password_hash, role, team_id, must_change_password=False)
    return {"username": username, "role": role, "password": DEMO_PASSWORD if exists is None else "(giữ nguyên)"}
