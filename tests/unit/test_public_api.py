"""The public analytics API: every exported name resolves, `import models` stays light, the README example runs."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import models

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", models.__all__)
def test_every_exported_name_resolves_to_its_definition(name: str) -> None:
    value = getattr(models, name)
    home = sys.modules[models._HOME[name]]
    assert value is getattr(home, name)


def test_the_export_table_and_all_agree() -> None:
    assert sorted(models.__all__) == sorted(models._HOME)
    assert set(models.__all__) <= set(dir(models))
    with pytest.raises(AttributeError):
        models.no_such_name  # noqa: B018


@pytest.mark.parametrize("name", [n for n in models.__all__ if inspect.isfunction(getattr(models, n))])
def test_exported_functions_document_parameters_and_returns(name: str) -> None:
    doc = inspect.getdoc(getattr(models, name)) or ""
    assert "Parameters\n----------" in doc and "Returns\n-------" in doc, f"{name} lacks a numpydoc docstring"


def test_importing_models_loads_no_heavy_library() -> None:
    """Every layer imports models.vocabulary, so the package must not pull SciPy, pandas or GeoPandas with it."""
    code = (
        "import sys, models, models.vocabulary; "
        "print(sorted(m for m in ('numpy', 'scipy', 'pandas', 'geopandas', 'sklearn') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert loaded.stdout.strip() == "[]"


def _readme_example() -> str:
    """The Python block of the README's "Use as a library" section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Use as a library\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "no python block in the README's 'Use as a library' section"
    return match.group(1)


def test_readme_example_runs_end_to_end(capsys: pytest.CaptureFixture[str]) -> None:
    namespace: dict = {}
    exec(compile(_readme_example(), "README.md", "exec"), namespace)
    assert np.isclose(namespace["density"].sum() * namespace["grid"].cell ** 2, 1.0, atol=0.01)
    assert namespace["hot"].bin.max() == 3  # planted hotspots are hot at 99 %
    assert (namespace["trend"].pattern != "no_pattern").any()
    assert len(namespace["clusters"]) > 0 and set(namespace["matches"]["action"]) >= {"matched"}
    printed = capsys.readouterr().out
    pai_value = float(re.search(r"PAI ([\d.]+)", printed).group(1))
    assert pai_value > 1  # better than chance
    classes = namespace["classes"].set_index("commune_code")
    assert (classes.loc["A", "category"], classes.loc["A", "level"]) == ("trong_diem", "I")
    assert classes.loc["B", "category"] == "at_risk" and bool(classes.loc["B", "incomplete"])
