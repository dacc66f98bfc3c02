"""Paired differences between a model and each baseline, with bootstrap intervals over seeds × periods.

Every (seed, period) is scored for every method, so differences are paired. Periods of one seed share
a scenario and are not independent: the bootstrap resamples seeds, then periods within each drawn
seed (a two-stage cluster bootstrap), and the interval is the percentile interval of the mean
difference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from models.numbers import vn_number, vn_percent
from models.vocabulary import MISSING_DATA_LABEL

DRAWS = 2_000
LEVEL = 0.95
#: Paired (seed, period) differences an interval needs: below, it is missing data (models.vocabulary.MISSING_DATA_LABEL).
MIN_PAIRS = 2


def bootstrap_mean(values: pd.Series, draws: int = DRAWS, level: float = LEVEL, seed: int = 0) -> tuple[float, float]:
    """Percentile interval of the mean of ``values`` indexed by (seed, period), resampling seeds then periods."""
    rng = np.random.default_rng(seed)
    groups = [g.to_numpy(float) for _, g in values.groupby(level=0)]
    means = np.empty(draws)
    for d in range(draws):
        chosen = rng.integers(0, len(groups), len(groups))
        means[d] = np.mean(np.concatenate([groups[i][rng.integers(0, groups[i].size, groups[i].size)] for i in chosen]))
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def leaderboard(
    long: pd.DataFrame, model: str, baselines: Sequence[str], metric: str = "pai", unit: str = "period"
) -> pd.DataFrame:
    """Per coverage and baseline: the model's and the baseline's mean, the mean paired difference and its
    interval (NaN below ``MIN_PAIRS`` pairs), and whether the interval excludes 0 (long: method, seed, ``unit``,
    coverage, ``metric``)."""
    wide = long.pivot_table(index=["coverage", "seed", unit], columns="method", values=metric)
    rows = []
    for coverage, table in wide.groupby(level="coverage"):
        table = table.droplevel("coverage")
        for baseline in baselines:
            diff = (table[model] - table[baseline]).dropna()
            # One pair has no spread to resample: its «interval» would be the difference itself, a certainty drawn
            # from a single period. Missing instead, and the model is not said to be ahead on it.
            low, high = bootstrap_mean(diff) if len(diff) >= MIN_PAIRS else (float("nan"), float("nan"))
            rows.append(
                {
                    "coverage": coverage,
                    "baseline": baseline,
                    "model": table[model].mean(),
                    "baseline_value": table[baseline].mean(),
                    "difference": diff.mean(),
                    "low": low,
                    "high": high,
                    "ahead": low > 0,
                }
            )
    return pd.DataFrame(rows)


def verdict_line(board: pd.DataFrame, model: str, labels: Mapping[str, str] | None = None) -> str:
    """One sentence, in Vietnamese (the command line's words): whether the model is ahead of every baseline at every
    coverage with intervals above 0; methods named by ``labels`` (their names where missing)."""
    name = _namer(labels)
    behind = board[~board["ahead"]]
    if behind.empty:
        return (
            f"{name(model)} đứng trên mọi mô hình chuẩn ở mọi mức phủ"
            " (khoảng tin cậy 95 % của chênh lệch ghép cặp đều trên 0)."
        )
    worst = "; ".join(
        f"{name(row.baseline)} ở mức {vn_percent(row.coverage, 0)}: {_difference(row)}" for row in behind.itertuples()
    )
    return f"{name(model)} KHÔNG đứng trên mọi mô hình chuẩn với khoảng tin cậy trên 0: {worst}."


def format_leaderboard(board: pd.DataFrame, model: str, labels: Mapping[str, str] | None = None) -> str:
    """The leaderboard as Vietnamese text: per coverage the model's mean, then each baseline's mean and the paired
    difference with its interval; methods named by ``labels``."""
    name = _namer(labels)
    lines = []
    for coverage, rows in board.groupby("coverage"):
        lines.append(f"PAI@{vn_percent(coverage, 0)}: {name(model)} {vn_number(rows['model'].iloc[0], fixed=True)}")
        for row in rows.sort_values("baseline_value", ascending=False).itertuples():
            mark = "hơn" if row.ahead else "chưa đủ số liệu để kết luận" if np.isnan(row.low) else "KHÔNG hơn"
            lines.append(
                f"  {name(row.baseline):<34} {vn_number(row.baseline_value, fixed=True):>6}   mô hình − chuẩn"
                f" {_difference(row)} {mark}"
            )
    return "\n".join(lines)


def _difference(row: Any) -> str:
    """A leaderboard row's mean paired difference and its interval, in Vietnamese numbers: «+0,91 [+0,48; +2,50]» (the
    decimal comma takes the comma's place between the bounds, so a semicolon separates them)."""
    difference = vn_number(row.difference, fixed=True, sign=True)
    if np.isnan(row.low) or np.isnan(row.high):
        return f"{difference} [{MISSING_DATA_LABEL}]"
    low, high = (vn_number(bound, fixed=True, sign=True) for bound in (row.low, row.high))
    return f"{difference} [{low}; {high}]"


def _namer(labels: Mapping[str, str] | None):  # noqa: ANN202 - a str -> str function
    """A method's name as shown: its label, else the name itself."""
    return lambda method: (labels or {}).get(method, method)
