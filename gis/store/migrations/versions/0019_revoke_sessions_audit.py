"""The admin audit records an administrator ending a user's sessions (`revoke_sessions`): `DELETE
/api/users/{id}/sessions` and `diaban users revoke` were the one administrator action left out of it.

Revision ID: 0019
Revises: 0018
"""

from alembic import op

from gis.store.sql import add_check_valid_when_rows_allow, in_values

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# The vocabulary as this revision wrote it (frozen: a later value needs a migration of its own).
#: The admin actions before this revision (as 0012 wrote them) and after it.
ADMIN_ACTIONS_BEFORE = (
    "create_user",
    "deactivate_user",
    "activate_user",
    "reset_password",
    "unlock_user",
    "create_team",
    "change_team_area",
    "set_user_province",
)
ADMIN_ACTIONS = (*ADMIN_ACTIONS_BEFORE, "revoke_sessions")


def upgrade() -> None:
    op.drop_constraint("ck_admin_audit_action", "admin_audit", type_="check")
    op.execute(
        add_check_valid_when_rows_allow("admin_audit", "ck_admin_audit_action", in_values("action", ADMIN_ACTIONS))
    )


def downgrade() -> None:
    # The audit is append-only: lines of the removed action stay, the older check holds for new lines only.
    op.drop_constraint("ck_admin_audit_action", "admin_audit", type_="check")
    before = in_values("action", ADMIN_ACTIONS_BEFORE)
    op.execute(f"ALTER TABLE admin_audit ADD CONSTRAINT ck_admin_audit_action CHECK ({before}) NOT VALID")
