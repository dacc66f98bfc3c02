"""Every override of a commune's class, kept: a draft holds one override per commune, and overriding it again wrote over
the earlier one (its class, reason, planner and time) — within a live draft, a planner could override, have it
overridden back and leave nothing of the first try, as discarding a draft did before 0025. A trigger on
classification_results copies each override, with the class it replaced, into the append-only
``classification_override_log`` (whatever made it: the API, the command line, SQL by hand) — and any other change of a
final class, such as an override undone by hand —; the year's history shows the ones a later change replaced
(gis.store.classifications.run_history). A class other than the criteria's must now be an override (a constraint):
set by hand with ``method`` left 'legal', it would have changed a commune's class with nothing to show for it. The overrides standing when this migrates
are copied in, so that "replaced" means "a later one exists" from here on; earlier replaced ones were never kept.

Revision ID: 0027
Revises: 0026
"""

import sqlalchemy as sa
from alembic import op

from gis.store.sql import keep_audit_trail

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

LOG = """
CREATE FUNCTION log_classification_override() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO classification_override_log (run_id, commune_code, method, from_category, from_level, to_category,
                                             to_level, reason, "by", "at")
    VALUES (NEW.run_id, NEW.commune_code, NEW.method, OLD.category, OLD.level, NEW.category, NEW.level,
            NEW.override_reason, NEW.override_by, coalesce(NEW.override_at, now()));
    RETURN NULL;
END $$;
CREATE TRIGGER classification_results_log_override AFTER UPDATE ON classification_results FOR EACH ROW
WHEN ((NEW.category, NEW.level, NEW.method, NEW.override_reason, NEW.override_by, NEW.override_at)
      IS DISTINCT FROM (OLD.category, OLD.level, OLD.method, OLD.override_reason, OLD.override_by, OLD.override_at))
EXECUTE FUNCTION log_classification_override();
CREATE TRIGGER classification_override_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
ON classification_override_log FOR EACH STATEMENT EXECUTE FUNCTION forbid_history_change();
"""
#: The overrides standing now, each as replacing the criteria's class (what it replaced before is not known).
STANDING = """
INSERT INTO classification_override_log (run_id, commune_code, method, from_category, from_level, to_category,
                                         to_level, reason, "by", "at")
SELECT run_id, commune_code, method, legal_category, legal_level, category, level, override_reason, override_by,
       override_at
FROM classification_results WHERE method = 'override' AND override_at IS NOT NULL ORDER BY override_at
"""
#: A final class other than the criteria's is an override (with its reason: ck_classification_results_override_reason):
#: an UPDATE by hand setting a class with ``method`` left 'legal' would change a commune's class with nothing to show
#: for it. NOT VALID: rows already stored are not checked, every new or changed one is.
ONLY_OVERRIDES_CHANGE = """
ALTER TABLE classification_results ADD CONSTRAINT ck_classification_results_final_class
CHECK (method = 'override' OR (category = legal_category AND level IS NOT DISTINCT FROM legal_level)) NOT VALID
"""


def upgrade() -> None:
    op.create_table(
        "classification_override_log",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("commune_code", sa.String(length=16), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("from_category", sa.String(length=16), nullable=True),
        sa.Column("from_level", sa.String(length=4), nullable=True),
        sa.Column("to_category", sa.String(length=16), nullable=False),
        sa.Column("to_level", sa.String(length=4), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("by", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_classification_override_log_run_id", "classification_override_log", ["run_id"])
    op.execute(STANDING)
    op.execute(LOG)
    op.execute(ONLY_OVERRIDES_CHANGE)


def downgrade() -> None:
    op.execute(keep_audit_trail("classification_override_log"))
    op.execute("ALTER TABLE classification_results DROP CONSTRAINT IF EXISTS ck_classification_results_final_class")
    op.execute("DROP TRIGGER IF EXISTS classification_results_log_override ON classification_results")
    op.execute("DROP TRIGGER IF EXISTS classification_override_log_append_only ON classification_override_log")
    op.execute("DROP FUNCTION IF EXISTS log_classification_override()")
    op.drop_index("ix_classification_override_log_run_id", table_name="classification_override_log")
    op.drop_table("classification_override_log")
