"""Migrations are frozen at their time: none reads a value list (or any value) from the live code, so that a revision
builds today what it built when written, and a value added to the vocabulary needs a migration of its own."""

from __future__ import annotations

import ast
import builtins
import inspect
import textwrap
from pathlib import Path

import pytest

from gis.store import sql
from gis.store.db import MIGRATIONS

#: Our own packages: what a migration may not read from, as they change with the code.
OWN_PACKAGES = {"api", "gis", "maps", "models", "data"}
#: The exception: helpers that only build SQL text from their arguments (checked below to hold no value of their own).
SQL_BUILDERS = {"add_check_valid_when_rows_allow", "in_values", "keep_audit_trail"}
VERSIONS = sorted((MIGRATIONS / "versions").glob("*.py"))


def live_imports(source: str) -> list[str]:
    """The imports of our own packages in a migration's source (lazy ones included), the SQL builders excepted."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"{node.lineno}: import {a.name}" for a in node.names if a.name.split(".")[0] in OWN_PACKAGES]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            names = {a.name for a in node.names}
            if node.level or module.split(".")[0] in OWN_PACKAGES:
                if module == "gis.store.sql" and names <= SQL_BUILDERS:
                    continue
                found.append(f"{node.lineno}: from {'.' * node.level}{module} import {', '.join(sorted(names))}")
    return found


def test_there_are_migrations_to_check() -> None:
    assert len(VERSIONS) >= 30


@pytest.mark.parametrize("path", VERSIONS, ids=lambda p: p.stem)
def test_a_migration_reads_no_live_values(path: Path) -> None:
    found = live_imports(path.read_text(encoding="utf-8"))
    assert not found, f"{path.name} reads the live code (write the values it had when written):\n" + "\n".join(found)


def test_the_check_sees_a_vocabulary_import_even_a_lazy_one() -> None:
    source = textwrap.dedent("""
        from gis.store.sql import in_values, LOCAL_TODAY
        def upgrade():
            from models.vocabulary import AdminAction
            import gis.store.sessions
    """)
    assert [line.split(":")[0] for line in live_imports(source)] == ["2", "4", "5"]


@pytest.mark.parametrize("name", sorted(SQL_BUILDERS))
def test_the_sql_builders_migrations_use_hold_no_value_of_their_own(name: str) -> None:
    """``in_values`` and ``keep_audit_trail`` read nothing but their arguments and builtins: no module constant (such as
    the time zone in ``LOCAL_TODAY``) could change what an old migration writes."""
    function = getattr(sql, name)
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    parameters = set(inspect.signature(function).parameters)
    read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    local = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    annotations = {"str", "Iterable"}
    assert read - parameters - local - annotations - set(dir(builtins)) == set()
