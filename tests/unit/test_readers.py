"""CSV reading: the fast Arrow path and the line-tracking path agree; odd files take the tracking path."""

from pathlib import Path

import pytest

from gis.io.readers import _read_csv_fast, _read_csv_tracking_lines, read_csv_lines

WELL_FORMED = 'ref,occurred_at,kind,substance\r\nA,2025-01-01,tip,"heroin, 2 gói"\r\nB,2025-01-02,tip,\r\n'


def test_fast_path_matches_the_tracking_reader(tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    path.write_bytes(b"\xef\xbb\xbf" + WELL_FORMED.encode())
    fast = _read_csv_fast(path)
    assert fast is not None
    slow = _read_csv_tracking_lines(path)
    assert fast[slow.columns].astype(str).values.tolist() == slow.astype(str).values.tolist()
    assert list(fast["line"]) == [2, 3]


@pytest.mark.parametrize(
    "body",
    [
        WELL_FORMED + "\r\nC,2025-01-03,tip,\r\n",  # blank line
        'ref,occurred_at,kind,substance\nA,2025-01-01,tip,"two\nlines"\nB,2025-01-02,tip,\n',  # newline in quotes
        WELL_FORMED + "C,2025-01-03\n",  # wrong number of fields
    ],
)
def test_odd_files_keep_true_line_numbers(tmp_path: Path, body: str) -> None:
    path = tmp_path / "odd.csv"
    path.write_text(body, encoding="utf-8")
    assert _read_csv_fast(path) is None
    frame = read_csv_lines(path)
    last = frame.iloc[-1]
    assert last["line"] == body.replace("\r\n", "\n").rstrip("\n").count("\n") + 1


def test_invalid_utf8_takes_the_tracking_path(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(b"ref,occurred_at,kind,substance\nA,2025-01-01,tip,h\xe9roin\n")
    assert _read_csv_fast(path) is None
    assert "UTF-8" in read_csv_lines(path).iloc[0]["_error"]
