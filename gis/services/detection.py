"""Hotspot detection run: cluster the window's incidents, match clusters to the register, persist.

Clusters continue the hotspots they overlap (models.analytics.matching): a continued cleared hotspot
is `recurred`, a dormant one wakes up; hotspots absorbed by another's cluster are `merged` into it and
a cluster beside a continued hotspot is split off it (lineage in hotspot_lineage); every cleared
hotspot in reach of a cluster has its recurrence recorded; the rest become new `detected` hotspots,
and detected hotspots with no cluster for `dormant_windows` windows go `dormant`. Every change is an
event of the run.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from sqlalchemy import Connection, text

from gis.store.hotspots import assign_communes, suppression_task_states
from gis.store.incidents import incident_frame, latest_incident_time
from gis.store.selection import IncidentSelection
from gis.store.sql import to_metric
from models.analytics.background import (
    background_threshold,
    cluster_significance,
)
from models.analytics.clusters import HotspotKindRules, summarise_clusters
from models.analytics.dbscan import dbscan
from models.analytics.detection import DetectionParams
from models.analytics.matching import MatchResult, MatchRules, match_clusters
from models.domain.dates import instants_window
from models.domain.hotspot_lifecycle import HOTSPOT_LIFECYCLE, SYSTEM_ROLE, HotspotFacts
from models.domain.state_machine import TransitionError
from models.vocabulary import (
    HOTSPOT_MAY_SLEEP,
    HOTSPOT_RECURRABLE,
    HOTSPOT_TRACKED,
    METRIC_SRID,
    TASK_CLOSED,
    WGS84_SRID,
    HotspotOrigin,
    HotspotStatus,
    LineageKind,
    codes,
)

_TO_LONLAT = Transformer.from_crs(METRIC_SRID, WGS84_SRID, always_xy=True)


@dataclass
class DetectionReport:
    """Counts of one detection run."""

    run_id: int
    window_from: datetime
    window_to: datetime
    incidents: int
    clusters: int
    min_samples: int
    #: Bound on the expected chance clusters at this min_samples (uniform background at the dense quantile).
    expected_spurious: float = 0.0
    #: The same figure estimated on simulated background maps (None without the Monte-Carlo test).
    simulated_spurious: float | None = None
    #: Clusters the Monte-Carlo test found no larger than chance, left out of the register.
    rejected: int = 0
    new: int = 0
    updated: int = 0
    recurred: int = 0
    #: Of the new hotspots, those split off an existing one; hotspots merged into another; gone dormant.
    split: int = 0
    merged: int = 0
    dormant: int = 0
    hotspot_ids: list[int] = field(default_factory=list)

    def summary(self) -> dict:
        return {
            "run_id": self.run_id,
            "window_from": self.window_from.isoformat(),
            "window_to": self.window_to.isoformat(),
            "incidents": self.incidents,
            "min_samples": self.min_samples,
            "expected_spurious": round(self.expected_spurious, 4),
            "simulated_spurious": None if self.simulated_spurious is None else round(self.simulated_spurious, 4),
            "clusters": self.clusters,
            "rejected": self.rejected,
            "new": self.new,
            "updated": self.updated,
            "recurred": self.recurred,
            "split": self.split,
            "merged": self.merged,
            "dormant": self.dormant,
        }


def _register(conn: Connection) -> pd.DataFrame:
    """The hotspots a cluster may continue or recur at, with metric centres and footprints (shapely, or None)."""
    rows = conn.execute(
        text(
            f"SELECT id, status, radius_m, ST_X({to_metric('centroid')}) AS x, ST_Y({to_metric('centroid')}) AS y,"
            f" ST_AsBinary({to_metric('footprint')}) FROM hotspots WHERE status = ANY(:statuses)"
        ),
        {"statuses": list(codes(HOTSPOT_TRACKED | HOTSPOT_RECURRABLE))},
    ).all()
    frame = pd.DataFrame(rows, columns=["id", "status", "radius_m", "x", "y", "footprint"])
    frame["footprint"] = [shapely.from_wkb(bytes(w)) if w is not None else None for w in frame["footprint"]]
    return frame


def _window(conn: Connection, start: datetime | None, end: datetime | None, days: int) -> tuple[datetime, datetime]:
    """Default window: the `days` before the end (default: just after the latest incident)."""
    if end is None:
        latest = latest_incident_time(conn)
        end = (latest + timedelta(seconds=1)) if latest else datetime.now().astimezone()
    start = start or end - timedelta(days=days)
    instants_window(start, end)  # refuses a reversed or empty window before anything is recorded
    return start, end


def run_detection(
    conn: Connection,
    *,
    actor: str,
    start: datetime | None = None,
    end: datetime | None = None,
    params: DetectionParams = DetectionParams(),
    kind_rules: HotspotKindRules = HotspotKindRules(),
) -> DetectionReport:
    """Detect hotspots over a window in the caller's transaction and record the run and its events."""
    start, end = _window(conn, start, end, params.window_days)
    incidents = incident_frame(conn, IncidentSelection(start=start, end=end, kinds=params.kinds))
    x, y = incidents["x"].to_numpy(float), incidents["y"].to_numpy(float)
    threshold = background_threshold(
        x, y, params.eps_m, spurious=params.spurious_per_map, min_samples=params.min_samples
    )
    min_samples = threshold.min_samples
    labels = dbscan(x, y, params.eps_m, min_samples) if len(incidents) else np.zeros(0, int)
    found = int(labels.max()) + 1 if labels.size else 0
    simulated = None
    if params.simulations and found:
        test = cluster_significance(x, y, labels, params.eps_m, min_samples, params.simulations)
        simulated = test.expected_spurious
        labels = _keep_significant(labels, test.p_value <= params.cluster_alpha)
    clusters = summarise_clusters(
        x, y, labels, times=incidents["occurred_at"].to_numpy(), kinds=incidents["kind"].to_numpy(), rules=kind_rules
    )
    run_id = conn.execute(
        text(
            "INSERT INTO detection_runs (actor, window_from, window_to, params, n_clusters, n_new, n_updated, n_recurred)"
            " VALUES (:a, :f, :t, CAST(:p AS jsonb), :n, 0, 0, 0) RETURNING id"
        ),
        {
            "a": actor,
            "f": start,
            "t": end,
            "p": json.dumps({**asdict(params), "min_samples": min_samples}),
            "n": len(clusters),
        },
    ).scalar_one()
    report = DetectionReport(
        run_id=run_id,
        window_from=start,
        window_to=end,
        incidents=len(incidents),
        clusters=len(clusters),
        min_samples=min_samples,
        expected_spurious=threshold.expected_spurious,
        simulated_spurious=simulated,
        rejected=found - len(clusters),
    )
    if len(clusters):
        register = _register(conn)
        matches = match_clusters(
            clusters[["x", "y"]].to_numpy(),
            clusters["radius_m"].to_numpy(),
            register["id"].to_numpy(),
            register[["x", "y"]].to_numpy(),
            register["radius_m"].to_numpy(),
            register["status"].to_numpy(),
            MatchRules(match_m=params.match_m, recurrence_m=params.recurrence_m, drift_m=params.drift_m),
            cluster_footprints=clusters.geometry.to_numpy(),
            hotspot_footprints=register["footprint"].to_numpy(),
        )
        ids = _persist(conn, clusters, matches, run_id, report)
        _store_membership(conn, incidents["id"].to_numpy(), labels, clusters["cluster"].to_numpy(), ids)
        report.hotspot_ids = [int(i) for i in ids]
    report.dormant = _put_to_sleep(conn, report, end - timedelta(days=params.dormant_windows * params.window_days))
    conn.execute(
        text("UPDATE detection_runs SET n_new = :n, n_updated = :u, n_recurred = :r WHERE id = :id"),
        {"n": report.new, "u": report.updated, "r": report.recurred, "id": run_id},
    )
    return report


