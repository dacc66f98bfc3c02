"""Hotspot detection run: cluster the window's incidents, match clusters to the register, persist.

Clusters continue the hotspots they overlap (models.analytics.matching): a continued cleared hotspot
is `recurred` when the cluster's incidents after the clearing would form a cluster alone (the run's min_samples of
them; the recurrence dated by the first, so that it counts in the year it happened, not the year of the run), a
dormant one wakes up; hotspots absorbed by another's cluster are `merged` into it and
a cluster beside a continued hotspot is split off it (lineage in hotspot_lineage); every cleared
hotspot in reach of such a cluster has its recurrence recorded; the rest become new `detected` hotspots,
and detected hotspots with no cluster for `dormant_windows` windows go `dormant`. Every change is an
event of the run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from sqlalchemy import Connection, text

from gis.store.hotspots import assign_communes, replace_members, suppression_task_states
from gis.store.import_runs import dry_run_savepoint
from gis.store.incidents import incident_frame, latest_incident_time
from gis.store.scoping import AreaScope, units_outside
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
from models.domain.dates import DayWindow, instants_window, last_days, local_day, vn_day
from models.domain.hotspot_lifecycle import HOTSPOT_LIFECYCLE, SYSTEM_ROLE, HotspotFacts
from models.domain.state_machine import TransitionError
from models.errors import Conflict, InvalidRequest, PermissionDenied
from models.numbers import vn_number
from models.vocabulary import (
    DETECTION_CHECK,
    DRY_RUN_NOTICE,
    HOTSPOT_MAY_SLEEP,
    HOTSPOT_RECURRABLE,
    HOTSPOT_TRACKED,
    METRIC_SRID,
    RECURRED_WORDS,
    TASK_CLOSED,
    WGS84_SRID,
    HotspotKind,
    HotspotOrigin,
    HotspotStatus,
    LineageKind,
    codes,
    local_today,
)

_TO_LONLAT = Transformer.from_crs(METRIC_SRID, WGS84_SRID, always_xy=True)
#: The smallest step of time: a half-open window's last instant is its end minus this.
_INSTANT = timedelta(microseconds=1)
#: The advisory lock that keeps runs writing to the register one at a time (beside gis.store.db's migration lock,
#: 7_312_025, the indicator imports', 7_312_027, and the boundary imports', 7_312_028).
_RUN_LOCK = 7_312_029


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
    #: Continued hotspots this run changed, and those it found as they were (nothing written for them).
    updated: int = 0
    unchanged: int = 0
    recurred: int = 0
    #: Of the new hotspots, those split off an existing one; hotspots merged into another; gone dormant.
    split: int = 0
    merged: int = 0
    dormant: int = 0
    hotspot_ids: list[int] = field(default_factory=list)
    #: Seconds spent reading the window's incidents, clustering and matching them, and writing the results.
    seconds: dict[str, float] = field(default_factory=dict)
    #: A dry run: what the run would do, nothing recorded (``run_id`` was drawn and is skipped).
    dry_run: bool = False

    def summary(self) -> dict:
        """The counts as JSON-ready values (a dry run's with ``"dry_run": true`` and no run number: the one it drew was
        rolled back with it, and a script had taken it for a run recorded)."""
        return {
            "run_id": None if self.dry_run else self.run_id,
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
            "unchanged": self.unchanged,
            "recurred": self.recurred,
            "split": self.split,
            "merged": self.merged,
            "dormant": self.dormant,
            **({"dry_run": True} if self.dry_run else {}),
        }

    def lines(self) -> list[str]:
        """The report in Vietnamese, as the command line prints it and the command page shows it: what the run found
        and changed in the register, then how many of its clusters chance alone would make."""
        which = "kiểm tra" if self.dry_run else f"lần chạy #{self.run_id}"
        simulated = (
            f"; mô phỏng: {vn_number(self.simulated_spurious, fixed=True)}"
            if self.simulated_spurious is not None
            else ""
        )
        return [
            *([DRY_RUN_NOTICE] if self.dry_run else []),
            f"Phát hiện điểm nóng ({which}, {instants_window(self.window_from, self.window_to)}):"
            f" {vn_number(self.incidents)} vụ việc, ngưỡng {vn_number(self.min_samples)} vụ/cụm,"
            f" {vn_number(self.clusters)} cụm; mới {vn_number(self.new)}, cập nhật {vn_number(self.updated)},"
            f" không đổi {vn_number(self.unchanged)}, {RECURRED_WORDS} {vn_number(self.recurred)};"
            f" tách {vn_number(self.split)}, gộp {vn_number(self.merged)}, tạm lắng {vn_number(self.dormant)}",
            f"Số cụm giả (do ngẫu nhiên) dự kiến trên bản đồ này: ≤ {vn_number(self.expected_spurious, 3, fixed=True)}"
            f"{simulated}; {vn_number(self.rejected)} cụm không vượt nền ngẫu nhiên đã bị loại",
        ]


def _register(conn: Connection) -> pd.DataFrame:
    """The hotspots a cluster may continue or recur at, with metric centres and footprints (shapely, or None) and
    the instant each entered its status (``since``, UTC; for a cleared one, when it was cleared)."""
    rows = conn.execute(
        text(
            f"SELECT id, status, radius_m, ST_X({to_metric('centroid')}) AS x, ST_Y({to_metric('centroid')}) AS y,"
            f" ST_AsBinary({to_metric('footprint')}), status_changed_at FROM hotspots WHERE status = ANY(:statuses)"
        ),
        {"statuses": list(codes(HOTSPOT_TRACKED | HOTSPOT_RECURRABLE))},
    ).all()
    frame = pd.DataFrame(rows, columns=["id", "status", "radius_m", "x", "y", "footprint", "since"])
    frame["footprint"] = [shapely.from_wkb(bytes(w)) if w is not None else None for w in frame["footprint"]]
    frame["since"] = _utc64(frame["since"])
    return frame


def _utc64(values: Iterable[Any]) -> np.ndarray:
    """Instants (aware datetimes or Timestamps) as naive UTC datetime64, comparable with each other."""
    return pd.to_datetime(pd.Series(list(values), dtype=object), utc=True).dt.tz_localize(None).to_numpy("M8[us]")


def _recurrence_time(
    incidents: pd.DataFrame, labels: np.ndarray, clusters: pd.DataFrame, register: pd.DataFrame
) -> Callable[[int, int], str]:
    """When a cleared hotspot recurred at a cluster (its row): the cluster's first incident after the clearing."""
    times = _utc64(incidents["occurred_at"])
    since = dict(zip(register["id"].astype(int), register["since"]))

    def first_after(cluster: int, hotspot: int) -> str:
        mine = times[(labels == clusters["cluster"].iloc[cluster]) & (times > since[hotspot])]
        return pd.Timestamp(mine.min(), tz="UTC").isoformat()

    return first_after


