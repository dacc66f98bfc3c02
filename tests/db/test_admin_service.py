"""Administration rules as every caller meets them (page, API and command line share gis.services.admin)."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from gis.services.admin import change_user_role, set_user_active
from gis.store.accounts import get_user
from models.errors import Conflict


def test_the_last_active_administrator_cannot_be_deactivated_even_from_the_command_line(
    conn: Connection, make_user
) -> None:
    """The page refused an administrator deactivating themselves, but `diaban users deactivate` (no acting user) took
    the last one: nobody could then manage users from the page. With a second active administrator it is allowed."""
    conn.execute(text("UPDATE users SET active = false WHERE role = 'admin'"))  # this test's own administrators only
    last = make_user("quan-tri-cuoi", "admin")
    with pytest.raises(Conflict, match="quản trị viên cuối cùng còn hoạt động"):
        set_user_active(conn, "root", last, False, get_user(conn, last)["version"])
    assert get_user(conn, last)["active"]
    other = make_user("quan-tri-khac", "admin")
    assert set_user_active(conn, "root", last, False, get_user(conn, last)["version"])["active"] is False
    with pytest.raises(Conflict, match="cuối cùng"):
        set_user_active(conn, "quan-tri-cuoi", other, False, get_user(conn, other)["version"])


def test_the_last_active_administrator_keeps_the_role_even_from_the_command_line(conn: Connection, make_user) -> None:
    """`diaban users role` (no acting user) could make the last active administrator a planner: nobody could then
    manage users. With a second active administrator it is allowed, and the other one is then the last."""
    conn.execute(text("UPDATE users SET active = false WHERE role = 'admin'"))  # this test's own administrators only
    last = make_user("quan-tri-cuoi", "admin")
    with pytest.raises(Conflict, match="quản trị viên cuối cùng còn hoạt động"):
        change_user_role(conn, "root", last, "planner", None, None, get_user(conn, last)["version"])
    assert get_user(conn, last)["role"] == "admin"
    other = make_user("quan-tri-khac", "admin")
    assert change_user_role(conn, "root", last, "planner", None, None, 1)["role"] == "planner"
    with pytest.raises(Conflict, match="cuối cùng"):
        change_user_role(conn, "root", other, "command", None, None, 1)


def test_a_role_changed_by_hand_in_sql_ends_the_users_sessions_too(conn: Connection, make_user) -> None:
    """The trigger on users, not the service, ends the sessions: a role changed any way takes the old rights away."""
    from gis.store.sessions import open_session

    user = make_user("doi-vai-tro", "planner")
    open_session(conn, user, 30)
    conn.execute(text("UPDATE users SET province_code = '31' WHERE id = :u"), {"u": user})  # not the role: kept
    assert conn.execute(text("SELECT revoked_reason FROM sessions WHERE user_id = :u"), {"u": user}).scalar() is None
    conn.execute(text("UPDATE users SET role = 'command' WHERE id = :u"), {"u": user})
    assert conn.execute(text("SELECT revoked_reason FROM sessions WHERE user_id = :u"), {"u": user}).scalar() == "role"
