"""Incidents located without a point (by a current or legacy commune code, or an address) and flagged ambiguous
ones; the unit valid at each incident's date (period_code); import counts by source; how each indicator row was
obtained (direct or summed from legacy communes).

An incident without coordinates keeps no point: its geometry (and the metric x_m/y_m) is NULL, never an
invented centroid, so that it counts in its commune's figures but cannot enter any point analysis. A CHECK
ties the two together: a point exactly when the assignment is a point assignment.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from gis.store.sql import in_values

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The vocabulary as this revision wrote it (frozen: a later value needs a migration of its own).
#: The assignments that locate an incident by its point (all there were before this revision).
POINT_ASSIGNMENTS = ("inside", "nearest", "outside")
ASSIGNMENTS = (*POINT_ASSIGNMENTS, "code", "legacy_code", "address", "ambiguous")
INDICATOR_METHODS = ("direct", "legacy_sum", "legacy_given")

POINT_CHECK = f"(geom IS NOT NULL) = ({in_values('assignment', POINT_ASSIGNMENTS)})"
AMBIGUOUS_CHECK = (
    "(assignment = 'ambiguous') = (candidate_codes IS NOT NULL) AND (assignment <> 'ambiguous' OR commune_code IS NULL)"
)


def upgrade() -> None:
    op.alter_column("incidents", "geom", nullable=True)
    op.alter_column("incidents", "x_m", nullable=True)
    op.alter_column("incidents", "y_m", nullable=True)
    op.add_column("incidents", sa.Column("legacy_code", sa.String(length=16), nullable=True))
    op.add_column("incidents", sa.Column("period_code", sa.String(length=16), nullable=True))
    op.add_column("incidents", sa.Column("candidate_codes", postgresql.ARRAY(sa.String(length=16)), nullable=True))
    op.drop_constraint("ck_incidents_assignment", "incidents", type_="check")
    op.create_check_constraint("ck_incidents_assignment", "incidents", in_values("assignment", ASSIGNMENTS))
    op.create_check_constraint("ck_incidents_point", "incidents", POINT_CHECK)
    op.create_check_constraint("ck_incidents_ambiguous", "incidents", AMBIGUOUS_CHECK)
    for column in ("by_code", "by_address", "ambiguous"):
        op.add_column("import_runs", sa.Column(column, sa.Integer(), server_default="0", nullable=False))
    op.add_column(
        "commune_indicators",
        sa.Column("method", sa.String(length=16), server_default="direct", nullable=False),
    )
    op.add_column("commune_indicators", sa.Column("legacy_codes", postgresql.ARRAY(sa.String(length=16))))
    op.create_check_constraint("ck_indicators_method", "commune_indicators", in_values("method", INDICATOR_METHODS))
    # A year may hold a commune's row twice: summed onto today's unit, and as given for the old unit of that code.
    op.drop_constraint("commune_indicators_pkey", "commune_indicators", type_="primary")
    op.create_primary_key("commune_indicators_pkey", "commune_indicators", ["year", "commune_code", "method"])


def downgrade() -> None:
    """Back to point-only incidents: fails while incidents without a point are stored (delete them first)."""
    op.execute("DELETE FROM commune_indicators WHERE method = 'legacy_given'")
    op.drop_constraint("commune_indicators_pkey", "commune_indicators", type_="primary")
    op.create_primary_key("commune_indicators_pkey", "commune_indicators", ["year", "commune_code"])
    op.drop_constraint("ck_indicators_method", "commune_indicators", type_="check")
    op.drop_column("commune_indicators", "legacy_codes")
    op.drop_column("commune_indicators", "method")
    for column in ("by_code", "by_address", "ambiguous"):
        op.drop_column("import_runs", column)
    op.drop_constraint("ck_incidents_ambiguous", "incidents", type_="check")
    op.drop_constraint("ck_incidents_point", "incidents", type_="check")
    op.drop_constraint("ck_incidents_assignment", "incidents", type_="check")
    op.create_check_constraint("ck_incidents_assignment", "incidents", in_values("assignment", POINT_ASSIGNMENTS))
    op.drop_column("incidents", "candidate_codes")
    op.drop_column("incidents", "period_code")
    op.drop_column("incidents", "legacy_code")
    op.alter_column("incidents", "y_m", nullable=False)
    op.alter_column("incidents", "x_m", nullable=False)
    op.alter_column("incidents", "geom", nullable=False)
