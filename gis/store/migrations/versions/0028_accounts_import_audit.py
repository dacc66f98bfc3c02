"""The admin audit records an accounts file imported as a whole (`import_accounts`: the file's name, the teams and
users it created): `POST /api/users/import` and `diaban users import` left one line per team and user created but
none saying that, when, or from which file they came together.

Revision ID: 0028
Revises: 0027
"""

from alembic import op

from gis.store.sql import in_values
from models.vocabulary import AdminAction

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint("ck_admin_audit_action", "admin_audit", type_="check")
    op.create_check_constraint("ck_admin_audit_action", "admin_audit", in_values("action", AdminAction))


def downgrade() -> None:
    # The audit is append-only: lines of imports stay, the older check holds for new lines only.
    op.drop_constraint("ck_admin_audit_action", "admin_audit", type_="check")
    before = in_values("action", [a for a in AdminAction if a != AdminAction.IMPORT_ACCOUNTS])
    op.execute(f"ALTER TABLE admin_audit ADD CONSTRAINT ck_admin_audit_action CHECK ({before}) NOT VALID")