def _keep_significant(labels: np.ndarray, significant: np.ndarray) -> np.ndarray:
    """Labels with the clusters that failed the test turned into noise and the rest renumbered 0..k−1."""
    kept = np.flatnonzero(significant)
    renumber = np.full(significant.size, -1)
    renumber[kept] = np.arange(kept.size)
    return np.where(labels >= 0, renumber[np.maximum(labels, 0)], -1)


def _cluster_rows(clusters: pd.DataFrame) -> list[dict]:
    """Cluster summaries as bound parameters (WGS84 WKT, kind counts as JSON)."""
    lon, lat = _TO_LONLAT.transform(clusters["x"].to_numpy(), clusters["y"].to_numpy())
    footprints = shapely.to_wkt(
        shapely.transform(
            clusters.geometry.to_numpy(), lambda xy: np.column_stack(_TO_LONLAT.transform(xy[:, 0], xy[:, 1]))
        ),
        rounding_precision=7,
    )
    kind_cols = [c for c in clusters.columns if c.startswith("n_")]
    kinds = [json.dumps({c[2:]: int(v) for c, v in zip(kind_cols, row) if v}) for row in clusters[kind_cols].to_numpy()]
    return [
        {
            "kind": k,
            "n": int(n),
            "kinds": kd,
            "first": f,
            "last": last,
            "radius": float(r),
            "centroid": f"POINT({lo:.7f} {la:.7f})",
            "footprint": fp,
        }
        for k, n, kd, f, last, r, lo, la, fp in zip(
            clusters["hotspot_kind"],
            clusters["n"],
            kinds,
            pd.to_datetime(clusters["first_time"], utc=True),
            pd.to_datetime(clusters["last_time"], utc=True),
            clusters["radius_m"],
            lon,
            lat,
            footprints,
        )
    ]


