"""Pages for every role: the append-only admin audit; an accepted task no longer blocks a new one for its
hotspot (recurrence), and a hotspot's newest task is found by index; the approved classification names who last overrode a class and when (four eyes);
photo evidence of progress notes, stored in PostgreSQL and append-only like the task history.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from gis.store.sql import in_values, keep_audit_trail

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# The vocabulary as this revision wrote it (frozen: a later value needs a migration of its own).
#: States that closed a task before this revision (accepted work still blocked a new task for the hotspot), and after.
_CLOSED_BEFORE = ("canceled", "declined")
_CLOSED = ("accepted", *_CLOSED_BEFORE)
#: The admin actions the audit knows.
ADMIN_ACTIONS = (
    "create_user",
    "deactivate_user",
    "activate_user",
    "reset_password",
    "unlock_user",
    "create_team",
    "change_team_area",
)
_OPEN_INDEXES = {"ix_tasks_open_suppression": ("hotspot_id",), "ix_tasks_open_conversion": ("commune_code", "year")}


def _open_indexes(closed: tuple[str, ...]) -> None:
    """(Re)create the one-open-task-per-hotspot and per-commune-year indexes for a set of closing states."""
    for name, columns in _OPEN_INDEXES.items():
        kind = "suppression" if "hotspot_id" in columns else "conversion"
        op.drop_index(name, table_name="tasks")
        op.create_index(
            name,
            "tasks",
            list(columns),
            unique=True,
            postgresql_where=f"kind = '{kind}' AND NOT ({in_values('state', closed)})",
        )


#: Same guard as the other histories (function forbid_history_change of revision 0002).
APPEND_ONLY = """
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table}
FOR EACH STATEMENT EXECUTE FUNCTION forbid_history_change()
"""


def upgrade() -> None:
    _open_indexes(_CLOSED)
    op.create_index("ix_tasks_hotspot", "tasks", ["hotspot_id", "id"], unique=False)
    op.create_table(
        "admin_audit",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("target_user_id", sa.Integer(), nullable=True),
        sa.Column("target_user", sa.Text(), nullable=True),
        sa.Column("target_team_id", sa.Integer(), nullable=True),
        sa.Column("target_team", sa.Text(), nullable=True),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.CheckConstraint(in_values("action", ADMIN_ACTIONS), name="ck_admin_audit_action"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_admin_audit_at", "admin_audit", ["at"], unique=False)
    op.execute(APPEND_ONLY.format(table="admin_audit"))
    op.add_column("classification_runs", sa.Column("last_override_by", sa.Text(), nullable=True))
    op.add_column("classification_runs", sa.Column("last_override_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "task_photos",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("byte_size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("location_kept", sa.Boolean(), nullable=False),
        sa.Column("uploaded_by", sa.Text(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("byte_size > 0", name="ck_task_photos_size"),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"]),
        sa.ForeignKeyConstraint(["event_id"], ["task_events.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_task_photos_task_id"), "task_photos", ["task_id"], unique=False)
    op.create_index(op.f("ix_task_photos_event_id"), "task_photos", ["event_id"], unique=False)
    op.execute(APPEND_ONLY.format(table="task_photos"))


def downgrade() -> None:
    op.execute(keep_audit_trail("admin_audit"))
    op.execute(keep_audit_trail("task_photos"))
    op.execute("DROP TRIGGER IF EXISTS task_photos_append_only ON task_photos")
    op.drop_index(op.f("ix_task_photos_event_id"), table_name="task_photos")
    op.drop_index(op.f("ix_task_photos_task_id"), table_name="task_photos")
    op.drop_table("task_photos")
    op.drop_column("classification_runs", "last_override_at")
    op.drop_column("classification_runs", "last_override_by")
    op.execute("DROP TRIGGER IF EXISTS admin_audit_append_only ON admin_audit")
    op.drop_index("ix_admin_audit_at", table_name="admin_audit")
    op.drop_table("admin_audit")
    op.drop_index("ix_tasks_hotspot", table_name="tasks")
    _open_indexes(_CLOSED_BEFORE)
