"""Demo of the hotspot lifecycle on synthetic data: two hotspots taken from detection to closure,
then a new burst of (synthetic) incidents next to one of them, which detection flags as a recurrence; a task given
weeks ago and overdue; a spot a team reports, waiting for command; and the conversion of key areas (chuyển hóa địa
bàn) of the data's last two years, so that the KPI report's conversion lines have figures.

Past field work is recorded at its own dates (the `at` of the task and hotspot use cases), through the
hotspots' suppression tasks as the coupling rules require, so that the 180-day monitoring rule is
satisfied honestly rather than switched off.
"""

from __future__ import annotations

import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
from pyproj import Transformer
from sqlalchemy import Connection, text

from gis.services.detection import run_detection
from gis.services.hotspots import create_manual_hotspot, transition_hotspot
from gis.services.incident_import import import_incidents
from gis.services.tasks import create_task, transition_task
from gis.store.incidents import latest_incident_time
from gis.store.scoping import UNRESTRICTED
from gis.store.sql import current_unit, local_year_start, valid_on
from gis.store.tasks import suggest_assignees
from models.domain.access import Principal
from models.domain.dates import vn_day
from models.domain.state_machine import StateMachine
from models.errors import InvalidRequest
from models.vocabulary import (
    LOCAL_TZ,
    METRIC_SRID,
    RECURRED_WORDS,
    TASK_WORK_DONE,
    WGS84_SRID,
    HotspotStatus,
    Role,
    TaskKind,
    TaskState,
    local_today,
)

#: Field work after detection, in days: verify, assign a task, the team starts and completes it, command accepts
#: it and records the eradication, then monitoring starts.
_VERIFIED, _ASSIGNED, _STARTED, _COMPLETED, _ACCEPTED, _MONITORED = 1, 2, 3, 19, 20, 21

#: The conversion programmes, by years before the data's last: when the communes were selected (and their tasks
#: assigned), then each commune's steps in order of selection, every moment a share of the way through the year (above
#: 1: into the next year, up to the latest data). The year before is decided: four communes converted in it, one
#: accepted only in January (selected, not converted in the year), one withdrawn (no longer selected). The last year is
#: under way: two converted (one in April, whose watch, six months in Hải Phòng's targets, is over by the latest data;
#: one still watched), one awaiting acceptance, two in progress.
_CONVERSIONS: dict[int, tuple[float, tuple[tuple[tuple[TaskState, float], ...], ...]]] = {
    1: (
        0.55,  # mid-year: the current communes exist from 1 July 2025
        (
            ((TaskState.IN_PROGRESS, 0.58), (TaskState.COMPLETED, 0.80), (TaskState.ACCEPTED, 0.82)),
            ((TaskState.IN_PROGRESS, 0.58), (TaskState.COMPLETED, 0.84), (TaskState.ACCEPTED, 0.86)),
            ((TaskState.IN_PROGRESS, 0.60), (TaskState.COMPLETED, 0.88), (TaskState.ACCEPTED, 0.90)),
            ((TaskState.IN_PROGRESS, 0.60), (TaskState.COMPLETED, 0.92), (TaskState.ACCEPTED, 0.94)),
            ((TaskState.IN_PROGRESS, 0.62), (TaskState.COMPLETED, 0.97), (TaskState.ACCEPTED, 1.05)),
            ((TaskState.CANCELED, 0.65),),
        ),
    ),
    0: (
        0.08,
        (
            ((TaskState.IN_PROGRESS, 0.12), (TaskState.COMPLETED, 0.27), (TaskState.ACCEPTED, 0.30)),
            ((TaskState.IN_PROGRESS, 0.12), (TaskState.COMPLETED, 0.85), (TaskState.ACCEPTED, 0.90)),
            ((TaskState.IN_PROGRESS, 0.15), (TaskState.COMPLETED, 0.95)),
            ((TaskState.IN_PROGRESS, 0.15),),
            ((TaskState.IN_PROGRESS, 0.20),),
        ),
    ),
}
#: What each conversion step records; the team records starting and finishing its work, command the rest.
_CONVERSION_NOTES = {
    TaskState.IN_PROGRESS: "triển khai kế hoạch chuyển hóa địa bàn",
    TaskState.COMPLETED: "đã thực hiện đủ các nội dung chuyển hóa, đề nghị nghiệm thu",
    TaskState.ACCEPTED: "nghiệm thu: địa bàn đã chuyển hóa",
    TaskState.CANCELED: "Ban Chỉ đạo 138 rút xã khỏi danh sách chuyển hóa của năm",
}
_TEAM_STEPS = frozenset({TaskState.IN_PROGRESS, TaskState.COMPLETED})
_CONVERSION_CHECKLIST = (
    "Khảo sát, đánh giá thực trạng địa bàn",
    "Đấu tranh, triệt xóa điểm, tụ điểm",
    "Lập hồ sơ quản lý người nghiện, người sử dụng",
    "Đề nghị nghiệm thu",
)


