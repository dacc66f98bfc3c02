"""The application's database role has data privileges only (finding 1 of issue 15: it was a superuser).

Everything here runs on the `engine` fixture, which connects as the app role like the server does.
"""

from __future__ import annotations

import psycopg.errors
import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from gis.ops.postgres import APP_ROLE, OWNER_ROLE
from gis.store.privileges import FINISHED_ONCE, append_only_tables

#: Each is something a compromised app must not be able to do, and was possible as a superuser.
FORBIDDEN = {
    "disable the append-only trigger": "ALTER TABLE hotspot_events DISABLE TRIGGER hotspot_events_append_only",
    "skip every trigger": "SET session_replication_role = replica",
    "read a server file": "SELECT pg_read_file('/etc/passwd')",
    "read a server file by COPY": "COPY data_versions FROM '/etc/passwd'",
    "run a program": "COPY data_versions FROM PROGRAM 'id'",
    "write a server file": "COPY data_versions TO '/tmp/diaban-leak'",
    "create a role": "CREATE ROLE intruder LOGIN SUPERUSER",
    "grant itself a server role": f"GRANT pg_execute_server_program TO {APP_ROLE}",
    "drop a table": "DROP TABLE task_events",
    "create a table": "CREATE TABLE intruder (x int)",
    "change an event": "UPDATE hotspot_events SET note = 'sửa lịch sử'",
    "delete events": "DELETE FROM task_events",
    "truncate events": "TRUNCATE hotspot_events",
    "truncate incidents": "TRUNCATE incidents",
    "add a trigger": "CREATE TRIGGER t BEFORE INSERT ON incidents FOR EACH ROW EXECUTE FUNCTION bump_data_version()",
    "change the schema version": "UPDATE alembic_version SET version_num = '0001'",
    "become the owner": f"SET ROLE {OWNER_ROLE}",
    "create a schema": "CREATE SCHEMA intruder",
    "import a server file as a large object": "SELECT lo_import('/etc/passwd')",
    "list a server directory": "SELECT pg_ls_dir('.')",
    "change the access log": "UPDATE access_log SET username = 'ai-do'",
    "erase the access log": "DELETE FROM access_log",
    "erase the admin audit": "DELETE FROM admin_audit",
    "change a discarded draft": "UPDATE classification_trail SET overrides = '[]'",
    "erase the classification trail": "DELETE FROM classification_trail",
    "change a replaced override": "UPDATE classification_override_log SET reason = 'khác'",
    "erase the override log": "DELETE FROM classification_override_log",
    "rewrite an import's counts": "UPDATE import_runs SET imported = 0",
    "reopen an import": "UPDATE import_runs SET finished = false",
    "rewrite who imported which file": "UPDATE import_runs SET imported_by = 'ai-do', file_sha256 = ''",
    "erase the import runs": "DELETE FROM import_runs",
    "stop logging overrides": "ALTER TABLE classification_results DISABLE TRIGGER classification_results_log_override",
    "log overrides otherwise": "CREATE OR REPLACE FUNCTION log_classification_override() RETURNS trigger"
    " LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
    "silence ended sessions": "ALTER TABLE sessions DISABLE TRIGGER sessions_notify_end",
    "silence changed users": "DROP TRIGGER users_notify_change ON users",
}


@pytest.fixture
def app_conn(engine: Engine):
    """A connection as the app role in a transaction that is rolled back."""
    with engine.connect() as connection:
        yield connection
        connection.rollback()


@pytest.mark.parametrize("statement", FORBIDDEN.values(), ids=FORBIDDEN.keys())
def test_the_app_role_is_refused(app_conn: Connection, statement: str) -> None:
    assert app_conn.execute(text("SELECT current_user")).scalar() == APP_ROLE
    with pytest.raises(DBAPIError) as refused:
        with app_conn.begin_nested():
            app_conn.execute(text(statement))
    assert isinstance(refused.value.orig, psycopg.errors.InsufficientPrivilege), refused.value.orig


def test_the_app_role_has_no_power_beyond_its_tables(app_conn: Connection) -> None:
    role = app_conn.execute(
        text(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = :r"
        ),
        {"r": APP_ROLE},
    ).one()
    assert not any(role)
    server_roles = app_conn.execute(
        text("""SELECT b.rolname FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid
                WHERE m.member = CAST(:r AS regrole)"""),
        {"r": APP_ROLE},
    ).scalars()
    assert list(server_roles) == []
    owned = app_conn.execute(
        text("SELECT count(*) FROM pg_class WHERE relowner = CAST(:r AS regrole)"), {"r": APP_ROLE}
    )
    assert owned.scalar() == 0


def test_event_tables_take_inserts_and_reads_only(app_conn: Connection) -> None:
    events = append_only_tables(app_conn)
    assert {"hotspot_events", "task_events", "import_runs"} <= set(events)
    tables = app_conn.execute(
        text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'spatial_ref_sys'")
    ).scalars()
    for table in tables:
        granted = {
            p
            for p in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "TRIGGER", "REFERENCES")
            if app_conn.execute(
                text("SELECT has_table_privilege(:r, :t, :p)"), {"r": APP_ROLE, "t": table, "p": p}
            ).scalar()
        }
        if table in events:
            assert granted == {"SELECT", "INSERT"}, table
            updatable = app_conn.execute(
                text("""SELECT column_name FROM information_schema.column_privileges
                        WHERE grantee = :r AND table_name = :t AND privilege_type = 'UPDATE'"""),
                {"r": APP_ROLE, "t": table},
            ).scalars()
            assert set(updatable) == set(FINISHED_ONCE.get(table, ())), table
        elif table == "alembic_version":
            assert granted == {"SELECT"}
        else:
            assert granted == {"SELECT", "INSERT", "UPDATE", "DELETE"}, table


def test_the_owner_runs_the_migrations_and_owns_the_schema(app_conn: Connection) -> None:
    owners = app_conn.execute(
        text("""SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'spatial_ref_sys'""")
    ).scalars()
    assert list(owners) == [OWNER_ROLE]
    owner = app_conn.execute(
        text("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = :r"), {"r": OWNER_ROLE}
    ).one()
    assert not any(owner)