def _window(conn: Connection, start: datetime | None, end: datetime | None, days: int) -> tuple[datetime, datetime]:
    """The run's window: by default the `days` Hải Phòng days (:func:`last_days`) ending on the day of ``end`` (by
    default, on the day of the latest incident, that day whole; none: today), as the command line and every caller
    read `days`."""
    if end is None:
        latest = latest_incident_time(conn)
        last = local_day(latest) if latest else local_today()
        end = DayWindow(last, last).end
    elif local_day(end - _INSTANT) > local_today():
        # A run recorded over a window ending in 2062 (2026 mistyped) would refuse every later run until then.
        raise InvalidRequest(
            f"ngày cuối {vn_day(end - _INSTANT)} chưa đến (hôm nay là ngày {vn_day(local_today())}): không có vụ việc"
            " nào để gom cụm",
            "the window ends after today",
        )
    start = start or last_days(local_day(end - _INSTANT), days).start
    instants_window(start, end)  # refuses a reversed or empty window before anything is recorded
    return start, end


def _refuse_going_back(conn: Connection, end: datetime, check: str) -> None:
    """Refuse a run writing to the register over a window that ends before the latest run's: its clusters would
    rewrite today's register from older incidents (wake dormant hotspots, recreate closed ones, take back incidents
    from before an eradication) and date those changes after newer ones. A dry run may look at any window."""
    latest = conn.execute(
        text("SELECT id, window_to FROM detection_runs ORDER BY window_to DESC, id DESC LIMIT 1")
    ).first()
    if latest is not None and end < latest.window_to:
        asked, recorded = vn_day(end - _INSTANT), vn_day(latest.window_to - _INSTANT)
        raise Conflict(
            f"khoảng thời gian kết thúc ngày {asked}, trước ngày {recorded} mà lần chạy #{latest.id} đã ghi vào sổ"
            f" theo dõi: lần chạy ghi vào sổ không được lùi về trước lần chạy gần nhất. Để xem một khoảng thời gian"
            f" đã qua, hãy {check}: không ghi gì vào sổ",
            f"a run writing to the register must not end ({asked}) before the latest run's window ({recorded},"
            f" run {latest.id}); a dry run may look at any window",
        )


