"""A note on a closed task is refused: a phone still showing a task command had cancelled sent a progress note, the page
said «Đã gửi ghi chú cho nhiệm vụ #19», and the server stored it after the cancel (the history read: cancelled, then
the note) for work nobody owed any more."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import evidence_photo

AREA = "10507"


def _version(conn, task: int) -> int:
    """A task's current version."""
    return conn.execute(text("SELECT version FROM tasks WHERE id = :id"), {"id": task}).scalar_one()


@pytest.mark.parametrize(
    ("closing", "words"),
    [("canceled", "đã bị hủy"), ("declined", "đã bị tổ từ chối nhận")],
)
def test_a_note_or_photo_on_a_closed_task_is_refused_naming_its_state(
    client, conn, make_team, make_user, bearer, closing: str, words: str
) -> None:
    """The team's note before the task closes is stored (and its retry, under the same key, answered as stored); after,
    a note and a photo are refused with 409 saying the task's state, and nothing is stored after the closing event."""
    team = make_team("Tổ Ghi chú", [AREA])
    member = bearer(make_user("to-ghi-chu", "team", team))
    task = client.post("/api/tasks", json={"kind": "conversion", "commune_code": AREA, "year": 2029, "team_id": team})
    task = task.json()["id"]
    before = client.post(
        f"/api/tasks/{task}/comments",
        json={"note": "Đã đến địa bàn"},
        headers={**member, "Idempotency-Key": "ghi-chu-truoc-1"},
    )
    assert before.status_code == 201
    moved = client.post(  # command cancels, the team declines
        f"/api/tasks/{task}/transitions",
        json={"to": closing, "version": _version(conn, task), "note": "Không còn cần làm"},
        headers=None if closing == "canceled" else member,
    )
    assert moved.status_code == 200, moved.text
    note = client.post(f"/api/tasks/{task}/comments", json={"note": "Tiến độ: đã làm xong 50%"}, headers=member)
    assert note.status_code == 409, note.text
    assert note.json()["detail"].startswith(f"Nhiệm vụ #{task} {words}"), note.json()
    photo = client.post(
        f"/api/tasks/{task}/photos",
        files={"photo": ("a.png", evidence_photo().content, "image/png")},
        data={"note": "Ảnh hiện trường"},
        headers=member,
    )
    assert photo.status_code == 409 and photo.json()["detail"].startswith(f"Nhiệm vụ #{task} {words}")
    command_note = client.post(f"/api/tasks/{task}/comments", json={"note": "Ghi chú của ban chỉ huy"})
    assert command_note.status_code == 409
    retried = client.post(
        f"/api/tasks/{task}/comments",
        json={"note": "Đã đến địa bàn"},
        headers={**member, "Idempotency-Key": "ghi-chu-truoc-1"},
    )
    assert retried.status_code == 201 and retried.json()["id"] == before.json()["id"]  # stored before: answered
    events = conn.execute(
        text("SELECT event, to_state FROM task_events WHERE task_id = :t ORDER BY id"), {"t": task}
    ).all()
    assert [tuple(e) for e in events][-2:] == [("comment", None), ("transition", closing)]
