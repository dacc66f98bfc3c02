"""Forecast evaluation on a tiny synthetic scenario, through the CLI: table of methods and honest verdict."""

import re

import geopandas as gpd
import pandas as pd
import pytest

from api.cli.main import main
from gis.reference import load_rules
from gis.settings import DataSettings
from models.forecast.evaluation import (
    BASELINES,
    GLOSSARY,
    METHOD_LABELS,
    MODEL,
    evaluate_forecasts,
    summary_table,
    verdict,
)
from models.forecast.grid_evaluation import BASELINES as GRID_BASELINES
from models.forecast.grid_evaluation import METHOD_LABELS as GRID_LABELS
from models.forecast.grid_evaluation import MODEL as GRID_MODEL
from models.forecast.intervals import format_leaderboard, verdict_line
from tests.browser.vietnamese_text import foreign_words

ARGS = {"seeds": [3], "years": 3, "n_incidents": 1500}


def test_classify_evaluate_prints_the_table_and_the_verdict_it_computes(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["classify", "evaluate", "--seeds", "3", "--years", "3", "--incidents", "1500"])
    out = capsys.readouterr().out
    assert code == 0
    for method in (MODEL, *BASELINES):
        assert METHOD_LABELS[method] in out  # by its Vietnamese name: the output read «last year's class»
    assert "PAI@5 %" in out and "PEI@10 %" in out and "tỷ lệ trúng@1 %" in out
    # Every percentage as the verdicts and models.numbers write it, «5 %» (the heads read «PAI@5%»).
    assert re.findall(r"\d%", out) == []
    # Each measure said in plain words before the table (a planner quoting «PAI 10,90» to a superior could not say
    # what it is), and one held-out year said as one («kiểm tra trên các năm 2025–2025»).
    assert GLOSSARY in out and out.index(GLOSSARY) < out.index("PAI@5 %")
    assert re.search(r"kiểm tra trên năm \d{4};", out) and not re.search(r"(\d{4})–\1", out)
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
    # Numbers the Vietnamese way («10.900» reads ten thousand nine hundred): no decimal point — neither one or two
    # decimals after a point nor a number below 1 written «0.184» — but decimal commas, the thousands dot kept.
    assert re.findall(r"\d\.\d{1,2}(?!\d)", out) == [] and re.findall(r"(?<![\d.,])0\.\d", out) == []
    assert re.search(r"\d,\d{3}", out) and "1.500 vụ mỗi kịch bản" in out
    assert re.search(r"\[[+-]\d+,\d\d; [+-]\d+,\d\d\]", out) and re.search(r"; [+-][\d.]+,\d %\)", out)
    # The table's figures, each to 3 decimals, end in the same column under their heading.
    lines = out.splitlines()
    heading = next(i for i, line in enumerate(lines) if "PAI@5 %" in line)
    rows = lines[heading + 2 : heading + 2 + len(table)]
    assert [row.startswith(METHOD_LABELS[method]) for row, method in zip(rows, table.index)] == [True] * len(table)
    ends = {tuple(m.end() for m in re.finditer(r"\d[\d.]*,\d{3}(?=\s|$)", row)) for row in rows}
    assert len(ends) == 1  # every row's figures end at the same places
    (columns,) = ends
    assert len(columns) == len(table.columns) and columns[-1] == len(lines[heading].rstrip())


def _board(low: float, high: float) -> pd.DataFrame:
    """A one-line leaderboard as models.forecast.intervals.leaderboard builds it."""
    return pd.DataFrame(
        [
            {
                "coverage": 0.05,
                "baseline": "b",
                "model": 10.9,
                "baseline_value": 1234.5,
                "difference": 0.91,
                "low": low,
                "high": high,
                "ahead": low > 0,
            }
        ]
    )