_INSERT_HOTSPOT = text(f"""
INSERT INTO hotspots (status, kind, origin, n_incidents, kinds, first_seen, last_seen, radius_m, version,
                      last_run_id, centroid, footprint)
VALUES ('{HotspotStatus.DETECTED}', :kind, '{HotspotOrigin.DETECTION}', :n, CAST(:kinds AS jsonb), :first, :last, :radius, 1, :run,
        ST_GeomFromText(:centroid, 4326), ST_GeomFromText(:footprint, 4326))
RETURNING id
""")
_UPDATE_HOTSPOT = text("""
UPDATE hotspots SET kind = :kind, n_incidents = :n, kinds = CAST(:kinds AS jsonb),
    first_seen = least(first_seen, :first), last_seen = greatest(last_seen, :last), radius_m = :radius,
    last_run_id = :run, centroid = ST_GeomFromText(:centroid, 4326), footprint = ST_GeomFromText(:footprint, 4326),
    status = :status,
    status_changed_at = CASE WHEN :changed THEN now() ELSE status_changed_at END,
    version = version + CASE WHEN :changed THEN 1 ELSE 0 END
WHERE id = :id
RETURNING id, status
""")
_EVENT = text("""
INSERT INTO hotspot_events (hotspot_id, actor, event, from_status, to_status, note, run_id, details)
VALUES (:id, :actor, :event, :from_status, :to_status, :note, :run, CAST(:details AS jsonb))
""")


_SET_STATUS = text("""
UPDATE hotspots SET status = :to, status_changed_at = now(), version = version + 1 WHERE id = :id
""")
_LINEAGE = text("""
INSERT INTO hotspot_lineage (kind, parent_id, child_id, run_id) VALUES (:kind, :parent, :child, :run)
""")


def _persist(
    conn: Connection, clusters: pd.DataFrame, matches: MatchResult, run_id: int, report: DetectionReport
) -> np.ndarray:
    """Apply a run's matching to the register: new and split hotspots, continuations (reactivating dormant ones,
    reopening cleared ones), recorded recurrences and merges, with one event per change and the lineage."""
    rows = _cluster_rows(clusters)
    plan = matches.clusters
    involved = [*plan["hotspot_id"].dropna(), *matches.merges["hotspot_id"], *matches.recurrences["hotspot_id"]]
    previous: dict[int, str] = dict(
        conn.execute(
            text("SELECT id, status FROM hotspots WHERE id = ANY(:ids)"), {"ids": sorted({int(i) for i in involved})}
        ).all()
    )
    system = HotspotFacts(actor_role=SYSTEM_ROLE)
    ids = np.zeros(len(rows), dtype=np.int64)
    events: list[dict] = []
    lineage: list[dict] = []

    def event(hotspot: int, name: str, source: str | None, target: str | None, note: str | None, details: dict) -> None:
        events.append(
            {
                "id": hotspot,
                "event": name,
                "from_status": source,
                "to_status": target,
                "note": note,
                "details": json.dumps(details),
            }
        )

    for i, (row, action, hotspot_id, parent) in enumerate(
        zip(rows, plan["action"], plan["hotspot_id"], plan["split_from"])
    ):
        details = {"n_incidents": row["n"], "radius_m": round(row["radius"], 1)}
        if action in ("new", "split"):
            ids[i] = conn.execute(_INSERT_HOTSPOT, {**row, "run": run_id}).scalar_one()
            if action == "split":
                details["split_from"] = int(parent)
                lineage.append({"kind": LineageKind.SPLIT, "parent": int(parent), "child": int(ids[i])})
                report.split += 1
            report.new += 1
            created = "phát hiện qua phân cụm (found by clustering)"
            if action == "split":
                created = f"tách ra từ điểm #{int(parent)} (split off hotspot {int(parent)})"
            event(int(ids[i]), "created", None, HotspotStatus.DETECTED, created, details)
            continue
        hotspot, old = int(hotspot_id), previous[int(hotspot_id)]
        recur = action == "recurred"
        target = HotspotStatus.RECURRED if recur else HotspotStatus.DETECTED if old == HotspotStatus.DORMANT else old
        if target != old:  # the lifecycle decides: only detection reopens or wakes a hotspot, only from these
            HOTSPOT_LIFECYCLE.check(old, target, system)
        ids[i] = conn.execute(
            _UPDATE_HOTSPOT, {**row, "run": run_id, "id": hotspot, "status": target, "changed": target != old}
        ).one()[0]
        name = "recurred" if recur else "reactivated" if target != old else "updated"
        note = {
            "recurred": "phức tạp trở lại (recurred at a cleared hotspot)",
            "reactivated": "có cụm vụ việc trở lại (a cluster again at a dormant hotspot)",
        }.get(name)
        event(hotspot, name, old, target, note, details)
        report.recurred += recur
        report.updated += not recur

    for _, rec in matches.recurrences[~matches.recurrences["continues"]].iterrows():
        # Recorded though another hotspot continues the cluster: the place is not kept clean.
        into = int(ids[int(rec["cluster"])])
        hotspot = int(rec["hotspot_id"])
        note = f"phức tạp trở lại, gộp vào điểm #{into} (recurred; the cluster continues hotspot {into})"
        event(hotspot, "recurred", previous[hotspot], None, note, {"distance_m": round(rec["distance_m"], 1)})
        report.recurred += 1
    for _, merge in matches.merges.iterrows():
        hotspot, into = int(merge["hotspot_id"]), int(ids[int(merge["cluster"])])
        old = previous[hotspot]
        if HotspotStatus.MERGED not in HOTSPOT_LIFECYCLE.allowed(old):
            continue  # a recurred hotspot waits for its task (recurred → assigned) and is not merged
        tasks = suppression_task_states(conn, hotspot)
        try:
            HOTSPOT_LIFECYCLE.check(old, HotspotStatus.MERGED, replace(system, task_state=tasks[-1] if tasks else None))
        except TransitionError:
            continue  # a hotspot with a task under way keeps its identity until the task ends
        conn.execute(_SET_STATUS, {"id": hotspot, "to": HotspotStatus.MERGED})
        note = f"gộp vào điểm #{into} (merged into hotspot {into})"
        event(hotspot, "merged", old, HotspotStatus.MERGED, note, {"into": into})
        lineage.append({"kind": LineageKind.MERGE, "parent": hotspot, "child": into})
        report.merged += 1
    conn.execute(_EVENT, [{**e, "actor": f"detection run {run_id}", "run": run_id} for e in events])
    if lineage:
        conn.execute(_LINEAGE, [{**item, "run": run_id} for item in lineage])
    assign_communes(conn, [int(i) for i in ids])
    return ids


