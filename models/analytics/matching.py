"""Matching newly found clusters to the hotspot register so that a hotspot keeps its identity over runs.

A cluster is *linked* to a tracked hotspot (still open, or dormant) when their footprints overlap or
their centres lie within ``max(match_m, r_cluster + r_hotspot)``, and to a cleared hotspot
(eradicated / monitored / closed) when the footprints overlap or the centres lie within
``recurrence_m``. Links are then resolved as a whole:

* one-to-one continuations are chosen by ``scipy.optimize.linear_sum_assignment`` — as many as
  possible, then the best footprint overlap, then the shortest distance. A continued cleared hotspot
  *recurs* ("phức tạp trở lại") when the cluster's incidents after it was cleared would form a cluster alone
  (``MatchRules.recurrence_min`` of them, the run's minimum points): one new incident beside those that made it,
  still in a run's window, does not (a cluster of mostly earlier incidents continues it unchanged), whenever it was
  cleared; a continued dormant one is reactivated;
* a linked hotspot left without a cluster was absorbed by the cluster it is linked to: it is
  *merged* into the hotspot that cluster continues (lineage parent → child);
* a linked cluster left without a hotspot is a *split* of the hotspot it is linked to: a new
  hotspot whose parent is that one;
* every cleared hotspot linked to a cluster with enough incidents after its clearing has its recurrence
  recorded, also when another (active) hotspot continues the cluster — the recurrence is never pre-empted;
* a cluster with no link continues an unlinked tracked hotspot within ``drift_m`` (a hotspot that
  moved down the street), else it is *new*.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree

from models.vocabulary import HOTSPOT_RECURRABLE, HOTSPOT_TRACKED

_INFEASIBLE = 1e15
#: Cost of a link: footprint overlap first (1 − overlap share, in units far above any distance), then metres.
_OVERLAP_WEIGHT = 1e6


@dataclass(frozen=True)
class MatchRules:
    """Distances (m) for continuation, recurrence and drift, and which statuses are tracked or cleared."""

    match_m: float = 150.0
    recurrence_m: float = 300.0
    drift_m: float = 300.0
    tracked_statuses: frozenset[str] = HOTSPOT_TRACKED
    cleared_statuses: frozenset[str] = HOTSPOT_RECURRABLE
    #: Incidents of a cluster after a hotspot's clearing that make it recur there (detection: its min_samples).
    recurrence_min: int = 1


@dataclass(frozen=True)
class MatchResult:
    """What a run does to the register.

    ``clusters`` (one row per cluster, in order): ``action`` matched | recurred | split | new,
    ``hotspot_id`` continued (None for split / new), ``split_from`` (the parent of a split),
    ``distance_m``. ``merges``: ``hotspot_id`` absorbed ``into_id`` (the hotspot continued by
    ``cluster``). ``recurrences``: every cleared hotspot linked to a cluster, with that ``cluster``,
    ``distance_m`` and whether it ``continues`` the cluster.
    """

    clusters: pd.DataFrame
    merges: pd.DataFrame
    recurrences: pd.DataFrame


def _overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection area over the smaller area of footprint pairs (0 where either is missing or empty)."""
    inter = shapely.area(shapely.intersection(a, b))
    smaller = np.minimum(shapely.area(a), shapely.area(b))
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(smaller > 0, inter / smaller, 0.0)
    return np.nan_to_num(share)


def _largest_side(footprints: np.ndarray) -> float:
    """The longest bounding-box side among the footprints (0 when none is given)."""
    bounds = shapely.bounds(footprints.astype(object))
    return float(np.nan_to_num(bounds[:, 2:] - bounds[:, :2]).max(initial=0.0))


