"""The counts of a periodic report («báo cáo định kỳ»): incidents by kind and by commune, hotspots entering the
register, eradicated, kept clean and recurring, tasks completed (on time), accepted and overdue per team — each for a period and for the
same period of the previous year, in one statement per table family, inside a scope (a province, or the country).

Every count takes the two windows as bound instants ``:a_start``/``:a_end`` (the period) and ``:b_start``/``:b_end``
(last year's), half-open, from :func:`window_params`. Where the records of a kind begin (``*_since``) is read too:
a period that ends before them has no figures (None), not zeros.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from gis.store.indicators import hotspot_flows
from gis.store.scoping import AreaScope
from gis.store.sql import current_unit, local_date
from models.domain.dates import DayWindow
from models.text import vietnamese_key
from models.vocabulary import TASK_WORK_DONE, TaskState, codes

#: The two windows' bounds, as the statements below name them: the period (a) and the same period last year (b).
WINDOWS = (("a_start", "a_end"), ("b_start", "b_end"))


def window_params(period: DayWindow, previous: DayWindow) -> dict[str, Any]:
    """The bound instants of the two windows, and the last day of each (a task's due date is a day)."""
    return {
        "a_start": period.start,
        "a_end": period.end,
        "a_last": period.last,
        "b_start": previous.start,
        "b_end": previous.end,
        "b_last": previous.last,
    }


def _in(column: str, window: tuple[str, str]) -> str:
    """Condition that a ``timestamptz`` column lies in a window."""
    start, end = window
    return f"{column} >= :{start} AND {column} < :{end}"


def records_since(conn: Connection, scope: AreaScope) -> dict[str, date | None]:
    """The Hải Phòng day the scope's records of each kind begin (None: there are none): the first incident, the first
    hotspot entering the register or changing status, the first task created."""
    row = conn.execute(
        text(f"""
        SELECT (SELECT {local_date("min(i.occurred_at)")} FROM incidents i WHERE {scope.incidents("i")}),
               (SELECT {local_date("min(least(coalesce(h.first_seen, h.created_at), e.at))")}
                  FROM hotspots h LEFT JOIN hotspot_events e ON e.hotspot_id = h.id WHERE {scope.hotspots("h")}),
               (SELECT {local_date("min(t.created_at)")} FROM tasks t WHERE {scope.tasks("t")})"""),
        scope.params,
    ).one()
    return dict(zip(("incidents", "hotspots", "tasks"), row))


def incidents_until(conn: Connection, scope: AreaScope) -> date | None:
    """The Hải Phòng day of the scope's newest incident (None: there are none): the incident register is imported
    from the police's, so the days after it may only be not yet loaded — a period reaching past it is incomplete."""
    return conn.execute(
        text(f"SELECT {local_date('max(i.occurred_at)')} FROM incidents i WHERE {scope.incidents('i')}"), scope.params
    ).scalar_one()


def incidents_by_kind(conn: Connection, params: dict[str, Any], scope: AreaScope) -> dict[str, tuple[int, int]]:
    """Incidents of each kind recorded in the period and in the same period last year (kinds with none are absent)."""
    a, b = WINDOWS
    rows = conn.execute(
        text(f"""
        SELECT i.kind, count(*) FILTER (WHERE {_in("i.occurred_at", a)}), count(*) FILTER (WHERE {_in("i.occurred_at", b)})
        FROM incidents i
        WHERE (({_in("i.occurred_at", a)}) OR ({_in("i.occurred_at", b)})) AND {scope.incidents("i")}
        GROUP BY i.kind"""),
        {**params, **scope.params},
    ).all()
    return {row[0]: (int(row[1]), int(row[2])) for row in rows}


def top_communes(conn: Connection, params: dict[str, Any], scope: AreaScope, limit: int) -> list[dict[str, Any]]:
    """The ``limit`` communes with the most incidents in the period (ties by name), with their count in the same period
    last year and their full name («Phường Hải An», as every other list writes it); a commune with none in the period
    is not listed."""
    a, b = WINDOWS
    rows = conn.execute(
        text(f"""
        WITH counted AS (
            SELECT i.commune_code, count(*) FILTER (WHERE {_in("i.occurred_at", a)}) AS current,
                   count(*) FILTER (WHERE {_in("i.occurred_at", b)}) AS previous
            FROM incidents i
            WHERE i.commune_code IS NOT NULL AND (({_in("i.occurred_at", a)}) OR ({_in("i.occurred_at", b)}))
              AND {scope.incidents("i")}
            GROUP BY i.commune_code
        )
        SELECT c.commune_code, u.name, u.full_name, p.name AS province, c.current, c.previous
        FROM counted c
        LEFT JOIN admin_units u ON u.code = c.commune_code AND {current_unit("u")}
        LEFT JOIN provinces p ON p.code = u.province_code
        WHERE c.current > 0"""),
        {**params, **scope.params},
    ).mappings()
    # Ties by name in Vietnamese order, which decides who is in at the limit too: sorted here (a unit a row, at most
    # the country's 3,321), the database's order being the code points' («Hải An» before «Đồ Sơn»).
    ranked = sorted(
        (dict(row) for row in rows),
        key=lambda r: (-r["current"], r["name"] is None, vietnamese_key(r["name"] or ""), r["commune_code"]),
    )
    return ranked[:limit]


def hotspot_counts(conn: Connection, params: dict[str, Any], scope: AreaScope) -> dict[str, tuple[int, int]]:
    """Hotspots that entered the register, were eradicated, and recurrences, in the period and in the same period last
    year (the yearly KPIs' definitions: :func:`gis.store.indicators.hotspot_flows`)."""
    seen = scope.hotspots("h")
    (a_start, a_end), (b_start, b_end) = WINDOWS
    period = hotspot_flows(seen, f":{a_start}", f":{a_end}")
    previous = hotspot_flows(seen, f":{b_start}", f":{b_end}")
    keys = tuple(period)
    row = conn.execute(
        text("SELECT " + ", ".join(f"{period[k]}, {previous[k]}" for k in keys)), {**params, **scope.params}
    ).one()
    return {key: (int(row[2 * i]), int(row[2 * i + 1])) for i, key in enumerate(keys)}


def _due_then(instant: str) -> tuple[str, str]:
    """The due date task ``t`` had at an instant: the one its first due-date change after that instant replaced
    (``details.due_date.from``, kept by gis.services.tasks.update_task), else today's — a due date moved later must not
    unmake a past window's overdue task or a late report, nor one moved earlier make one. The lateral join to add after
    ``t`` and the date expression (NULL: no due date then)."""
    join = f"""LEFT JOIN LATERAL (SELECT e.details #> '{{due_date,from}}' AS due FROM task_events e
                    WHERE e.task_id = t.id AND e.at >= {instant} AND e.details ? 'due_date'
                    ORDER BY e.at, e.id LIMIT 1) moved ON true"""
    return join, "CASE WHEN moved.due IS NULL THEN t.due_date ELSE CAST(moved.due #>> '{}' AS date) END"


def task_counts(conn: Connection, params: dict[str, Any], scope: AreaScope) -> list[dict[str, Any]]:
    """Per team (by name; None: no team), in the period and in the same period last year: the tasks the team reported
    completed, those of them reported by their due date («đúng hạn»: the Hải Phòng day of the report not after the
    due date the task then had; a task with no due date is not counted on time), the tasks accepted (nghiệm thu) of
    the team, and its tasks overdue at the window's end — due before the window's last day and, at its end, still
    owed (its state then not one of TASK_WORK_DONE), the team then holding it. A task's state and team at an instant
    are those of its last event before it (the history is append-only); its due date then is :func:`_due_then`'s.
    A change a phone kept without signal counts when it was made (``made_at``), not when it reached the server: work
    reported done on its due date and sent the next morning is on time. Teams with nothing to count in either window
    are absent; the others in Vietnamese order of their names."""
    made = "coalesce({0}.made_at, {0}.at)".format
    flows = []
    for side, (start, end) in zip("ab", WINDOWS, strict=True):
        for target, name in ((TaskState.COMPLETED, "completed"), (TaskState.ACCEPTED, "accepted")):
            flows.append(
                f"""SELECT e.team_id, '{name}_{side}' AS figure, count(DISTINCT e.task_id) AS n
                    FROM task_events e JOIN tasks t ON t.id = e.task_id
                    WHERE e.to_state = '{target}' AND {_in(made("e"), (start, end))} AND {scope.tasks("t")}
                    GROUP BY e.team_id"""
            )
        moved_after_report, due_at_report = _due_then(made("c"))
        flows.append(
            f"""SELECT c.team_id, 'on_time_{side}' AS figure, count(DISTINCT c.task_id) AS n
                FROM task_events c JOIN tasks t ON t.id = c.task_id
                {moved_after_report}
                WHERE c.to_state = '{TaskState.COMPLETED}' AND {_in(made("c"), (start, end))}
                  AND {scope.tasks("t")} AND {local_date(made("c"))} <= {due_at_report}
                GROUP BY c.team_id"""
        )
        moved_after_end, due_at_end = _due_then(f":{end}")
        flows.append(
            f"""SELECT held.team_id, 'overdue_{side}' AS figure, count(*) AS n
                FROM tasks t
                CROSS JOIN LATERAL (SELECT e.to_state AS state FROM task_events e
                    WHERE e.task_id = t.id AND e.to_state IS NOT NULL AND {made("e")} < :{end}
                    ORDER BY e.at DESC, e.id DESC LIMIT 1) st
                CROSS JOIN LATERAL (SELECT e.team_id FROM task_events e
                    WHERE e.task_id = t.id AND {made("e")} < :{end}
                    ORDER BY e.at DESC, e.id DESC LIMIT 1) held
                {moved_after_end}
                WHERE {due_at_end} < :{side}_last
                  AND st.state <> ALL(:done) AND {scope.tasks("t")}
                GROUP BY held.team_id"""
        )
    rows = conn.execute(
        text(f"""
        WITH figures AS ({" UNION ALL ".join(flows)})
        SELECT f.team_id, tm.name AS team, f.figure, f.n
        FROM figures f LEFT JOIN teams tm ON tm.id = f.team_id"""),
        {**params, **scope.params, "done": list(codes(TASK_WORK_DONE))},
    ).mappings()
    teams: dict[int | None, dict[str, Any]] = {}
    for row in rows:
        team = teams.setdefault(row["team_id"], {"team_id": row["team_id"], "team": row["team"]})
        team[row["figure"]] = int(row["n"])
    # By name in Vietnamese order (the database's is the code points'), tasks of no team last.
    return sorted(teams.values(), key=lambda t: (t["team"] is None, vietnamese_key(t["team"] or ""), t["team_id"] or 0))
