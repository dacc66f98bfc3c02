"""Matching clusters to registered hotspots: one-to-one matches, recurrences, new hotspots."""

import numpy as np

from models.analytics.matching import MatchRules, match_clusters


def run(clusters, c_radius, hotspots, h_radius, status, ids=None, rules=MatchRules()):
    """match_clusters on plain lists."""
    ids = list(range(100, 100 + len(hotspots))) if ids is None else ids
    return match_clusters(
        np.array(clusters, float),
        np.array(c_radius, float),
        np.array(ids, dtype=object),
        np.array(hotspots, float).reshape(-1, 2),
        np.array(h_radius, float),
        np.array(status, dtype=object),
        rules,
    )


def test_match_recur_and_new() -> None:
    out = run(
        [[0, 0], [1000, 0], [5000, 5000], [2000, 2000]],
        [30, 30, 30, 30],
        [[40, 30], [1200, 0], [2000, 2100]],
        [30, 30, 30],
        ["active", "eradicated", "active"],
    )
    assert list(out["action"]) == ["matched", "recurred", "new", "matched"]
    assert list(out["hotspot_id"]) == [100, 101, None, 102]
    np.testing.assert_allclose(out["distance_m"][[0, 1, 3]], [50, 200, 100])
    assert np.isnan(out["distance_m"][2])


def test_radius_sum_widens_matching() -> None:
    out = run([[0, 0]], [150], [[250, 0]], [120], ["active"])
    assert out["action"][0] == "matched"
    out = run([[0, 0]], [50], [[250, 0]], [50], ["active"])
    assert out["action"][0] == "new"


def test_one_to_one_prefers_most_matches_then_shortest() -> None:
    # both clusters near hotspot A; only the second also reaches hotspot B
    out = run([[0, 0], [100, 0]], [10, 10], [[50, 0], [220, 0]], [10, 10], ["active", "confirmed"], ids=["A", "B"])
    assert list(out["hotspot_id"]) == ["A", "B"]
    out = run([[0, 0], [10, 0]], [10, 10], [[5, 0]], [10], ["active"], ids=["A"])
    assert sorted(out["action"]) == ["matched", "new"]


def test_inactive_hotspot_is_not_matched_but_recurs_for_each_cluster() -> None:
    out = run([[0, 0], [0, 250]], [20, 20], [[0, 100]], [20], ["closed"])
    assert list(out["action"]) == ["recurred", "recurred"]
    out = run([[0, 0]], [20], [[0, 100], [0, 0]], [20, 20], ["monitoring", "eradicated"], ids=["far", "near"])
    assert out["hotspot_id"][0] == "near" and out["distance_m"][0] == 0


def test_configurable_distances_and_empty_inputs() -> None:
    rules = MatchRules(match_m=10, recurrence_m=20)
    assert run([[0, 0]], [1], [[15, 0]], [1], ["active"], rules=rules)["action"][0] == "new"
    assert run([[0, 0]], [1], [[15, 0]], [1], ["closed"], rules=rules)["action"][0] == "recurred"
    assert list(run([[0, 0]], [1], [], [], [])["action"]) == ["new"]
    assert run([], [], [[0, 0]], [1], ["active"]).empty
