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
