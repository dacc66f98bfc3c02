"""A team is dissolved (giải thể) rather than deleted: ``teams.dissolved_on`` is the Hải Phòng day its area ended; it
stays for its old tasks and the audit, which name it, but is no longer listed, suggested or given anything. The admin
audit gains the action `dissolve_team`.

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

from gis.store.sql import add_check_valid_when_rows_allow, in_values

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

# The vocabulary as this revision wrote it (frozen: a later value needs a migration of its own).
#: The admin actions before this revision (as 0020 wrote them) and after it.
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
)
ADMIN_ACTIONS = (*ADMIN_ACTIONS_BEFORE, "dissolve_team")


def upgrade() -> None:
    op.add_column("teams", sa.Column("dissolved_on", sa.Date(), nullable=True))
    op.drop_constraint("ck_admin_audit_action", "admin_audit", type_="check")
    op.execute(
        add_check_valid_when_rows_allow("admin_audit", "ck_admin_audit_action", in_values("action", ADMIN_ACTIONS))
    )


def downgrade() -> None:
    # The audit is append-only: lines of dissolutions stay, the older check holds for new lines only. A dissolved team
    # becomes a team without an area again (its area ended; its name and history are kept).
    op.drop_constraint("ck_admin_audit_action", "admin_audit", type_="check")
    before = in_values("action", ADMIN_ACTIONS_BEFORE)
    op.execute(f"ALTER TABLE admin_audit ADD CONSTRAINT ck_admin_audit_action CHECK ({before}) NOT VALID")
    op.drop_column("teams", "dissolved_on")
