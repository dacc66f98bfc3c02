"""Grouping communes into contiguous areas of responsibility (pure: points and adjacency in, labels out)."""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial.distance import cdist
from sklearn.cluster import AgglomerativeClustering


def connect_components(xy: np.ndarray, edges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``edges`` plus, for each detached part (islands), one edge to the nearest point outside it."""
    edges = list(edges)
    n = len(xy)
    while True:
        graph = coo_matrix((np.ones(len(edges)), tuple(zip(*edges)) if edges else ([], [])), shape=(n, n))
        count, labels = connected_components(graph, directed=False)
        if count == 1:
            return edges
        smallest = np.argmin(np.bincount(labels))
        inside, outside = np.flatnonzero(labels == smallest), np.flatnonzero(labels != smallest)
        i, j = np.unravel_index(np.argmin(cdist(xy[inside], xy[outside])), (len(inside), len(outside)))
        edges.append((int(inside[i]), int(outside[j])))


def contiguous_areas(xy: np.ndarray, edges: list[tuple[int, int]], n_areas: int) -> np.ndarray:
    """Area label (0..n_areas-1) per point: Ward clustering of metric centroids restricted to adjacent units.

    Labels are numbered by their lowest point index so the result is stable for a given input order.
    """
    if not 1 <= n_areas <= len(xy):
        raise ValueError(f"n_areas must be within 1..{len(xy)}, got {n_areas}")
    linked = connect_components(xy, edges)
    rows, cols = zip(*linked) if linked else ((), ())
    adjacency = coo_matrix((np.ones(len(linked)), (rows, cols)), shape=(len(xy), len(xy)))
    labels = AgglomerativeClustering(
        n_clusters=n_areas, connectivity=adjacency + adjacency.T, linkage="ward"
    ).fit_predict(xy)
    order = {label: rank for rank, label in enumerate(dict.fromkeys(labels))}
    return np.array([order[label] for label in labels])


def shared_border_unit(labels: np.ndarray, edges: list[tuple[int, int]]) -> tuple[int, int] | None:
    """A unit on an area's border for a second area to hold too, and that area: ``(point index, area label)``; None
    when no two areas touch (a single area).

    The unit with the most neighbours in one other area (it reaches furthest into it, so that area's team is nearest
    to help there); ties go to the unit of the larger area (the more stretched team), then to the lower index and
    label. The second area stays contiguous: the unit touches it.
    """
    sizes = np.bincount(labels)
    reach: dict[tuple[int, int], int] = {}
    for i, j in edges:
        if labels[i] != labels[j]:
            for unit, other in ((i, labels[j]), (j, labels[i])):
                reach[(unit, int(other))] = reach.get((unit, int(other)), 0) + 1
    if not reach:
        return None
    unit, area = min(reach, key=lambda key: (-reach[key], -sizes[labels[key[0]]], key))
    return int(unit), area
