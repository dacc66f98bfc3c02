"""The current units' boundaries cut into pieces of at most a few vertices (`admin_unit_parts`), which keeps every
point-in-commune join fast: a point is tested against the piece its index finds, not a commune of 20,000 vertices.

The pieces are cut here, in GEOS through shapely, rather than by PostGIS's ``ST_Subdivide``: that one cuts with a full
overlay (``ST_Intersection``) at every level of its recursion and took 37.4 s of the national file's 80 s import
(3,321 units, 6.9 M vertices; 2 cores, quiet), where a rectangle clip (``GEOSClipByRect``, linear in the vertices)
cuts the same units in 7.7 s. That clip is not exact for every shape: 13 of those units got a piece crossing itself
(where a ring touches the cut line at a vertex) or pieces whose areas do not add up to the unit's, so a unit whose
pieces fail either check is cut again with the overlay, as ``ST_Subdivide`` would (38.8 s for all 3,321 units; 9.9 s
in all with the checks and those 13).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import shapely
from sqlalchemy import Connection, text

from gis.store.bulk import copy_arrow
from gis.store.sql import current_unit
from models.lazy import lazy_module
from models.vocabulary import WGS84_SRID

if TYPE_CHECKING:
    import pyarrow as pa
else:
    pa = lazy_module("pyarrow")

#: Most vertices a piece keeps (``ST_Subdivide``'s ``max_vertices``).
MAX_VERTICES = 128

#: Most times a piece is halved (``ST_Subdivide``'s too): a piece still over the limit after as many halvings (2^50
#: pieces) is kept as it is, where the halving could go on without end (a rectangle's quarter has its 5 vertices).
_MAX_DEPTH = 50

#: Pieces of a unit whose areas add up to its own within this share are taken as its exact cover.
_AREA_TOLERANCE = 1e-9

_POLYGON = 3

_Cut = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _clip(geoms: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Each geometry clipped to its box (xmin, ymin, xmax, ymax) by GEOS's rectangle clip: fast, not always valid."""
    return np.array([shapely.clip_by_rect(g, *box) for g, box in zip(geoms, boxes, strict=True)], dtype=object)


def _overlay(geoms: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Each geometry intersected with its box by GEOS's overlay: valid, slow on large shapes."""
    return shapely.intersection(geoms, shapely.box(*boxes.T))


def _polygons(geoms: np.ndarray, owners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The polygons inside ``geoms`` (multi-parts and collections opened; lines and points a clip leaves dropped),
    each with its geometry's owner."""
    parts, index = shapely.get_parts(geoms, return_index=True)
    nested, nested_index = shapely.get_parts(parts, return_index=True)
    keep = (shapely.get_type_id(nested) == _POLYGON) & ~shapely.is_empty(nested)
    return nested[keep], owners[index[nested_index]][keep]


def _cut(geoms: np.ndarray, max_vertices: int, cut: _Cut) -> tuple[np.ndarray, np.ndarray]:
    """``geoms``' polygons halved across their longer side, level by level, until each has at most
    ``max_vertices`` vertices (or halved :data:`_MAX_DEPTH` times): the pieces and the index of the geometry each
    comes from."""
    pieces, owners = _polygons(geoms, np.arange(len(geoms)))
    done_pieces, done_owners = [], []
    for depth in range(_MAX_DEPTH + 1):
        small = (shapely.get_num_coordinates(pieces) <= max_vertices) | (depth == _MAX_DEPTH)
        done_pieces.append(pieces[small])
        done_owners.append(owners[small])
        pieces, owners = pieces[~small], owners[~small]
        if not len(pieces):
            break
        bounds = shapely.bounds(pieces)
        wide = bounds[:, 2] - bounds[:, 0] > bounds[:, 3] - bounds[:, 1]
        first, second = bounds.copy(), bounds.copy()
        middle_x, middle_y = (bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2
        first[wide, 2] = second[wide, 0] = middle_x[wide]
        first[~wide, 3] = second[~wide, 1] = middle_y[~wide]
        halves = np.concatenate([cut(pieces, first), cut(pieces, second)])
        pieces, owners = _polygons(halves, np.concatenate([owners, owners]))
    return np.concatenate(done_pieces), np.concatenate(done_owners)


def subdivide(geoms: np.ndarray, max_vertices: int = MAX_VERTICES) -> tuple[np.ndarray, np.ndarray]:
    """Cut valid (multi)polygons into valid polygons of at most ``max_vertices`` vertices that cover them exactly.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        Valid polygonal geometries (a unit's boundary as stored).
    max_vertices : int
        Most vertices a piece keeps, its ring's closing one included (at least 5: a rectangle's).

    Returns
    -------
    pieces, owners : numpy.ndarray
        The pieces, and for each the index in ``geoms`` of the geometry it is a piece of.
    """
    if max_vertices < 5:
        raise ValueError("a piece keeps at least 5 vertices")
    pieces, owners = _cut(geoms, max_vertices, _clip)
    covered = np.bincount(owners, weights=shapely.area(pieces), minlength=len(geoms))
    whole = shapely.area(geoms)
    wrong = np.abs(covered - whole) > _AREA_TOLERANCE * np.maximum(whole, np.finfo(float).tiny)
    wrong[owners[~shapely.is_valid(pieces)]] = True
    if not wrong.any():
        return pieces, owners
    again, again_owners = _cut(geoms[wrong], max_vertices, _overlay)
    kept = ~wrong[owners]
    return np.concatenate([pieces[kept], again]), np.concatenate([owners[kept], np.flatnonzero(wrong)[again_owners]])


def refresh_unit_parts(conn: Connection, changed: Sequence[int]) -> None:
    """Keep `admin_unit_parts` the pieces of the current units, in the caller's transaction: the pieces of units no
    longer current or in ``changed`` (ids whose boundary was rewritten) are dropped; current units without pieces are
    cut (:func:`subdivide`) and their pieces written in one binary COPY."""
    conn.execute(
        text(
            "DELETE FROM admin_unit_parts p USING admin_units u"
            " WHERE p.unit_id = u.id AND (u.valid_to IS NOT NULL OR u.id = ANY(:ids))"
        ),
        {"ids": list(changed)},
    )
    units = conn.execute(
        text(
            "SELECT u.id, u.code, ST_AsBinary(u.geom) FROM admin_units u"
            f" WHERE {current_unit('u')} AND NOT EXISTS (SELECT 1 FROM admin_unit_parts p WHERE p.unit_id = u.id)"
        )
    ).all()
    if not units:
        return
    ids, codes, wkb = zip(*units, strict=True)
    pieces, owners = subdivide(shapely.from_wkb(np.array(wkb, dtype=object)))
    ewkb = shapely.to_wkb(shapely.set_srid(pieces, WGS84_SRID), include_srid=True)
    rows = pa.table(
        {
            "unit_id": pa.array(np.asarray(ids)[owners], pa.int32()),
            "code": pa.array(np.asarray(codes, dtype=object)[owners], pa.string()),
            "geom": pa.array(ewkb, pa.binary()),
        }
    )
    copy_arrow(conn, "admin_unit_parts", rows)
