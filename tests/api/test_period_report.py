"""The periodic report («báo cáo định kỳ»): a period's figures beside the same period of the previous year, counted by
hand on fixtures in February 2012 (a leap year: 01–29/02/2012 against 01–28/02/2011), as JSON and as Excel."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Connection, text

from gis.services.boundary_import import import_boundaries
from models.domain.dates import DayWindow, report_period, year_back
from models.errors import InvalidRequest
from tests.conftest import SECOND_PROVINCE

PERIOD = {"from": "2012-02-01", "to": "2012-02-29"}
#: Hải Phòng's clock: every fixture time is written in it.
ICT = "+07"


def communes(conn: Connection, n: int, province: str = "31") -> list[str]:
    """``n`` current communes of a province, by code."""
    return list(
        conn.execute(
            text("SELECT code FROM admin_units WHERE valid_to IS NULL AND province_code = :p ORDER BY code LIMIT :n"),
            {"p": province, "n": n},
        ).scalars()
    )


def incident(conn: Connection, ref: str, at: str, kind: str, commune: str) -> None:
    """An incident at a commune's point-on-surface, at a Hải Phòng time."""
    conn.execute(
        text("""INSERT INTO incidents (ref, occurred_at, kind, assignment, commune_code, geom)
                SELECT :ref, CAST(:at AS timestamptz), :kind, 'inside', code, ST_PointOnSurface(geom)
                FROM admin_units WHERE code = :c AND valid_to IS NULL"""),
        {"ref": ref, "at": f"{at}{ICT}", "kind": kind, "c": commune},
    )


def hotspot(conn: Connection, commune: str, first_seen: str, status: str = "detected") -> int:
    return conn.execute(
        text("""INSERT INTO hotspots (status, kind, origin, n_incidents, kinds, radius_m, commune_code, version,
                                      centroid, first_seen)
                SELECT :s, 'spot', 'manual', 0, '{}', 150, code, 1, ST_PointOnSurface(geom), CAST(:f AS timestamptz)
                FROM admin_units WHERE code = :c AND valid_to IS NULL RETURNING id"""),
        {"s": status, "c": commune, "f": f"{first_seen}{ICT}"},
    ).scalar_one()


def hotspot_event(conn: Connection, hotspot_id: int, at: str, event: str, to_status: str | None) -> None:
    conn.execute(
        text("""INSERT INTO hotspot_events (hotspot_id, at, actor, event, to_status, details)
                VALUES (:h, CAST(:at AS timestamptz), 'test', :e, :s, '{}')"""),
        {"h": hotspot_id, "at": f"{at}{ICT}", "e": event, "s": to_status},
    )


def task(
    conn: Connection, commune: str, year: int, due: date | None, history: list[tuple[str, str, int | None]]
) -> int:
    """A conversion task whose history is ``history`` (time, state entered, the team holding it then)."""
    task_id = conn.execute(
        text("""INSERT INTO tasks (kind, commune_code, year, state, team_id, due_date, priority, checklist, version,
                                   created_by, created_at)
                VALUES ('conversion', :c, :y, :s, :t, :d, 'normal', '[]', 1, 'test', CAST(:at AS timestamptz))
                RETURNING id"""),
        {"c": commune, "y": year, "s": history[-1][1], "t": history[-1][2], "d": due, "at": f"{history[0][0]}{ICT}"},
    ).scalar_one()
    for i, (at, state, team) in enumerate(history):
        conn.execute(
            text("""INSERT INTO task_events (task_id, at, actor, team_id, event, to_state, details)
                    VALUES (:id, CAST(:at AS timestamptz), 'test', :t, :e, :s, '{}')"""),
            {"id": task_id, "at": f"{at}{ICT}", "t": team, "e": "created" if i == 0 else "transition", "s": state},
        )
    return task_id


