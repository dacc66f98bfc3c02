"""A self-exciting point process on a grid (ETAS / SEPP in the manner of Mohler et al. 2015): recency and
near-repeat terms on top of a long-term background, fitted by expectation–maximisation.

In week w the expected count of cell c is

    λ[w, c] = μ_c + k · (θ_self · R[w, c] + θ_near · R_near[w, c]),   k = 1 − e^{−ω},

where R[w, c] = Σ_{w' < w} e^{−ω (w − w' − 1)} N[w', c] is the exponentially decayed count of the cell's
past events, R_near the mean of R over the 8 neighbouring cells: each event triggers θ_self further
events in its cell and θ_near around it, spread over the following weeks with mean delay 1/ω. μ
(a stationary background, kernel-smoothed over space), θ_self and θ_near are the maximum-likelihood
values of this Poisson model (EM: each event is split between background and triggering in
proportion to their intensities); ω is chosen from a small grid by likelihood, the background's
smoothing by a held-back quarter. The forecast for the next H weeks adds μ_c·H and what the past
still triggers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.ndimage import gaussian_filter

from models.analytics.lattice import Lattice

#: Decays per week tried for the triggering kernel (mean delay 1, 2, 4, 8, 16 weeks).
OMEGAS = (1.0, 0.5, 0.25, 0.125, 0.0625)
EM_ITERATIONS = 60
#: Weeks of history the parameters are fitted on (the decayed counts use the whole history).
TRAINING_WEEKS = 104
#: Gaussian smoothings (in cells) of the background tried, and the weeks held back to choose among them.
SIGMAS_CELLS = (0.5, 1.0, 1.5, 2.0)
VALIDATION_WEEKS = 13


@dataclass(frozen=True)
class SeppModel:
    """Fitted parameters over the cells of a lattice (background μ per cell and week)."""

    omega: float
    theta_self: float
    theta_near: float
    mu: np.ndarray
    log_likelihood: float


def decayed(counts: np.ndarray, omega: float) -> np.ndarray:
    """R[w] = e^{−ω} R[w − 1] + N[w − 1] for every week of a (weeks, cells) count array (R[0] = 0)."""
    out = np.zeros_like(counts, dtype=float)
    keep = np.exp(-omega)
    for w in range(1, counts.shape[0]):
        out[w] = keep * out[w - 1] + counts[w - 1]
    return out


def neighbour_mean(lattice: Lattice) -> sparse.csr_matrix:
    """Matrix averaging each cell's 8 neighbours (missing neighbours count as empty)."""
    w = lattice.weights(1.5)
    w.setdiag(0)
    w.eliminate_zeros()
    return (w / 8.0).tocsr()


def smooth(lattice: Lattice, values: np.ndarray, sigma_cells: float) -> np.ndarray:
    """Per-cell values smoothed by a Gaussian of ``sigma_cells`` over the grid (mass kept on the lattice).

    Filtered over the box bounding the lattice's cells only: the grid around it holds zeros, which the filter (zeros
    beyond its edges, one axis after the other) adds to nothing, so every value is the same to the bit as over the
    whole grid (tests/unit/test_sepp.py). Hải Phòng's cells near an incident span a third of its 200 m grid (609 ×
    850, Bạch Long Vĩ's sea included): the EM's 60 smoothings of each of its 25 fits cost a third."""
    if sigma_cells <= 0 or lattice.n == 0:
        return values
    row, column = np.divmod(lattice.cells, lattice.grid.nx)
    top, left = row[0], column.min()  # the cells are sorted: the first is on the top row
    shape = (row[-1] - top + 1, column.max() - left + 1)
    at = (row - top) * shape[1] + (column - left)
    box = np.zeros(shape[0] * shape[1], dtype=np.result_type(values.dtype, float))
    box[at] = values
    return gaussian_filter(box.reshape(shape), sigma_cells, mode="constant").ravel()[at]


