"""Mapbox vector tiles from PostGIS (ST_AsMVT) for the heavy map layers, scoped to what a user may see.

Tiles select through the existing EPSG:4326 GiST indexes (the tile envelope is transformed once, not
every row), and incidents are aggregated to a few-pixel grid below street zoom so that a tile over a
million incidents stays small.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Connection, text

from gis.scoping import AreaScope, in_team_area

LAYERS = ("incidents", "hotspots", "communes")
#: From this zoom on, incidents are individual points; below it, counts on a grid of a few pixels.
POINT_ZOOM = 13
_EXTENT = 4096
_WORLD_M = 40_075_016.685578488

_ENVELOPE = "WITH b AS (SELECT ST_TileEnvelope(:z, :x, :y) AS env, ST_Transform(ST_TileEnvelope(:z, :x, :y), 4326) AS ll)"


def _incidents_sql(z: int, scope: AreaScope) -> str:
    where = f"i.geom && b.ll AND {scope.incidents('i')}"
    if z >= POINT_ZOOM:
        return f"""{_ENVELOPE}, f AS (
            SELECT ST_AsMVTGeom(ST_Transform(i.geom, 3857), b.env, {_EXTENT}, 64, true) AS geom, i.id, i.kind,
                   to_char(i.occurred_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD') AS day
            FROM incidents i, b WHERE {where})
            SELECT ST_AsMVT(f, 'incidents', {_EXTENT}, 'geom') FROM f"""
    return f"""{_ENVELOPE}, g AS (
            SELECT ST_SnapToGrid(ST_Transform(i.geom, 3857), :cell) AS cell, count(*) AS count
            FROM incidents i, b WHERE {where} GROUP BY 1),
        f AS (SELECT ST_AsMVTGeom(g.cell, b.env, {_EXTENT}, 64, true) AS geom, g.count FROM g, b)
        SELECT ST_AsMVT(f, 'incidents', {_EXTENT}, 'geom') FROM f"""


def _hotspots_sql(scope: AreaScope) -> str:
    return f"""{_ENVELOPE}, f AS (
        SELECT ST_AsMVTGeom(ST_Transform(h.centroid, 3857), b.env, {_EXTENT}, 64, true) AS geom, h.id, h.status,
               h.kind, h.n_incidents
        FROM hotspots h, b WHERE h.centroid && b.ll AND {scope.hotspots('h')})
        SELECT ST_AsMVT(f, 'hotspots', {_EXTENT}, 'geom') FROM f"""


def _communes_sql(scope: AreaScope) -> str:
    visible = "true" if scope.team_id is None else in_team_area("u.code")
    return f"""{_ENVELOPE}, f AS (
        SELECT ST_AsMVTGeom(ST_Simplify(ST_Transform(u.geom, 3857), :cell / 4), b.env, {_EXTENT}, 64, true) AS geom,
               u.code, u.name, u.kind
        FROM admin_units u, b WHERE u.valid_to IS NULL AND u.geom && b.ll AND {visible})
        SELECT ST_AsMVT(f, 'communes', {_EXTENT}, 'geom') FROM f"""


def tile(conn: Connection, layer: str, z: int, x: int, y: int, scope: AreaScope) -> bytes:
    """One vector tile of a layer (empty bytes when nothing is there)."""
    sql = {"incidents": lambda: _incidents_sql(z, scope), "hotspots": lambda: _hotspots_sql(scope),
           "communes": lambda: _communes_sql(scope)}[layer]()
    cell = _WORLD_M / 2**z / 256 * 4  # four screen pixels, in metres
    data = conn.execute(text(sql), {"z": z, "x": x, "y": y, "cell": cell, **scope.params}).scalar()
    return bytes(data or b"")


def communes_etag(conn: Connection, z: int, x: int, y: int, scope: AreaScope) -> str:
    """A validator of the communes layer: it changes only when boundaries (or the team's area) change."""
    state = conn.execute(text("SELECT max(id), count(*), max(coalesce(valid_to, valid_from)) FROM admin_units")).one()
    key = f"{state}|{scope.team_id}|{z}/{x}/{y}"
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'
