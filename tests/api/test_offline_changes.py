"""A team's change made without signal, kept on the phone and sent when the signal came back, carries when it was made
(`made_at`, task_events.made_at, migration 0033). The server records it beside its own time, kept between the task's
latest event and now: a phone's clock ahead or behind cannot date work in the future or before what it answered."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text

from tests.conftest import evidence_photo

AREA = "10507"


def _started_task(conn, team: int) -> int:
    """A conversion task the team has been working on since November 2026 (its history written then), at version 1."""
    task_id = conn.execute(
        text("""INSERT INTO tasks (kind, commune_code, year, state, team_id, due_date, priority, checklist, version,
                                   created_by, created_at)
                VALUES ('conversion', :c, 2026, 'in_progress', :t, DATE '2026-11-20', 'normal', '[]', 1, 'test',
                        TIMESTAMPTZ '2026-11-01 08:00+07')
                RETURNING id"""),
        {"c": AREA, "t": team},
    ).scalar_one()
    for at, event, source, target in (
        ("2026-11-01 08:00+07", "created", None, "assigned"),
        ("2026-11-02 08:00+07", "transition", "assigned", "in_progress"),
    ):
        conn.execute(
            text("""INSERT INTO task_events (task_id, at, actor, team_id, event, from_state, to_state, details)
                    VALUES (:id, CAST(:at AS timestamptz), 'test', :t, :e, :f, :s, '{}')"""),
            {"id": task_id, "at": at, "t": team, "e": event, "f": source, "s": target},
        )
    return task_id


def test_a_change_kept_on_the_phone_is_recorded_with_when_it_was_made(
    client, conn, make_team, make_user, bearer
) -> None:
    """The completion made at 21:30 on the due day is recorded with that time, and the task's history gives it; a note
    written before it but sent after is dated no earlier than the completion was made; a photo from a phone whose
    clock runs years ahead is dated when the server received it; a change sent as it was made has none."""
    team = make_team("Tổ Mất Sóng", [AREA])
    member = bearer(make_user("to-mat-song", "team", team))
    task = _started_task(conn, team)
    done = client.post(
        f"/api/tasks/{task}/transitions",
        json={"to": "completed", "version": 1, "note": "Đã xong", "made_at": "2026-11-20T21:30:00+07:00"},
        headers=member,
    )
    assert done.status_code == 200, done.text
    note = client.post(
        f"/api/tasks/{task}/comments",
        json={"note": "Đã họp tổ dân phố", "made_at": "2026-11-19T10:00:00+07:00"},
        headers=member,
    )
    assert note.status_code == 201, note.text
    photo = client.post(
        f"/api/tasks/{task}/photos",
        files={"photo": ("a.png", evidence_photo().content, "image/png")},
        data={"note": "Ảnh hiện trường", "made_at": "2999-01-01T00:00:00+07:00"},
        headers=member,
    )
    assert photo.status_code == 201, photo.text
    online = client.post(f"/api/tasks/{task}/comments", json={"note": "Gửi ngay khi viết"}, headers=member)
    assert online.status_code == 201, online.text
    events = client.get(f"/api/tasks/{task}", headers=member).json()["events"][-4:]
    made = [None if e["made_at"] is None else datetime.fromisoformat(e["made_at"]) for e in events]
    recorded = [datetime.fromisoformat(e["at"]) for e in events]
    assert made[0] == datetime.fromisoformat("2026-11-20T21:30:00+07:00") < recorded[0]
    assert made[1] == made[0]  # not before the completion it was sent after
    assert made[2] == recorded[2]  # not in the future
    assert made[3] is None


def test_changes_kept_one_after_the_other_keep_their_own_times(client, conn, make_team, make_user, bearer) -> None:
    """A phone without signal kept a note at 03:36 and a completion at 03:40, and sent them when the signal came back:
    each is dated when it was made. The second was dated when the first reached the server, the latest event's time,
    and a completion made on its due day read as the next day's."""
    team = make_team("Tổ Mất Sóng", [AREA])
    member = bearer(make_user("to-mat-song", "team", team))
    task = _started_task(conn, team)
    for path, body in (
        ("comments", {"note": "Đã đến thôn Đông", "made_at": "2026-11-20T03:36:00+07:00"}),
        ("transitions", {"to": "completed", "version": 1, "note": "Xong", "made_at": "2026-11-20T03:40:00+07:00"}),
    ):
        sent = client.post(f"/api/tasks/{task}/{path}", json=body, headers=member)
        assert sent.status_code in (200, 201), sent.text
    made = conn.execute(
        text("SELECT made_at FROM task_events WHERE task_id = :id AND made_at IS NOT NULL ORDER BY id"), {"id": task}
    ).scalars()
    assert list(made) == [datetime.fromisoformat(f"2026-11-20T03:{m}:00+07:00") for m in ("36", "40")]


def test_a_time_without_its_offset_is_refused_in_vietnamese(client, conn, make_team, make_user, bearer) -> None:
    """A time without an offset could be any zone's: refused naming the field, and nothing is recorded."""
    team = make_team("Tổ Mất Sóng", [AREA])
    member = bearer(make_user("to-mat-song", "team", team))
    task = _started_task(conn, team)
    answer = client.post(
        f"/api/tasks/{task}/comments", json={"note": "Ghi chú", "made_at": "2026-11-19T10:00:00"}, headers=member
    )
    assert answer.status_code == 422, answer.text
    assert "thời điểm thực hiện trên máy" in answer.json()["message"], answer.json()
    count = conn.execute(text("SELECT count(*) FROM task_events WHERE task_id = :id"), {"id": task}).scalar_one()
    assert count == 2
