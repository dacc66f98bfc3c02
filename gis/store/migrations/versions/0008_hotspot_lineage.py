"""Hotspot identity over detection runs: dormant and merged statuses, and the lineage of merges and splits.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from gis.store.sql import in_values

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The vocabulary as this revision wrote it (frozen: a later value needs a migration of its own).
#: The hotspot statuses before this revision (as 0002 wrote them) and after it.
STATUSES_BEFORE = (
    "detected",
    "verified",
    "dismissed",
    "assigned",
    "suppressing",
    "eradicated",
    "monitoring",
    "closed",
    "recurred",
)
STATUSES = (*STATUSES_BEFORE, "dormant", "merged")
LINEAGE_KINDS = ("merge", "split")


def _status_check(statuses: tuple[str, ...]) -> None:
    op.drop_constraint("ck_hotspots_status", "hotspots", type_="check")
    op.create_check_constraint("ck_hotspots_status", "hotspots", in_values("status", statuses))


def upgrade() -> None:
    _status_check(STATUSES)
    op.create_table(
        "hotspot_lineage",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(in_values("kind", LINEAGE_KINDS), name="ck_hotspot_lineage_kind"),
        sa.CheckConstraint("parent_id <> child_id", name="ck_hotspot_lineage_distinct"),
        sa.ForeignKeyConstraint(["child_id"], ["hotspots.id"]),
        sa.ForeignKeyConstraint(["parent_id"], ["hotspots.id"]),
        sa.ForeignKeyConstraint(["run_id"], ["detection_runs.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_hotspot_lineage_parent_id"), "hotspot_lineage", ["parent_id"], unique=False)
    op.create_index(op.f("ix_hotspot_lineage_child_id"), "hotspot_lineage", ["child_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_hotspot_lineage_child_id"), table_name="hotspot_lineage")
    op.drop_index(op.f("ix_hotspot_lineage_parent_id"), table_name="hotspot_lineage")
    op.drop_table("hotspot_lineage")
    # The former statuses cannot say "dormant" or "merged": such hotspots read as detected / dismissed.
    op.execute("UPDATE hotspots SET status = 'detected' WHERE status = 'dormant'")
    op.execute("UPDATE hotspots SET status = 'dismissed' WHERE status = 'merged'")
    _status_check(STATUSES_BEFORE)
