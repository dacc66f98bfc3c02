"""Binned FFT kernel density must match sklearn's KernelDensity; the PNG overlay is transparent at zero."""

import io

import numpy as np
import pytest
from PIL import Image
from sklearn.neighbors import KernelDensity

from maps.png import heat_png
from models.analytics.grid import GridSpec
from models.analytics.kde import kde_grid


@pytest.fixture(scope="module")
def points() -> np.ndarray:
    rng = np.random.default_rng(0)
    pts = np.vstack([rng.uniform(0, 10_000, (400, 2)), rng.normal(5_000, 600, (400, 2))])
    return pts + [650_000.0, 2_310_000.0]


def sklearn_density(pts, grid, h, kernel, weights=None) -> np.ndarray:
    cx, cy = grid.centres()
    model = KernelDensity(bandwidth=h, kernel=kernel).fit(pts, sample_weight=weights)
    return np.exp(model.score_samples(np.column_stack([cx.ravel(), cy.ravel()]))).reshape(grid.shape)


@pytest.mark.parametrize(
    ("kernel", "h", "cell"), [("gaussian", 400, 200), ("gaussian", 100, 150), ("epanechnikov", 700, 200)]
)
def test_matches_sklearn_within_one_percent_of_peak(points, kernel, h, cell) -> None:
    grid = GridSpec.from_points(points[:, 0], points[:, 1], cell, pad=500)
    ours = kde_grid(points[:, 0], points[:, 1], grid, h, kernel)
    ref = sklearn_density(points, grid, h, kernel)
    assert np.abs(ours - ref).max() / ref.max() < 0.01


def test_weights_match_sklearn_sample_weight(points) -> None:
    w = np.random.default_rng(1).uniform(0.2, 3.0, len(points))
    grid = GridSpec.from_points(points[:, 0], points[:, 1], 250)
    ours = kde_grid(points[:, 0], points[:, 1], grid, 500, weights=w)
    assert np.abs(ours - sklearn_density(points, grid, 500, "gaussian", w)).max() / ours.max() < 0.01


@pytest.mark.parametrize("kernel", ["gaussian", "epanechnikov", "quartic"])
def test_density_integrates_to_one(kernel) -> None:
    pts = np.random.default_rng(2).normal(0, 300, (500, 2))
    grid = GridSpec.from_bounds(-3_000, -3_000, 3_000, 3_000, 50)
    density = kde_grid(pts[:, 0], pts[:, 1], grid, 200, kernel)
    assert density.sum() * 50**2 == pytest.approx(1.0, abs=0.01)
    assert density.min() >= 0


def test_points_outside_grid_still_contribute() -> None:
    grid = GridSpec(0.0, 0.0, 100.0, 10, 10)
    inside = kde_grid(np.array([500.0]), np.array([500.0]), grid, 200)
    outside = kde_grid(np.array([-150.0]), np.array([500.0]), grid, 200)
    assert inside.max() > 0 and outside[5, 0] > 0


def test_heat_png_is_transparent_where_zero() -> None:
    density = np.zeros((4, 5))
    density[0, 0] = 2.0  # south-west corner → bottom-left pixel
    density[0, 1] = 1.0
    image = Image.open(io.BytesIO(heat_png(density)))
    assert image.mode == "RGBA" and image.size == (5, 4)
    pixels = np.asarray(image)
    assert pixels[-1, 0, 3] > pixels[-1, 1, 3] > 0
    assert tuple(pixels[-1, 0, :3]) == (0xB1, 0x00, 0x26)  # the top of the ramp (the legend's darkest red)
    assert pixels[-1, 1, 1] > pixels[-1, 0, 1]  # half as dense: further down the ramp, more yellow
    assert (pixels[:3, :, 3] == 0).all()
    assert Image.open(io.BytesIO(heat_png(np.zeros((2, 2))))).getextrema()[3] == (0, 0)
