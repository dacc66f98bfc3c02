"""A data frame's rows as plain Python: what goes into JSON, the database's jsonb and the pages.

``frame.where(frame.notna(), None).to_dict("records")`` does it cell by cell: pandas boxes each value in Python
(``maybe_box_native``) and iterates Arrow-backed text columns an element at a time. A nation-wide draft (3,321 units,
five years of history) spent 3.5 of its 11.5 profiled seconds there, in four calls. Column by column, each column
converted once, the same records (``tests/unit/test_frames.py``) come out 2.7 times faster (0.58 s → 0.22 s for
16,605 rows of 25 columns, 20 of them text), and that draft took a median 5.2 s instead of 6.3 s (four runs of each
alternated, 2 cores, load average 0.9–1.3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Each row of ``frame`` as a dict of Python values (int, float, bool, str, the objects it holds), a missing one
    (NaN, NA, NaT, None) as None: ``frame.where(frame.notna(), None).to_dict("records")``, faster.

    Parameters
    ----------
    frame : pandas.DataFrame
        Any frame; its column labels become the keys (the index is dropped).

    Returns
    -------
    list of dict
        One dict per row, in the frame's order.
    """
    names = list(frame.columns)
    if not names:
        return [{} for _ in range(len(frame))]
    columns = []
    for i in range(len(names)):
        column = frame.iloc[:, i].astype(object)
        columns.append(column.where(column.notna(), None).tolist())
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
