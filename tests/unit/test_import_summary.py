"""The Vietnamese line an import prints (command line) and answers (web upload): its outcome, then what else happened."""

import re

import pytest

from gis.services.incident_import import Progress
from models.vocabulary import summary_line


def test_zero_counts_are_left_out_but_the_outcome_always_shows() -> None:
    counts = {"imported": 2, "rejected": 0, "flagged": 0}
    assert summary_line("Chỉ số", counts) == "Chỉ số: đã nhập 2"
    assert summary_line("Chỉ số", {**counts, "imported": 0, "rejected": 5}) == "Chỉ số: đã nhập 0, bị loại 5"
    incidents = {"imported": 300, "duplicates": 0, "rejected": 0, "outside": 0, "by_code": 0, "by_address": 166}
    # Alone, the address count still says what it counts (it was "theo địa chỉ", read after the code count).
    assert summary_line("Vụ việc", incidents) == "Vụ việc: đã nhập 300, xác định xã theo địa chỉ 166"


def test_counts_past_999_carry_the_thousands_dot() -> None:
    """A large import's counts as Vietnamese writes them: «đã nhập 30.000» (it printed 30000)."""
    counts = {"imported": 30_000, "duplicates": 1_234, "rejected": 7}
    assert summary_line("Vụ việc", counts) == "Vụ việc: đã nhập 30.000, trùng (bỏ qua) 1.234, bị loại 7"


def test_the_import_progress_writes_vietnamese_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    """The progress bar's rows and rows per second with the thousands dot, a phase's seconds with a decimal comma:
    tqdm's own «30.0k dòng» put a decimal point where a Vietnamese reader sees thousands."""
    bar = Progress(True)
    bar.advance(30_000)
    with bar.phase("Nạp"):
        pass
    bar.advance(1_234)
    bar.close()
    shown = capsys.readouterr().err.split("\r")[-1]
    assert re.fullmatch(r"Xong: 31\.234 dòng \[\d\d:\d\d, [\d.]+ dòng/s, Nạp: \d+,\d s\]\s*", shown), shown


def test_a_dry_run_says_what_would_be_not_what_was() -> None:
    """A dry run's imported count is «sẽ nhập»; one whose counts are changes (a boundary file's) is titled «nếu
    nhập» — «Ranh giới: thêm mới 3» under the dry run's notice had read as done."""
    assert summary_line("Chỉ số", {"imported": 2, "rejected": 1}, dry_run=True) == "Chỉ số: sẽ nhập 2, bị loại 1"
    changes = {"inserted": 3, "updated": 0, "unchanged": 2}
    assert summary_line("Ranh giới", changes, dry_run=True) == "Ranh giới, nếu nhập: thêm mới 3, không đổi 2"
    assert summary_line("Ranh giới", changes) == "Ranh giới: thêm mới 3, không đổi 2"
