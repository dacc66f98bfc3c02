"""Administrators rename teams, move a user to another team and change a user's role (`rename_team`, `move_user`,
`change_user_role` in the admin audit); a role change ends the user's sessions, whatever makes it (the API, the CLI,
SQL by hand): the trigger on users that already ends them at deactivation and a new password fires on a new role too,
with the reason `role`.

Revision ID: 0020
Revises: 0019
"""

from alembic import op

from gis.store.sql import add_check_valid_when_rows_allow, in_values

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# The vocabulary as this revision wrote it (frozen: a later value needs a migration of its own).
#: The admin actions before this revision (as 0019 wrote them) and after it.
ADMIN_ACTIONS_BEFORE = (
    "create_user",
    "deactivate_user",
    "activate_user",
    "reset_password",
    "unlock_user",
    "create_team",
    "change_team_area",
    "set_user_province",
    "revoke_sessions",
)
ADMIN_ACTIONS = (*ADMIN_ACTIONS_BEFORE, "rename_team", "move_user", "change_user_role")
#: Why a session ended, before this revision (as 0010 wrote it) and after it.
SESSION_ENDS_BEFORE = ("logout", "password", "deactivated", "revoked")
SESSION_ENDS = (*SESSION_ENDS_BEFORE, "role")


def _revoke_sessions(on_role: bool) -> str:
    """The users trigger ending a user's sessions at deactivation and a new password, and (``on_role``) a new role;
    without it, the trigger as migration 0010 made it."""
    role_reason = "WHEN OLD.role IS DISTINCT FROM NEW.role THEN 'role' " if on_role else ""
    role_column = ", role" if on_role else ""
    role_change = " OR OLD.role IS DISTINCT FROM NEW.role" if on_role else ""
    return f"""
CREATE OR REPLACE FUNCTION revoke_user_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE sessions SET revoked_at = now(),
        revoked_reason = CASE WHEN NOT NEW.active THEN 'deactivated' {role_reason}
                              ELSE 'password' END
    WHERE user_id = NEW.id AND revoked_at IS NULL;
    RETURN NULL;
END $$;
DROP TRIGGER users_revoke_sessions ON users;
CREATE TRIGGER users_revoke_sessions AFTER UPDATE OF active, password_hash{role_column} ON users FOR EACH ROW
WHEN ((OLD.active AND NOT NEW.active) OR OLD.password_hash IS DISTINCT FROM NEW.password_hash{role_change})
EXECUTE FUNCTION revoke_user_sessions();
"""


def _sessions_check(reasons: tuple[str, ...]) -> str:
    """The check of a session's end: both or neither of when and why, and why one of ``reasons``."""
    return f"(revoked_at IS NULL) = (revoked_reason IS NULL) AND (revoked_reason IS NULL OR {in_values('revoked_reason', reasons)})"


def upgrade() -> None:
    op.drop_constraint("ck_admin_audit_action", "admin_audit", type_="check")
    op.execute(
        add_check_valid_when_rows_allow("admin_audit", "ck_admin_audit_action", in_values("action", ADMIN_ACTIONS))
    )
    op.drop_constraint("ck_sessions_revoked", "sessions", type_="check")
    op.create_check_constraint("ck_sessions_revoked", "sessions", _sessions_check(SESSION_ENDS))
    op.execute(_revoke_sessions(on_role=True))


def downgrade() -> None:
    op.execute(_revoke_sessions(on_role=False))
    # Sessions are no audit trail: those a role change ended read as revoked by an administrator, which they were.
    op.execute("UPDATE sessions SET revoked_reason = 'revoked' WHERE revoked_reason = 'role'")
    op.drop_constraint("ck_sessions_revoked", "sessions", type_="check")
    op.create_check_constraint("ck_sessions_revoked", "sessions", _sessions_check(SESSION_ENDS_BEFORE))
    # The audit is append-only: lines of the removed actions stay, the older check holds for new lines only.
    op.drop_constraint("ck_admin_audit_action", "admin_audit", type_="check")
    before = in_values("action", ADMIN_ACTIONS_BEFORE)
    op.execute(f"ALTER TABLE admin_audit ADD CONSTRAINT ck_admin_audit_action CHECK ({before}) NOT VALID")
