"""What the application's database role may do: granted by the owner after every migration.

The app role gets data privileges only — never ownership (so no ALTER, no DISABLE TRIGGER, no DROP),
never TRIGGER, REFERENCES or TRUNCATE. Append-only history tables (those guarded by the
``forbid_history_change`` trigger, found in the catalogue so a new event table is covered by its
trigger alone) get SELECT and INSERT only — and UPDATE of the columns that finish a row, for a history whose rows
are finished once (``FINISHED_ONCE``); the migration bookkeeping is read-only.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

#: The trigger function that marks a table as append-only history (migration 0002).
APPEND_ONLY_FUNCTION = "forbid_history_change"
#: Tables the application only reads.
READ_ONLY = ("alembic_version",)
#: Append-only tables whose rows are finished once, and the columns that finish writes (the app may update these
#: only; a trigger refuses any other change and a second finish: `import_runs`, migration 0030).
FINISHED_ONCE = {
    "import_runs": ("imported", "duplicates", "rejected", "outside", "by_code", "by_address", "ambiguous", "finished")
}

_OWNED_TABLES = text("""
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') AND pg_get_userbyid(c.relowner) = current_user
ORDER BY c.relname""")
_OWNED_SEQUENCES = text("""
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'S' AND pg_get_userbyid(c.relowner) = current_user
ORDER BY c.relname""")
_APPEND_ONLY = text("""
SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid
WHERE p.proname = :function AND NOT t.tgisinternal""")


def append_only_tables(conn: Connection) -> list[str]:
    """Tables whose rows nobody may change or delete (guarded by the append-only trigger)."""
    return sorted(conn.execute(_APPEND_ONLY, {"function": APPEND_ONLY_FUNCTION}).scalars())


def grant_app_role(conn: Connection, role: str) -> None:
    """Give ``role`` exactly the application's privileges on every table the current (owner) role owns.

    Idempotent: everything is revoked first, so a privilege granted by hand or by an older version is taken back.
    Connecting, temporary tables (imports stage rows in them) and the schema's USAGE come from PUBLIC's defaults.
    """
    quote = conn.dialect.identifier_preparer.quote
    who = quote(role)
    tables = list(conn.execute(_OWNED_TABLES).scalars())
    append_only = set(append_only_tables(conn))
    by_privileges: dict[str, list[str]] = {}
    for table in tables:
        if table in READ_ONLY:
            privileges = "SELECT"
        elif table in append_only:
            privileges = "SELECT, INSERT"
        else:
            privileges = "SELECT, INSERT, UPDATE, DELETE"
        by_privileges.setdefault(privileges, []).append(quote(table))
    if tables:
        conn.execute(text(f"REVOKE ALL ON {', '.join(quote(t) for t in tables)} FROM {who}"))
    for privileges, names in by_privileges.items():
        conn.execute(text(f"GRANT {privileges} ON {', '.join(names)} TO {who}"))
    for table, columns in FINISHED_ONCE.items():
        if table in append_only:
            conn.execute(text(f"GRANT UPDATE ({', '.join(map(quote, columns))}) ON {quote(table)} TO {who}"))
    sequences = list(conn.execute(_OWNED_SEQUENCES).scalars())
    if sequences:
        conn.execute(text(f"GRANT USAGE, SELECT ON SEQUENCE {', '.join(quote(s) for s in sequences)} TO {who}"))
