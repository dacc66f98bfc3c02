"""Forecast evaluation on a tiny synthetic scenario, through the CLI: table of methods and honest verdict."""

import time

import pytest

from api.cli.main import main


def test_classify_evaluate_prints_the_table_quickly(capsys: pytest.CaptureFixture[str]) -> None:
    start = time.perf_counter()
    code = main(["classify", "evaluate", "--seeds", "3", "--years", "3", "--incidents", "3000"])
    elapsed = time.perf_counter() - start
    out = capsys.readouterr().out
    assert code == 0 and elapsed < 20
    for method in (
        "learned: density (Poisson)",
        "last year's class",
        "last year's counts",
        "long-term counts",
        "KDE (last year)",
    ):
        assert method in out
    assert "pai@5%" in out and "pei@10%" in out and "hit_rate@1%" in out
    assert "beats every baseline on PAI at 5%" in out or "does NOT beat every baseline" in out
