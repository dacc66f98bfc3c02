"""The admin audit records an accounts file imported as a whole (`import_accounts`: the file's name, the teams and
users it created): `POST /api/users/import` and `diaban users import` left one line per team and user created but
none saying that, when, or from which file they came together.

Revision ID: 0028
Revises: 0027
"""

from alembic import op

from gis.store.sql import add_check_valid_when_rows_allow, in_values

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

# The vocabulary as this revision wrote it (frozen: a later value needs a migration of its own).
#: The admin actions before this revision (as 0024 wrote them) and after it.
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
)
ADMIN_ACTIONS = (*ADMIN_ACTIONS_BEFORE, "import_accounts")


def upgrade() -> None:
    op.drop_constraint("ck_admin_audit_action", "admin_audit", type_="check")
    op.execute(
        add_check_valid_when_rows_allow("admin_audit", "ck_admin_audit_action", in_values("action", ADMIN_ACTIONS))
    )


def downgrade() -> None:
    # The audit is append-only: lines of imports stay, the older check holds for new lines only.
    op.drop_constraint("ck_admin_audit_action", "admin_audit", type_="check")
    before = in_values("action", ADMIN_ACTIONS_BEFORE)
    op.execute(f"ALTER TABLE admin_audit ADD CONSTRAINT ck_admin_audit_action CHECK ({before}) NOT VALID")
