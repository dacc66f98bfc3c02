"""Data versions of the classifications (classification_runs, classification_results): the map of the classes is sent
with an ETag keyed on them.

A new run, an override and an approval each change one of the two tables; the trigger function bump_data_version()
of 0004 raises the row named after the changed table, once per statement.

Revision ID: 0018
Revises: 0017
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

TABLES = ("classification_runs", "classification_results")


def upgrade() -> None:
    for table in TABLES:
        op.execute(f"INSERT INTO data_versions (name, version) VALUES ('{table}', 1)")
        op.execute(
            f"CREATE TRIGGER {table}_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_data_version ON {table}")
        op.execute(f"DELETE FROM data_versions WHERE name = '{table}'")
