"""Administration rules as every caller meets them (page, API and command line share gis.services.admin)."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from gis.services.admin import set_user_active
from gis.store.accounts import get_user
from models.errors import InvalidRequest


def test_the_last_active_administrator_cannot_be_deactivated_even_from_the_command_line(
    conn: Connection, make_user
) -> None:
    """The page refused an administrator deactivating themselves, but `diaban users deactivate` (no acting user) took
    the last one: nobody could then manage users from the page. With a second active administrator it is allowed."""
    conn.execute(text("UPDATE users SET active = false WHERE role = 'admin'"))  # this test's own administrators only
    last = make_user("quan-tri-cuoi", "admin")
    with pytest.raises(InvalidRequest, match="quản trị viên cuối cùng còn hoạt động"):
        set_user_active(conn, "root", last, False, get_user(conn, last)["version"])
    assert get_user(conn, last)["active"]
    other = make_user("quan-tri-khac", "admin")
    assert set_user_active(conn, "root", last, False, get_user(conn, last)["version"])["active"] is False
    with pytest.raises(InvalidRequest, match="cuối cùng"):
        set_user_active(conn, "quan-tri-cuoi", other, False, get_user(conn, other)["version"])
