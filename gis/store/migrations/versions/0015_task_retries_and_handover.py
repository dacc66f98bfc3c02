"""A client's key on a task event, and the index of the team a reassignment took a task from.

A client's key: a phone that sends a comment (or a note with a photo) again after losing the answer
gets the first one back instead of a second copy.

The key is the client's (the team page makes one per note and keeps it through its retries and a session that
ended); it is unique per user, so two users' keys never meet, and NULL for events no client keyed.

The team a task was taken from (``details.from_team`` of a ``reassigned`` event) is told of it in its inbox: an index
of that expression over the reassignments alone keeps the inbox from reading the whole history.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


FROM_TEAM = "(CAST(details ->> 'from_team' AS integer))"


def upgrade() -> None:
    op.add_column("task_events", sa.Column("client_key", sa.Text(), nullable=True))
    op.create_index(
        "uq_task_events_actor_client_key",
        "task_events",
        ["actor", "client_key"],
        unique=True,
        postgresql_where=sa.text("client_key IS NOT NULL"),
    )
    op.execute(f"CREATE INDEX ix_task_events_reassigned_from ON task_events {FROM_TEAM} WHERE event = 'reassigned'")


def downgrade() -> None:
    op.drop_index("ix_task_events_reassigned_from", table_name="task_events")
    op.drop_index("uq_task_events_actor_client_key", table_name="task_events")
    op.drop_column("task_events", "client_key")
