"""`import_runs` append-only, as the other histories are: nothing stopped the application's role (or SQL by hand) from
rewriting who imported which file, its hash or its counts, or from deleting the run altogether.

A run is written at the start of its import, unfinished, and updated once at its end with its counts, in the import's
transaction. The new column ``finished`` tells the two states apart (the counts cannot: a file of no row finishes
with every count at 0). A trigger refuses every other UPDATE: a finished run, and any change of who, which file,
which hash or when; DELETE and TRUNCATE are refused by the histories' own ``forbid_history_change`` (so the app role
gets SELECT and INSERT on the table, and UPDATE of the finishing columns only: `gis.store.privileges`).

Runs stored before this revision committed their counts in the transaction that started them: they are finished.

Revision ID: 0030
Revises: 0029
"""

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

#: What the finish of a run writes; nothing else of the row ever changes.
FINISH_COLUMNS = ("imported", "duplicates", "rejected", "outside", "by_code", "by_address", "ambiguous", "finished")

_FINISH = "CAST('{" + ",".join(FINISH_COLUMNS) + "}' AS text[])"
FINISH_ONCE = f"""
CREATE OR REPLACE FUNCTION finish_import_run_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT OLD.finished AND NEW.finished
       AND to_jsonb(NEW) - {_FINISH} = to_jsonb(OLD) - {_FINISH} THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'lần nhập chỉ được ghi kết quả một lần, khi kết thúc (import_runs is append-only: %)',
        'only the finish of an unfinished run may update it, its counts only' USING ERRCODE = 'insufficient_privilege';
END $$
"""

TRIGGERS = (
    "CREATE TRIGGER import_runs_finish_once BEFORE UPDATE ON import_runs FOR EACH ROW"
    " EXECUTE FUNCTION finish_import_run_once()",
    # Same guard as the other histories (function forbid_history_change of revision 0002).
    "CREATE TRIGGER import_runs_append_only BEFORE DELETE OR TRUNCATE ON import_runs FOR EACH STATEMENT"
    " EXECUTE FUNCTION forbid_history_change()",
)


def upgrade() -> None:
    # Every run already stored is finished (default true for them), a new one starts unfinished.
    op.add_column("import_runs", sa.Column("finished", sa.Boolean(), server_default=sa.true(), nullable=False))
    op.alter_column("import_runs", "finished", server_default=sa.false())
    op.execute(FINISH_ONCE)
    for statement in TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS import_runs_append_only ON import_runs")
    op.execute("DROP TRIGGER IF EXISTS import_runs_finish_once ON import_runs")
    op.execute("DROP FUNCTION IF EXISTS finish_import_run_once()")
    op.drop_column("import_runs", "finished")