def _quiet_hotspots(conn: Connection, hotspot_ids: list[int], since: datetime) -> list[int]:
    """Hotspots of the list with no incident in their footprint after `since` (truly eradicated ones)."""
    return list(
        conn.execute(
            text("""
        SELECT h.id FROM hotspots h WHERE h.id = ANY(:ids) AND h.status = 'detected' AND NOT EXISTS (
            SELECT 1 FROM incidents i WHERE i.occurred_at > :since AND ST_Intersects(i.geom, h.footprint))
        ORDER BY h.n_incidents DESC, h.id"""),
            {"ids": hotspot_ids, "since": since},
        ).scalars()
    )


def _team_member(conn: Connection, team_id: int, fallback: Principal) -> Principal:
    """An active user of the team (who records the team's steps), else ``fallback``."""
    row = (
        conn.execute(
            text("SELECT id, username, role, team_id FROM users WHERE team_id = :t AND active ORDER BY id LIMIT 1"),
            {"t": team_id},
        )
        .mappings()
        .first()
    )
    return Principal(**row) if row else fallback


def _hotspot_version(conn: Connection, hotspot_id: int) -> int:
    """The hotspot's current version (each recorded step raises it)."""
    return conn.execute(text("SELECT version FROM hotspots WHERE id = :id"), {"id": hotspot_id}).scalar_one()


def _close(
    conn: Connection, machine: StateMachine, hotspot_id: int, start: datetime, monitoring_days: int, actor: Principal
) -> datetime:
    """Record the field work from verification to closure, the suppression task included; return the closing time."""
    commune = conn.execute(text("SELECT commune_code FROM hotspots WHERE id = :id"), {"id": hotspot_id}).scalar_one()
    teams = suggest_assignees(conn, commune) if commune else []
    if not teams:
        raise InvalidRequest(
            f"không có tổ công tác nào phụ trách xã {commune}: hãy tạo tài khoản demo trước",
            "no team covers the commune",
        )
    team_id = teams[0]["team_id"]
    worker = _team_member(conn, team_id, actor)

    def day(n: int) -> datetime:
        return start + timedelta(days=n)

    version = _hotspot_version(conn, hotspot_id)
    transition_hotspot(
        conn, machine, hotspot_id, "verified", "xác minh tại thực địa", version, actor, UNRESTRICTED, at=day(_VERIFIED)
    )
    task_id = create_task(
        conn,
        actor,
        kind="suppression",
        hotspot_id=hotspot_id,
        commune_code=None,
        year=None,
        team_id=team_id,
        due_date=day(_ACCEPTED).date(),
        priority="high",
        checklist=[],
        note="giao tổ công tác khu vực",
        at=day(_ASSIGNED),
    )
    version = 2
    for target, when, note, who in (
        ("in_progress", _STARTED, "bắt đầu đấu tranh", worker),
        ("completed", _COMPLETED, "đã bắt giữ đối tượng, niêm phong địa điểm", worker),
        ("accepted", _ACCEPTED, "nghiệm thu kết quả", actor),
    ):
        version = transition_task(conn, task_id, target, note, version, who, UNRESTRICTED, at=day(when))["version"]
    for target, at, note in (  # eradication recorded after the acceptance it follows, not at the same instant
        ("eradicated", day(_ACCEPTED) + timedelta(hours=1), "triệt xóa: bắt giữ đối tượng, niêm phong địa điểm"),
        ("monitoring", day(_MONITORED), "bắt đầu giữ sạch, theo dõi"),
    ):
        transition_hotspot(
            conn,
            machine,
            hotspot_id,
            target,
            note,
            _hotspot_version(conn, hotspot_id),
            actor,
            UNRESTRICTED,
            at=at,
        )
    closed_at = day(_MONITORED + monitoring_days + 1)
    transition_hotspot(
        conn,
        machine,
        hotspot_id,
        "closed",
        "loại khỏi danh sách: hết thời gian theo dõi, sạch",
        _hotspot_version(conn, hotspot_id),
        actor,
        UNRESTRICTED,
        at=closed_at,
    )
    return closed_at


