"""The server and the CLI start without the heavy libraries only some requests need (issue 18: worker RSS, start-up).

Each check runs in a fresh interpreter: this test process has long imported them all.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from models.lazy import lazy_module

ROOT = Path(__file__).resolve().parents[2]
#: pandas and pyarrow: 76 MB of a worker's 218 MB at start before they were made lazy (bench/bench_api.py);
#: the rest were made lazy before (README, "Lean server processes").
HEAVY = ("pandas", "pyarrow", "geopandas", "folium", "sklearn", "openpyxl")


def _loaded_after(statement: str) -> list[str]:
    code = f"import sys; {statement}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return done.stdout.split()


@pytest.mark.parametrize("statement", ["import api.app", "import api.cli.main"])
def test_start_imports_no_heavy_library(statement: str) -> None:
    assert _loaded_after(statement) == []


def test_a_request_that_reads_frames_imports_pandas_then() -> None:
    """The stand-in is the real module once used: a report still gets its frames."""
    assert _loaded_after("import api.app; from models.domain import kpi; kpi.pd.DataFrame") == ["pandas", "pyarrow"]


def test_lazy_module_imports_on_first_attribute() -> None:
    code = (
        "import sys; from models.lazy import lazy_module; m = lazy_module('fractions'); "
        "before = 'fractions' in sys.modules; half = m.Fraction(1, 2); "
        "print(before, 'fractions' in sys.modules, half)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.split() == ["False", "True", "1/2"]


def test_lazy_module_refuses_a_missing_attribute() -> None:
    with pytest.raises(AttributeError):
        lazy_module("json").no_such_name  # noqa: B018