def _put_to_sleep(conn: Connection, report: DetectionReport, cutoff: datetime) -> int:
    """Detected hotspots without a cluster since ``cutoff`` (and not touched by this run) go dormant."""
    rows = conn.execute(
        text(f"""
        WITH sleeping AS (
            SELECT id, status FROM hotspots
            WHERE status = ANY(:from) AND origin = '{HotspotOrigin.DETECTION}'
              AND coalesce(last_seen, created_at) < :cutoff AND NOT (id = ANY(:touched))
              AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.hotspot_id = hotspots.id AND t.state <> ALL(:closed))
            FOR UPDATE
        ), moved AS (
            UPDATE hotspots h SET status = '{HotspotStatus.DORMANT}', status_changed_at = now(), version = h.version + 1
            FROM sleeping s WHERE h.id = s.id RETURNING h.id
        )
        SELECT s.id, s.status FROM sleeping s JOIN moved m USING (id)"""),
        {
            "from": list(codes(HOTSPOT_MAY_SLEEP)),
            "cutoff": cutoff,
            "touched": report.hotspot_ids,
            "closed": list(codes(TASK_CLOSED)),
        },
    ).all()
    for _, old in rows:
        HOTSPOT_LIFECYCLE.check(old, HotspotStatus.DORMANT, HotspotFacts(actor_role=SYSTEM_ROLE))
    if rows:
        note = f"không còn cụm vụ việc từ {cutoff:%d/%m/%Y} (no cluster since {cutoff.date().isoformat()})"
        conn.execute(
            _EVENT,
            [
                {
                    "id": int(hotspot),
                    "event": "dormant",
                    "from_status": old,
                    "to_status": HotspotStatus.DORMANT,
                    "note": note,
                    "run": report.run_id,
                    "actor": f"detection run {report.run_id}",
                    "details": "{}",
                }
                for hotspot, old in rows
            ],
        )
    return len(rows)


def _store_membership(
    conn: Connection, incident_ids: np.ndarray, labels: np.ndarray, cluster_codes: np.ndarray, hotspot_ids: np.ndarray
) -> None:
    """Replace the incident lists of the touched hotspots with this run's clusters."""
    clustered = labels >= 0
    owner = hotspot_ids[np.searchsorted(cluster_codes, labels[clustered])]
    conn.execute(
        text("DELETE FROM hotspot_incidents WHERE hotspot_id = ANY(:ids)"), {"ids": [int(i) for i in hotspot_ids]}
    )
    conn.execute(
        text(
            "INSERT INTO hotspot_incidents (hotspot_id, incident_id)"
            " SELECT * FROM unnest(CAST(:h AS int[]), CAST(:i AS bigint[])) ON CONFLICT DO NOTHING"
        ),
        {"h": owner.tolist(), "i": incident_ids[clustered].tolist()},
    )
