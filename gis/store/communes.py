"""The current commune-level units (xã, phường, đặc khu): GeoJSON, codes, names and areas."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text

from gis.store.sql import current_unit, display_geojson, display_params, valid_on
from models.domain.personal_names import refuse_names
from models.errors import InvalidRequest
from models.lazy import lazy_module
from models.vocabulary import METRIC_DOMAIN, METRIC_SRID, WGS84_SRID, UnitKind

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

Extent = tuple[float, float, float, float]


class OutsideCity(InvalidRequest):
    """A point lies outside the city's extent (its communes and a margin around them)."""

    code = "outside_city"


def communes_geojson(
    conn: Connection, simplify_m: float = 0.0, province_code: str | None = None, team_id: int | None = None
) -> str:
    """Current commune-level units as a GeoJSON FeatureCollection (optionally simplified), each with its province's
    code and short name (nation-wide, 572 of the 3,321 units share their name with one of another province): of one
    province, when given; for a team, of the provinces its area lies in today (its neighbours on the map, not every
    province of a national database).

    The JSON text PostgreSQL builds, as it is sent: decoded into Python objects and encoded again, Hải Phòng's 114
    units took 0.17 s unsimplified and 0.03 s at 20 m, as text 0.03 s and 0.012 s (the same JSON, measured)."""
    return conn.execute(
        text(f"""
        SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
                   'type', 'Feature', 'id', u.code,
                   'geometry', {display_geojson("u.geom")},
                   'properties', json_build_object(
                       'code', u.code, 'name', u.name, 'full_name', u.full_name, 'kind', u.kind,
                       'area_km2', u.area_km2, 'province_code', u.province_code, 'province', p.name,
                       'valid_from', u.valid_from,
                       'label', json_build_array(round(ST_X(l.p)::numeric, 6), round(ST_Y(l.p)::numeric, 6)))
               ) ORDER BY u.code), '[]'))::text
        FROM admin_units u
        LEFT JOIN provinces p ON p.code = u.province_code
        -- where the name is written: a point surely inside the unit (4 ms for the 114 units, of the 300 ms the
        -- simplified answer takes; ST_MaximumInscribedCircle, the visual centre, is missing from Debian 12's PostGIS)
        CROSS JOIN LATERAL (SELECT ST_PointOnSurface(u.geom) AS p) l
        WHERE {_shown_units("u")}
    """),
        {"province": province_code, "team": team_id, **display_params(simplify_m)},
    ).scalar_one()


def _shown_units(alias: str) -> str:
    """SQL: the current units a user's maps show (`communes_geojson`): of `:province` when given; for `:team`, of the
    provinces its area lies in today."""
    return f"""{current_unit(alias)}
              AND (CAST(:province AS text) IS NULL OR {alias}.province_code = :province)
              AND (CAST(:team AS integer) IS NULL OR {alias}.province_code IN (
                    SELECT a.province_code FROM team_areas ta JOIN admin_units a ON a.code = ta.commune_code
                    WHERE ta.team_id = :team AND {valid_on("ta")} AND {current_unit("a")}))"""


def shown_commune_codes(conn: Connection, province_code: str | None, team_id: int | None) -> set[str]:
    """Codes of the current units a user's maps show and search (`communes_geojson`'s)."""
    return set(
        conn.execute(
            text(f"SELECT u.code FROM admin_units u WHERE {_shown_units('u')}"),
            {"province": province_code, "team": team_id},
        ).scalars()
    )


def current_commune_codes(conn: Connection) -> set[str]:
    """Codes of the current units."""
    return set(conn.execute(text(f"SELECT u.code FROM admin_units u WHERE {current_unit('u')}")).scalars())


def unknown_communes(conn: Connection, codes: Iterable[str]) -> list[str]:
    """Codes that are not current commune-level units."""
    wanted = sorted(set(codes))
    known = set(
        conn.execute(
            text(f"SELECT u.code FROM admin_units u WHERE {current_unit('u')} AND u.code = ANY(:c)"), {"c": wanted}
        ).scalars()
    )
    return sorted(set(wanted) - known)


def commune_full_names(conn: Connection, codes: Iterable[str]) -> dict[str, str]:
    """Code → full name of the given commune-level units, the current version's, else the newest one's (a commune
    merged away since is still named by what it was called)."""
    rows = conn.execute(
        text("""SELECT DISTINCT ON (code) code, full_name FROM admin_units WHERE code = ANY(:c)
                ORDER BY code, valid_to IS NULL DESC, valid_from DESC"""),
        {"c": sorted(set(codes))},
    ).all()
    return {code: name for code, name in rows if name}


