"""The admin audit records a user's change of their own password (`change_own_password`: from which address, whether
it replaced a password an administrator gave) and a database restored from a backup (`restore_backup`: the archive,
its date, checksum and source): the first was left only as a session's end reason, pruned with the sessions; the
second left no record at all.

Revision ID: 0029
Revises: 0028
"""

from alembic import op

from gis.store.sql import add_check_valid_when_rows_allow, in_values

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

# The vocabulary as this revision wrote it (frozen: a later value needs a migration of its own).
#: The admin actions before this revision (as 0028 wrote them) and after it.
ADMIN_ACTIONS_BEFORE = (
    "create_user",
    "deactivate_user",
    "activate_user",
    "reset_password",
    "unlock_user",
    "create_team",
    "change_team_area",
    "set_user_province",
    "revoke_sessions",
    "rename_team",
    "move_user",
    "change_user_role",
    "dissolve_team",
    "import_accounts",
)
ADMIN_ACTIONS = (*ADMIN_ACTIONS_BEFORE, "change_own_password", "restore_backup")


def upgrade() -> None:
    op.drop_constraint("ck_admin_audit_action", "admin_audit", type_="check")
    op.execute(
        add_check_valid_when_rows_allow("admin_audit", "ck_admin_audit_action", in_values("action", ADMIN_ACTIONS))
    )


def downgrade() -> None:
    # The audit is append-only: lines of these actions stay, the older check holds for new lines only.
    op.drop_constraint("ck_admin_audit_action", "admin_audit", type_="check")
    before = in_values("action", ADMIN_ACTIONS_BEFORE)
    op.execute(f"ALTER TABLE admin_audit ADD CONSTRAINT ck_admin_audit_action CHECK ({before}) NOT VALID")
