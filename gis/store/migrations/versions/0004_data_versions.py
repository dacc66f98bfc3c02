"""Metric coordinates of incidents as generated columns; data versions raised by triggers (cache keys).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: The metric CRS (UTM zone 48N): a fact, written here as it was.
METRIC_SRID = 32648

#: Tables whose changes invalidate cached map results (tiles, heat, Gi*, emerging patterns).
VERSIONED = ("incidents", "team_areas")

BUMP = """
CREATE OR REPLACE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE data_versions SET version = version + 1, changed_at = now() WHERE name = TG_TABLE_NAME;
    RETURN NULL;
END $$
"""
TRIGGER = """
CREATE TRIGGER {table}_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version()
"""


def upgrade() -> None:
    for axis in ("x", "y"):
        op.add_column(
            "incidents",
            sa.Column(
                f"{axis}_m",
                sa.Float(),
                sa.Computed(f"ST_{axis.upper()}(ST_Transform(geom, {METRIC_SRID}))", persisted=True),
                nullable=False,
            ),
        )
    op.create_table(
        "data_versions",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.execute("INSERT INTO data_versions (name, version) VALUES " + ", ".join(f"('{t}', 1)" for t in VERSIONED))
    op.execute(BUMP)
    for table in VERSIONED:
        op.execute(TRIGGER.format(table=table))


def downgrade() -> None:
    for table in VERSIONED:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_data_version ON {table}")
    op.execute("DROP FUNCTION IF EXISTS bump_data_version()")
    op.drop_table("data_versions")
    op.drop_column("incidents", "y_m")
    op.drop_column("incidents", "x_m")