def test_leaderboard_and_its_verdict_write_vietnamese_numbers() -> None:
    """Decimal commas, thousands dots, and a semicolon between an interval's bounds (the comma is the decimal one)."""
    board = _board(-0.48, 2.5)
    assert format_leaderboard(board, "m", {"m": "Mô hình", "b": "Chuẩn"}).splitlines() == [
        "PAI@5 %: Mô hình 10,90",
        f"  {'Chuẩn':<34} 1.234,50   mô hình − chuẩn +0,91 [-0,48; +2,50] KHÔNG hơn",
    ]
    assert verdict_line(board, "m", {"m": "Mô hình", "b": "Chuẩn"}) == (
        "Mô hình KHÔNG đứng trên mọi mô hình chuẩn với khoảng tin cậy trên 0: Chuẩn ở mức 5 %: +0,91 [-0,48; +2,50]."
    )


def test_verdict_writes_vietnamese_numbers() -> None:
    """The summary's verdict: PAI to 2 decimals with a decimal comma, the margin signed, its share «+585,3 %»."""
    table = pd.DataFrame({"pai@5%": [10.9] + [1.25] * len(BASELINES)}, index=[MODEL, *BASELINES])
    assert f"ở mức 5 %: 10,90 so với {METHOD_LABELS[BASELINES[0]]} 1,25 (+9,65; +772,0 %);" in verdict(table)
    table.loc[BASELINES[-1], "pai@5%"] = 1234.5
    assert verdict(table).endswith(f"Thua {METHOD_LABELS[BASELINES[-1]]} 1.223,60 (-99,1 %).")
    table.loc[BASELINES[-1], "pai@5%"] = 10.9  # a tie is said as one, not as a loss of 0,00
    assert verdict(table).endswith(f". Ngang {METHOD_LABELS[BASELINES[-1]]} (10,90).")
    assert "Thua" not in verdict(table)
    # The model by the name the table gives it (the verdict said «Mô hình mật độ học được», the table «Mô hình học: mật
    # độ (Poisson)»: two names for one model side by side).
    assert verdict(table).startswith(f"{METHOD_LABELS[MODEL]} KHÔNG vượt mọi mô hình chuẩn")
    # Ahead on the means only: said so, and pointed to the intervals. On seeds 1–3 it printed «vượt mọi mô hình
    # chuẩn» above a leaderboard where no interval at 5 % was above 0 (+0,02 [-0,22; +0,25]): two verdicts at odds.
    table.loc[list(BASELINES), "pai@5%"] = 6.21
    ahead = verdict(table)
    assert (
        ahead.startswith(f"{METHOD_LABELS[MODEL]} có PAI trung bình cao hơn mọi mô hình chuẩn") and "vượt" not in ahead
    )
    assert "chưa chắc hơn thật: xem khoảng tin cậy bên dưới" in ahead


def test_an_interval_from_one_seed_and_one_period_is_missing_not_certain() -> None:
    """One seed with one held-out year is one paired difference: its bootstrap «interval» was the difference itself
    («+5,06 [+5,06; +5,06] hơn»), certainty out of a single draw. Below two pairs the interval is missing data, and
    the model is not said to be ahead on it."""
    from models.forecast.intervals import leaderboard

    long = pd.DataFrame(
        {
            "method": ["m", "b"],
            "seed": [3, 3],
            "year": [2025, 2025],
            "coverage": [0.05, 0.05],
            "pai": [10.9, 1.59],
        }
    )
    board = leaderboard(long, "m", ["b"], unit="year")
    assert not board["ahead"].any() and board[["low", "high"]].isna().all().all()
    lines = format_leaderboard(board, "m", {"m": "Mô hình", "b": "Chuẩn"}).splitlines()
    assert lines[1].endswith("mô hình − chuẩn +9,31 [thiếu dữ liệu] chưa đủ số liệu để kết luận"), lines
    assert "thiếu dữ liệu" in verdict_line(board, "m", {"m": "Mô hình", "b": "Chuẩn"})
