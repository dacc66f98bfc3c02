"""Tasking and classification: users, teams and their areas over time, tasks, append-only task events;
yearly commune classification runs (draft → approved, immutable) and per-commune results.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from gis.store.sql import in_values, keep_audit_trail

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The vocabulary as this revision wrote it (frozen: a later value needs a migration of its own).
ROLES = ("command", "team", "planner", "admin")
TASK_KINDS = ("suppression", "conversion")
TASK_PRIORITIES = ("low", "normal", "high", "urgent")
TASK_STATES = (
    "unassigned",
    "assigned",
    "in_progress",
    "paused",
    "completed",
    "accepted",
    "returned",
    "declined",
    "canceled",
)
#: The states that closed a task then (0009 adds "accepted").
TASK_CLOSED = ("canceled", "declined")
RUN_STATUSES = ("draft", "approved")
CATEGORIES = ("trong_diem", "at_risk", "drug_free")
LEVELS = ("I", "II", "III")
#: Hải Phòng's date now (never ``current_date``, which follows the server's time zone).
LOCAL_TODAY = "((now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date)"

#: Reuses forbid_history_change() from 0002: nobody can edit or delete a task event.
APPEND_ONLY = """
CREATE TRIGGER task_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON task_events
FOR EACH STATEMENT EXECUTE FUNCTION forbid_history_change()
"""

#: An approved run and its results can never change: corrections are new runs that supersede them.
FORBID_APPROVED_CHANGE = """
CREATE OR REPLACE FUNCTION forbid_approved_classification_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    frozen boolean;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        frozen := EXISTS (SELECT 1 FROM classification_runs WHERE status = 'approved');
    ELSIF TG_TABLE_NAME = 'classification_runs' THEN
        frozen := OLD.status = 'approved';
    ELSE
        SELECT bool_or(r.status = 'approved') INTO frozen FROM classification_runs r
        WHERE r.id IN (CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.run_id END,
                       CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.run_id END);
    END IF;
    IF coalesce(frozen, false) THEN
        RAISE EXCEPTION 'kết quả phân loại đã phê duyệt không thể thay đổi (approved classification is immutable: % on % refused)',
            TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$
