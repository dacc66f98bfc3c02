"""Forecast evaluation on a tiny synthetic scenario, through the CLI: table of methods and honest verdict."""

import geopandas as gpd
import pytest

from api.cli.main import main
from gis.reference import load_rules
from gis.settings import DataSettings
from models.forecast.evaluation import BASELINES, METHOD_LABELS, MODEL, evaluate_forecasts, summary_table, verdict
from models.forecast.grid_evaluation import BASELINES as GRID_BASELINES
from models.forecast.grid_evaluation import METHOD_LABELS as GRID_LABELS
from models.forecast.grid_evaluation import MODEL as GRID_MODEL
from tests.browser.vietnamese_text import foreign_words

ARGS = {"seeds": [3], "years": 3, "n_incidents": 3000}


def test_classify_evaluate_prints_the_table_and_the_verdict_it_computes(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["classify", "evaluate", "--seeds", "3", "--years", "3", "--incidents", "3000"])
    out = capsys.readouterr().out
    assert code == 0
    for method in (MODEL, *BASELINES):
        assert METHOD_LABELS[method] in out  # by its Vietnamese name: the output read «last year's class»
    assert "PAI@5%" in out and "PEI@10%" in out and "tỷ lệ trúng@1%" in out
    # The verdict printed is the one the table supports: recomputed here, same seed, same numbers.
    communes = gpd.read_file(DataSettings().boundary_file())
    table = summary_table(
        evaluate_forecasts(communes, ARGS["seeds"], load_rules(), years=ARGS["years"], n_incidents=ARGS["n_incidents"])
    )
    model, baselines = table.loc[MODEL, "pai@5%"], table.loc[list(BASELINES), "pai@5%"]
    expected = verdict(table)
    assert expected in out
    assert ("KHÔNG vượt" not in expected) == bool((model > baselines).all())
    # Then the leaderboards with paired differences and their intervals, the patrollable grid's last.
    assert "mô hình − chuẩn" in out and "Lưới tuần tra 200 m" in out and GRID_LABELS[GRID_MODEL] in out
    for baseline in GRID_BASELINES:
        assert GRID_LABELS[baseline] in out
    assert "đứng trên mọi mô hình chuẩn" in out.splitlines()[-1]
    # No English left (the method names, headings and verdicts were English), the literature's PAI, PEI, KDE, SEPP,
    # ETAS, Poisson and bootstrap aside.
    assert foreign_words(out, {"PAI", "PEI", "KDE", "SEPP", "ETAS", "Poisson", "bootstrap"}) == set()
