"""Provinces and centrally-run cities (34 since 1 July 2025): the level above the commune-level units."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from gis.io.heading import MINISTRY, Heading, province_agency
from gis.store.scoping import PROVINCE_COMMUNES, TEAM_COMMUNES, AreaScope, in_province
from gis.store.sql import current_unit
from models.errors import NotFound
from models.vocabulary import LOCAL_TZ, AreaLevel


def require_province(conn: Connection, province_code: str) -> dict[str, Any]:
    """The province with this code (code, name, full_name); NotFound naming the known codes otherwise."""
    row = (
        conn.execute(text("SELECT code, name, full_name FROM provinces WHERE code = :p"), {"p": province_code})
        .mappings()
        .first()
    )
    if row is None:
        known = ", ".join(conn.execute(text("SELECT code FROM provinces ORDER BY code")).scalars())
        raise NotFound(
            f"không có tỉnh, thành phố mã {province_code!r} (các mã: {known or 'chưa có'})", "no such province"
        )
    return dict(row)


def require_province_units(conn: Connection, province_code: str) -> dict[str, Any]:
    """The province with this code (:func:`require_province`) when the system holds units of it (any version);
    NotFound saying it holds none otherwise: a report or file of it would be zeros or empty, read as a province
    without drug problems."""
    province = require_province(conn, province_code)
    if not conn.execute(text(f"SELECT EXISTS ({PROVINCE_COMMUNES})"), {"scope_province": province_code}).scalar_one():
        raise NotFound(
            f"{province['full_name']} (mã {province_code}) chưa có đơn vị hành chính nào trong hệ thống:"
            " chưa có số liệu để báo cáo",
            "the province has no units in the database",
        )
    return province


def require_run_covers(conn: Connection, run: dict[str, Any], province_code: str) -> None:
    """NotFound unless classification ``run`` (id, year, version) holds a unit of the province: a run made before
    the province's units were loaded read as the province approved with every class 0 and a share «0/0», like a
    province without units (:func:`require_province_units`)."""
    holds = conn.execute(
        text(f"""SELECT EXISTS (SELECT 1 FROM classification_results r WHERE r.run_id = :run
                                AND {in_province("r.commune_code")})"""),
        {"run": run["id"], "scope_province": province_code},
    ).scalar_one()
    if not holds:
        name = require_province(conn, province_code)["full_name"]
        raise NotFound(
            f"Phiên bản {run['version']} của năm {run['year']} không gồm đơn vị nào của {name}:"
            " chưa có kết quả phân loại",
            "the classification run holds no unit of the province",
        )


def current_units(conn: Connection, scope: AreaScope) -> int:
    """How many current units the scope holds (a province's, or every one)."""
    return int(
        conn.execute(
            text(f"SELECT count(*) FROM admin_units u WHERE {current_unit('u')} AND {scope.communes('u.code')}"),
            scope.params,
        ).scalar_one()
    )


def list_provinces(conn: Connection) -> list[dict[str, Any]]:
    """Provinces with their number of current units, by code."""
    rows = conn.execute(
        text(f"""SELECT p.code, p.name, p.full_name,
                        (SELECT count(*) FROM admin_units u WHERE u.province_code = p.code AND {current_unit("u")})
                        AS units
                 FROM provinces p ORDER BY p.code""")
    ).mappings()
    return [dict(r) for r in rows]


def loaded_provinces(conn: Connection, limit: int) -> list[str]:
    """Provinces of the current units, at most ``limit`` of them (2 tell one province from several)."""
    return list(
        conn.execute(
            text(f"SELECT DISTINCT u.province_code FROM admin_units u WHERE {current_unit('u')} LIMIT :n"),
            {"n": limit},
        ).scalars()
    )


def sole_province(conn: Connection) -> str | None:
    """The province of every current unit when they all belong to one (a one-province deployment), else None."""
    codes = loaded_provinces(conn, 2)
    return codes[0] if len(codes) == 1 else None


def province_names(conn: Connection) -> dict[str, str]:
    """Province code → full name ("31" → "Thành phố Hải Phòng")."""
    return {code: name for code, name in conn.execute(text("SELECT code, full_name FROM provinces"))}


def document_heading(conn: Connection, issuer: str | None, by: str) -> Heading:
    """Who issues a report made for a reader of province ``issuer`` (None: a nation-wide reader, the Ministry), where
    it is dated, and that ``by`` exports it now.

    A one-province database (Hải Phòng's deployment) issues every report as that province's police, the Ministry's
    readers included: its documents stay what they were before provinces existed.
    """
    province = issuer or sole_province(conn)
    if province is None:
        agency = MINISTRY
    else:
        row = require_province(conn, province)
        agency = province_agency(row["name"], row["full_name"])
    return Heading(*agency, by=by, at=datetime.now(LOCAL_TZ))


def scope_label(conn: Connection, province_code: str | None) -> str:
    """The units a file covers, as its heading says: a province's full name, or «Toàn quốc» (every unit; in a
    one-province database, that province)."""
    province = province_code or sole_province(conn)
    return AreaLevel.NATION.label if province is None else require_province(conn, province)["full_name"]


def view_province(conn: Connection, scope: AreaScope) -> dict[str, Any] | None:
    """The province a user's view lies in (code, name, full_name): a provincial user's own, the province of a team's
    area (when its communes lie in one), the one province of a one-province database; None for a nation-wide user
    of several provinces."""
    if scope.team_id is not None:
        found = list(
            conn.execute(
                text(f"SELECT DISTINCT u.province_code FROM admin_units u WHERE u.code IN ({TEAM_COMMUNES}) LIMIT 2"),
                scope.params,
            ).scalars()
        )
        province = found[0] if len(found) == 1 else sole_province(conn)
    else:
        province = scope.province_code or sole_province(conn)
    return None if province is None else require_province(conn, province)


def province_unit_codes(conn: Connection, province_code: str) -> set[str]:
    """Codes of every unit of a province, every version (a code keeps its province over time): the units a
    provincial user may load rows for."""
    return set(conn.execute(text(PROVINCE_COMMUNES), {"scope_province": province_code}).scalars())


def outside_province_reason(conn: Connection, province_code: str) -> str:
    """Why an import row of a provincial user is refused when its unit lies in another province (or in none)."""
    name = require_province(conn, province_code)["name"]
    return (
        f"không thuộc {name}: tài khoản của bạn chỉ nhập được số liệu các xã, phường của {name}"
        " (outside the user's province)"
    )
