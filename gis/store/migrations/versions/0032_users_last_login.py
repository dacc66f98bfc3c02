"""`users.last_login_at`: when each user last logged in, for the administrator to find accounts nobody uses.

A session records its start, but sessions are deleted once ended (gis.store.sessions), so the users page could not say
whether an account had been used this year. Filled at each successful login; before it, from the newest session
still kept.

Revision ID: 0032
Revises: 0031
"""

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE users u SET last_login_at = (SELECT max(s.created_at) FROM sessions s WHERE s.user_id = u.id)")


def downgrade() -> None:
    op.drop_column("users", "last_login_at")
