"""A password an administrator gave (a new account, a reset) must be changed by its user at the next login: the
administrator who reset a planner's password knew it, and could sign in as that planner (around four eyes) with only
the reset in the audit; and the pages offered no way to change one's own password at all.

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing accounts keep working as they are: their passwords were not given under this rule.
    op.add_column(
        "users", sa.Column("must_change_password", sa.Boolean(), server_default=sa.text("false"), nullable=False)
    )


def downgrade() -> None:
    op.drop_column("users", "must_change_password")
