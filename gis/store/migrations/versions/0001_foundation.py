"""Foundation: administrative units with validity periods, incidents, yearly indicators, imports.

Revision ID: 0001
Revises:
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op

from gis.store.sql import in_values

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The vocabulary as this revision wrote it (frozen: a later value needs a migration of its own).
UNIT_KINDS = ("phuong", "xa", "dac_khu")
INCIDENT_KINDS = (
    "trafficking",
    "possession",
    "transport",
    "organizing_use",
    "harboring",
    "production",
    "cultivation",
    "drug_use",
    "tip",
)
ASSIGNMENTS = ("inside", "nearest", "outside")
#: The current version of a unit.
CURRENT_UNIT = "valid_to IS NULL"


def upgrade() -> None:
    op.create_table(
        "admin_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("full_name", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("province_code", sa.String(length=8), nullable=True),
        sa.Column("area_km2", sa.Float(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("geom_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(geometry_type="MULTIPOLYGON", srid=4326, dimension=2, spatial_index=False),
            nullable=False,
        ),
        sa.CheckConstraint(in_values("kind", UNIT_KINDS), name="ck_admin_units_kind"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="ck_admin_units_period"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code", "valid_from", name="uq_admin_units_code_valid_from"),
    )
    op.create_index("idx_admin_units_geom", "admin_units", ["geom"], unique=False, postgresql_using="gist")
    op.create_index(op.f("ix_admin_units_code"), "admin_units", ["code"], unique=False)
    op.create_index("ix_admin_units_current", "admin_units", ["code"], unique=True, postgresql_where=CURRENT_UNIT)
    op.create_table(
        "import_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(length=32), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("imported_by", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("outside", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "admin_unit_parts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(geometry_type="POLYGON", srid=4326, dimension=2, spatial_index=False),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["admin_units.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("idx_admin_unit_parts_geom", "admin_unit_parts", ["geom"], unique=False, postgresql_using="gist")
    op.create_index(op.f("ix_admin_unit_parts_unit_id"), "admin_unit_parts", ["unit_id"], unique=False)
    op.create_table(
        "commune_indicators",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("commune_code", sa.String(length=16), nullable=False),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("users_with_records", sa.Integer(), nullable=False),
        sa.Column("plants_destroyed", sa.Integer(), nullable=False),
        sa.Column("cultivation_m2", sa.Float(), nullable=False),
        sa.Column("on_drug_route", sa.Boolean(), nullable=False),
        sa.Column("organizing_places", sa.Integer(), nullable=True),
        sa.Column("arrested_offenders", sa.Integer(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("population IS NULL OR population >= 0", name="ck_indicators_population"),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["import_runs.id"],
        ),
        sa.PrimaryKeyConstraint("year", "commune_code"),
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("substance", sa.Text(), nullable=True),
        sa.Column("quantity_g", sa.Float(), nullable=True),
        sa.Column("arrested", sa.Integer(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("commune_code", sa.String(length=16), nullable=True),
        sa.Column("assignment", sa.String(length=16), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(geometry_type="POINT", srid=4326, dimension=2, spatial_index=False),
            nullable=False,
        ),
        sa.CheckConstraint(in_values("assignment", ASSIGNMENTS), name="ck_incidents_assignment"),
        sa.CheckConstraint(in_values("kind", INCIDENT_KINDS), name="ck_incidents_kind"),
        sa.CheckConstraint("arrested IS NULL OR arrested >= 0", name="ck_incidents_arrested"),
        sa.CheckConstraint("quantity_g IS NULL OR quantity_g >= 0", name="ck_incidents_quantity"),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["import_runs.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ref"),
    )
    op.create_index("idx_incidents_geom", "incidents", ["geom"], unique=False, postgresql_using="gist")
    op.create_index("ix_incidents_commune_time", "incidents", ["commune_code", "occurred_at"], unique=False)
    op.create_index("ix_incidents_occurred_at", "incidents", ["occurred_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_incidents_occurred_at", table_name="incidents")
    op.drop_index("ix_incidents_commune_time", table_name="incidents")
    op.drop_index("idx_incidents_geom", table_name="incidents", postgresql_using="gist")
    op.drop_table("incidents")
    op.drop_table("commune_indicators")
    op.drop_index(op.f("ix_admin_unit_parts_unit_id"), table_name="admin_unit_parts")
    op.drop_index("idx_admin_unit_parts_geom", table_name="admin_unit_parts", postgresql_using="gist")
    op.drop_table("admin_unit_parts")
    op.drop_table("import_runs")
    op.drop_index("ix_admin_units_current", table_name="admin_units", postgresql_where=CURRENT_UNIT)
    op.drop_index(op.f("ix_admin_units_code"), table_name="admin_units")
    op.drop_index("idx_admin_units_geom", table_name="admin_units", postgresql_using="gist")
    op.drop_table("admin_units")
