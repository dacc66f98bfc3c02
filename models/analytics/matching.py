"""Matching newly found clusters to the hotspot register: same hotspot, recurrence, or a new one.

A cluster *matches* an active hotspot whose centre lies within ``max(match_m, r_cluster + r_hotspot)``,
one to one, chosen by ``scipy.optimize.linear_sum_assignment`` (most matches, then least total
distance).  An unmatched cluster near an eradicated / monitored / closed hotspot is a *recurrence*
of it ("phức tạp trở lại"); several clusters may recur at the same place.  Otherwise it is *new*.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree

from models.vocabulary import HOTSPOT_RECURRABLE

#: Register statuses whose hotspots can only recur, not be matched as ongoing.

_INFEASIBLE = 1e15


@dataclass(frozen=True)
class MatchRules:
    """Distances (m) for matching and recurrence, and which statuses count as no longer active."""

    match_m: float = 150.0
    recurrence_m: float = 300.0
    inactive_statuses: frozenset[str] = HOTSPOT_RECURRABLE


def _candidate_pairs(
    a: np.ndarray, ra: np.ndarray, b: np.ndarray, rb: np.ndarray, base_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i in a, j in b, distance) with distance ≤ max(base_m, ra[i] + rb[j])."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0)
    reach = max(base_m, float(ra.max() + rb.max()))
    pairs = cKDTree(a).sparse_distance_matrix(cKDTree(b), reach, output_type="ndarray")
    i, j, d = pairs["i"].astype(int), pairs["j"].astype(int), pairs["v"]
    ok = d <= np.maximum(base_m, ra[i] + rb[j])
    return i[ok], j[ok], d[ok]


def match_clusters(
    cluster_xy: np.ndarray,
    cluster_radius: np.ndarray,
    hotspot_ids: np.ndarray,
    hotspot_xy: np.ndarray,
    hotspot_radius: np.ndarray,
    hotspot_status: np.ndarray,
    rules: MatchRules = MatchRules(),
) -> pd.DataFrame:
    """Match newly found clusters to a hotspot register: the same hotspot, a recurrence, or a new one.

    A cluster *matches* an active hotspot whose centre lies within ``max(rules.match_m, r_cluster +
    r_hotspot)``, one to one, chosen by ``scipy.optimize.linear_sum_assignment`` (most matches, then least
    total distance). A cluster left unmatched near an inactive hotspot (``rules.inactive_statuses``:
    eradicated, monitored, closed) within ``max(rules.recurrence_m, r_cluster + r_hotspot)`` is a
    *recurrence* of the nearest one. Any other cluster is *new*.

    Parameters
    ----------
    cluster_xy : array_like, shape (m, 2)
        Cluster centres in metres (``summarise_clusters(...)[["x", "y"]]``).
    cluster_radius : array_like, shape (m,)
        Cluster radii in metres.
    hotspot_ids : array_like, shape (k,)
        Register ids, returned as they are.
    hotspot_xy, hotspot_radius : array_like, shapes (k, 2) and (k,)
        Register centres and radii in metres.
    hotspot_status : array_like of str, shape (k,)
        Register status of each hotspot (``models.vocabulary.HotspotStatus`` values).
    rules : MatchRules, optional
        Distances and which statuses count as no longer active.

    Returns
    -------
    pandas.DataFrame
        One row per cluster in input order: ``cluster`` (its position), ``action`` ("matched",
        "recurred" or "new"), ``hotspot_id`` (None for new) and ``distance_m`` (NaN for new).
    """
    cxy = np.asarray(cluster_xy, float).reshape(-1, 2)
    cr = np.asarray(cluster_radius, float).ravel()
    hxy = np.asarray(hotspot_xy, float).reshape(-1, 2)
    hr = np.asarray(hotspot_radius, float).ravel()
    ids = np.asarray(hotspot_ids, dtype=object).ravel()
    inactive = np.isin(np.asarray(hotspot_status, dtype=object).ravel(), list(rules.inactive_statuses))
    m = len(cxy)
    action = np.full(m, "new", dtype=object)
    hotspot = np.full(m, None, dtype=object)
    distance = np.full(m, np.nan)

    active = np.flatnonzero(~inactive)
    i, j, d = _candidate_pairs(cxy, cr, hxy[active], hr[active], rules.match_m)
    if i.size:
        rows, r_inv = np.unique(i, return_inverse=True)
        cols, c_inv = np.unique(j, return_inverse=True)
        cost = np.full((rows.size, cols.size), _INFEASIBLE)
        cost[r_inv, c_inv] = d
        r, c = linear_sum_assignment(cost)
        ok = cost[r, c] < _INFEASIBLE
        chosen = rows[r[ok]]
        action[chosen] = "matched"
        hotspot[chosen] = ids[active[cols[c[ok]]]]
        distance[chosen] = cost[r[ok], c[ok]]

    free = np.flatnonzero(action == "new")
    past = np.flatnonzero(inactive)
    i, j, d = _candidate_pairs(cxy[free], cr[free], hxy[past], hr[past], rules.recurrence_m)
    if i.size:
        order = np.lexsort((d, i))
        first = order[np.r_[True, i[order][1:] != i[order][:-1]]]  # nearest past hotspot per cluster
        chosen = free[i[first]]
        action[chosen] = "recurred"
        hotspot[chosen] = ids[past[j[first]]]
        distance[chosen] = d[first]
    return pd.DataFrame({"cluster": np.arange(m), "action": action, "hotspot_id": hotspot, "distance_m": distance})