def _wait_for_other_runs(conn: Connection, waiting: Callable[[], None] | None) -> None:
    """Take the lock of runs that write (:data:`_RUN_LOCK`, held to the end of the transaction), after ``waiting``
    when another run holds it."""
    free = conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _RUN_LOCK}).scalar_one()
    if not free:
        if waiting is not None:
            waiting()
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _RUN_LOCK})


def run_detection(
    conn: Connection,
    *,
    actor: str,
    start: datetime | None = None,
    end: datetime | None = None,
    params: DetectionParams = DetectionParams(),
    kind_rules: HotspotKindRules = HotspotKindRules(),
    recorded_at: datetime | None = None,
    dry_run: bool = False,
    waiting: Callable[[], None] | None = None,
    check: str = "chạy thử (--dry-run)",
) -> DetectionReport:
    """Detect hotspots over a window in the caller's transaction and record the run and its events.

    The window (default: :func:`_window`) may not end before the latest recorded run's (:func:`_refuse_going_back`),
    so that the register and its histories move forward in time; a dry run (``dry_run``) may look at any window: the
    same run in a savepoint rolled back, its report what it would do, nothing left recorded (its numbers drawn apart:
    :func:`_number_apart`). `recorded_at`: the instant the run, its events and the status changes it makes are dated by (None: the
    transaction's). The demo replays a run of the past at its window's end, so that a hotspot's history, whose field
    work it records at its own dates, reads in order from the detection on.

    Runs that write go one at a time (an advisory lock until the caller's transaction ends, taken before anything is
    read): two at once (a scheduled run and an operator's) both found the register without the other's hotspots and
    added the same clusters twice; the second now waits for the first to commit, then reads the register it left (its
    default window, the refusal of a window going back, its matching), as if started after it. A dry run takes no
    lock: it records nothing. ``waiting`` is called once when the run has to wait (the command line says so); ``check``:
    what the refusal of a window going back names a dry run (the command line's option, the page's button). A window
    ending after today is refused (InvalidRequest): recorded, it would refuse every run until that day."""
    if not dry_run:
        _wait_for_other_runs(conn, waiting)
    start, end = _window(conn, start, end, params.window_days)
    if not dry_run:
        _refuse_going_back(conn, end, check)
    with dry_run_savepoint(conn, dry_run):
        if dry_run:
            _number_apart(conn)
        report = _detect(conn, actor, start, end, params, kind_rules, recorded_at)
    report.dry_run = dry_run
    return report


def detect_for_user(
    conn: Connection, actor: str, scope: AreaScope, days: int, last_day: date | None, dry_run: bool
) -> DetectionReport:
    """A run started from the command page (`POST /api/hotspots/detection`): the command line's default parameters
    over the last ``days`` days ending on ``last_day`` (by default the latest incident's day), recorded under
    ``actor``; ``dry_run``: what it would do, nothing recorded. A run clusters every incident in the database, so a
    command user limited to a province starts one only where no unit lies outside it (PermissionDenied: it would
    change the other provinces' registers). A run that writes while another one writes is refused (Conflict) instead
    of waiting as the command line does: an answer held back for the other run's minutes would look like a failure."""
    outside = units_outside(conn, scope)
    if outside:
        raise PermissionDenied(
            f"lần chạy phát hiện điểm nóng gồm cả {outside} đơn vị ngoài tỉnh, thành phố của bạn: chỉ ban chỉ huy cấp"
            " toàn quốc được chạy",
            "detection covers units outside the user's province",
        )

    def refuse() -> None:
        raise Conflict(
            "Một lần chạy phát hiện khác đang ghi vào sổ theo dõi: hãy chạy lại khi lần chạy đó xong",
            "another detection run is writing to the register",
        )

    end = DayWindow(last_day, last_day).end if last_day else None
    params = DetectionParams(window_days=days)
    check = f"bấm «{DETECTION_CHECK}»"
    return run_detection(conn, actor=actor, end=end, params=params, dry_run=dry_run, waiting=refuse, check=check)


