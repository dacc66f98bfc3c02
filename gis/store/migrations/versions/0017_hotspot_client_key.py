"""A client's key on a hotspot event: a hotspot reported from a tip is stored once however often it is sent.

A team on patrol reports a new spot from a phone on a weak network; an answer lost on the way, or a second tap,
sent the report again and made a second hotspot at the same place. The page sends an ``Idempotency-Key`` with the
report, kept on the ``created`` event as task events keep theirs (0015): unique per user, NULL for events no client
keyed.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("hotspot_events", sa.Column("client_key", sa.Text(), nullable=True))
    op.create_index(
        "uq_hotspot_events_actor_client_key",
        "hotspot_events",
        ["actor", "client_key"],
        unique=True,
        postgresql_where=sa.text("client_key IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_hotspot_events_actor_client_key", table_name="hotspot_events")
    op.drop_column("hotspot_events", "client_key")
