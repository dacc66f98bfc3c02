"""Matching clusters to registered hotspots: identity kept through drift, merges, splits and recurrences."""

import numpy as np
import shapely

from models.analytics.matching import MatchRules, match_clusters


def run(clusters, c_radius, hotspots, h_radius, status, ids=None, rules=MatchRules(), footprints=False):
    """match_clusters on plain lists (footprints: discs of the radii when asked)."""
    ids = list(range(100, 100 + len(hotspots))) if ids is None else ids
    cxy, hxy = np.array(clusters, float).reshape(-1, 2), np.array(hotspots, float).reshape(-1, 2)
    feet = {}
    if footprints:
        feet = {
            "cluster_footprints": shapely.buffer(shapely.points(cxy), np.array(c_radius, float)),
            "hotspot_footprints": shapely.buffer(shapely.points(hxy), np.array(h_radius, float)),
        }
    return match_clusters(
        cxy,
        np.array(c_radius, float),
        np.array(ids, dtype=object),
        hxy,
        np.array(h_radius, float),
        np.array(status, dtype=object),
        rules,
        **feet,
    )


def test_match_recur_and_new() -> None:
    out = run(
        [[0, 0], [1000, 0], [5000, 5000], [2000, 2000]],
        [30, 30, 30, 30],
        [[40, 30], [1200, 0], [2000, 2100]],
        [30, 30, 30],
        ["detected", "eradicated", "verified"],
    ).clusters
    assert list(out["action"]) == ["matched", "recurred", "new", "matched"]
    assert list(out["hotspot_id"]) == [100, 101, None, 102]
    np.testing.assert_allclose(out["distance_m"][[0, 1, 3]], [50, 200, 100])


def test_radius_sum_widens_matching() -> None:
    assert run([[0, 0]], [150], [[250, 0]], [120], ["detected"]).clusters["action"][0] == "matched"
    assert run([[0, 0]], [50], [[550, 0]], [50], ["detected"]).clusters["action"][0] == "new"


def test_a_drifting_hotspot_keeps_its_identity() -> None:
    # 200 m down the street with ordinary radii: beyond match_m, but the footprints still overlap.
    out = run([[200, 0]], [120], [[0, 0]], [120], ["verified"], footprints=True)
    assert out.clusters["action"][0] == "matched" and out.clusters["hotspot_id"][0] == 100
    # Without footprints (a manual hotspot), a lone cluster within drift_m of a lone hotspot continues it.
    out = run([[250, 0]], [50], [[0, 0]], [50], ["detected"])
    assert out.clusters["action"][0] == "matched" and out.clusters["hotspot_id"][0] == 100
    # …but not a hotspot that another cluster continues.
    out = run([[0, 0], [250, 0]], [30, 30], [[10, 0]], [30], ["detected"]).clusters
    assert list(out["action"]) == ["matched", "new"]


def test_two_hotspots_absorbed_by_one_cluster_merge_with_lineage() -> None:
    out = run([[0, 0]], [150], [[-90, 0], [90, 0]], [60, 60], ["verified", "detected"], ids=["A", "B"], footprints=True)
    assert out.clusters["action"][0] == "matched"
    survivor = out.clusters["hotspot_id"][0]
    absorbed = ({"A", "B"} - {survivor}).pop()
    assert out.merges.to_dict("records") == [{"hotspot_id": absorbed, "into_id": survivor, "cluster": 0}]


def test_one_hotspot_split_into_two_clusters_keeps_the_parent() -> None:
    out = run([[-80, 0], [80, 0]], [50, 50], [[0, 0]], [150], ["assigned"], ids=["A"], footprints=True)
    actions = dict(zip(out.clusters["action"], out.clusters["split_from"]))
    assert set(out.clusters["action"]) == {"matched", "split"} and actions["split"] == "A"
    assert out.clusters.loc[out.clusters["action"] == "matched", "hotspot_id"].item() == "A"
    assert out.merges.empty


def test_a_recurrence_is_recorded_even_when_an_active_hotspot_also_matches() -> None:
    # A cluster 140 m from an active hotspot and 50 m from an eradicated one (the case).
    out = run([[0, 0]], [40], [[140, 0], [0, 50]], [40, 40], ["verified", "eradicated"], ids=["active", "old"])
    assert out.recurrences.to_dict("records") == [
        {"hotspot_id": "old", "cluster": 0, "distance_m": 50.0, "continues": True}
    ]
    assert out.clusters["action"][0] == "recurred" and out.clusters["hotspot_id"][0] == "old"
    assert out.merges.to_dict("records") == [{"hotspot_id": "active", "into_id": "old", "cluster": 0}]
    # The other way round the active hotspot continues, and the recurrence is still recorded.
    out = run([[0, 0]], [40], [[20, 0], [0, 250]], [40, 40], ["verified", "closed"], ids=["active", "old"])
    assert out.clusters["hotspot_id"][0] == "active"
    assert out.recurrences.to_dict("records") == [
        {"hotspot_id": "old", "cluster": 0, "distance_m": 250.0, "continues": False}
    ]
    assert out.merges.to_dict("records") == [{"hotspot_id": "old", "into_id": "active", "cluster": 0}]


def test_a_cleared_hotspot_recurs_only_at_a_cluster_with_an_incident_after_its_clearing() -> None:
    """Two clusters at two hotspots eradicated on 15/11: the first's incidents all came before (the evidence that made
    it, still in the window: it is continued unchanged), the second's latest after (a recurrence)."""
    out = match_clusters(
        np.array([[0.0, 0.0], [1000.0, 0.0]]),
        np.array([30.0, 30.0]),
        np.array([100, 101], dtype=object),
        np.array([[0.0, 20.0], [1000.0, 20.0]]),
        np.array([30.0, 30.0]),
        np.array(["eradicated", "eradicated"], dtype=object),
        cluster_times=[np.array(["2025-11-10T00:00"], "M8[us]"), np.array(["2025-11-20T00:00"], "M8[us]")],
        hotspot_since=np.array(["2025-11-15T00:00", "2025-11-15T00:00"], "M8[us]"),
    )
    assert list(out.clusters["action"]) == ["matched", "recurred"]
    assert list(out.clusters["hotspot_id"]) == [100, 101]
    assert out.recurrences.to_dict("records") == [
        {"hotspot_id": 101, "cluster": 1, "distance_m": 20.0, "continues": True}
    ]


def test_several_clusters_at_one_cleared_hotspot_split_from_it() -> None:
    out = run([[0, 0], [0, 250]], [20, 20], [[0, 100]], [20], ["closed"]).clusters
    assert sorted(out["action"]) == ["recurred", "split"]
    assert out.loc[out["action"] == "split", "split_from"].item() == 100


def test_dismissed_and_merged_hotspots_are_not_linked() -> None:
    out = run([[0, 0]], [30], [[10, 0], [0, 10]], [30, 30], ["dismissed", "merged"])
    assert out.clusters["action"][0] == "new" and out.merges.empty and out.recurrences.empty


def test_configurable_distances_and_empty_inputs() -> None:
    rules = MatchRules(match_m=10, recurrence_m=20, drift_m=12)
    assert run([[0, 0]], [1], [[15, 0]], [1], ["detected"], rules=rules).clusters["action"][0] == "new"
    assert run([[0, 0]], [1], [[15, 0]], [1], ["closed"], rules=rules).clusters["action"][0] == "recurred"
    assert list(run([[0, 0]], [1], [], [], []).clusters["action"]) == ["new"]
    assert run([], [], [[0, 0]], [1], ["detected"]).clusters.empty
