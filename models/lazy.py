"""Modules imported on first use, for the heavy libraries most requests never touch.

pandas (which imports pyarrow with it) is 76 MB of a server process's 218 MB at start (bench/bench_api.py), yet a
worker serving tiles, hotspot lists, heat maps and task work never calls it: only imports, reports, classifications
and the statistics read frames. A module that needs it writes::

    if TYPE_CHECKING:
        import pandas as pd
    else:
        pd = lazy_module("pandas")

and its functions use ``pd`` as before. The type checker sees the real module; at run time the first attribute
read imports it (through the import system, whose per-module lock makes two threads' first reads safe).
``tests/unit/test_lean_imports.py`` keeps the app and the CLI from importing them at start.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _LazyModule(ModuleType):
    """A stand-in for a module: an attribute it does not hold yet is read from the imported module and kept."""

    def __getattr__(self, attr: str) -> Any:
        value = getattr(importlib.import_module(self.__name__), attr)
        setattr(self, attr, value)
        return value


def lazy_module(name: str) -> ModuleType:
    """A stand-in for module ``name`` that imports it when one of its attributes is first read."""
    return _LazyModule(name)