def _burst_csv(conn: Connection, hotspot_id: int, end: datetime, folder: Path, n: int = 8) -> Path:
    """A CSV of `n` synthetic incidents within ~40 m of the hotspot over the 30 days before `end`."""
    x, y = conn.execute(
        text(
            f"SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(centroid, {METRIC_SRID}) p"
            f" FROM hotspots WHERE id = :id) s"
        ),
        {"id": hotspot_id},
    ).one()
    rng = np.random.default_rng(hotspot_id)
    lon, lat = Transformer.from_crs(METRIC_SRID, WGS84_SRID, always_xy=True).transform(
        x + rng.normal(0, 20, n), y + rng.normal(0, 20, n)
    )
    times = [end - timedelta(days=30) + timedelta(days=3 * i + 1) for i in range(n)]
    lines = ["ref,occurred_at,lon,lat,kind,source"] + [
        f"DEMO-RECUR-{hotspot_id}-{i},{t.isoformat()},{lo:.6f},{la:.6f},drug_use,synthetic demo"
        for i, (t, lo, la) in enumerate(zip(times, lon, lat))
    ]
    path = folder / "recurrence.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


#: The overdue task: given this many days before the latest data, due this many days before today.
_OVERDUE_GIVEN_DAYS, _OVERDUE_DAYS = 35, 5


def _give_task(
    conn: Connection,
    machine: StateMachine,
    actor: Principal,
    hotspot_id: int,
    due: date,
    priority: str,
    at: datetime | None = None,
) -> str | None:
    """Verify a detected hotspot and give its area team a suppression task due on ``due`` (``at``: recorded then, its
    verification an hour before); the line saying so, or None when no team covers it."""
    status, version, commune = conn.execute(
        text("SELECT status, version, commune_code FROM hotspots WHERE id = :id"), {"id": hotspot_id}
    ).one()
    teams = suggest_assignees(conn, commune) if commune else []
    if not teams:
        return None
    if status == "detected":
        verified_at = None if at is None else at - timedelta(hours=1)
        transition_hotspot(
            conn, machine, hotspot_id, "verified", "xác minh qua trinh sát", version, actor, UNRESTRICTED, verified_at
        )
    task_id = create_task(
        conn,
        actor,
        kind="suppression",
        hotspot_id=hotspot_id,
        commune_code=None,
        year=None,
        team_id=teams[0]["team_id"],
        due_date=due,
        priority=priority,
        checklist=[
            {"item": "Xác minh đối tượng, địa điểm", "done": False},
            {"item": "Lập kế hoạch đấu tranh", "done": False},
        ],
        at=at,
    )
    return (
        f"Nhiệm vụ #{task_id}: đấu tranh, triệt xóa điểm nóng #{hotspot_id} giao {teams[0]['name']} (hạn {vn_day(due)})"
    )


def _overdue_work(
    conn: Connection, machine: StateMachine, actor: Principal, hotspot_ids: list[int], latest: datetime
) -> list[str]:
    """Give the largest of ``hotspot_ids`` still detected a task weeks before the latest data, due some days ago and
    not yet started: the overdue task of the command's and the team's pages. It was given today to a hotspot the
    recent run found today, so that the register said «giao hôm nay» of a task «quá hạn 5 ngày»."""
    for hotspot_id in conn.execute(
        text("SELECT id FROM hotspots WHERE id = ANY(:ids) AND status = 'detected' ORDER BY n_incidents DESC, id"),
        {"ids": hotspot_ids},
    ).scalars():
        line = _give_task(
            conn,
            machine,
            actor,
            hotspot_id,
            local_today() - timedelta(days=_OVERDUE_DAYS),
            "high",
            at=latest - timedelta(days=_OVERDUE_GIVEN_DAYS),
        )
        if line is not None:
            return [line]
    return []


def _assign_field_work(conn: Connection, machine: StateMachine, actor: Principal, hotspot_ids: list[int]) -> list[str]:
    """Verify the largest newly detected hotspots and give each area team a suppression task, the first urgent."""
    due = local_today() + timedelta(days=30)
    lines = (
        _give_task(conn, machine, actor, hotspot_id, due, "high" if rank == 0 else "normal")
        for rank, hotspot_id in enumerate(hotspot_ids)
    )
    return [line for line in lines if line is not None]


