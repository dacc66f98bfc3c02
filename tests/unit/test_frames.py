"""models.frames: a frame's rows as plain Python, the same as pandas' own records."""

import json

import numpy as np
import pandas as pd

from models.frames import frame_records


def test_the_records_are_pandas_own_with_every_missing_value_none() -> None:
    """Text (Arrow-backed), integers, floats, booleans, nullable integers, days and objects: each row equals pandas'
    ``where(notna, None).to_dict("records")`` of the frame as objects, a missing value None whatever its kind (never
    NaN, which JSON has no word for), and the values are Python's own, not numpy's."""
    frame = pd.DataFrame(
        {
            "text": pd.array(["Hải Phòng", None, "Đồ Sơn"], dtype="str"),
            "count": np.array([1, 2, 3]),
            "share": [0.5, np.nan, 1.25],
            "flag": [True, False, True],
            "known": pd.array([4, None, 5], dtype="Int64"),
            "day": pd.to_datetime(["2025-01-01", None, "2025-12-31"]),
            "detail": [{"a": 1}, None, [1, 2]],
        },
        index=[10, 20, 30],
    )
    expected = frame.astype(object).where(frame.notna(), None).to_dict("records")
    records = frame_records(frame)
    assert records == expected
    assert records[1] == dict.fromkeys(["text", "share", "known", "day", "detail"], None) | {"count": 2, "flag": False}
    assert [type(records[0][k]) for k in ("text", "count", "share", "flag")] == [str, int, float, bool]
    assert type(records[0]["known"]) is int
    json.dumps([{k: v for k, v in r.items() if k != "day"} for r in records])  # numpy scalars would not encode


def test_a_frame_without_columns_gives_an_empty_record_per_row() -> None:
    assert frame_records(pd.DataFrame(index=[1, 2])) == [{}, {}]
    assert frame_records(pd.DataFrame()) == []
