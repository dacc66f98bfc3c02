"""The command line speaks Vietnamese: argparse's own messages translated, help that shows formats and defaults.

argparse looks its messages up through ``gettext`` at the moment it prints them; :func:`install` points that
lookup at the table below (unknown messages pass through unchanged), so usage errors, help headings and
"default:" notes come out in Vietnamese like the rest of diaban's output.
"""

from __future__ import annotations

import argparse
import errno
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from models.domain.dates import parse_day
from models.errors import InvalidRequest
from models.numbers import vn_number

_MESSAGES = {
    "usage: ": "cách dùng: ",
    "%(prog)s: error: %(message)s\n": "%(prog)s: lỗi: %(message)s\n",
    "argument %(argument_name)s: %(message)s": "tham số %(argument_name)s: %(message)s",
    "invalid choice: %(value)r (choose from %(choices)s)": "giá trị không hợp lệ: %(value)r (chọn trong %(choices)s)",
    "invalid %(type)s value: %(value)r": "giá trị không hợp lệ: %(value)r",
    "the following arguments are required: %s": "thiếu tham số bắt buộc: %s",
    "unrecognized arguments: %s": "tham số không nhận ra: %s",
    "expected one argument": "cần một giá trị",
    "expected at least one argument": "cần ít nhất một giá trị",
    "expected at most one argument": "cần nhiều nhất một giá trị",
    "ambiguous option: %(option)s could match %(matches)s": "tùy chọn mơ hồ: %(option)s có thể là %(matches)s",
    "not allowed with argument %s": "không dùng cùng tham số %s",
    "one of the arguments %s is required": "cần một trong các tham số %s",
    "ignored explicit argument %r": "bỏ qua giá trị %r",
    "positional arguments": "tham số vị trí",
    "options": "tùy chọn",
    "show this help message and exit": "in hướng dẫn này rồi thoát",
    "can't open '%(filename)s': %(error)s": "không mở được '%(filename)s': %(error)s",
}


def _translate(message: str) -> str:
    return _MESSAGES.get(message, message)


def install() -> None:
    """Make argparse print its own messages in Vietnamese (idempotent)."""
    argparse._ = _translate  # type: ignore[attr-defined]


def parse_args(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """``parser.parse_args(argv)``, but an argument no command takes is refused with the usage of the subcommand it
    was given to: argparse leaves a subcommand's unknown arguments to the top parser, which printed «cách dùng:
    diaban [-h] LỆNH ...» for `diaban classify kpi --out x`."""
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        chosen = parser
        while subcommand := next(
            (
                action.choices.get(getattr(args, action.dest, ""))
                for action in chosen._actions
                if isinstance(action, argparse._SubParsersAction)
            ),
            None,
        ):
            chosen = subcommand
        chosen.error(_translate("unrecognized arguments: %s") % " ".join(unknown))
    return args


def _vi_default(value: object) -> str:
    """An option's default as it is typed, in Vietnamese figures: a float «100», «0,5» (Python wrote «100.0», which
    reads as a thousands dot), an integer as it is («30000», a year «2025», never «2.025»), several values a space
    apart as they are typed («1 2 3», not «[1, 2, 3]»)."""
    if isinstance(value, list | tuple):
        return " ".join(_vi_default(item) for item in value)
    if isinstance(value, float):
        return repr(value).removesuffix(".0").replace(".", ",")
    return str(value)


class HelpFormatter(argparse.HelpFormatter):
    """Shows each option's default (when it has one) after its help, in Vietnamese, its figures the Vietnamese way."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default in (None, False, argparse.SUPPRESS) or "%(default)" in text or "mặc định" in text:
            return text
        return text + f" (mặc định: {_vi_default(action.default)})".replace("%", "%%")


#: Placeholders of values in usage lines, help and errors, by the option's name (argparse would show the name in
#: English capitals: --team TEAM, --port PORT, a positional as "name" or "path").
_METAVARS = {
    "name": "TÊN",
    "path": "TỆP",
    "team": "TÊN_TỔ",
    "user": "TÊN_ĐĂNG_NHẬP",
    "as_user": "TÊN_ĐĂNG_NHẬP",
    "route": "CHUỖI",
    "host": "ĐỊA_CHỈ",
    "port": "CỔNG",
    "year": "NĂM",
    "approved": "NĂM",
    "draft": "NĂM",
    "years": "SỐ_NĂM",
    "grid_years": "SỐ_NĂM",
    "days": "SỐ_NGÀY",
    "version": "PHIÊN_BẢN",
    "commune": "MÃ",
    "note": "GHI_CHÚ",
    "reason": "LÝ_DO",
    "eps": "MÉT",
    "radius_m": "MÉT",
    "lon": "KINH_ĐỘ",
    "lat": "VĨ_ĐỘ",
    **dict.fromkeys(("limit", "workers", "seed", "seeds", "incidents", "areas", "min_samples"), "SỐ"),
}


def vietnamese_metavars(parser: argparse.ArgumentParser) -> None:
    """Give every option and positional of ``parser`` and its subcommands without a placeholder of its own a
    Vietnamese one (usage, help and errors alike: "thiếu tham số bắt buộc: TÊN", not "name")."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                vietnamese_metavars(subparser)
        elif action.metavar is None and action.choices is None and action.nargs != 0 and action.dest in _METAVARS:
            action.metavar = _METAVARS[action.dest]


def parser_options(description: str) -> dict[str, Any]:
    """Keyword arguments of every diaban (sub)parser: Vietnamese description, defaults shown."""
    return {"description": description, "formatter_class": HelpFormatter}


def cli_day(text: str) -> date:
    """argparse type for a day: dd/mm/yyyy or yyyy-mm-dd (a wrong one is a usage error, exit 2)."""
    try:
        return parse_day(text)
    except InvalidRequest as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def cli_name(what: str) -> Callable[[str], str]:
    """argparse type for a name (a login, a team): a blank one is a usage error saying ``what`` is missing (exit 2);
    it was looked up and refused as «không có người dùng «»», which reads as a lookup gone wrong."""

    def named(text: str) -> str:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"cần {what}, không để trống")
        return text

    return named


