"""Text a user or a client sent, made safe to show where some characters would act rather than be read: a log line or
the access log (one line, no control or bidirectional marks) and a spreadsheet cell (no character XML cannot hold)."""

from __future__ import annotations

import re

#: Characters a message must not carry into the log as they are: control characters (a line break starts a line of
#: the client's making, a terminal's escape sequence acts on the reader's screen), line and paragraph separators and
#: the bidirectional marks that show a line's end backwards.
UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: The control characters an Excel cell cannot hold (XML 1.0; openpyxl refuses the whole workbook for one): all but
#: the tab and the line breaks, which a multi-line note keeps.
NOT_IN_A_CELL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def escaped(text: str, characters: re.Pattern[str] = UNPRINTABLE) -> str:
    """``text`` with each of ``characters`` written as its escape (``\\n`` as ``\\u000a``): the reader sees what was
    sent, and it does nothing."""
    return characters.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def one_line(text: str) -> str:
    """``text`` with the characters of :data:`UNPRINTABLE` written as escapes: what a client sent, shown to an operator
    (a log line, the access log on a terminal, page or Excel file), neither breaks the line nor acts on the screen."""
    return escaped(text)