@pytest.fixture
def february(conn: Connection, make_team: Callable[[str, list[str]], int]) -> dict[str, Any]:
    """Hand-countable records around February 2012 and February 2011 in two Hải Phòng communes."""
    a, b = communes(conn, 2)
    incident(conn, "ky-0", "2010-06-01 10:00", "tip", a)  # the records begin long before both periods
    for ref, at, kind, commune in (
        ("ky-1", "2012-02-01 00:00", "trafficking", a),
        ("ky-2", "2012-02-15 12:00", "trafficking", a),
        ("ky-3", "2012-02-29 23:30", "trafficking", a),  # the leap day is in the period
        ("ky-4", "2012-02-10 08:00", "possession", a),
        ("ky-5", "2012-02-11 08:00", "trafficking", b),
        ("ky-6", "2012-03-01 00:10", "trafficking", a),  # after the period
        ("ky-7", "2012-01-31 23:59", "trafficking", b),  # before it
        ("ky-8", "2011-02-28 23:59", "trafficking", a),  # last year's period ends on 28/02
        ("ky-9", "2011-02-01 00:00", "trafficking", a),
        ("ky-10", "2011-03-01 00:00", "trafficking", a),  # after last year's
    ):
        incident(conn, ref, at, kind, commune)
    new_now, new_before = hotspot(conn, a, "2012-02-10 09:00"), hotspot(conn, b, "2011-02-05 09:00")
    hotspot(conn, a, "2012-02-11 09:00", status="dismissed")  # never a hotspot
    hotspot(conn, b, "2010-06-01 09:00", status="dismissed")  # the register begins long before both periods
    hotspot_event(conn, new_now, "2012-02-20 10:00", "transition", "eradicated")
    hotspot_event(conn, new_before, "2011-02-15 10:00", "recurred", "recurred")
    team = make_team("Tổ Kiểm thử Định kỳ", [a])
    task(
        conn,
        a,
        2012,
        None,
        [("2012-01-05 08:00", "unassigned", None), ("2012-01-06 08:00", "assigned", team),
         ("2012-02-10 08:00", "completed", team), ("2012-02-15 08:00", "accepted", team)],
    )  # fmt: skip
    task(
        conn,
        b,
        2011,
        date(2011, 2, 10),
        [("2011-01-01 08:00", "unassigned", None), ("2011-01-02 08:00", "assigned", team),
         ("2011-01-03 08:00", "in_progress", team), ("2011-03-05 08:00", "completed", team)],
    )  # fmt: skip
    task(conn, a, 2013, date(2012, 2, 1), [("2012-01-20 08:00", "unassigned", None)])
    return {"a": a, "b": b, "team": team}


def lines(report: dict[str, Any], section: str) -> dict[str, dict[str, Any]]:
    """A section's lines by key."""
    found = next(s for s in report["sections"] if s["key"] == section)
    return {line["key"]: line for line in found["lines"]}


def figures(line: dict[str, Any]) -> tuple[Any, ...]:
    return line["current"], line["previous"], line["change"], line["change_pct"]


def test_the_figures_are_the_hand_counted_ones(client: TestClient, conn: Connection, february: dict[str, Any]) -> None:
    answer = client.get("/api/reports/period", params=PERIOD)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["period"] == {"from": "2012-02-01", "to": "2012-02-29", "days": 29}
    assert report["previous"] == {"from": "2011-02-01", "to": "2011-02-28", "days": 28}
    kinds = lines(report, "incidents")
    assert figures(kinds["total"]) == (5, 2, 3, 1.5)
    assert figures(kinds["trafficking"]) == (4, 2, 2, 1.0)
    # From nothing last year: the change is told, its rate is not (never a division by zero, never a 0 %).
    assert figures(kinds["possession"]) == (1, 0, 1, None)
    assert figures(kinds["tip"]) == (0, 0, 0, None)
    assert kinds["trafficking"]["label"] == "Mua bán trái phép chất ma túy"
    hotspots = lines(report, "hotspots")
    assert [figures(hotspots[k])[:2] for k in ("new", "eradicated", "recurred")] == [(1, 1), (1, 0), (0, 1)]
    tasks = lines(report, "tasks")
    team = february["team"]
    assert figures(tasks[f"{team}:completed"])[:2] == (1, 0)
    assert figures(tasks[f"{team}:accepted"])[:2] == (1, 0)
    # Overdue when the window ended: last year the team still worked a task due 10/02; now the overdue one is nobody's.
    assert figures(tasks[f"{team}:overdue"])[:2] == (0, 1)
    assert tasks[f"{team}:overdue"]["team"] == "Tổ Kiểm thử Định kỳ"
    assert figures(tasks["None:overdue"])[:2] == (1, 0) and tasks["None:overdue"]["team"] == "Chưa giao tổ"
    assert figures(tasks["overdue"])[:2] == (1, 1) and tasks["overdue"]["team"] == "Tất cả các tổ"
    top = lines(report, "communes")
    assert list(top) == [february["a"], february["b"]]
    # Named in full as every other list of the app names a commune («Phường Hải An», not «Hải An»).
    full = conn.execute(
        text("SELECT full_name FROM admin_units WHERE code = :c AND valid_to IS NULL"), {"c": february["a"]}
    )
    assert top[february["a"]]["label"] == full.scalar_one() and top[february["a"]]["label"].split()[0] in (
        "Phường",
        "Xã",
    )
    assert figures(top[february["a"]]) == (4, 2, 2, 1.0)
    assert figures(top[february["b"]]) == (1, 0, 1, None)
    assert report["notes"] == []  # every kind of record begins before last year's period
    # The incidents reach past the period (01/03): the day is said, no warning.
    assert (report["data_until"], report["data_gap"]) == ("2012-03-01", None)


