"""Names in Vietnamese alphabetical order (models.text.vietnamese_key), as the pages' localeCompare("vi") sorts them."""

from models.text import vietnamese_key


def test_team_names_sort_in_vietnamese_order_not_by_code_point() -> None:
    """Code-point order read «Tổ Biên phòng…», «Tổ Nbsp», then «Tổ công tác…» (capitals first), and put «Đ» after
    «Z»: letter case aside, đ follows d, ư follows u, a tone counts only between names otherwise equal."""
    names = ["Tổ Nbsp", "Tổ công tác số 2", "Tổ Đồ Sơn", "Tổ Biên phòng", "Tổ Dương Kinh", "Tổ Zeta", "Tổ ưu tiên"]
    assert sorted(names, key=vietnamese_key) == [
        "Tổ Biên phòng",
        "Tổ công tác số 2",
        "Tổ Dương Kinh",
        "Tổ Đồ Sơn",
        "Tổ Nbsp",
        "Tổ ưu tiên",
        "Tổ Zeta",
    ]
    assert sorted(["Tổ 2", "Tổ 10", "Tổ A"], key=vietnamese_key) == ["Tổ 10", "Tổ 2", "Tổ A"]  # digits before letters
    assert sorted(["má", "mà", "ma", "mạ", "mả", "mã"], key=vietnamese_key) == ["ma", "mà", "mả", "mã", "má", "mạ"]
    assert sorted(["ơ", "ô", "o", "ă", "a", "â"], key=vietnamese_key) == ["a", "ă", "â", "o", "ô", "ơ"]