#: What the demo's team reports from the street (a tip passed on by residents), for command to verify or dismiss.
_TEAM_REPORT_NOTE = "Người dân phản ánh có nhóm tụ tập sử dụng ma túy ban đêm tại khu đất trống, đề nghị xác minh"


def _report_from_a_team(conn: Connection) -> list[str]:
    """A spot reported by a member of the first area team that has one, where the newest incident of its area outside
    every hotspot's footprint happened: it waits for command, as a team's report does (command's inbox lists it first,
    gis.store.hotspots.reports_awaiting_command). Without it a fresh demo's inbox showed no team report at all."""
    row = conn.execute(
        text(f"""
        SELECT u.username, tm.name, ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat
        FROM teams tm
        JOIN users u ON u.team_id = tm.id AND u.active AND u.role = '{Role.TEAM}'
        JOIN team_areas ta ON ta.team_id = tm.id AND {valid_on("ta")}
        JOIN incidents i ON i.commune_code = ta.commune_code
        WHERE NOT EXISTS (SELECT 1 FROM hotspots h WHERE ST_Intersects(h.footprint, i.geom))
        ORDER BY tm.id, u.id, i.occurred_at DESC, i.id LIMIT 1""")
    ).first()
    if row is None:
        return []
    hotspot_id = create_manual_hotspot(conn, lon=row.lon, lat=row.lat, note=_TEAM_REPORT_NOTE, actor=row.username)
    return [f"Điểm nóng #{hotspot_id}: {row.name} báo cáo, chờ chỉ huy xác minh"]


def _moment(year: int, share: float, latest: datetime) -> datetime:
    """The moment ``share`` of the way through the local calendar ``year`` (above 1: into the next year), a year
    running up to the latest data at most, so that no step of the demo lies after its data."""
    if share > 1:
        return _moment(year + 1, share - 1, latest)
    start = datetime(year, 1, 1, 8, tzinfo=LOCAL_TZ)
    end = min(datetime(year + 1, 1, 1, tzinfo=LOCAL_TZ), latest)
    return start + (end - start) * share


def _conversion_communes(conn: Connection, year: int, count: int) -> list[tuple[str, str]]:
    """Code and name of the ``count`` communes with the most incidents in the year before ``year`` that some team
    covers and that were never selected for conversion: the key areas a steering committee would pick."""
    return [
        (r.commune_code, r.full_name)
        for r in conn.execute(
            text(f"""
            SELECT i.commune_code, u.full_name FROM incidents i
            JOIN admin_units u ON u.code = i.commune_code AND {current_unit("u")}
            WHERE i.occurred_at >= {local_year_start("CAST(:y AS int) - 1")}
              AND i.occurred_at < {local_year_start("CAST(:y AS int)")}
              AND EXISTS (SELECT 1 FROM team_areas ta WHERE ta.commune_code = i.commune_code AND {valid_on("ta")})
              AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.kind = :kind AND t.commune_code = i.commune_code)
            GROUP BY i.commune_code, u.full_name ORDER BY count(*) DESC, i.commune_code LIMIT :n"""),
            {"y": year, "kind": TaskKind.CONVERSION, "n": count},
        )
    ]


def seed_demo_conversions(conn: Connection, actor: Principal, latest: datetime) -> list[str]:
    """Record the conversion programmes (``_CONVERSIONS``) of the last two years of the data (up to ``latest``) through
    the task use cases, at their own past dates; return what was done, line by line (Vietnamese).

    Idempotent like the story: once any conversion task of those years exists, nothing is added.
    """
    last = latest.astimezone(LOCAL_TZ).year
    years = sorted(last - back for back in _CONVERSIONS)
    if conn.execute(
        text("SELECT 1 FROM tasks WHERE kind = :kind AND year = ANY(:years) LIMIT 1"),
        {"kind": TaskKind.CONVERSION, "years": years},
    ).scalar():
        return [f"Chuyển hóa địa bàn demo năm {years[0]}–{years[-1]} đã có (demo conversion tasks already present)"]
    lines = []
    for back, (selected, programme) in sorted(_CONVERSIONS.items(), reverse=True):
        year = last - back
        for (commune, name), steps in zip(_conversion_communes(conn, year, len(programme)), programme):
            team = suggest_assignees(conn, commune)[0]
            worker = _team_member(conn, team["team_id"], actor)
            still_open = steps[-1][0] not in TASK_WORK_DONE
            task_id = create_task(
                conn,
                actor,
                kind=TaskKind.CONVERSION,
                hotspot_id=None,
                commune_code=commune,
                year=year,
                team_id=team["team_id"],
                due_date=date(year, 12, 31),
                priority="high",
                checklist=[{"item": item, "done": False} for item in _CONVERSION_CHECKLIST] if still_open else [],
                note=f"Ban Chỉ đạo 138 chọn chuyển hóa địa bàn năm {year}",
                at=_moment(year, selected, latest),
            )
            version = 2
            for target, share in steps:
                who = worker if target in _TEAM_STEPS else actor
                at = _moment(year, share, latest)
                version = transition_task(
                    conn, task_id, target, _CONVERSION_NOTES[target], version, who, UNRESTRICTED, at=at
                )["version"]
            lines.append(
                f"Nhiệm vụ #{task_id}: chuyển hóa địa bàn {name} năm {year} giao {team['name']}"
                f" — «{TaskState(steps[-1][0]).label}» từ {vn_day(at)}"
            )
    return lines