def test_a_past_window_counts_overdue_by_the_due_date_the_task_had_then(
    client: TestClient, conn: Connection, make_team: Callable[[str, list[str]], int]
) -> None:
    """Command may move a task's due date (PATCH /api/tasks/{id}): February 2012's overdue tasks stay those that were
    overdue at its end, whatever their due dates became afterwards."""
    a, b = communes(conn, 2)
    moved_later, moved_earlier = make_team("Tổ Hạn Dời Sau", [a]), make_team("Tổ Hạn Dời Trước", [b])
    late = task(conn, a, 2012, date(2012, 2, 10), [("2012-01-05 08:00", "in_progress", moved_later)])  # overdue then
    due = task(conn, b, 2012, date(2012, 6, 30), [("2012-01-05 08:00", "in_progress", moved_earlier)])  # not yet due
    for task_id, day in ((late, "2030-01-01"), (due, "2012-02-05")):  # moved since
        moved = client.patch(f"/api/tasks/{task_id}", json={"version": 1, "due_date": day})
        assert moved.status_code == 200, moved.text
    tasks = lines(client.get("/api/reports/period", params=PERIOD).json(), "tasks").values()
    overdue = {line["team"]: line["current"] for line in tasks if line["figure"] == "overdue"}
    assert overdue == {"Tất cả các tổ": 1, "Tổ Hạn Dời Sau": 1}  # the other team, nothing to count, is absent
    events = conn.execute(
        text("SELECT details -> 'due_date' FROM task_events WHERE task_id = :id AND event = 'updated'"), {"id": late}
    ).scalar_one()
    assert events == {"from": "2012-02-10", "to": "2030-01-01"}  # the history keeps the due date it replaced


def test_the_report_counts_spots_kept_clean_and_tasks_reported_on_time(
    client: TestClient, conn: Connection, make_team: Callable[[str, list[str]], int]
) -> None:
    """The plans' two aims beside eradication (domain.md): what is eradicated is kept clean («giữ sạch»: a spot taken
    off the list at the end of its watch), and every spot dealt with in time. The report had neither line. A task
    reported on its due day, late in the evening, is on time; one reported after it is late, even when its due date
    was moved later afterwards."""
    a, b = communes(conn, 2)
    incident(conn, "gs-0", "2010-06-01 10:00", "tip", a)
    hotspot(conn, b, "2010-06-01 09:00", status="dismissed")  # the records begin long before both periods
    for commune, day in ((a, "2012-02-20 10:00"), (b, "2011-02-10 10:00")):
        hotspot_event(conn, hotspot(conn, commune, "2010-07-01 09:00", status="closed"), day, "transition", "closed")
    team = make_team("Tổ Đúng Hạn", [a, b])
    start = [("2012-01-05 08:00", "unassigned", None), ("2012-01-06 08:00", "assigned", team)]
    task(conn, a, 2012, date(2012, 2, 15), [*start, ("2012-02-15 23:30", "completed", team)])  # on its due day
    task(conn, a, 2013, date(2012, 2, 10), [*start, ("2012-02-12 08:00", "completed", team)])  # two days late
    late = task(conn, b, 2012, date(2030, 1, 1), [*start, ("2012-02-20 08:00", "completed", team)])
    conn.execute(  # due 05/02 when it was reported; moved to 2030 after that
        text("""INSERT INTO task_events (task_id, at, actor, team_id, event, details)
                VALUES (:id, CAST(:at AS timestamptz), 'test', :t, 'updated', :d)"""),
        {
            "id": late,
            "at": f"2012-03-10 08:00{ICT}",
            "t": team,
            "d": '{"due_date": {"from": "2012-02-05", "to": "2030-01-01"}}',
        },
    )
    task(conn, b, 2013, None, [*start, ("2012-02-21 08:00", "completed", team)])  # no due date: not counted on time
    report = client.get("/api/reports/period", params=PERIOD).json()
    kept = lines(report, "hotspots")["kept_clean"]
    assert kept["label"] == "Điểm, tụ điểm giữ sạch hết thời gian theo dõi, đã loại khỏi danh sách"
    assert figures(kept)[:2] == (1, 1)
    tasks = lines(report, "tasks")
    # The task records begin in January 2012: last year's figures are unknown.
    assert figures(tasks[f"{team}:completed"])[:2] == (4, None)
    assert figures(tasks[f"{team}:on_time"])[:2] == (1, None)
    assert tasks[f"{team}:on_time"]["label"] == "Tổ Đúng Hạn — nhiệm vụ tổ báo hoàn thành đúng hạn"