"""
TRIGGERS = """
CREATE TRIGGER classification_runs_frozen BEFORE UPDATE OR DELETE ON classification_runs
FOR EACH ROW EXECUTE FUNCTION forbid_approved_classification_change();
CREATE TRIGGER classification_runs_no_truncate BEFORE TRUNCATE ON classification_runs
FOR EACH STATEMENT EXECUTE FUNCTION forbid_approved_classification_change();
CREATE TRIGGER classification_results_frozen BEFORE INSERT OR UPDATE OR DELETE ON classification_results
FOR EACH ROW EXECUTE FUNCTION forbid_approved_classification_change();
CREATE TRIGGER classification_results_no_truncate BEFORE TRUNCATE ON classification_results
FOR EACH STATEMENT EXECUTE FUNCTION forbid_approved_classification_change();
"""


def _open(kind: str) -> str:
    """Partial-index condition: tasks of ``kind`` that are not closed (one open task per hotspot / commune-year)."""
    return f"kind = '{kind}' AND NOT ({in_values('state', TASK_CLOSED)})"


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "team_areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("commune_code", sa.String(length=16), nullable=False),
        sa.Column("valid_from", sa.Date(), server_default=sa.text(LOCAL_TODAY), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="ck_team_areas_period"),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "commune_code", "valid_from", name="uq_team_areas_team_commune_from"),
    )
    op.create_index("ix_team_areas_commune", "team_areas", ["commune_code"], unique=False)
    op.create_index(op.f("ix_team_areas_team_id"), "team_areas", ["team_id"], unique=False)
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("(role = 'team') = (team_id IS NOT NULL)", name="ck_users_team_role"),
        sa.CheckConstraint(in_values("role", ROLES), name="ck_users_role"),
        sa.CheckConstraint("failed_logins >= 0", name="ck_users_failed_logins"),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_index(op.f("ix_users_team_id"), "users", ["team_id"], unique=False)
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("hotspot_id", sa.Integer(), nullable=True),
        sa.Column("commune_code", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("priority", sa.String(length=8), nullable=False),
        sa.Column("checklist", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("state_changed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("kind <> 'conversion' OR year IS NOT NULL", name="ck_tasks_conversion_year"),
        sa.CheckConstraint("kind <> 'suppression' OR hotspot_id IS NOT NULL", name="ck_tasks_suppression_hotspot"),
        sa.CheckConstraint(in_values("kind", TASK_KINDS), name="ck_tasks_kind"),
        sa.CheckConstraint(in_values("priority", TASK_PRIORITIES), name="ck_tasks_priority"),
        sa.CheckConstraint(in_values("state", TASK_STATES), name="ck_tasks_state"),
        sa.ForeignKeyConstraint(
            ["hotspot_id"],
            ["hotspots.id"],
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_tasks_commune", "tasks", ["commune_code"], unique=False)
    op.create_index(
        "ix_tasks_open_conversion", "tasks", ["commune_code", "year"], unique=True, postgresql_where=_open("conversion")
    )
    op.create_index(
        "ix_tasks_open_suppression", "tasks", ["hotspot_id"], unique=True, postgresql_where=_open("suppression")
    )
    op.create_index("ix_tasks_team_state", "tasks", ["team_id", "state"], unique=False)
    op.create_table(
        "task_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("actor_team_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("event", sa.String(length=24), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_task_events_task_id"), "task_events", ["task_id"], unique=False)
    op.create_index("ix_task_events_team_at", "task_events", ["team_id", "at"], unique=False)
    op.execute(APPEND_ONLY)
    op.create_table(
        "classification_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rules_version", sa.Text(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("approved_by", sa.Text(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(status = 'approved') = (approved_at IS NOT NULL AND approved_by IS NOT NULL)",
            name="ck_classification_runs_approval",
        ),
        sa.CheckConstraint(in_values("status", RUN_STATUSES), name="ck_classification_runs_status"),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["classification_runs.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("year", "version", name="uq_classification_runs_year_version"),
    )
    op.create_index(
        "ix_classification_runs_one_draft",
        "classification_runs",
        ["year"],
        unique=True,
        postgresql_where="status = 'draft'",
    )
    op.create_table(
        "classification_results",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("commune_code", sa.String(length=16), nullable=False),
        sa.Column("legal_category", sa.String(length=16), nullable=False),
        sa.Column("legal_level", sa.String(length=4), nullable=True),
        sa.Column("learned_category", sa.String(length=16), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("risk_next_year", sa.Float(), nullable=True),
        sa.Column("leaving_drug_free", sa.Boolean(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("level", sa.String(length=4), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("override_by", sa.Text(), nullable=True),
        sa.Column("override_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("indicators", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("sources", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("criteria", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "(category = 'trong_diem') = (level IS NOT NULL) AND (level IS NULL OR " + in_values("level", LEVELS) + ")",
            name="ck_classification_results_level",
        ),
        sa.CheckConstraint(in_values("category", CATEGORIES), name="ck_classification_results_category"),
        sa.CheckConstraint(in_values("legal_category", CATEGORIES), name="ck_classification_results_legal_category"),
        sa.CheckConstraint(
            "method <> 'override' OR length(btrim(override_reason)) > 0",
            name="ck_classification_results_override_reason",
        ),
        sa.ForeignKeyConstraint(["run_id"], ["classification_runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "commune_code"),
    )
    op.execute(FORBID_APPROVED_CHANGE)
    op.execute(TRIGGERS)


def downgrade() -> None:
    op.execute(keep_audit_trail("task_events"))
    op.drop_table("classification_results")
    op.drop_table("classification_runs")
    op.execute("DROP FUNCTION IF EXISTS forbid_approved_classification_change()")
    op.execute("DROP TRIGGER IF EXISTS task_events_append_only ON task_events")
    op.drop_index("ix_task_events_team_at", table_name="task_events")
    op.drop_index(op.f("ix_task_events_task_id"), table_name="task_events")
    op.drop_table("task_events")
    op.drop_index("ix_tasks_team_state", table_name="tasks")
    op.drop_index("ix_tasks_open_suppression", table_name="tasks", postgresql_where=_open("suppression"))
    op.drop_index("ix_tasks_open_conversion", table_name="tasks", postgresql_where=_open("conversion"))
    op.drop_index("ix_tasks_commune", table_name="tasks")
    op.drop_table("tasks")
    op.drop_index(op.f("ix_users_team_id"), table_name="users")
    op.drop_table("users")
    op.drop_index(op.f("ix_team_areas_team_id"), table_name="team_areas")
    op.drop_index("ix_team_areas_commune", table_name="team_areas")
    op.drop_table("team_areas")
    op.drop_table("teams")
