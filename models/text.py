"""Text a user or a client sent, made safe to show where some characters would act rather than be read: a log line or
the access log (one line, no control or bidirectional marks) and a spreadsheet cell (no character XML cannot hold);
and names put in Vietnamese alphabetical order (:func:`vietnamese_key`)."""

from __future__ import annotations

import re
import unicodedata

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


#: The Vietnamese alphabet's order (with the Latin letters it lacks, for foreign names); ă, â, đ, ê, ô, ơ, ư are
#: letters of their own, each after its base letter.
_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
#: The marks that make those letters of a base letter (decomposed: NFD).
_LETTER_MARKS = {
    ("a", "\u0306"): "ă",
    ("a", "\u0302"): "â",
    ("e", "\u0302"): "ê",
    ("o", "\u0302"): "ô",
    ("o", "\u031b"): "ơ",
    ("u", "\u031b"): "ư",
}
#: The tones in dictionary order after the level one (ngang): huyền, hỏi, ngã, sắc, nặng.
_TONES = "\u0300\u0309\u0303\u0301\u0323"


def vietnamese_key(text: str) -> tuple[tuple[tuple[int, int], ...], tuple[int, ...], str]:
    """A sort key putting names in Vietnamese dictionary order, as ``localeCompare(…, "vi")`` does on the pages:
    letter case aside, letters in the Vietnamese alphabet's order (đ after d, ư after u), tones only between words
    otherwise equal; spaces, digits and signs before letters. Code-point order put «Tổ Nbsp» before «Tổ công tác»
    (capitals first) and «Tổ Đ…» after «Tổ Z…». The text itself breaks the last ties."""
    letters: list[str] = []
    tones: list[int] = []
    for char in unicodedata.normalize("NFD", text.casefold()):
        if unicodedata.combining(char):
            if letters and (letters[-1], char) in _LETTER_MARKS:
                letters[-1] = _LETTER_MARKS[(letters[-1], char)]
            elif letters and char in _TONES:
                tones[-1] = _TONES.index(char) + 1
            continue
        letters.append(char)
        tones.append(0)
    ranks = tuple((1, _ALPHABET.index(c)) if c in _ALPHABET else (0, ord(c)) for c in letters)
    return ranks, tuple(tones), text