def test_work_done_without_signal_counts_when_it_was_made(
    client: TestClient, conn: Connection, make_team: Callable[[str, list[str]], int]
) -> None:
    """A team's phone kept a report of completion made without signal and sent it when the signal came back
    (task_events.made_at, migration 0033): made on its due day at 21:00 and recorded at 07:30 the next morning, it is
    on time; made on 29/02 and recorded on 01/03, it is February's. By the time the server recorded them, the report
    counted one of them in the month, late."""
    a, b = communes(conn, 2)
    incident(conn, "ms-0", "2010-06-01 10:00", "tip", a)
    hotspot(conn, b, "2010-06-01 09:00", status="dismissed")
    team = make_team("Tổ Mất Sóng", [a, b])
    start = [("2012-01-05 08:00", "unassigned", None), ("2012-01-06 08:00", "assigned", team)]
    for commune, due, made, recorded in (
        (a, date(2012, 2, 15), "2012-02-15 21:00", "2012-02-16 07:30"),
        (b, date(2012, 2, 29), "2012-02-29 22:00", "2012-03-01 07:00"),
    ):
        task_id = task(conn, commune, 2012, due, start)
        conn.execute(
            text("""INSERT INTO task_events (task_id, at, made_at, actor, team_id, event, from_state, to_state, details)
                    VALUES (:id, CAST(:at AS timestamptz), CAST(:made AS timestamptz), 'test', :t, 'transition',
                            'assigned', 'completed', '{}')"""),
            {"id": task_id, "at": f"{recorded}{ICT}", "made": f"{made}{ICT}", "t": team},
        )
    tasks = lines(client.get("/api/reports/period", params=PERIOD).json(), "tasks")
    assert figures(tasks[f"{team}:completed"])[0] == 2
    assert figures(tasks[f"{team}:on_time"])[0] == 2


def test_a_period_before_the_records_has_no_figures_not_zeros(client: TestClient, conn: Connection) -> None:
    (a,) = communes(conn, 1)
    incident(conn, "ky-dau", "2012-02-10 08:00", "trafficking", a)
    report = client.get("/api/reports/period", params=PERIOD).json()
    # No incident reaches back to February 2011 in this database: last year's figures are unknown, not 0.
    assert figures(lines(report, "incidents")["trafficking"]) == (1, None, None, None)
    assert any("vụ việc trong hệ thống bắt đầu từ ngày 10/02/2012" in note for note in report["notes"])


def test_last_years_figure_of_records_begun_within_it_is_unknown(client: TestClient, conn: Connection) -> None:
    # The system's first hotspot entered the register on the last day of February 2011: that month's figures cover
    # one day of it, so they are unknown, not «3 | 0 | +3»; February 2012's are this period's own.
    (a,) = communes(conn, 1)
    incident(conn, "ky-cu", "2010-06-01 10:00", "trafficking", a)
    first = hotspot(conn, a, "2011-02-28 09:00")
    hotspot_event(conn, first, "2012-02-20 10:00", "transition", "eradicated")
    report = client.get("/api/reports/period", params=PERIOD).json()
    assert figures(lines(report, "hotspots")["eradicated"]) == (1, None, None, None)
    assert any("điểm, tụ điểm trong hệ thống bắt đầu từ ngày 28/02/2011" in note for note in report["notes"])


