"""The layout holds: imports point inward, migrations are one line, the vocabulary is declared once."""

from __future__ import annotations

import ast
import functools
import io
import re
import tokenize
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from gis.store.db import MIGRATIONS, SCHEMA_HEAD
from models import vocabulary

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("api", "gis", "maps", "models", "data")
#: What each layer may import besides itself: api → gis, maps, models; gis → models (and the packaged data);
#: maps → models; models → nothing.
ALLOWED = {
    "api": {"gis", "maps", "models"},
    "gis": {"models", "data"},
    "maps": {"models"},
    "models": set(),
    "data": set(),
}


def _sources(*suffixes: str) -> list[Path]:
    return [
        p for layer in LAYERS for p in (ROOT / layer).rglob("*") if p.suffix in suffixes and "vendor" not in p.parts
    ]


def _imported_layers(path: Path) -> set[tuple[str, int]]:
    """(top-level package, line) of every import of one of our layers in a module, lazy imports included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        found |= {(name.split(".")[0], node.lineno) for name in names if name.split(".")[0] in LAYERS}
    return found


def test_imports_point_inward() -> None:
    broken = []
    for path in _sources(".py"):
        layer = path.relative_to(ROOT).parts[0]
        for target, line in _imported_layers(path):
            if target != layer and target not in ALLOWED[layer]:
                broken.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert not broken, "imports against the arrows:\n" + "\n".join(sorted(broken))


def test_the_arrow_check_sees_a_broken_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from gis.store.tasks import list_tasks\n")
    assert ("gis", 2) in _imported_layers(bad)


def test_migrations_have_exactly_one_head() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    assert len(script.get_heads()) == 1
    assert all(not isinstance(rev.down_revision, tuple) for rev in script.walk_revisions()), "no merge points"
    assert script.get_current_head() == SCHEMA_HEAD, "gis.store.db.SCHEMA_HEAD must name the newest migration"


VOCABULARIES = [
    v
    for v in vars(vocabulary).values()
    if isinstance(v, type) and issubclass(v, vocabulary.Vocabulary) and v is not vocabulary.Vocabulary
]


@functools.cache
def _string_literals(path: Path) -> list[tuple[int, set[str]]]:
    """Per statement line: the string literals on it (Python tokens; quoted words for JavaScript). Read once per
    file for all the vocabularies (each reading every source again took 1-1.5 s a vocabulary, some 25 s in all)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".js":
        return [(n, set(re.findall(r"[\"'`]([a-z_]+)[\"'`]", line))) for n, line in enumerate(text.splitlines(), 1)]
    by_line: dict[int, set[str]] = {}
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.STRING:
            for word in re.findall(r"'([a-z_]+)'|\"([a-z_]+)\"|^[rbuf]*[\"']([a-z_]+)[\"']$", token.string):
                by_line.setdefault(token.start[0], set()).update(w for w in word if w)
    return sorted(by_line.items())


@pytest.mark.parametrize("enum", VOCABULARIES, ids=lambda e: e.__name__)
def test_no_second_list_of_a_vocabulary(enum: type[vocabulary.Vocabulary]) -> None:
    """No line outside models/vocabulary.py spells three or more values of one vocabulary: that would be a copy.
    The migrations are no copies: each writes the lists it had when written, frozen (test_migrations_frozen)."""
    values = set(enum.values())
    if len(values) < 3:
        pytest.skip("too small to tell a list from a use")
    copies = []
    for path in _sources(".py", ".js"):
        if path == ROOT / "models" / "vocabulary.py" or path.is_relative_to(MIGRATIONS):
            continue
        for line, literals in _string_literals(path):
            if len(literals & values) >= 3:
                copies.append(f"{path.relative_to(ROOT)}:{line}: {sorted(literals & values)}")
    assert not copies, f"{enum.__name__} is listed again:\n" + "\n".join(copies)


#: A whole string literal of a page script (quoted or a template without line breaks).
_JS_LITERAL = re.compile(r"\"([^\"\n]*)\"|'([^'\n]*)'|`([^`\n]*)`")


def test_page_scripts_take_every_label_from_the_vocabulary() -> None:
    """No string of a page script is a vocabulary label spelled again: the scripts read labels from the vocabulary
    shipped with the page (maps.styles.script_vocabulary), so a button and the history entry it leaves, or a state
    on two pages, cannot drift apart (the admin's buttons «Cấp lại mật khẩu», «Mở khóa đăng nhập» and «Tạo tổ công
    tác» were typed again beside the audit's names of the same actions)."""
    labels = {
        label.casefold(): f"{enum.__name__}.{code}" for enum in VOCABULARIES for code, label in enum.labels().items()
    }
    copies = [
        f"{path.relative_to(ROOT)}:{n}: «{text}» is {labels[text.strip().casefold()]}"
        for path in _sources(".js")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if not line.lstrip().startswith("//")
        for text in ("".join(parts) for parts in _JS_LITERAL.findall(line))
        if text.strip().casefold() in labels
    ]
    assert not copies, "labels spelled again in page scripts:\n" + "\n".join(copies)
