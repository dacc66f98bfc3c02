"""Hardening: failed logins per client address (progressive delay); server-side login sessions, revoked by a
trigger when their user is deactivated or changes password; the append-only access log of detailed reads and
exports (only its owner may delete lines past their retention).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from gis.store.sql import in_values, keep_audit_trail

# The vocabulary as this revision wrote it (frozen: a later value needs a migration of its own).
#: Why a session ended.
SESSION_ENDS = ("logout", "password", "deactivated", "revoked")

#: Reuses forbid_history_change() from 0002: nobody changes an access line (retention deletes, as the owner).
ACCESS_LOG_APPEND_ONLY = """
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR TRUNCATE ON access_log
FOR EACH STATEMENT EXECUTE FUNCTION forbid_history_change()
"""

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

#: Whatever changes a user (the API, the CLI, SQL by hand), deactivation or a new password ends their sessions.
REVOKE_SESSIONS = """
CREATE OR REPLACE FUNCTION revoke_user_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE sessions SET revoked_at = now(),
        revoked_reason = CASE WHEN NOT NEW.active THEN 'deactivated' ELSE 'password' END
    WHERE user_id = NEW.id AND revoked_at IS NULL;
    RETURN NULL;
END $$;
CREATE TRIGGER users_revoke_sessions AFTER UPDATE OF active, password_hash ON users FOR EACH ROW
WHEN ((OLD.active AND NOT NEW.active) OR OLD.password_hash IS DISTINCT FROM NEW.password_hash)
EXECUTE FUNCTION revoke_user_sessions();
"""


def upgrade() -> None:
    op.create_table(
        "login_sources",
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("failures >= 0", name="ck_login_sources_failures"),
        sa.PrimaryKeyConstraint("address"),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=16), nullable=True),
        sa.CheckConstraint(
            "(revoked_at IS NULL) = (revoked_reason IS NULL) AND (revoked_reason IS NULL OR "
            + in_values("revoked_reason", SESSION_ENDS)
            + ")",
            name="ck_sessions_revoked",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_sessions_user_open", "sessions", ["user_id"], unique=False, postgresql_where="revoked_at IS NULL"
    )
    op.execute(REVOKE_SESSIONS)
    op.create_table(
        "access_log",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("route", sa.Text(), nullable=False),
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_access_log_at", "access_log", ["at"], unique=False)
    op.create_index("ix_access_log_username_at", "access_log", ["username", "at"], unique=False)
    op.execute(ACCESS_LOG_APPEND_ONLY)


def downgrade() -> None:
    op.execute(keep_audit_trail("access_log"))
    op.execute("DROP TRIGGER IF EXISTS access_log_append_only ON access_log")
    op.drop_index("ix_access_log_username_at", table_name="access_log")
    op.drop_index("ix_access_log_at", table_name="access_log")
    op.drop_table("access_log")
    op.execute("DROP TRIGGER IF EXISTS users_revoke_sessions ON users")
    op.execute("DROP FUNCTION IF EXISTS revoke_user_sessions()")
    op.drop_index("ix_sessions_user_open", table_name="sessions", postgresql_where="revoked_at IS NULL")
    op.drop_table("sessions")
    op.drop_table("login_sources")