def current_communes(conn: Connection) -> pd.DataFrame:
    """Current units: commune_code, name, full_name and area_km2, ordered by code."""
    rows = conn.execute(
        text(
            f"SELECT u.code, u.name, u.full_name, u.area_km2 FROM admin_units u"
            f" WHERE {current_unit('u')} ORDER BY u.code"
        )
    ).all()
    return pd.DataFrame(rows, columns=["commune_code", "name", "full_name", "area_km2"])


def city_extent(conn: Connection, margin_m: float) -> Extent:
    """The bounding box (WGS84) of the current communes widened by ``margin_m`` metres; before any boundary is
    loaded, the region where metric coordinates are trustworthy (METRIC_DOMAIN)."""
    row = conn.execute(
        text(f"""
        SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
        FROM (SELECT ST_Transform(ST_Expand(ST_Transform(ST_SetSRID(ST_Extent(u.geom)::geometry, {WGS84_SRID}),
                                                         {METRIC_SRID}), :m), {WGS84_SRID}) AS e
              FROM admin_units u WHERE {current_unit("u")}) x"""),
        {"m": margin_m},
    ).one()
    return METRIC_DOMAIN if row[0] is None else (row[0], row[1], row[2], row[3])


#: A special zone (đặc khu) farther than this from every other unit of its view is a far-off island, left out of
#: the map's opening view: Bạch Long Vĩ, Côn Đảo, Hoàng Sa, Trường Sa, Phú Quý, Thổ Châu. Cát Hải, Phú Quốc, Vân Đồn,
#: Cô Tô, Lý Sơn and Cồn Cỏ lie within it of a neighbour (measured in the national file) and stay on the mainland.
FAR_OFF_M = 30_000.0


@dataclass(frozen=True)
class ViewExtent:
    """Where a map of some units looks (lon/lat boxes): ``mainland``, every unit but the far-off islands (what the
    map opens on), and ``whole``, every unit (how far it may be panned and zoomed out)."""

    mainland: Extent
    whole: Extent

    #: Memory held, for the analysis cache's budget (eight floats).
    nbytes = 64


def view_extent(conn: Connection, province_code: str | None = None) -> ViewExtent | None:
    """The view of the current units of a province (None: of every province loaded); None before any is loaded.

    A far-off island is a special zone (đặc khu) farther than FAR_OFF_M from every other unit of the view, measured
    on the geometries (boxes would not do: Trường Sa's reaches Cam Ranh's)."""
    row = conn.execute(
        text(f"""
        WITH far AS (
            -- between subdivided pieces (a whole special zone, toasted, was read again for each neighbour), each of
            -- the zone's pieces looking up its neighbours by index (LATERAL: before the tables had statistics the
            -- planner went from every piece of the province to the zone's, 9 s for Hải Phòng)
            SELECT a.code FROM admin_units a
            WHERE {current_unit("a")} AND a.kind = :island
              AND (CAST(:province AS text) IS NULL OR a.province_code = :province)
              AND NOT EXISTS (
                  SELECT 1 FROM admin_unit_parts pa
                  CROSS JOIN LATERAL (
                      SELECT 1 FROM admin_unit_parts pb JOIN admin_units b ON b.id = pb.unit_id
                      WHERE pb.code <> pa.code AND ST_DWithin(pa.geom, pb.geom, :eps)
                        AND (CAST(:province AS text) IS NULL OR b.province_code = :province)
                      LIMIT 1) near
                  WHERE pa.unit_id = a.id))
        SELECT ST_XMin(m), ST_YMin(m), ST_XMax(m), ST_YMax(m), ST_XMin(w), ST_YMin(w), ST_XMax(w), ST_YMax(w)
        FROM (SELECT ST_Extent(p.geom) FILTER (WHERE p.code NOT IN (SELECT code FROM far)) AS m, ST_Extent(p.geom) AS w
              FROM admin_unit_parts p JOIN admin_units u ON u.id = p.unit_id
              WHERE CAST(:province AS text) IS NULL OR u.province_code = :province) x"""),
        # metres to degrees of latitude: a test of nearness, not a measurement
        {"province": province_code, "island": UnitKind.DAC_KHU.value, "eps": FAR_OFF_M / 111_320.0},
    ).one()
    if row[4] is None:
        return None
    whole = (row[4], row[5], row[6], row[7])
    return ViewExtent(mainland=whole if row[0] is None else (row[0], row[1], row[2], row[3]), whole=whole)


def check_in_city(conn: Connection, lon: float, lat: float, margin_m: float) -> None:
    """Refuse (422) a point outside the city's extent: a typo or a swapped coordinate, not a place in Hải Phòng."""
    x0, y0, x1, y1 = city_extent(conn, margin_m)
    if not (x0 <= lon <= x1 and y0 <= lat <= y1):
        raise OutsideCity(
            f"tọa độ ({lon:.5f}, {lat:.5f}) nằm ngoài phạm vi thành phố (kinh độ {x0:.3f}–{x1:.3f},"
            f" vĩ độ {y0:.3f}–{y1:.3f}); kiểm tra lại kinh độ/vĩ độ",
            f"point outside the city's extent lon {x0:.3f}..{x1:.3f}, lat {y0:.3f}..{y1:.3f}",
        )


