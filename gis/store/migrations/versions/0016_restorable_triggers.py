"""The condition of the incidents' metric trigger written so that pg_dump's archive restores.

0011 wrote it ``WHEN (NEW.geom IS DISTINCT FROM OLD.geom)``. PostgreSQL prints IS DISTINCT FROM without naming the
operator's schema, and pg_restore (like psql on pg_dump's plain output) runs with an empty search_path, where the
geometry ``=`` of PostGIS (schema public) is not found: every restore of a dump stopped at this trigger ("operator is
not unique: public.geometry = public.geometry"). Written with ``=``, the operator is printed as
``OPERATOR(public.=)``; the meaning is the same (IS DISTINCT FROM is that ``=`` with NULLs compared as values).
`diaban db restore` leaves the old trigger out of an older archive: this migration then creates it (IF EXISTS).

Revision ID: 0016
Revises: 0015
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_TRIGGER = (
    "CREATE TRIGGER incidents_metric_update BEFORE UPDATE OF geom ON incidents FOR EACH ROW WHEN ({condition})"
    " EXECUTE FUNCTION incidents_metric()"
)
#: True when the point changed: one of the two is NULL and the other not, or both are points and differ.
RESTORABLE = "(NEW.geom IS NULL) <> (OLD.geom IS NULL) OR NOT (NEW.geom = OLD.geom)"
ORIGINAL = "NEW.geom IS DISTINCT FROM OLD.geom"


def _replace(condition: str) -> None:
    op.execute("DROP TRIGGER IF EXISTS incidents_metric_update ON incidents")
    op.execute(_TRIGGER.format(condition=condition))


def upgrade() -> None:
    _replace(RESTORABLE)


def downgrade() -> None:
    _replace(ORIGINAL)