def _links(
    cxy: np.ndarray,
    cr: np.ndarray,
    cfoot: np.ndarray,
    hxy: np.ndarray,
    hr: np.ndarray,
    hfoot: np.ndarray,
    reach_m: np.ndarray,
    add_radii: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Linked pairs (cluster i, hotspot j), their centre distance and footprint overlap share."""
    if len(cxy) == 0 or len(hxy) == 0:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0), np.zeros(0)
    extent = max(_largest_side(cfoot), _largest_side(hfoot))  # overlapping footprints may have distant centres
    search = float(max(reach_m.max(), cr.max() + hr.max(), 2 * extent))
    pairs = cKDTree(cxy).sparse_distance_matrix(cKDTree(hxy), search, output_type="ndarray")
    i, j, d = pairs["i"].astype(int), pairs["j"].astype(int), pairs["v"]
    share = _overlap(cfoot[i], hfoot[j])
    near = d <= np.maximum(reach_m[j], np.where(add_radii[j], cr[i] + hr[j], 0.0))
    ok = near | (share > 0)
    return i[ok], j[ok], d[ok], share[ok]


def _assign(n_rows: int, n_cols: int, i: np.ndarray, j: np.ndarray, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one pairs (most pairs, then least total cost) among the given links."""
    if i.size == 0:
        return np.zeros(0, int), np.zeros(0, int)
    rows, r_inv = np.unique(i, return_inverse=True)
    cols, c_inv = np.unique(j, return_inverse=True)
    matrix = np.full((rows.size, cols.size), _INFEASIBLE)
    np.minimum.at(matrix, (r_inv, c_inv), cost)
    r, c = linear_sum_assignment(matrix)
    ok = matrix[r, c] < _INFEASIBLE
    return rows[r[ok]], cols[c[ok]]


def _after(
    cluster_times: Sequence[np.ndarray] | None, hotspot_since: np.ndarray | None, least: int
) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Whether cluster i has at least `least` incidents after hotspot j entered its status, for arrays of pairs
    (always, unknown)."""
    if cluster_times is None or hotspot_since is None:
        return lambda i, j: np.ones(len(i), bool)
    times = [np.sort(np.asarray(t, "datetime64[us]")) for t in cluster_times]
    since = np.asarray(hotspot_since, "datetime64[us]")

    def fresh(i: np.ndarray, j: np.ndarray) -> np.ndarray:
        later = [times[a].size - np.searchsorted(times[a], since[b], side="right") for a, b in zip(i, j)]
        return np.asarray(later, int).reshape(-1) >= least

    return fresh


def match_clusters(
    cluster_xy: np.ndarray,
    cluster_radius: np.ndarray,
    hotspot_ids: np.ndarray,
    hotspot_xy: np.ndarray,
    hotspot_radius: np.ndarray,
    hotspot_status: np.ndarray,
    rules: MatchRules = MatchRules(),
    cluster_footprints: np.ndarray | None = None,
    hotspot_footprints: np.ndarray | None = None,
    cluster_times: Sequence[np.ndarray] | None = None,
    hotspot_since: np.ndarray | None = None,
) -> MatchResult:
    """Resolve this run's clusters against the hotspot register: continuations, recurrences, merges, splits, new.

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
        Distances (continuation, recurrence, drift) and which statuses are tracked or cleared.
    cluster_footprints, hotspot_footprints : ndarray of shapely geometries, optional
        Footprints in metres; overlap links a cluster to a hotspot before distances do.
    cluster_times, hotspot_since : m arrays of datetime64, and ndarray of datetime64 shape (k,), optional
        Each cluster's incident instants and the instant each hotspot entered its status (both or neither): a
        cleared hotspot recurs only at a cluster with ``rules.recurrence_min`` incidents after it. Without them every
        cluster at a cleared hotspot is a recurrence.

    Returns
    -------
    MatchResult
        Per cluster its action and hotspot, plus the merges, splits and recurrences with their lineage
        (see the module docstring for the rules).
    """
    cxy = np.asarray(cluster_xy, float).reshape(-1, 2)
    cr = np.asarray(cluster_radius, float).ravel()
    hxy = np.asarray(hotspot_xy, float).reshape(-1, 2)
    hr = np.asarray(hotspot_radius, float).ravel()
    ids = np.asarray(hotspot_ids, dtype=object).ravel()
    status = np.asarray(hotspot_status, dtype=object).ravel()
    m, n = len(cxy), len(hxy)
    cfoot = np.full(m, None, dtype=object) if cluster_footprints is None else np.asarray(cluster_footprints, object)
    hfoot = np.full(n, None, dtype=object) if hotspot_footprints is None else np.asarray(hotspot_footprints, object)
    tracked = np.isin(status, list(rules.tracked_statuses))
    cleared = np.isin(status, list(rules.cleared_statuses))
    reach = np.where(cleared, rules.recurrence_m, np.where(tracked, rules.match_m, -1.0))
    i, j, d, share = _links(cxy, cr, cfoot, hxy, hr, hfoot, reach, tracked)
    linkable = tracked[j] | cleared[j]
    i, j, d, share = i[linkable], j[linkable], d[linkable], share[linkable]
    cost = (1 - share) * _OVERLAP_WEIGHT + d

    action = np.full(m, "new", dtype=object)
    continued = np.full(m, None, dtype=object)
    split_from = np.full(m, None, dtype=object)
    distance = np.full(m, np.nan)
    owner = np.full(n, -1)  # cluster continuing each hotspot
    rows, cols = _assign(m, n, i, j, cost)
    owner[cols] = rows
    fresh = _after(cluster_times, hotspot_since, rules.recurrence_min)
    action[rows] = np.where(cleared[cols] & fresh(rows, cols), "recurred", "matched")
    continued[rows] = ids[cols]
    pair_cost = {(a, b): (c, dist) for a, b, c, dist in zip(i, j, cost, d)}
    distance[rows] = [pair_cost[(a, b)][1] for a, b in zip(rows, cols)]

    best_link = pd.DataFrame({"i": i, "j": j, "cost": cost, "d": d}).sort_values(["cost", "j"], kind="stable")
    merges = []
    for cluster, links in best_link.groupby("i", sort=True):
        if action[cluster] == "new":  # linked but another cluster continues every hotspot it reaches: a split
            parent = int(links["j"].iloc[0])
            action[cluster], split_from[cluster], distance[cluster] = "split", ids[parent], links["d"].iloc[0]
    for hotspot, links in best_link.groupby("j", sort=True):
        if owner[hotspot] < 0:  # linked but left without a cluster: absorbed by the one it is linked to
            cluster = int(links["i"].iloc[0])
            merges.append((ids[hotspot], continued[cluster], cluster))

    # A hotspot that moved: an unlinked cluster continues an unlinked tracked hotspot within drift_m.
    lonely = np.flatnonzero(action == "new")
    free = np.flatnonzero(tracked & (owner < 0) & ~np.isin(np.arange(n), j))
    if lonely.size and free.size:
        pairs = cKDTree(cxy[lonely]).sparse_distance_matrix(cKDTree(hxy[free]), rules.drift_m, output_type="ndarray")
        a, b = _assign(lonely.size, free.size, pairs["i"].astype(int), pairs["j"].astype(int), pairs["v"])
        drift_d = {(p, q): v for p, q, v in zip(pairs["i"], pairs["j"], pairs["v"])}
        action[lonely[a]], continued[lonely[a]] = "matched", ids[free[b]]
        distance[lonely[a]] = [drift_d[(p, q)] for p, q in zip(a, b)]

    linked_i, linked_j = best_link["i"].to_numpy(), best_link["j"].to_numpy()
    recur = best_link[cleared[linked_j] & fresh(linked_i, linked_j)].drop_duplicates("j")
    by = owner[recur["j"].to_numpy()]
    return MatchResult(
        clusters=pd.DataFrame(
            {
                "cluster": np.arange(m),
                "action": action,
                "hotspot_id": continued,
                "split_from": split_from,
                "distance_m": distance,
            }
        ),
        merges=pd.DataFrame(merges, columns=["hotspot_id", "into_id", "cluster"]),
        recurrences=pd.DataFrame(
            {
                "hotspot_id": ids[recur["j"].to_numpy()],
                "cluster": recur["i"].to_numpy(),
                "distance_m": recur["d"].to_numpy(),
                "continues": (by >= 0) & (action[np.maximum(by, 0)] == "recurred"),
            }
        ),
    )
