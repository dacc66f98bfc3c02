"""Hotspots, detection runs, append-only hotspot events, incident membership.

Revision ID: 0002
Revises: 0001
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from gis.store.sql import in_values, keep_audit_trail

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The vocabulary as this revision wrote it (frozen: a later value needs a migration of its own).
HOTSPOT_KINDS = ("spot", "den", "organizing_place")
HOTSPOT_STATUSES = (
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

#: Shared by every append-only history table: nobody can edit or delete an event.
FORBID_CHANGE = """
CREATE OR REPLACE FUNCTION forbid_history_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'lịch sử chỉ được ghi thêm (% is append-only: % refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$
"""
APPEND_ONLY = """
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table}
FOR EACH STATEMENT EXECUTE FUNCTION forbid_history_change()
"""


def upgrade() -> None:
    op.create_table(
        "detection_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("window_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("n_clusters", sa.Integer(), nullable=False),
        sa.Column("n_new", sa.Integer(), nullable=False),
        sa.Column("n_updated", sa.Integer(), nullable=False),
        sa.Column("n_recurred", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "hotspots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("n_incidents", sa.Integer(), nullable=False),
        sa.Column("kinds", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("radius_m", sa.Float(), nullable=False),
        sa.Column("commune_code", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_run_id", sa.Integer(), nullable=True),
        sa.Column(
            "centroid",
            geoalchemy2.types.Geometry(geometry_type="POINT", srid=4326, dimension=2, spatial_index=False),
            nullable=False,
        ),
        sa.Column(
            "footprint",
            geoalchemy2.types.Geometry(geometry_type="POLYGON", srid=4326, dimension=2, spatial_index=False),
            nullable=True,
        ),
        sa.CheckConstraint(in_values("kind", HOTSPOT_KINDS), name="ck_hotspots_kind"),
        sa.CheckConstraint(in_values("status", HOTSPOT_STATUSES), name="ck_hotspots_status"),
        sa.ForeignKeyConstraint(
            ["last_run_id"],
            ["detection_runs.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("idx_hotspots_centroid", "hotspots", ["centroid"], unique=False, postgresql_using="gist")
    op.create_index("idx_hotspots_footprint", "hotspots", ["footprint"], unique=False, postgresql_using="gist")
    op.create_index("ix_hotspots_commune", "hotspots", ["commune_code"], unique=False)
    op.create_index("ix_hotspots_status", "hotspots", ["status"], unique=False)
    op.create_table(
        "hotspot_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("hotspot_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("event", sa.String(length=24), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["hotspot_id"],
            ["hotspots.id"],
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["detection_runs.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_hotspot_events_hotspot_id"), "hotspot_events", ["hotspot_id"], unique=False)
    op.create_table(
        "hotspot_incidents",
        sa.Column("hotspot_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["hotspot_id"], ["hotspots.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("hotspot_id", "incident_id"),
    )
    op.create_index(op.f("ix_hotspot_incidents_incident_id"), "hotspot_incidents", ["incident_id"], unique=False)
    op.execute(FORBID_CHANGE)
    op.execute(APPEND_ONLY.format(table="hotspot_events"))


def downgrade() -> None:
    op.execute(keep_audit_trail("hotspot_events"))
    op.execute("DROP TRIGGER IF EXISTS hotspot_events_append_only ON hotspot_events")
    op.execute("DROP FUNCTION IF EXISTS forbid_history_change()")
    op.drop_index(op.f("ix_hotspot_incidents_incident_id"), table_name="hotspot_incidents")
    op.drop_table("hotspot_incidents")
    op.drop_index(op.f("ix_hotspot_events_hotspot_id"), table_name="hotspot_events")
    op.drop_table("hotspot_events")
    op.drop_index("ix_hotspots_status", table_name="hotspots")
    op.drop_index("ix_hotspots_commune", table_name="hotspots")
    op.drop_index("idx_hotspots_footprint", table_name="hotspots", postgresql_using="gist")
    op.drop_index("idx_hotspots_centroid", table_name="hotspots", postgresql_using="gist")
    op.drop_table("hotspots")
    op.drop_table("detection_runs")
