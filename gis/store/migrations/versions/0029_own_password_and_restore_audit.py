"""The admin audit records a user's change of their own password (`change_own_password`: from which address, whether
it replaced a password an administrator gave) and a database restored from a backup (`restore_backup`: the archive,
its date, checksum and source): the first was left only as a session's end reason, pruned with the sessions; the
second left no record at all.

Revision ID: 0029
Revises: 0028
"""

from alembic import op

from gis.store.sql import in_values
from models.vocabulary import AdminAction

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint("ck_admin_audit_action", "admin_audit", type_="check")
    op.create_check_constraint("ck_admin_audit_action", "admin_audit", in_values("action", AdminAction))


def downgrade() -> None:
    # The audit is append-only: lines of these actions stay, the older check holds for new lines only.
    op.drop_constraint("ck_admin_audit_action", "admin_audit", type_="check")
    new = {AdminAction.CHANGE_OWN_PASSWORD, AdminAction.RESTORE_BACKUP}
    before = in_values("action", [a for a in AdminAction if a not in new])
    op.execute(f"ALTER TABLE admin_audit ADD CONSTRAINT ck_admin_audit_action CHECK ({before}) NOT VALID")