def test_the_same_period_of_last_year_moves_the_leap_day_to_28_february() -> None:
    assert year_back(date(2028, 2, 29)) == date(2027, 2, 28)
    assert year_back(date(2027, 3, 1)) == date(2026, 3, 1)
    window = DayWindow(date(2028, 2, 29), date(2028, 2, 29)).year_before()
    assert (window.first, window.last) == (date(2027, 2, 28), date(2027, 2, 28))
    assert report_period(date(2025, 1, 1), date(2025, 12, 31)).days == 365
    assert report_period(date(2027, 3, 1), date(2028, 2, 29)).days == 366  # a leap year: no day on both sides
    for last in (date(2026, 1, 1), date(2027, 1, 1)):  # 366 days over no 29/02 would count 01/01/2025 twice
        with pytest.raises(InvalidRequest, match="hơn một năm"):
            report_period(date(2025, 1, 1), last)


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"from": "2012-03-01", "to": "2012-02-01"}, "khoảng ngày đảo ngược"),
        ({"from": "2010-01-01", "to": "2012-02-01"}, "hơn một năm"),
        ({"from": "1800-01-01", "to": "1800-02-01"}, "từ ngày"),
        ({"from": "2012-01-01", "to": "2101-01-01"}, "đến ngày"),
        ({"from": "2012-01-01", "to": "31/01/2012"}, "đến ngày"),
        ({"from": "2012-01-01"}, "đến ngày"),
        ({"from": "2099-01-01", "to": "2099-03-31"}, "kỳ báo cáo bắt đầu ngày 01/01/2099, sau hôm nay ("),
    ],
)
def test_a_wrong_period_is_refused_in_vietnamese(client: TestClient, params: dict[str, str], words: str) -> None:
    for path in ("/api/reports/period", "/api/reports/period.xlsx"):
        answer = client.get(path, params=params)
        assert answer.status_code == 422, answer.text
        assert words in answer.json()["message"]
        assert "trạng thái đích" not in answer.json()["message"]  # a query's «to» is the last day, not a state