#: The help of an import's `--dry-run` (the boundaries, incidents, indicators and accounts imports).
DRY_RUN_HELP = (
    "chỉ kiểm tra tệp: chạy đúng lần nhập rồi hủy bỏ toàn bộ, không ghi gì vào cơ sở dữ liệu; in cùng báo cáo như khi"
    " nhập thật"
)


#: What a synthetic scenario may span (models.synthetic.scenario.ScenarioConfig refuses fewer incidents or years with
#: a ValueError; more years than this overflow pandas' timestamps before the scenario's end day).
SCENARIO_YEARS, SCENARIO_INCIDENTS = (1, 50), (1_000, 10_000_000)


def cli_int(low: int, high: int | None = None) -> Callable[[str], int]:
    """argparse type for a whole number from ``low`` to ``high`` (none: no upper bound): a number outside is a usage
    error in Vietnamese (exit 2), not a ValueError of a model or a database error after the command has started."""

    def whole(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"cần một số nguyên: {text!r}") from None
        if value < low or (high is not None and value > high):
            within = (
                f"từ {vn_number(low)} đến {vn_number(high)}" if high is not None else f"từ {vn_number(low)} trở lên"
            )
            raise argparse.ArgumentTypeError(f"cần một số nguyên {within}: {text!r}")
        return value

    return whole


def cli_positive(high: float | None = None) -> Callable[[str], float]:
    """argparse type for a finite number above 0 and at most ``high`` (a distance in metres): NaN, infinity, zero or
    a negative is a usage error in Vietnamese (exit 2)."""

    def positive(text: str) -> float:
        try:
            value = float(text.replace(",", "."))
        except ValueError:
            raise argparse.ArgumentTypeError(f"cần một số: {text!r}") from None
        if not math.isfinite(value) or value <= 0 or (high is not None and value > high):
            within = f"lớn hơn 0 và không quá {vn_number(high)}" if high is not None else "lớn hơn 0"
            raise argparse.ArgumentTypeError(f"cần một số {within}: {text!r}")
        return value

    return positive


#: What a file error means, by errno (others: the system's reason after a Vietnamese line).
_FILE_ERRORS = {
    errno.ENOENT: "không tìm thấy tệp {}",
    errno.EISDIR: "{} là một thư mục, không phải tệp",
    errno.ENOTDIR: "đường dẫn {} không hợp lệ: một phần của nó không phải thư mục",
    errno.EACCES: "không có quyền đọc hoặc ghi tệp {}",
    errno.EPERM: "không có quyền đọc hoặc ghi tệp {}",
    errno.EROFS: "không ghi được {}: ổ đĩa chỉ cho đọc",
    errno.ENOSPC: "hết chỗ trống trên đĩa khi ghi {}",
}


def file_error(exc: OSError) -> str:
    """A file that cannot be opened, in Vietnamese: what is wrong with the path the user gave (an error without a
    line of its own by its number: the system's English text is in the debug log)."""
    known = _FILE_ERRORS.get(exc.errno or 0)
    if known:
        return known.format(exc.filename)
    return f"không đọc hoặc ghi được tệp {exc.filename} (lỗi hệ thống số {exc.errno})"


def readable_file(path: Path) -> Path:
    """Open ``path`` once for reading and return it: a missing or unreadable file, or a folder, is the user's error
    (OSError: one Vietnamese line, exit 2) before the command starts a database it would not need."""
    with open(path, "rb"):
        pass
    return path


@contextmanager
def naming_file(path: Path) -> Iterator[None]:
    """Give an OSError raised while writing `path` its name: a full disk or a write the file refuses (ENOSPC,
    EINVAL from `/proc/version`) is then the user's file error, one Vietnamese line and exit 2, not an internal
    error — a failed write() carries no file name of its own."""
    try:
        yield
    except OSError as exc:
        if exc.filename is not None:
            raise
        raise OSError(exc.errno, exc.strerror, str(path)) from exc


def no_folder(path: Path) -> str:
    """The refusal of a file to write whose folder does not exist (not a missing input file: nothing was read)."""
    return f"không có thư mục {path.parent} để ghi {path.name}"


def cli_output_file(text: str) -> Path:
    """argparse type for a file the command writes: one it cannot write (a folder, a missing folder, no permission)
    is a usage error before any work, not a failure after an import has committed (a file this check creates is
    removed again; an existing one is left as it is)."""
    path = Path(text)
    existed = path.exists()
    try:
        with open(path, "ab"):
            pass
    except FileNotFoundError:
        raise argparse.ArgumentTypeError(no_folder(path)) from None
    except OSError as exc:
        raise argparse.ArgumentTypeError(file_error(exc)) from None
    if not existed:
        path.unlink()
    return path