def run_lifecycle_demo(conn: Connection, machine: StateMachine, actor: Principal, monitoring_days: int) -> list[str]:
    """Run the demo story, then the conversion programmes, in the caller's transaction; return what happened, line by
    line (Vietnamese). Each part is recorded once: running again adds the conversions to a story recorded before them.
    """
    latest = latest_incident_time(conn)
    if latest is None:
        raise InvalidRequest("chưa có vụ việc: hãy nhập dữ liệu trước", "import incidents first")
    if conn.execute(text("SELECT 1 FROM incidents WHERE ref LIKE 'DEMO-RECUR-%' LIMIT 1")).scalar():
        return [
            "Câu chuyện demo đã được ghi trước đó (demo story already recorded)",
            *seed_demo_conversions(conn, actor, latest),
        ]
    early_end = latest - timedelta(days=monitoring_days + 60)
    # Recorded at its window's end, as if run then: the field work that follows is dated from there on.
    early = run_detection(
        conn, actor=actor.username, start=early_end - timedelta(days=90), end=early_end, recorded_at=early_end
    )
    quiet = _quiet_hotspots(conn, early.hotspot_ids, early_end)
    if len(quiet) < 2:
        # A user's data too short for the story (a small generated scenario), not a bug: InvalidRequest, exit 2.
        raise InvalidRequest(
            "dữ liệu quá ngắn: cần ít nhất hai điểm nóng đã im lặng trước khung thời gian gần nhất",
            "too few quiet hotspots for the demo story",
        )
    lines = [
        f"Phát hiện lần chạy #{early.run_id} ({vn_day(early.window_from)}–{vn_day(early.window_to)}):"
        f" {early.clusters} cụm"
    ]
    for hotspot_id in quiet[:2]:
        closed_at = _close(conn, machine, hotspot_id, early_end, monitoring_days, actor)
        lines.append(
            f"Điểm nóng #{hotspot_id}: phát hiện → xác minh → giao → đấu tranh → triệt xóa → giữ sạch"
            f" → loại khỏi danh sách ngày {vn_day(closed_at)}"
        )
    # The task given weeks ago and still not started, recorded before the recent run that follows it.
    lines += _overdue_work(conn, machine, actor, [h for h in early.hotspot_ids if h not in quiet[:2]], latest)
    reopened = quiet[1]
    with tempfile.TemporaryDirectory() as folder:
        import_incidents(conn, _burst_csv(conn, reopened, latest, Path(folder)), imported_by=actor.username)
    recent = run_detection(
        conn, actor=actor.username, start=latest - timedelta(days=90), end=latest + timedelta(seconds=1)
    )
    status = conn.execute(text("SELECT status FROM hotspots WHERE id = :id"), {"id": reopened}).scalar_one()
    lines.append(
        f"Phát hiện lần chạy #{recent.run_id}: {recent.recurred} điểm {RECURRED_WORDS};"
        f" điểm nóng #{reopened} nay ở trạng thái «{HotspotStatus(status).label}»"
    )
    largest = list(
        conn.execute(
            text(
                "SELECT id FROM hotspots WHERE id = ANY(:ids) AND status = 'detected' ORDER BY n_incidents DESC LIMIT 4"
            ),
            {"ids": recent.hotspot_ids},
        ).scalars()
    )
    return (
        lines
        + _assign_field_work(conn, machine, actor, [reopened, *largest])
        + _report_from_a_team(conn)
        + seed_demo_conversions(conn, actor, latest)
    )
