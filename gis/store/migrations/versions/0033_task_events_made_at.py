"""`task_events.made_at`: when a team member made a change the phone kept while it had no signal and sent later.

An event's `at` is when the server recorded it. A report of completion made without signal on its due date and sent the
next morning was recorded, and counted in the periodic report, as late; the task's history told of work done at the
hour the phone found a network. `made_at` keeps the phone's time of the change (bounded by the server: not after `at`,
not before the task's previous event); NULL when the change was sent as it was made. `at` stays the server's, the
order of the history and of the inboxes.

Revision ID: 0033
Revises: 0032
"""

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("task_events", sa.Column("made_at", sa.DateTime(timezone=True), nullable=True))
    op.create_check_constraint("ck_task_events_made_before_recorded", "task_events", "made_at <= at")


def downgrade() -> None:
    op.drop_constraint("ck_task_events_made_before_recorded", "task_events", type_="check")
    op.drop_column("task_events", "made_at")
