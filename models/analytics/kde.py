"""Kernel density on a metric grid by linear binning and (separable or FFT) convolution.

``kde_grid`` returns the density per m² at every cell centre, normalised to integrate to 1 — the
value ``exp(KernelDensity(bandwidth=h, kernel=...).fit(X, sample_weight=w).score_samples(centres))``
of scikit-learn (within a fraction of a percent of the peak) — at a cost independent of the point
count beyond one pass of binning.  Multiply by the point count (or total weight) for points per m².
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import scipy.sparse as sp

from models.analytics.grid import GridSpec

Kernel = Literal["gaussian", "epanechnikov", "quartic"]

#: Kernel support in bandwidths (the Gaussian is truncated at 4 σ, losing 0.03 % of its mass).
_SUPPORT = {"gaussian": 4.0, "epanechnikov": 1.0, "quartic": 1.0}
#: Internal binning step as a fraction of the bandwidth: finer for the kinked compact kernels.
_STEP = {"gaussian": 1 / 5, "epanechnikov": 1 / 10, "quartic": 1 / 8}


def kernel_values(r2: np.ndarray, bandwidth_m: float, kernel: Kernel) -> np.ndarray:
    """2-D kernel normalised to integrate to 1 (per m²) at squared distances ``r2`` (m²)."""
    h2 = bandwidth_m * bandwidth_m
    u = r2 / h2
    if kernel == "gaussian":
        return np.exp(-0.5 * u) / (2 * math.pi * h2)
    if kernel == "epanechnikov":
        return np.where(u < 1, 1 - u, 0.0) * 2 / (math.pi * h2)
    if kernel == "quartic":
        return np.where(u < 1, (1 - u) ** 2, 0.0) * 3 / (math.pi * h2)
    raise ValueError(f"unknown kernel {kernel!r}")


def _linear_bin(fx: np.ndarray, fy: np.ndarray, w: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Spread weights onto the 4 nodes around fractional node coordinates (fx, fy), shape (ny, nx)."""
    ix, iy = np.floor(fx).astype(np.int64), np.floor(fy).astype(np.int64)
    ax, ay = fx - ix, fy - iy
    ny, nx = shape
    total = np.zeros(ny * nx)
    for dx, dy, share in ((0, 0, (1 - ax) * (1 - ay)), (1, 0, ax * (1 - ay)), (0, 1, (1 - ax) * ay), (1, 1, ax * ay)):
        jx, jy = ix + dx, iy + dy
        keep = (jx >= 0) & (jx < nx) & (jy >= 0) & (jy < ny)
        total += np.bincount(jy[keep] * nx + jx[keep], weights=(w * share)[keep], minlength=ny * nx)
    return total.reshape(shape)


def _band(n_out: int, n_fine: int, first: int, factor: int, weights: np.ndarray) -> sp.csr_matrix:
    """Sparse (n_out, n_fine) matrix applying a 1-D kernel centred on every `factor`-th fine node from `first`."""
    pad = (len(weights) - 1) // 2
    cols = (first + factor * np.arange(n_out))[:, None] + np.arange(-pad, pad + 1)[None, :]
    rows = np.broadcast_to(np.arange(n_out)[:, None], cols.shape)
    vals = np.broadcast_to(weights, cols.shape)
    keep = (cols >= 0) & (cols < n_fine)
    return sp.csr_matrix((vals[keep], (rows[keep], cols[keep])), shape=(n_out, n_fine))


def fine_factor(cell_m: float, bandwidth_m: float, kernel: Kernel) -> int:
    """Fine binning nodes per cell side (odd, so that a node sits on every cell centre): a narrow bandwidth on large
    cells bins onto a grid factor² times finer than the answer's."""
    factor = max(1, math.ceil(cell_m / (bandwidth_m * _STEP[kernel])))
    return factor + 1 - factor % 2


def kde_grid(
    x: np.ndarray,
    y: np.ndarray,
    grid: GridSpec,
    bandwidth_m: float,
    kernel: Kernel = "gaussian",
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Kernel density of points at the cell centres of a grid, per m² and integrating to 1.

    Equals ``exp(sklearn.neighbors.KernelDensity(bandwidth=bandwidth_m, kernel=...).fit(X, sample_weight=w)
    .score_samples(centres))`` within a fraction of a percent of the peak, at a cost that does not grow with
    the number of points beyond one pass of linear binning.

    Parameters
    ----------
    x, y : array_like of float
        Point coordinates in metres (EPSG:32648).
    grid : GridSpec
        Where to evaluate: the centres of its cells.
    bandwidth_m : float
        Kernel bandwidth in metres (the Gaussian's σ; the compact kernels' radius).
    kernel : {"gaussian", "epanechnikov", "quartic"}, default "gaussian"
        Kernel shape. The Gaussian is truncated at 4 σ (0.03 % of its mass lost).
    weights : array_like of float, optional
        Non-negative weight per point. Default: 1 each.

    Returns
    -------
    ndarray, shape (ny, nx)
        Density per m². Multiply by the number of points (or the total weight) for points per m²,
        and by ``grid.cell ** 2`` for the expected share of points per cell.

    Raises
    ------
    ValueError
        If the bandwidth is not positive or the kernel is unknown.

    References
    ----------
    Silverman, B. W. (1986). *Density Estimation for Statistics and Data Analysis*. London: Chapman & Hall.

    Wand, M. P. (1994). Fast computation of multivariate kernel estimators. *Journal of Computational and
    Graphical Statistics* 3(4), 433-445 (linear binning).
    """
    if bandwidth_m <= 0:
        raise ValueError("bandwidth_m must be positive")
    if kernel not in _SUPPORT:
        raise ValueError(f"unknown kernel {kernel!r}")
    x, y = np.asarray(x, float).ravel(), np.asarray(y, float).ravel()
    w = np.ones(x.size) if weights is None else np.asarray(weights, float).ravel()
    if w.sum() <= 0:
        return np.zeros(grid.shape)
    factor = fine_factor(grid.cell, bandwidth_m, kernel)
    step = grid.cell / factor
    pad = math.ceil(_SUPPORT[kernel] * bandwidth_m / step)
    shape = (grid.ny * factor + 2 * pad, grid.nx * factor + 2 * pad)
    # fine node k sits at x0 + (k - pad + 0.5) * step
    binned = _linear_bin((x - grid.x0) / step - 0.5 + pad, (y - grid.y0) / step - 0.5 + pad, w, shape)
    offsets = np.arange(-pad, pad + 1) * step
    first = pad + factor // 2
    rows = slice(first, first + grid.ny * factor, factor)
    cols = slice(first, first + grid.nx * factor, factor)
    if kernel == "gaussian":
        # Separable: two 1-D passes as sparse band matrices evaluated only at cell centres — far cheaper
        # than a 2-D FFT over a mostly empty city-wide grid (sea, Bạch Long Vĩ 130 km out).
        g = np.exp(-0.5 * (offsets / bandwidth_m) ** 2) / (math.sqrt(2 * math.pi) * bandwidth_m)
        down = _band(grid.ny, shape[0], first, factor, g)
        across = _band(grid.nx, shape[1], first, factor, g)
        centres = (across @ (down @ binned).T).T / w.sum()
    else:
        from scipy.signal import fftconvolve  # here: only these kernels need it, ~50 MB in every server process

        stencil = kernel_values(offsets[None, :] ** 2 + offsets[:, None] ** 2, bandwidth_m, kernel)
        centres = fftconvolve(binned, stencil, mode="same")[rows, cols] / w.sum()
    return np.clip(centres, 0.0, None)
