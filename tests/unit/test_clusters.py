"""Cluster summaries and the hotspot-kind rule."""

import numpy as np
import pytest
import shapely

from models.analytics.clusters import HotspotKindRules, summarise_clusters


@pytest.fixture()
def incidents():
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(0, 10, 30), rng.normal(500, 60, 20), [1000.0, 1001.0], [5000.0]]
    y = np.r_[rng.normal(0, 10, 30), rng.normal(500, 60, 20), [1000.0, 1000.0], [5000.0]]
    labels = np.r_[[0] * 30, [1] * 20, [2, 2], [-1]]
    times = np.datetime64("2025-01-01") + np.arange(53).astype("timedelta64[D]")
    kinds = np.array(["trafficking"] * 30 + ["organizing_use"] * 12 + ["tip"] * 8 + ["harboring", "other", "tip"])
    return x + 650_000, y + 2_300_000, labels, times, kinds


def test_summary_columns_and_values(incidents) -> None:
    x, y, labels, times, kinds = incidents
    out = summarise_clusters(x, y, labels, times, kinds)
    assert list(out["cluster"]) == [0, 1, 2] and list(out["n"]) == [30, 20, 2]
    assert out["x"][0] == pytest.approx(x[:30].mean()) and out["y"][2] == pytest.approx(2_301_000)
    d = np.hypot(x[30:50] - x[30:50].mean(), y[30:50] - y[30:50].mean())
    assert out["radius_m"][1] == pytest.approx(np.quantile(d, 0.9))
    assert out["radius_m"][2] == 25.0  # the floor
    assert out["first_time"][1] == times[30] and out["last_time"][1] == times[49]
    assert out["n_organizing_use"][1] == 12 and out["n_tip"][1] == 8 and out["n_other"][2] == 1
    assert list(out["hotspot_kind"]) == ["den", "organizing_place", "organizing_place"]
    assert out.crs.to_epsg() == 32648
    assert shapely.contains_xy(out.geometry.to_numpy(), out["x"], out["y"]).all()
    assert shapely.contains_xy(out.geometry[0], x[:30], y[:30]).all()
    assert out.geometry[2].area > 0  # two points: a buffered segment


def test_noise_only_gives_empty_frame(incidents) -> None:
    x, y, _, times, kinds = incidents
    out = summarise_clusters(x, y, np.full(len(x), -1), times, kinds)
    assert out.empty and "hotspot_kind" in out.columns


def test_kind_rule_is_configurable() -> None:
    n, radius, organizing = np.array([12, 12, 4, 10]), np.array([50.0, 300.0, 20.0, 80.0]), np.array([0, 0, 0, 5])
    assert list(HotspotKindRules().classify(n, radius, organizing)) == ["den", "spot", "spot", "organizing_place"]
    strict = HotspotKindRules(organizing_share=0.8, den_min_count=3, den_max_radius_m=30)
    assert list(strict.classify(n, radius, organizing)) == ["spot", "spot", "den", "spot"]