def test_the_excel_file_has_the_administrative_heading_and_the_figures(
    client: TestClient, conn: Connection, february: dict[str, Any]
) -> None:
    answer = client.get("/api/reports/period.xlsx", params=PERIOD)
    assert answer.status_code == 200, answer.text
    assert (
        "filename*=UTF-8''b%C3%A1o-c%C3%A1o-%C4%91%E1%BB%8Bnh-k%E1%BB%B3-01-02-2012-%C4%91%E1%BA%BFn-29-02-2012.xlsx"
        in (answer.headers["content-disposition"])
    )
    sheet = load_workbook(io.BytesIO(answer.content)).active
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[0][0] == "CÔNG AN THÀNH PHỐ HẢI PHÒNG"
    assert "BÁO CÁO ĐỊNH KỲ TỪ NGÀY 01/02/2012 ĐẾN NGÀY 29/02/2012" in cells[4]
    assert "so với cùng kỳ năm trước: từ ngày 01/02/2011 đến ngày 28/02/2011" in cells[5][0]
    # The subtitle and the basis line wrap in their merged rows, which Excel does not grow: each row is as high as its
    # lines (the period's notes were cut to their first line). The block spans the six columns, 126 characters wide.
    for row in (6, 7):
        words = sheet.cell(row=row, column=1).value
        assert sheet.row_dimensions[row].height >= 15 * -(-len(words) // 126), (row, len(words))
    by_label = {row[1]: row for row in cells if row[1]}
    assert by_label["Mua bán trái phép chất ma túy"][2:] == [4, 2, 2, 1.0]
    assert by_label["Tàng trữ trái phép chất ma túy"][2:] == [1, 0, 1, "cùng kỳ bằng 0, không tính tỷ lệ"]
    assert by_label["VỤ VIỆC VỀ MA TÚY THEO LOẠI"][0] == "I"
    # The export is a read of aggregated data recorded in the access log, as the KPI report's.
    line = conn.execute(text("SELECT route, params, rows FROM access_log ORDER BY id DESC LIMIT 1")).one()
    assert line.route == "GET /api/reports/period.xlsx" and line.params == PERIOD and line.rows > 0


def test_a_team_may_not_read_it(
    client: TestClient,
    conn: Connection,
    make_team: Callable[[str, list[str]], int],
    make_user: Callable[..., int],
    bearer: Callable[..., dict[str, str]],
) -> None:
    team = bearer(make_user("to-dinh-ky", "team", make_team("Tổ Không Báo Cáo", communes(conn, 1))))
    for path in ("/api/reports/period", "/api/reports/period.xlsx"):
        assert client.get(path, params=PERIOD, headers=team).status_code == 403


def test_a_provincial_reader_sees_their_province_only(
    client: TestClient,
    conn: Connection,
    second_province_path: Path,
    make_user: Callable[..., int],
    bearer: Callable[..., dict[str, str]],
) -> None:
    import_boundaries(conn, second_province_path)
    (hp,), (qn,) = communes(conn, 1), communes(conn, 1, SECOND_PROVINCE)
    incident(conn, "tinh-0", "2010-01-01 08:00", "tip", hp)
    incident(conn, "tinh-00", "2010-01-01 08:00", "tip", qn)
    incident(conn, "tinh-1", "2012-02-10 08:00", "trafficking", hp)
    incident(conn, "tinh-2", "2012-02-10 08:00", "trafficking", qn)
    incident(conn, "tinh-3", "2012-02-11 08:00", "trafficking", qn)
    second = bearer(make_user("qn-dinh-ky", "planner", province_code=SECOND_PROVINCE))
    report = client.get("/api/reports/period", params=PERIOD, headers=second).json()
    assert report["province_code"] == SECOND_PROVINCE
    assert figures(lines(report, "incidents")["trafficking"])[:2] == (2, 0)
    assert list(lines(report, "communes")) == [qn]
    refused = client.get("/api/reports/period", params={**PERIOD, "province": "31"}, headers=second)
    assert refused.status_code == 403
    nation = client.get("/api/reports/period", params=PERIOD).json()  # the Ministry's command: every unit
    assert figures(lines(nation, "incidents")["trafficking"])[:2] == (3, 0)


def test_the_report_says_up_to_when_the_readers_incidents_reach(
    client: TestClient,
    conn: Connection,
    second_province_path: Path,
    make_user: Callable[..., int],
    bearer: Callable[..., dict[str, str]],
) -> None:
    """The incident register is imported: the days of a period after its newest incident may be only not yet loaded.
    The report says the day its data reaches in the reader's area — never a later one of another province — and warns
    that the rest of the period has no data yet; a period wholly after it has no incident figures, not zeros."""
    import_boundaries(conn, second_province_path)
    (hp,), (qn,) = communes(conn, 1), communes(conn, 1, SECOND_PROVINCE)
    incident(conn, "den-1", "2012-02-10 08:00", "trafficking", qn)
    incident(conn, "den-2", "2012-02-21 00:30", "trafficking", hp)  # 20/02 by UTC's clock, 21/02 in Hải Phòng's
    second = bearer(make_user("qn-den-ngay", "command", province_code=SECOND_PROVINCE))
    report = client.get("/api/reports/period", params=PERIOD, headers=second).json()
    assert report["data_until"] == "2012-02-10"
    assert report["data_until_line"] == "Dữ liệu vụ việc đến hết ngày 10/02/2012."
    assert report["data_gap"] == "Từ ngày 11/02/2012 chưa có dữ liệu: số vụ của kỳ này chưa đủ."
    assert figures(lines(report, "incidents")["trafficking"])[:2] == (1, None)
    sheet = load_workbook(io.BytesIO(client.get("/api/reports/period.xlsx", params=PERIOD, headers=second).content))
    subtitle = next(row[0].value for row in sheet.active.iter_rows() if "Kỳ báo cáo" in str(row[0].value))
    assert f"{report['data_until_line']} {report['data_gap']}" in subtitle
    # A period beginning after the data: its incident figures are unknown, not zeros.
    march = client.get("/api/reports/period", params={"from": "2012-03-01", "to": "2012-03-31"}, headers=second).json()
    assert march["data_gap"] == "Từ ngày 11/02/2012 chưa có dữ liệu: kỳ này chưa có số vụ."
    assert {line["current"] for line in lines(march, "incidents").values()} == {None}
    # A period the data covers: the day is said, without a warning.
    covered = client.get("/api/reports/period", params={"from": "2012-02-01", "to": "2012-02-10"}, headers=second)
    assert (covered.json()["data_until"], covered.json()["data_gap"]) == ("2012-02-10", None)
    nation = client.get("/api/reports/period", params=PERIOD).json()  # the Ministry's command: every unit
    assert nation["data_until"] == "2012-02-21"
    assert nation["data_gap"] == "Từ ngày 22/02/2012 chưa có dữ liệu: số vụ của kỳ này chưa đủ."


def test_a_period_past_the_data_is_compared_with_the_same_days_last_year(client: TestClient, conn: Connection) -> None:
    """The incidents reach 10/02/2012: February 2012's are compared with 01–10/02/2011's, not the whole February 2011
    (a part against the whole reads as a drop); the hotspots, written here, keep the whole windows."""
    a, b = communes(conn, 2)
    for ref, at, commune in (
        ("cat-0", "2010-06-01 08:00", a),  # the records begin long before
        ("cat-1", "2011-02-10 23:30", a),  # last year's same days end on 10/02/2011
        ("cat-2", "2011-02-11 00:10", a),  # after them: not compared
        ("cat-3", "2011-02-25 08:00", b),
        ("cat-4", "2012-02-03 08:00", a),
        ("cat-5", "2012-02-10 08:00", a),  # the last day of data
    ):
        incident(conn, ref, at, "trafficking", commune)
    hotspot(conn, a, "2011-02-20 09:00")  # last year's hotspot, after 10/02: still counted
    hotspot(conn, a, "2010-01-01 09:00")
    report = client.get("/api/reports/period", params=PERIOD).json()
    assert figures(lines(report, "incidents")["total"]) == (2, 1, 1, 1.0)
    assert figures(lines(report, "communes")[a]) == (2, 1, 1, 1.0)
    assert list(lines(report, "communes")) == [a]
    assert figures(lines(report, "hotspots")["new"])[:2] == (0, 1)
    assert report["previous"] == {"from": "2011-02-01", "to": "2011-02-28", "days": 28}
    assert report["incidents_previous"] == {"from": "2011-02-01", "to": "2011-02-10", "days": 10}
    assert report["compared_line"] == "Số vụ việc so với cùng kỳ năm trước đến ngày 10/02/2011 (từ ngày 01/02/2011)."
    sheet = load_workbook(io.BytesIO(client.get("/api/reports/period.xlsx", params=PERIOD).content)).active
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert report["compared_line"] in next(row[0] for row in cells if "Kỳ báo cáo" in str(row[0]))
    assert next(row for row in cells if row[1] == "Tổng số vụ việc")[2:4] == [2, 1]
    # A period the data covers is compared with the whole same period.
    covered = client.get("/api/reports/period", params={"from": "2012-02-01", "to": "2012-02-10"}).json()
    assert (covered["incidents_previous"], covered["compared_line"]) == (covered["previous"], None)


def test_a_period_after_the_data_has_no_communes_yet_not_none(client: TestClient, conn: Connection) -> None:
    """A period wholly after the newest incident has no data yet: its section of communes says so, not that there were
    none; a period with data and no incident says there were none."""
    (a,) = communes(conn, 1)
    incident(conn, "sau-0", "2010-06-01 08:00", "trafficking", a)
    incident(conn, "sau-1", "2012-02-10 08:00", "trafficking", a)
    for params, words in (
        ({"from": "2012-03-01", "to": "2012-03-31"}, "Chưa có số liệu trong kỳ."),
        ({"from": "2011-03-01", "to": "2011-03-31"}, "Không có mục nào trong kỳ."),
    ):
        sheet = load_workbook(io.BytesIO(client.get("/api/reports/period.xlsx", params=params).content)).active
        cells = [[c.value for c in row] for row in sheet.iter_rows()]
        title = next(i for i, row in enumerate(cells) if str(row[1]).startswith("10 XÃ"))
        assert cells[title + 1][1] == words
        report = client.get("/api/reports/period", params=params).json()
        section = next(s for s in report["sections"] if s["key"] == "communes")
        assert (section["lines"], section["empty"]) == ([], words)


def test_without_incidents_the_report_names_no_day(client: TestClient) -> None:
    report = client.get("/api/reports/period", params=PERIOD).json()
    assert (report["data_until"], report["data_until_line"], report["data_gap"]) == (None, None, None)
    assert "Chưa có số liệu vụ việc trong phạm vi báo cáo." in report["notes"]


def test_the_access_log_reads_a_querys_to_as_the_last_day() -> None:
    from gis.store.access_log import with_what

    line = with_what({"route": "GET /api/reports/period.xlsx", "role": "command", "params": PERIOD})
    assert line["params_text"] == "từ ngày=01/02/2012; đến ngày=29/02/2012"  # as users write days (it showed ISO)
    assert line["what_label"] == "Xuất báo cáo định kỳ"
