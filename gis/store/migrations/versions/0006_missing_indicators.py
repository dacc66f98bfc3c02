"""Missing stays missing: imported indicators nullable (blank = unknown), population > 0, classification results
flag undecidable criteria (incomplete, possible_level) and an incomplete commune is never drug-free.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: Imported figures that were NOT NULL (a blank cell had been stored as 0 / false).
NULLABLE = {
    "users_with_records": sa.Integer(),
    "plants_destroyed": sa.Integer(),
    "cultivation_m2": sa.Float(),
    "on_drug_route": sa.Boolean(),
}


def upgrade() -> None:
    for column, type_ in NULLABLE.items():
        op.alter_column("commune_indicators", column, existing_type=type_, nullable=True)
    # A population of 0 had been accepted and made every rate undefined: it was never a known figure.
    op.execute("UPDATE commune_indicators SET population = NULL WHERE population = 0")
    op.drop_constraint("ck_indicators_population", "commune_indicators", type_="check")
    op.create_check_constraint("ck_indicators_population", "commune_indicators", "population IS NULL OR population > 0")
    # Adding columns is DDL: the row triggers that freeze approved runs (0003) do not fire.
    op.add_column(
        "classification_results",
        sa.Column("incomplete", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column("classification_results", sa.Column("possible_level", sa.String(length=4), nullable=True))
    op.create_check_constraint(
        "ck_classification_results_incomplete",
        "classification_results",
        "NOT (incomplete AND category = 'drug_free')",
    )


def downgrade() -> None:
    op.drop_constraint("ck_classification_results_incomplete", "classification_results", type_="check")
    op.drop_column("classification_results", "possible_level")
    op.drop_column("classification_results", "incomplete")
    op.drop_constraint("ck_indicators_population", "commune_indicators", type_="check")
    op.create_check_constraint(
        "ck_indicators_population", "commune_indicators", "population IS NULL OR population >= 0"
    )
    # Unknown figures cannot be made known again: the old schema stored them as 0 / false.
    for column, type_ in NULLABLE.items():
        default = "false" if column == "on_drug_route" else "0"
        op.execute(f"UPDATE commune_indicators SET {column} = {default} WHERE {column} IS NULL")
        op.alter_column("commune_indicators", column, existing_type=type_, nullable=False)