def fit_one(
    counts: np.ndarray,
    lattice: Lattice,
    near: sparse.csr_matrix,
    omega: float,
    first: int,
    sigma_cells: float,
) -> SeppModel:
    """EM for one ω on weeks first.. of a (weeks, cells) count array.

    Only the (week, cell) entries holding events enter the E-step; the integrals of the triggering terms
    over every entry are constants for a given ω, so one iteration costs O(events), not O(weeks × cells).
    The background is the kernel-smoothed sum of the events' background shares (Mohler et al. 2011).
    """
    r_self = decayed(counts, omega)
    r_near = (near @ r_self.T).T
    k = 1 - np.exp(-omega)
    n = counts[first:]
    weeks = n.shape[0]
    week, cell = np.nonzero(n)
    hits = n[week, cell]
    a, b = k * r_self[first:][week, cell], k * r_near[first:][week, cell]
    a_total, b_total = k * r_self[first:].sum(), k * r_near[first:].sum()
    mu = np.maximum(n.mean(axis=0), 1e-12) * 0.5
    theta_self = theta_near = 0.1
    for _ in range(EM_ITERATIONS):
        share = hits / (mu[cell] + theta_self * a + theta_near * b)
        background = np.bincount(cell, weights=share * mu[cell], minlength=mu.size)
        mu = np.maximum(smooth(lattice, background, sigma_cells) / weeks, 1e-12)
        theta_self = float((share * theta_self * a).sum() / max(a_total, 1e-12))
        theta_near = float((share * theta_near * b).sum() / max(b_total, 1e-12))
    lam = mu[cell] + theta_self * a + theta_near * b
    total = mu.sum() * weeks + theta_self * a_total + theta_near * b_total
    return SeppModel(omega, theta_self, theta_near, mu, float((hits * np.log(lam)).sum() - total))


def _fit_omegas(counts: np.ndarray, lattice: Lattice, training_weeks: int, sigma_cells: float) -> SeppModel:
    """The most likely fit over OMEGAS for one background smoothing."""
    near = neighbour_mean(lattice)
    first = max(counts.shape[0] - training_weeks, 1)
    return max(
        (fit_one(counts, lattice, near, omega, first, sigma_cells) for omega in OMEGAS), key=lambda m: m.log_likelihood
    )


def fit_sepp(counts: np.ndarray, lattice: Lattice, training_weeks: int = TRAINING_WEEKS) -> SeppModel:
    """Fit the model on the last ``training_weeks`` of a (weeks, cells) count array.

    ω is chosen by likelihood within each background smoothing; the smoothing (which the training
    likelihood would always want narrower) is chosen by how well a fit without the last VALIDATION_WEEKS
    forecasts them, then the chosen smoothing is refitted on everything.
    """
    cut = counts.shape[0] - VALIDATION_WEEKS
    observed = counts[cut:].sum(axis=0)

    def validation(sigma: float) -> float:
        expected = np.maximum(
            forecast_sepp(
                _fit_omegas(counts[:cut], lattice, training_weeks, sigma), counts[:cut], lattice, VALIDATION_WEEKS
            ),
            1e-12,
        )
        return float((observed * np.log(expected)).sum() - expected.sum())

    sigma = max(SIGMAS_CELLS, key=validation) if cut > 2 * VALIDATION_WEEKS else SIGMAS_CELLS[0]
    return _fit_omegas(counts, lattice, training_weeks, sigma)


def forecast_sepp(model: SeppModel, counts: np.ndarray, lattice: Lattice, horizon_weeks: int) -> np.ndarray:
    """Expected events per cell over the ``horizon_weeks`` after the last week of ``counts`` (weeks, cells)."""
    extended = np.vstack([counts, np.zeros((1, counts.shape[1]))])
    r_self = decayed(extended, model.omega)[-1]
    r_near = neighbour_mean(lattice) @ r_self
    carried = 1 - np.exp(-model.omega * horizon_weeks)
    return model.mu * horizon_weeks + carried * (model.theta_self * r_self + model.theta_near * r_near)
