"""Every server process hears at once when a session ends or a user's rights change, whatever made the change (the
API, the command line, SQL by hand, the trigger that ends sessions at deactivation, a new password or role): triggers
on ``sessions`` and ``users`` send the user's id on the channel ``diaban_sessions`` (``pg_notify``, delivered only
when the transaction commits, once per user and transaction), and each process forgets the sessions it remembered
for that user (api.sessions).

Revision ID: 0026
Revises: 0025
"""

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

#: The channel the servers listen on (gis.store.sessions.SESSIONS_CHANNEL when this revision was written; a test
#: checks that the two still agree, as renaming it needs a migration).
SESSIONS_CHANNEL = "diaban_sessions"

#: The user columns a server process remembers with an open session (models.domain.access.Principal) and ``active``.
PRINCIPAL_COLUMNS = ("username", "role", "team_id", "province_code", "must_change_password", "active")


def _row(alias: str) -> str:
    return "ROW(" + ", ".join(f"{alias}.{column}" for column in PRINCIPAL_COLUMNS) + ")"


NOTIFY = f"""
CREATE FUNCTION notify_session_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'users' THEN
        PERFORM pg_notify('{SESSIONS_CHANNEL}', NEW.id::text);
    ELSE
        PERFORM pg_notify('{SESSIONS_CHANNEL}', OLD.user_id::text);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER sessions_notify_end AFTER UPDATE OF revoked_at ON sessions FOR EACH ROW
WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL) EXECUTE FUNCTION notify_session_change();
CREATE TRIGGER sessions_notify_delete AFTER DELETE ON sessions FOR EACH ROW
WHEN (OLD.revoked_at IS NULL AND OLD.expires_at > now()) EXECUTE FUNCTION notify_session_change();
CREATE TRIGGER users_notify_change AFTER UPDATE OF {", ".join(PRINCIPAL_COLUMNS)} ON users FOR EACH ROW
WHEN ({_row("OLD")} IS DISTINCT FROM {_row("NEW")}) EXECUTE FUNCTION notify_session_change();
"""


def upgrade() -> None:
    op.execute(NOTIFY)


def downgrade() -> None:
    op.execute("DROP TRIGGER users_notify_change ON users")
    op.execute("DROP TRIGGER sessions_notify_delete ON sessions")
    op.execute("DROP TRIGGER sessions_notify_end ON sessions")
    op.execute("DROP FUNCTION notify_session_change()")
