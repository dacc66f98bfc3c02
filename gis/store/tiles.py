"""Mapbox vector tiles from PostGIS (ST_AsMVT) for the heavy map layers, scoped to what a user may see.

Tiles select through the EPSG:4326 GiST indexes (the tile envelope is transformed once, not every
row). Below street zoom incidents are counted on a grid of a few screen pixels, with the Web
Mercator cell computed from longitude and latitude by arithmetic (EPSG:3857 is a closed formula), so
that a tile over a million incidents stays small and cheap.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from functools import lru_cache

from sqlalchemy import Connection, TextClause, text

from gis.store.access_log import AccessLine, append_line
from gis.store.scoping import AreaScope
from gis.store.selection import IncidentSelection
from gis.store.sql import LOCAL_TODAY, current_unit
from models.domain.access import DETAILED_CELL_M

LAYERS = ("incidents", "hotspots", "communes")
#: From this zoom on (tiles ~1.2 km wide), incidents are individual points; below it, counts on a grid.
POINT_ZOOM = 15
_EXTENT = 4096
_WORLD_M = 40_075_016.685578488


def _cell(z: int) -> float:
    """Four screen pixels at zoom ``z``, in metres."""
    return _WORLD_M / 2**z / 256 * 4


#: From this zoom on, an incidents tile is detailed data and each one sent is access-logged: single incidents from
#: POINT_ZOOM, and below it counts on cells narrower than DETAILED_CELL_M (zoom 13: 76 m; zoom 12's are 153 m).
DETAIL_ZOOM = next(z for z in range(POINT_ZOOM + 1) if _cell(z) < DETAILED_CELL_M)
#: EPSG:3857 from degrees: x = lon · R·π/180, y = R · ln tan(π/4 + lat/2), R = 6378137 m.
_MERCATOR_X = "ST_X(i.geom) * 111319.49079327357"
_MERCATOR_Y = "ln(tan(radians(45 + ST_Y(i.geom) / 2))) * 6378137"

_ENVELOPE = (
    "WITH b AS (SELECT ST_TileEnvelope(:z, :x, :y) AS env, ST_Transform(ST_TileEnvelope(:z, :x, :y), 4326) AS ll)"
)


def _incidents_sql(z: int, scope: AreaScope, selection: IncidentSelection, logged: bool) -> tuple[str, dict]:
    condition = replace(selection, scope=scope).where("i")
    where, params = f"i.geom && b.ll AND {condition.sql}", condition.params
    log = f", log AS ({append_line('t.n', 't')})" if logged else ""
    if z >= POINT_ZOOM:
        # Only the points: the map draws every single incident alike and reads no attribute (maps/static/js).
        return (
            f"""{_ENVELOPE}, f AS (
            SELECT ST_AsMVTGeom(ST_Transform(i.geom, 3857), b.env, {_EXTENT}, 64, true) AS geom
            FROM incidents i, b WHERE {where}),
            t AS (SELECT ST_AsMVT(f, 'incidents', {_EXTENT}, 'geom') AS tile, count(*) AS n FROM f){log}
            SELECT tile, n FROM t""",
            params,
        )
    return (
        f"""{_ENVELOPE}, g AS (
            SELECT floor({_MERCATOR_X} / :cell) AS cx, floor({_MERCATOR_Y} / :cell) AS cy, count(*) AS count
            FROM incidents i, b WHERE {where} GROUP BY 1, 2),
        f AS (SELECT ST_AsMVTGeom(ST_SetSRID(ST_MakePoint((g.cx + 0.5) * :cell, (g.cy + 0.5) * :cell), 3857),
                                  b.env, {_EXTENT}, 64, true) AS geom, g.count FROM g, b),
        t AS (SELECT ST_AsMVT(f, 'incidents', {_EXTENT}, 'geom') AS tile, coalesce(sum(f.count), 0) AS n FROM f){log}
        SELECT tile, n FROM t""",
        params,
    )


def _hotspots_sql(scope: AreaScope) -> tuple[str, dict]:
    return (
        f"""{_ENVELOPE}, f AS (
        SELECT ST_AsMVTGeom(ST_Transform(h.centroid, 3857), b.env, {_EXTENT}, 64, true) AS geom, h.id, h.status,
               h.kind, h.n_incidents
        FROM hotspots h, b WHERE h.centroid && b.ll AND {scope.hotspots("h")})
        SELECT ST_AsMVT(f, 'hotspots', {_EXTENT}, 'geom') FROM f""",
        scope.params,
    )


def _communes_sql(scope: AreaScope) -> tuple[str, dict]:
    return (
        f"""{_ENVELOPE}, f AS (
        SELECT ST_AsMVTGeom(ST_Simplify(ST_Transform(u.geom, 3857), :cell / 4), b.env, {_EXTENT}, 64, true) AS geom,
               u.code, u.name, u.kind
        FROM admin_units u, b WHERE {current_unit("u")} AND u.geom && b.ll AND {scope.communes("u.code")})
        SELECT ST_AsMVT(f, 'communes', {_EXTENT}, 'geom') FROM f""",
        scope.params,
    )


def incident_tile_statement(
    z: int,
    x: int,
    y: int,
    scope: AreaScope,
    selection: IncidentSelection = IncidentSelection(),
    access: AccessLine | None = None,
) -> tuple[str, dict]:
    """The statement of an incidents tile and its bound values: what :func:`incident_tile` runs (bench_tiles sends
    the same through psycopg for the floor)."""
    logged = access is not None and z >= DETAIL_ZOOM
    sql, params = _incidents_sql(z, scope, selection, logged)
    bound = access.bound() if access is not None and logged else {}
    return sql, {"z": z, "x": x, "y": y, "cell": _cell(z), **params, **bound}


@lru_cache(maxsize=256)
def _statement(sql: str) -> TextClause:
    """The parsed statement of a tile's SQL: a tile's SQL differs only by zoom band, filters and scope, and parsing it
    again for every tile cost 0.1-0.2 ms of a warm tile's Python time (issue 18)."""
    return text(sql)


