"""A data version for the current boundaries (admin_unit_parts): the city-wide analysis grid is laid over them.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

#: The trigger function bump_data_version() of 0004 raises the row named after the changed table.
TABLE = "admin_unit_parts"


def upgrade() -> None:
    op.execute(f"INSERT INTO data_versions (name, version) VALUES ('{TABLE}', 1)")
    op.execute(
        f"CREATE TRIGGER {TABLE}_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {TABLE}"
        " FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version()"
    )


def downgrade() -> None:
    op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_data_version ON {TABLE}")
    op.execute(f"DELETE FROM data_versions WHERE name = '{TABLE}'")