def place_names(conn: Connection) -> frozenset[str]:
    """The names of every commune-level unit (current and past) and province the database holds, as written bare
    ("Lê Chân", "Nguyễn Bỉnh Khiêm", "Hà Nội"): places, not people, in a note (models.domain.personal_names)."""
    return frozenset(conn.execute(text("SELECT name FROM admin_units UNION SELECT name FROM provinces")).scalars())


def refuse_personal_names(conn: Connection, text_: str, field_label: str) -> None:
    """Refuse a text a user typed that looks like it holds a person's name (models.domain.personal_names.refuse_names),
    the places of this database excepted; they are read only for a text that looks like a name without them."""
    refuse_names(text_, field_label, lambda: place_names(conn))


#: The share of a closed unit's area one current unit must hold to be its successor (a re-surveyed boundary differs
#: by a strip); a current unit holding more than `CANDIDATE_SHARE` of it is one of its candidates.
SUCCESSOR_SHARE, CANDIDATE_SHARE = 0.95, 0.01

#: Per closed unit among `:codes` (no current version; NULL: every one), its last version (`closed`: code,
#: full_name, valid_to, geom) and the current units sharing its ground (`taken`, one row per closed unit some
#: current unit overlaps): the one with most (`top`, its share `best`), those holding more than `:candidate` of it
#: by code (`candidates`) and as "code «name»", the largest share first (`heirs`). The one definition of who took a
#: closed unit's ground: the incident import, the boundary import's moves and its warnings all read it.
CLOSED_UNIT_SHARES = f"""closed AS (
            SELECT DISTINCT ON (u.code) u.code, u.full_name, u.valid_to, u.geom FROM admin_units u
            WHERE (CAST(:codes AS text[]) IS NULL OR u.code = ANY(:codes))
              AND NOT EXISTS (SELECT 1 FROM admin_units c WHERE c.code = u.code AND {current_unit("c")})
            ORDER BY u.code, u.valid_to DESC),
        shares AS (
            SELECT c.code AS old, n.code AS new, n.full_name AS new_name,
                   ST_Area(ST_Intersection(c.geom, n.geom)::geography) / nullif(ST_Area(c.geom::geography), 0) AS share
            FROM closed c
            JOIN admin_units n ON n.geom && c.geom AND {current_unit("n")} AND ST_Intersects(n.geom, c.geom)),
        taken AS (
            SELECT s.old, min(c.full_name) AS full_name, min(c.valid_to) AS valid_to,
                   (array_agg(s.new ORDER BY s.share DESC))[1] AS top, max(s.share) AS best,
                   array_agg(s.new ORDER BY s.new) FILTER (WHERE s.share > :candidate) AS candidates,
                   array_agg(s.new || ' «' || s.new_name || '»' ORDER BY s.share DESC)
                       FILTER (WHERE s.share > :candidate) AS heirs
            FROM shares s JOIN closed c ON c.code = s.old GROUP BY s.old)"""


def closed_unit_successors(conn: Connection) -> dict[str, tuple[str, date, tuple[str, ...]]]:
    """Every closed unit (no current version) whose ground current units took: its last full name, the day it
    closed, and its successor — the one current unit holding `SUCCESSOR_SHARE` of it — or, split, its candidates.
    An import of a record naming such a unit by code places it there, as the legacy mapping does for 2025."""
    rows = conn.execute(
        text(f"WITH {CLOSED_UNIT_SHARES} SELECT old, full_name, valid_to, top, best, candidates FROM taken"),
        {"codes": None, "candidate": CANDIDATE_SHARE},
    ).all()
    return {
        old: (name, closed_on, (top,) if best >= SUCCESSOR_SHARE else tuple(candidates or ()))
        for old, name, closed_on, top, best, candidates in rows
        if best >= SUCCESSOR_SHARE or candidates
    }


def closed_unit_heirs(conn: Connection, codes: list[str]) -> dict[str, tuple[str, list[str]]]:
    """Each of the closed units ``codes``: its last full name and the current units holding more than
    `CANDIDATE_SHARE` of its ground as "code «name»", the largest share first (empty: no current unit took it)."""
    rows = conn.execute(
        text(f"""WITH {CLOSED_UNIT_SHARES}
                 SELECT c.code, c.full_name, coalesce(t.heirs, '{{}}') FROM closed c
                 LEFT JOIN taken t ON t.old = c.code ORDER BY c.code"""),
        {"codes": list(codes), "candidate": CANDIDATE_SHARE},
    ).all()
    return {code: (name, list(heirs)) for code, name, heirs in rows}
