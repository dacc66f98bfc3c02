"""The command line's help writes each option's default as the rest of its Vietnamese output writes numbers."""

import pytest

from api.cli.main import main


@pytest.mark.parametrize(
    ("command", "shown", "not_shown"),
    [
        (["hotspots", "detect"], "(mặc định: 100)", "100.0"),  # «100.0» is no Vietnamese number
        (["classify", "evaluate"], "(mặc định: 1 2 3)", "[1, 2, 3]"),  # a Python list; as typed
        (["demo-data", "classification"], "(mặc định: 2025)", "2.025"),  # a year has no thousands dot
    ],
)
def test_a_default_is_written_the_vietnamese_way(
    command: list[str], shown: str, not_shown: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        main([*command, "--help"])
    except SystemExit as stop:
        assert stop.code in (0, None)
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps lines at the terminal width
    assert shown in out and not_shown not in out, out


@pytest.mark.parametrize(
    ("command", "said"),
    [
        (["classify", "run", "--year", "2030", "--as-user", ""], "cần tên đăng nhập của một tài khoản cán bộ tham mưu"),
        (["classify", "approve", "--year", "2030", "--as-user", "  "], "cần tên đăng nhập của một tài khoản"),
        (["users", "unlock", " "], "tham số TÊN: cần tên đăng nhập, không để trống"),
        (["users", "move", "to05", "--team", ""], "tham số --team: cần tên tổ, không để trống"),
        (["teams", "rename", "", "Tổ 1"], "tham số TÊN: cần tên tổ, không để trống"),
    ],
)
def test_a_blank_name_is_a_usage_error_saying_what_is_missing(
    command: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A blank login or team name was looked up and refused as «không có người dùng đang hoạt động tên «»», which reads
    as a lookup gone wrong; it is a usage error (exit 2, before any database is reached) naming what to give. (A new
    name, `users add`, `teams add`, a team's new name, is checked as the API checks it: tests/db/test_cli.py.)"""
    with pytest.raises(SystemExit) as stop:
        main(command)
    assert stop.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert said in err, err