def _detect(
    conn: Connection,
    actor: str,
    start: datetime,
    end: datetime,
    params: DetectionParams,
    kind_rules: HotspotKindRules,
    recorded_at: datetime | None,
) -> DetectionReport:
    """The run of :func:`run_detection` over its window: cluster, match, write the register, the run and its events."""
    started = time.perf_counter()
    incidents = incident_frame(conn, IncidentSelection(start=start, end=end, kinds=params.kinds))
    read = time.perf_counter()
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
    register = _register(conn) if len(clusters) else None
    matches = None if register is None else _match(clusters, register, params, min_samples, incidents, labels)
    clustered = time.perf_counter()
    run_id = conn.execute(
        text(
            "INSERT INTO detection_runs (id, started_at, actor, window_from, window_to, params, n_clusters, n_new,"
            f" n_updated, n_recurred) VALUES ({_next_id('detection_runs')}, {_AT}, :a, :f, :t, CAST(:p AS jsonb), :n,"
            " 0, 0, 0) RETURNING id"
        ),
        {
            "a": actor,
            "f": start,
            "t": end,
            "p": json.dumps({**asdict(params), "min_samples": min_samples}),
            "n": len(clusters),
            "recorded_at": recorded_at,
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
    if register is not None and matches is not None:
        recurred_at = _recurrence_time(incidents, labels, clusters, register)
        ids = _persist(conn, clusters, matches, run_id, report, recurred_at, recorded_at)
        _store_membership(conn, incidents["id"].to_numpy(), labels, clusters["cluster"].to_numpy(), ids)
        report.hotspot_ids = [int(i) for i in ids]
    cutoff = end - timedelta(days=params.dormant_windows * params.window_days)
    report.dormant = _put_to_sleep(conn, report, cutoff, recorded_at)
    conn.execute(
        text("UPDATE detection_runs SET n_new = :n, n_updated = :u, n_recurred = :r WHERE id = :id"),
        {"n": report.new, "u": report.updated, "r": report.recurred, "id": run_id},
    )
    report.seconds = {
        "reading": read - started,
        "clustering": clustered - read,
        "writing": time.perf_counter() - clustered,
    }
    return report


def _match(
    clusters: pd.DataFrame,
    register: pd.DataFrame,
    params: DetectionParams,
    min_samples: int,
    incidents: pd.DataFrame,
    labels: np.ndarray,
) -> MatchResult:
    """This run's clusters resolved against the hotspot register (continuations, recurrences, merges, splits); a
    cleared hotspot recurs where the incidents after its clearing would form a cluster alone (`min_samples`)."""
    order = np.argsort(labels, kind="stable")
    codes = clusters["cluster"].to_numpy()
    bounds = zip(np.searchsorted(labels[order], codes, "left"), np.searchsorted(labels[order], codes, "right"))
    times = _utc64(incidents["occurred_at"])[order]
    rules = MatchRules(
        match_m=params.match_m, recurrence_m=params.recurrence_m, drift_m=params.drift_m, recurrence_min=min_samples
    )
    return match_clusters(
        clusters[["x", "y"]].to_numpy(),
        clusters["radius_m"].to_numpy(),
        register["id"].to_numpy(),
        register[["x", "y"]].to_numpy(),
        register["radius_m"].to_numpy(),
        register["status"].to_numpy(),
        rules,
        cluster_footprints=clusters.geometry.to_numpy(),
        hotspot_footprints=register["footprint"].to_numpy(),
        cluster_times=[times[a:b] for a, b in bounds],
        hotspot_since=register["since"].to_numpy(),
    )


def _keep_significant(labels: np.ndarray, significant: np.ndarray) -> np.ndarray:
    """Labels with the clusters that failed the test turned into noise and the rest renumbered 0..k−1."""
    kept = np.flatnonzero(significant)
    renumber = np.full(significant.size, -1)
    renumber[kept] = np.arange(kept.size)
    return np.where(labels >= 0, renumber[np.maximum(labels, 0)], -1)


def _cluster_rows(clusters: pd.DataFrame) -> list[dict]:
    """Cluster summaries as JSON-ready rows (WGS84 WKT, kind counts, ISO instants)."""
    lon, lat = _TO_LONLAT.transform(clusters["x"].to_numpy(), clusters["y"].to_numpy())
    footprints = shapely.to_wkt(
        shapely.transform(
            clusters.geometry.to_numpy(), lambda xy: np.column_stack(_TO_LONLAT.transform(xy[:, 0], xy[:, 1]))
        ),
        rounding_precision=7,
    )
    kind_cols = [c for c in clusters.columns if c.startswith("n_")]
    kinds = [{c[2:]: int(v) for c, v in zip(kind_cols, row) if v} for row in clusters[kind_cols].to_numpy()]
    return [
        {
            "kind": k,
            "n": int(n),
            "kinds": kd,
            "first": f.isoformat(),
            "last": last.isoformat(),
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


#: The columns of a cluster row (see _cluster_rows) as jsonb_to_recordset reads them.
_ROW = (
    "kind text, n int, kinds jsonb, first timestamptz, last timestamptz, radius float8, centroid text, footprint text"
)
#: When a run's writes are dated: the run's `recorded_at`, else the transaction's time.
_AT = "coalesce(CAST(:recorded_at AS timestamptz), now())"


def _next_id(table: str) -> str:
    """SQL drawing the next id of ``table``: from its own sequence, or in a dry run from the run's stand-in
    (:func:`_number_apart`)."""
    return (
        f"nextval(coalesce(to_regclass('pg_temp.{_DRY_RUN_IDS.format(table)}'),"
        f" CAST(pg_get_serial_sequence('{table}', 'id') AS regclass)))"
    )


#: The stand-in sequence of a dry run for a table's ids (a temporary sequence of the run's savepoint).
_DRY_RUN_IDS = "dry_run_{}_ids"


def _number_apart(conn: Connection) -> None:
    """In a dry run's savepoint: the run and the hotspots it would make are numbered by temporary sequences that start
    where the register's stand, and go with the savepoint. Sequences are never rolled back, so that each «Chạy thử»
    took a run number and as many hotspot numbers as it found new clusters: the demo's register jumped from #26 to
    #36 after a few, which read as nine hotspots deleted. The report still names the numbers a run made now would
    give."""
    for table in ("detection_runs", "hotspots"):
        start = conn.execute(
            text(
                f"SELECT coalesce(pg_sequence_last_value(CAST(pg_get_serial_sequence('{table}', 'id') AS regclass)), 0)"
            )
        ).scalar_one()
        conn.execute(text(f"CREATE TEMP SEQUENCE {_DRY_RUN_IDS.format(table)} START WITH {int(start) + 1}"))


#: New hotspots in one statement; ids drawn first, so that each comes back beside its row's position.
_INSERT_HOTSPOTS = text(f"""
WITH r AS MATERIALIZED (
    SELECT r.*, {_next_id("hotspots")}::int AS id
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(at int, {_ROW})),
ins AS (
    INSERT INTO hotspots (id, status, kind, origin, n_incidents, kinds, first_seen, last_seen, radius_m, version,
                          last_run_id, centroid, footprint, created_at, status_changed_at)
    SELECT id, '{HotspotStatus.DETECTED}', kind, '{HotspotOrigin.DETECTION}', n, kinds, first, last, radius, 1, :run,
           ST_GeomFromText(centroid, 4326), ST_GeomFromText(footprint, 4326), {_AT}, {_AT} FROM r)
SELECT at, id FROM r
""")
#: Continued hotspots in one statement, each written only if the run changes it; the ids written. A status the run
#: changes is dated by the row's ``changed_at`` (a recurrence: its first incident after the clearing), else the run's.
#: ``first_seen`` is set once: the first incident of the cluster that entered the hotspot in the register (for one
#: reported by hand, of the first cluster that continues it); a later run over a wider window does not move it back,
#: which would make the hotspot «new» in another period and active in earlier years (the past's KPIs and
#: classification rewritten by the window an operator chose).
_UPDATE_HOTSPOTS = text(f"""
WITH n AS (
    SELECT r.id, r.status, r.changed_at, r.kind, r.n, r.kinds, coalesce(h.first_seen, r.first) AS first_seen,
           greatest(h.last_seen, r.last) AS last_seen, r.radius, ST_GeomFromText(r.centroid, 4326) AS centroid,
           ST_GeomFromText(r.footprint, 4326) AS footprint, r.status <> h.status AS changed
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(id int, status text, changed_at timestamptz, {_ROW})
    JOIN hotspots h ON h.id = r.id)
UPDATE hotspots h SET kind = n.kind, n_incidents = n.n, kinds = n.kinds, first_seen = n.first_seen,
    last_seen = n.last_seen, radius_m = n.radius, last_run_id = :run, centroid = n.centroid, footprint = n.footprint,
    status = n.status,
    status_changed_at = CASE WHEN n.changed THEN coalesce(n.changed_at, {_AT}) ELSE h.status_changed_at END,
    version = h.version + CASE WHEN n.changed THEN 1 ELSE 0 END
FROM n
WHERE h.id = n.id AND (h.kind, h.n_incidents, h.kinds, h.first_seen, h.last_seen, h.radius_m, h.status,
                       ST_AsBinary(h.centroid), ST_AsBinary(h.footprint))
    IS DISTINCT FROM (n.kind, n.n, n.kinds, n.first_seen, n.last_seen, n.radius, n.status,
                      ST_AsBinary(n.centroid), ST_AsBinary(n.footprint))
RETURNING h.id
""")
#: Events of a run in one statement.
_EVENTS = text(f"""
INSERT INTO hotspot_events (hotspot_id, actor, event, from_status, to_status, note, run_id, details, at)
SELECT e.id, :actor, e.event, e.from_status, e.to_status, e.note, :run, e.details, coalesce(e.at, {_AT})
FROM jsonb_to_recordset(CAST(:rows AS jsonb))
    AS e(id int, event text, from_status text, to_status text, note text, details jsonb, at timestamptz)
""")
_SET_STATUS = text(f"""
UPDATE hotspots SET status = :to, status_changed_at = {_AT}, version = version + 1 WHERE id = :id
""")
_LINEAGE = text(f"""
INSERT INTO hotspot_lineage (kind, parent_id, child_id, run_id, at) VALUES (:kind, :parent, :child, :run, {_AT})
""")


def _event(
    hotspot: int,
    name: str,
    source: str | None,
    target: str | None,
    note: str | None,
    details: dict,
    at: str | None = None,
) -> dict:
    """One event row of the run, at ``at`` (ISO; None: the run's time)."""
    return {
        "id": hotspot,
        "event": name,
        "from_status": source,
        "to_status": target,
        "note": note,
        "details": details,
        "at": at,
    }


def _write_events(conn: Connection, run_id: int, events: list[dict], recorded_at: datetime | None) -> None:
    """The run's events, in one statement (none: no statement); those without their own time at `recorded_at`."""
    if events:
        rows = json.dumps(events, default=str)
        conn.execute(
            _EVENTS, {"rows": rows, "actor": f"detection run {run_id}", "run": run_id, "recorded_at": recorded_at}
        )


def _newest_events(conn: Connection, hotspot_ids: list[int]) -> dict[int, tuple]:
    """The newest event of each hotspot: (event, to_status, note, details)."""
    rows = conn.execute(
        text("""SELECT DISTINCT ON (hotspot_id) hotspot_id, event, to_status, note, details FROM hotspot_events
                WHERE hotspot_id = ANY(:ids) ORDER BY hotspot_id, id DESC"""),
        {"ids": hotspot_ids},
    ).all()
    return {int(r[0]): tuple(r[1:]) for r in rows}


def _kind_change(old: str, new: str) -> tuple[str, str]:
    """A continued hotspot's change of kind as its history says it: by the Vietnamese labels, and by the codes."""
    return f"đổi loại: {HotspotKind(old).label} → {HotspotKind(new).label}", f"kind {old} → {new}"


def _note(parts: list[tuple[str, str]]) -> str | None:
    """An event's note from (Vietnamese, English) parts: the Vietnamese, then the English in one closing parenthesis
    (which a page leaves out); none without parts."""
    if not parts:
        return None
    return f"{'; '.join(vi for vi, _ in parts)} ({'; '.join(en for _, en in parts)})"


def _continued_status(action: str, old: str) -> str:
    """The status of a hotspot a cluster continues: a cleared one recurs, a dormant one wakes up."""
    if action == "recurred":
        return HotspotStatus.RECURRED
    return HotspotStatus.DETECTED if old == HotspotStatus.DORMANT else old


def _persist(
    conn: Connection,
    clusters: pd.DataFrame,
    matches: MatchResult,
    run_id: int,
    report: DetectionReport,
    recurred_at: Callable[[int, int], str],
    recorded_at: datetime | None,
) -> np.ndarray:
    """Apply a run's matching to the register: new and split hotspots, continuations (reactivating dormant ones,
    reopening cleared ones), recorded recurrences and merges, with one event per change and the lineage.

    Hotspots are inserted and updated in one statement each; a continued hotspot the run finds as it was is not
    written and has no event, and a recurrence already recorded as a hotspot's newest event is not recorded again,
    so that a rerun over unchanged incidents writes nothing. A recurrence is dated by ``recurred_at`` (cluster row,
    hotspot): its event, and for a hotspot the cluster continues the change of its status (``status_changed_at``), so
    that the register and the history give the same day; every other write of the run is dated `recorded_at`
    (None: now)."""
    rows = _cluster_rows(clusters)
    plan = matches.clusters
    involved = [*plan["hotspot_id"].dropna(), *matches.merges["hotspot_id"], *matches.recurrences["hotspot_id"]]
    stored = conn.execute(
        text("SELECT id, status, kind FROM hotspots WHERE id = ANY(:ids)"), {"ids": sorted({int(i) for i in involved})}
    ).all()
    previous: dict[int, str] = {int(r.id): r.status for r in stored}
    kinds: dict[int, str] = {int(r.id): r.kind for r in stored}
    system = HotspotFacts(actor_role=SYSTEM_ROLE)
    ids = np.zeros(len(rows), dtype=np.int64)
    created: list[dict] = []
    continued: list[dict] = []
    recurred: dict[int, str] = {}  # continued hotspots that recur: when
    for i, (row, action, hotspot_id) in enumerate(zip(rows, plan["action"], plan["hotspot_id"])):
        if action in ("new", "split"):
            created.append({**row, "at": i})
            continue
        hotspot, old = int(hotspot_id), previous[int(hotspot_id)]
        target = _continued_status(action, old)
        if target != old:  # the lifecycle decides: only detection reopens or wakes a hotspot, only from these
            HOTSPOT_LIFECYCLE.check(old, target, system)
        ids[i] = hotspot
        if action == "recurred":
            recurred[hotspot] = recurred_at(i, hotspot)
        continued.append({**row, "id": hotspot, "status": target, "changed_at": recurred.get(hotspot)})
    if created:
        stated = {"rows": json.dumps(created), "run": run_id, "recorded_at": recorded_at}
        for at, hotspot in conn.execute(_INSERT_HOTSPOTS, stated).all():
            ids[at] = hotspot
    written = set()
    if continued:
        stated = {"rows": json.dumps(continued), "run": run_id, "recorded_at": recorded_at}
        written = set(conn.execute(_UPDATE_HOTSPOTS, stated).scalars())

    events: list[dict] = []
    lineage: list[dict] = []
    for i, (row, action, parent) in enumerate(zip(rows, plan["action"], plan["split_from"])):
        details = {"n_incidents": row["n"], "radius_m": round(row["radius"], 1)}
        hotspot = int(ids[i])
        if action in ("new", "split"):
            note = "phát hiện qua phân cụm (found by clustering)"
            if action == "split":
                details["split_from"] = int(parent)
                lineage.append({"kind": LineageKind.SPLIT, "parent": int(parent), "child": hotspot})
                note = f"tách ra từ điểm #{int(parent)} (split off hotspot {int(parent)})"
                report.split += 1
            report.new += 1
            events.append(_event(hotspot, "created", None, HotspotStatus.DETECTED, note, details))
            continue
        if hotspot not in written:
            report.unchanged += 1
            continue
        old, recur = previous[hotspot], hotspot in recurred
        target = _continued_status(action, old)
        name = "recurred" if recur else "reactivated" if target != old else "updated"
        said = {
            "recurred": [(RECURRED_WORDS, "recurred at a cleared hotspot")],
            "reactivated": [("có cụm vụ việc trở lại", "a cluster again at a dormant hotspot")],
        }.get(name, [])
        if row["kind"] != kinds[hotspot]:  # the kind feeds the legal classification: its change is said
            details["kind"] = {"from": kinds[hotspot], "to": row["kind"]}
            said.append(_kind_change(kinds[hotspot], row["kind"]))
        events.append(_event(hotspot, name, old, target, _note(said), details, recurred.get(hotspot)))
        report.recurred += recur
        report.updated += not recur

    aside = matches.recurrences[~matches.recurrences["continues"]]
    newest = _newest_events(conn, [int(h) for h in aside["hotspot_id"]]) if len(aside) else {}
    for _, rec in aside.iterrows():
        # Recorded though another hotspot continues the cluster: the place is not kept clean.
        into = int(ids[int(rec["cluster"])])
        hotspot = int(rec["hotspot_id"])
        note = f"{RECURRED_WORDS}, gộp vào điểm #{into} (recurred; the cluster continues hotspot {into})"
        details = {"distance_m": round(rec["distance_m"], 1)}
        if newest.get(hotspot) == ("recurred", None, note, details):
            continue  # this recurrence is the hotspot's newest event already (a rerun over the same incidents)
        at = recurred_at(int(rec["cluster"]), hotspot)
        events.append(_event(hotspot, "recurred", previous[hotspot], None, note, details, at))
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
        conn.execute(_SET_STATUS, {"id": hotspot, "to": HotspotStatus.MERGED, "recorded_at": recorded_at})
        note = f"gộp vào điểm #{into} (merged into hotspot {into})"
        events.append(_event(hotspot, "merged", old, HotspotStatus.MERGED, note, {"into": into}))
        lineage.append({"kind": LineageKind.MERGE, "parent": hotspot, "child": into})
        report.merged += 1
    _write_events(conn, run_id, events, recorded_at)
    if lineage:
        conn.execute(_LINEAGE, [{**item, "run": run_id, "recorded_at": recorded_at} for item in lineage])
    assign_communes(conn, [int(i) for i in ids])
    return ids


def _put_to_sleep(conn: Connection, report: DetectionReport, cutoff: datetime, recorded_at: datetime | None) -> int:
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
            UPDATE hotspots h SET status = '{HotspotStatus.DORMANT}', status_changed_at = {_AT}, version = h.version + 1
            FROM sleeping s WHERE h.id = s.id RETURNING h.id
        )
        SELECT s.id, s.status FROM sleeping s JOIN moved m USING (id)"""),
        {
            "from": list(codes(HOTSPOT_MAY_SLEEP)),
            "cutoff": cutoff,
            "touched": report.hotspot_ids,
            "closed": list(codes(TASK_CLOSED)),
            "recorded_at": recorded_at,
        },
    ).all()
    for _, old in rows:
        HOTSPOT_LIFECYCLE.check(old, HotspotStatus.DORMANT, HotspotFacts(actor_role=SYSTEM_ROLE))
    note = f"không còn cụm vụ việc từ {vn_day(cutoff)} (no cluster since {local_day(cutoff).isoformat()})"
    events = [_event(int(h), "dormant", old, HotspotStatus.DORMANT, note, {}) for h, old in rows]
    _write_events(conn, report.run_id, events, recorded_at)
    return len(rows)


def _store_membership(
    conn: Connection, incident_ids: np.ndarray, labels: np.ndarray, cluster_codes: np.ndarray, hotspot_ids: np.ndarray
) -> None:
    """Make the incident lists of the touched hotspots this run's clusters (only the difference is written)."""
    clustered = labels >= 0
    owner = hotspot_ids[np.searchsorted(cluster_codes, labels[clustered])]
    replace_members(conn, [int(i) for i in hotspot_ids], owner, incident_ids[clustered])
