"""Vectorised point sampling inside projected polygons, for the synthetic scenario generator."""

from __future__ import annotations

import numpy as np
import shapely

#: Largest rejection-sampling batch, to bound memory on multi-million-point communes.
MAX_BATCH = 2_000_000
#: Give up on a Gaussian draw after this many rejection rounds and use the centre instead.
MAX_ROUNDS = 200


def uniform_in_polygons(
    rng: np.random.Generator, geoms: np.ndarray, which: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Uniform random points, point i inside geoms[which[i]] (rejection sampling in bounding boxes)."""
    x = np.empty(len(which))
    y = np.empty(len(which))
    order = np.argsort(which, kind="stable")
    counts = np.bincount(which, minlength=len(geoms))
    bounds = shapely.bounds(geoms)
    accept = shapely.area(geoms) / np.maximum((bounds[:, 2] - bounds[:, 0]) * (bounds[:, 3] - bounds[:, 1]), 1e-9)
    stops = np.cumsum(counts)
    for g in np.flatnonzero(counts):
        idx = order[stops[g] - counts[g] : stops[g]]
        x[idx], y[idx] = _fill_uniform(rng, geoms[g], bounds[g], accept[g], counts[g])
    return x, y


def _fill_uniform(
    rng: np.random.Generator, geom, bounds: np.ndarray, accept: float, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """n uniform points inside one polygon, drawn in batches sized from the acceptance rate."""
    xs, ys, got = [], [], 0
    while got < n:
        m = min(MAX_BATCH, int((n - got) / max(accept, 1e-3) * 1.2) + 16)
        px = rng.uniform(bounds[0], bounds[2], m)
        py = rng.uniform(bounds[1], bounds[3], m)
        ok = shapely.contains_xy(geom, px, py)
        xs.append(px[ok])
        ys.append(py[ok])
        got += int(ok.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def gaussian_in_polygons(
    rng: np.random.Generator,
    geoms: np.ndarray,
    which: np.ndarray,
    cx: np.ndarray,
    cy: np.ndarray,
    sigma: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian points around (cx, cy) per point, redrawn until inside geoms[which] (truncated normal)."""
    x = cx + sigma * rng.standard_normal(len(cx))
    y = cy + sigma * rng.standard_normal(len(cy))
    order = np.argsort(which, kind="stable")
    counts = np.bincount(which, minlength=len(geoms))
    stops = np.cumsum(counts)
    for g in np.flatnonzero(counts):
        idx = order[stops[g] - counts[g] : stops[g]]
        for _ in range(MAX_ROUNDS):
            bad = idx[~shapely.contains_xy(geoms[g], x[idx], y[idx])]
            if not len(bad):
                break
            x[bad] = cx[bad] + sigma[bad] * rng.standard_normal(len(bad))
            y[bad] = cy[bad] + sigma[bad] * rng.standard_normal(len(bad))
            idx = bad
        else:
            x[idx], y[idx] = cx[idx], cy[idx]
    return x, y


def spaced_centres(
    rng: np.random.Generator,
    geoms: np.ndarray,
    weights: np.ndarray,
    n: int,
    min_spacing: float,
    max_rounds: int = 50,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n points at least min_spacing apart; polygon chosen by weight, point uniform inside it."""
    cells: dict[tuple[int, int], list[int]] = {}
    xs: list[float] = []
    ys: list[float] = []
    gs: list[int] = []
    for _ in range(max_rounds):
        need = n - len(xs)
        if need <= 0:
            break
        which = rng.choice(len(geoms), size=2 * need + 16, p=weights)
        px, py = uniform_in_polygons(rng, geoms, which)
        for gx, gy, g in zip(px, py, which):  # at most a few thousand candidates per round
            if len(xs) == n:
                break
            ci, cj = int(gx // min_spacing), int(gy // min_spacing)
            near = [k for di in (-1, 0, 1) for dj in (-1, 0, 1) for k in cells.get((ci + di, cj + dj), ())]
            if any((xs[k] - gx) ** 2 + (ys[k] - gy) ** 2 < min_spacing**2 for k in near):
                continue
            cells.setdefault((ci, cj), []).append(len(xs))
            xs.append(gx)
            ys.append(gy)
            gs.append(int(g))
    if len(xs) < n:
        raise ValueError(f"could only place {len(xs)} of {n} hotspots {min_spacing:g} m apart")
    return np.array(xs), np.array(ys), np.array(gs, dtype=np.int64)
