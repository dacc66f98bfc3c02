"""The trail of classification drafts: a draft discarded («Bỏ bản nháp») or replaced by a new run of its year was deleted
with its overrides, leaving nothing of who overrode which commune to what, and why, before it was thrown away (a planner
could try overrides, discard and run again until an approver let one pass). Such a draft is now archived, with who ended
it and when and each override it held, in ``classification_trail``, append-only like the other histories; the draft
itself still leaves classification_runs, so that nothing reads it as the year's result.

Revision ID: 0025
Revises: 0024
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from gis.store.sql import in_values, keep_audit_trail

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

# The vocabulary as this revision wrote it (frozen: a later value needs a migration of its own).
#: How a draft ended.
DRAFT_ENDS = ("discarded", "replaced")

#: Same guard as the other histories (function forbid_history_change of revision 0002).
APPEND_ONLY = """
CREATE TRIGGER classification_trail_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON classification_trail
FOR EACH STATEMENT EXECUTE FUNCTION forbid_history_change()
"""


def upgrade() -> None:
    op.create_table(
        "classification_trail",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rules_version", sa.Text(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("ended", sa.String(length=16), nullable=False),
        sa.Column("ended_by", sa.Text(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("overrides", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.CheckConstraint(in_values("ended", DRAFT_ENDS), name="ck_classification_trail_ended"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_classification_trail_year", "classification_trail", ["year"], unique=False)
    op.execute(APPEND_ONLY)


def downgrade() -> None:
    op.execute(keep_audit_trail("classification_trail"))
    op.execute("DROP TRIGGER IF EXISTS classification_trail_append_only ON classification_trail")
    op.drop_index("ix_classification_trail_year", table_name="classification_trail")
    op.drop_table("classification_trail")
