"""Pages for every role: an accepted task no longer blocks a new one for its hotspot (recurrence).

Revision ID: 0005_admin_audit
Revises: 0004
"""

from alembic import op

from gis.store.sql import in_values
from models.vocabulary import TASK_CLOSED

revision = "0005_admin_audit"
down_revision = "0004"
branch_labels = None
depends_on = None

#: States that closed a task before this revision (accepted work still blocked a new task for the hotspot).
_CLOSED_BEFORE = ("canceled", "declined")
_OPEN_INDEXES = {"ix_tasks_open_suppression": ("hotspot_id",), "ix_tasks_open_conversion": ("commune_code", "year")}


def _open_indexes(closed: tuple[str, ...]) -> None:
    """(Re)create the one-open-task-per-hotspot and per-commune-year indexes for a set of closing states."""
    for name, columns in _OPEN_INDEXES.items():
        kind = "suppression" if "hotspot_id" in columns else "conversion"
        op.drop_index(name, table_name="tasks")
        op.create_index(
            name,
            "tasks",
            list(columns),
            unique=True,
            postgresql_where=f"kind = '{kind}' AND NOT ({in_values('state', closed)})",
        )


def upgrade() -> None:
    _open_indexes(tuple(sorted(TASK_CLOSED)))


def downgrade() -> None:
    _open_indexes(_CLOSED_BEFORE)