def incident_tile(
    conn: Connection,
    z: int,
    x: int,
    y: int,
    scope: AreaScope,
    selection: IncidentSelection = IncidentSelection(),
    access: AccessLine | None = None,
) -> tuple[bytes, int]:
    """An incidents tile (empty bytes when none), filtered by time and kind, and the number of incidents it shows
    (single ones from POINT_ZOOM, counted on a grid below it). From DETAIL_ZOOM, ``access`` is written to the access
    log with that number by the tile's own statement (one round trip for the tile and its line)."""
    sql, params = incident_tile_statement(z, x, y, scope, selection, access)
    data, points = conn.execute(_statement(sql), params).one()
    return bytes(data or b""), int(points)


def tile(conn: Connection, layer: str, z: int, x: int, y: int, scope: AreaScope) -> bytes:
    """One vector tile of the hotspots or communes layer (empty bytes when nothing is there)."""
    sql, params = {"hotspots": lambda: _hotspots_sql(scope), "communes": lambda: _communes_sql(scope)}[layer]()
    data = conn.execute(text(sql), {"z": z, "x": x, "y": y, "cell": _cell(z), **params}).scalar()
    return bytes(data or b"")


#: What the communes layer depends on, in one statement: the boundaries, today (units begin and end on dates, and so
#: do a team's communes) and the version of the teams' areas.
_COMMUNES_STATE = text(f"""SELECT max(id), count(*), max(coalesce(valid_to, valid_from)), {LOCAL_TODAY},
    (SELECT version FROM data_versions WHERE name = 'team_areas') FROM admin_units""")


def communes_etag(conn: Connection, z: int, x: int, y: int, scope: AreaScope) -> str:
    """A validator of the communes layer: it changes when the boundaries change, on a new day and, for a team, when
    the teams' areas change (a team's tile holds only its area's communes: without the areas' version a team whose
    area changed was told its old tile was still good)."""
    *boundaries, today, team_areas = conn.execute(_COMMUNES_STATE).one()
    key = f"{boundaries}|{today}|{team_areas if scope.team_id is not None else ''}|{scope.key}|{z}/{x}/{y}"
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'
