"""The Vietnamese line an import prints (command line) and answers (web upload): its outcome, then what else happened."""

from models.vocabulary import summary_line


def test_zero_counts_are_left_out_but_the_outcome_always_shows() -> None:
    counts = {"imported": 2, "rejected": 0, "flagged": 0}
    assert summary_line("Chỉ số", counts) == "Chỉ số: đã nhập 2"
    assert summary_line("Chỉ số", {**counts, "imported": 0, "rejected": 5}) == "Chỉ số: đã nhập 0, bị loại 5"
    incidents = {"imported": 300, "duplicates": 0, "rejected": 0, "outside": 0, "by_code": 0, "by_address": 166}
    # Alone, the address count still says what it counts (it was "theo địa chỉ", read after the code count).
    assert summary_line("Vụ việc", incidents) == "Vụ việc: đã nhập 300, xác định xã theo địa chỉ 166"
