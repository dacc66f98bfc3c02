"""Paired differences between a model and each baseline, with bootstrap intervals over seeds × periods.

Every (seed, period) is scored for every method, so differences are paired. Periods of one seed share
a scenario and are not independent: the bootstrap resamples seeds, then periods within each drawn
seed (a two-stage cluster bootstrap), and the interval is the percentile interval of the mean
difference.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

DRAWS = 2_000
LEVEL = 0.95


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
    interval, and whether the interval excludes 0 (long: method, seed, ``unit``, coverage, ``metric``)."""
    wide = long.pivot_table(index=["coverage", "seed", unit], columns="method", values=metric)
    rows = []
    for coverage, table in wide.groupby(level="coverage"):
        table = table.droplevel("coverage")
        for baseline in baselines:
            diff = (table[model] - table[baseline]).dropna()
            low, high = bootstrap_mean(diff)
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


def verdict_line(board: pd.DataFrame, model: str) -> str:
    """One sentence: whether the model is ahead of every baseline at every coverage with intervals above 0."""
    behind = board[~board["ahead"]]
    if behind.empty:
        return f"{model} is ahead of every baseline at every coverage (95 % intervals of the paired differences > 0)."
    worst = "; ".join(
        f"{row.baseline} at {row.coverage:.0%}: {row.difference:+.2f} [{row.low:+.2f}, {row.high:+.2f}]"
        for row in behind.itertuples()
    )
    return f"{model} is NOT ahead of every baseline with an interval above 0: {worst}."


def format_leaderboard(board: pd.DataFrame, model: str) -> str:
    """The leaderboard as text: per coverage the model's mean, then each baseline's mean and the paired
    difference with its interval."""
    lines = []
    for coverage, rows in board.groupby("coverage"):
        lines.append(f"PAI@{coverage:.0%}: {model} {rows['model'].iloc[0]:.2f}")
        for row in rows.sort_values("baseline_value", ascending=False).itertuples():
            mark = "ahead" if row.ahead else "NOT ahead"
            lines.append(
                f"  {row.baseline:<28} {row.baseline_value:6.2f}   model − baseline {row.difference:+.2f}"
                f" [{row.low:+.2f}, {row.high:+.2f}] {mark}"
            )
    return "\n".join(lines)
