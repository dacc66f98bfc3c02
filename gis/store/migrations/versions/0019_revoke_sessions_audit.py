"""The admin audit records an administrator ending a user's sessions (`revoke_sessions`): `DELETE
/api/users/{id}/sessions` and `diaban users revoke` were the one administrator action left out of it.

Revision ID: 0019
Revises: 0018
"""

from alembic import op

from gis.store.sql import in_values
from models.vocabulary import AdminAction

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint("ck_admin_audit_action", "admin_audit", type_="check")
    op.create_check_constraint("ck_admin_audit_action", "admin_audit", in_values("action", AdminAction))


def downgrade() -> None:
    # The audit is append-only: lines of the removed action stay, the older check holds for new lines only.
    op.drop_constraint("ck_admin_audit_action", "admin_audit", type_="check")
    before = in_values("action", [a for a in AdminAction if a != AdminAction.REVOKE_SESSIONS])
    op.execute(f"ALTER TABLE admin_audit ADD CONSTRAINT ck_admin_audit_action CHECK ({before}) NOT VALID")
