"""Summaries of DBSCAN clusters as hotspot candidates: centre, size, footprint, time span, kinds, kind rule.

No legal definition separates a drug *spot* from a *den* (domain brief), so the rule is a small
configurable dataclass whose defaults are working assumptions to be set in configuration.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from models.vocabulary import ORGANIZING_KINDS, HotspotKind, IncidentKind

KINDS = IncidentKind.values()

#: Hotspot kinds a cluster can be given.


@dataclass(frozen=True)
class HotspotKindRules:
    """Rule for a cluster's hotspot kind, checked in order (defaults are unverified assumptions).

    1. ``organizing_place`` when at least ``organizing_share`` of its incidents are of the
       ``organizing_kinds`` (organising / harbouring drug use, QĐ 28/2025 criterion b);
    2. ``den`` when it has at least ``den_min_count`` incidents within ``den_max_radius_m``;
    3. ``spot`` otherwise.
    """

    organizing_share: float = 0.5
    den_min_count: int = 10
    den_max_radius_m: float = 100.0
    organizing_kinds: frozenset[str] = ORGANIZING_KINDS

    def classify(self, n: np.ndarray, radius_m: np.ndarray, n_organizing: np.ndarray) -> np.ndarray:
        """Hotspot kind per cluster from its incident count, radius and organising-kind count."""
        n = np.asarray(n, float)
        organizing = np.asarray(n_organizing, float) >= self.organizing_share * n
        den = (n >= self.den_min_count) & (np.asarray(radius_m) <= self.den_max_radius_m)
        return np.select([organizing & (n > 0), den], [HotspotKind.ORGANIZING_PLACE, HotspotKind.DEN], HotspotKind.SPOT)


def summarise_clusters(
    x: np.ndarray,
    y: np.ndarray,
    labels: np.ndarray,
    times: np.ndarray | None = None,
    kinds: np.ndarray | None = None,
    rules: HotspotKindRules = HotspotKindRules(),
    radius_quantile: float = 0.9,
    min_radius_m: float = 25.0,
    buffer_m: float = 25.0,
) -> gpd.GeoDataFrame:
    """Summarise DBSCAN clusters as hotspot candidates: centre, size, radius, footprint, time span, kinds.

    Parameters
    ----------
    x, y : array_like of float
        Point coordinates in metres (EPSG:32648).
    labels : array_like of int
        Cluster label per point, −1 for noise (the output of :func:`models.analytics.dbscan.dbscan`).
    times : array_like, optional
        Time of each point: adds ``first_time`` and ``last_time`` per cluster.
    kinds : array_like of str, optional
        Incident kind of each point: adds an ``n_<kind>`` count per kind and lets ``rules`` see the
        organising kinds.
    rules : HotspotKindRules, optional
        How a cluster's ``hotspot_kind`` (spot, den, organizing place) is decided; the defaults are working
        assumptions (no legal definition separates a spot from a den).
    radius_quantile : float, default 0.9
        ``radius_m`` is this quantile of the points' distances to the centroid …
    min_radius_m : float, default 25
        … but at least this.
    buffer_m : float, default 25
        The footprint is the points' convex hull buffered by this.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per label ≥ 0 in label order, CRS EPSG:32648: ``cluster``, centroid ``x`` and ``y``, ``n``,
        ``radius_m``, the optional time and kind columns, ``hotspot_kind``, and the footprint as geometry.
    """
    x, y, labels = np.asarray(x, float), np.asarray(y, float), np.asarray(labels)
    keep = labels >= 0
    codes, group = np.unique(labels[keep], return_inverse=True)
    px, py = x[keep], y[keep]
    n = np.bincount(group, minlength=codes.size)
    cx = np.bincount(group, weights=px, minlength=codes.size) / np.maximum(n, 1)
    cy = np.bincount(group, weights=py, minlength=codes.size) / np.maximum(n, 1)
    dist = pd.Series(np.hypot(px - cx[group], py - cy[group]))
    spread = dist.groupby(group).quantile(radius_quantile).reindex(range(codes.size)).to_numpy()
    radius = np.maximum(spread, min_radius_m)
    points = shapely.points(px, py)
    order = np.argsort(group, kind="stable")  # shapely wants the parts grouped by index
    hulls = shapely.convex_hull(shapely.multipoints(points[order], indices=group[order])) if codes.size else []
    out = pd.DataFrame({"cluster": codes, "x": cx, "y": cy, "n": n, "radius_m": radius})
    if times is not None:
        t = pd.Series(np.asarray(times)[keep]).groupby(group)
        out["first_time"], out["last_time"] = t.min().to_numpy(), t.max().to_numpy()
    n_organizing = np.zeros(codes.size)
    if kinds is not None:
        k = np.asarray(kinds, dtype=object)[keep]
        table = pd.crosstab(group, k).reindex(index=range(codes.size), fill_value=0)
        names = list(KINDS) + sorted(set(table.columns) - set(KINDS))
        table = table.reindex(columns=names, fill_value=0)
        for name in names:
            out[f"n_{name}"] = table[name].to_numpy()
        n_organizing = table[[c for c in names if c in rules.organizing_kinds]].sum(axis=1).to_numpy()
    out["hotspot_kind"] = rules.classify(n, radius, n_organizing)
    return gpd.GeoDataFrame(out, geometry=shapely.buffer(hulls, buffer_m), crs="EPSG:32648")
