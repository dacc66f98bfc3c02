"""Spotting free text that looks like a person's name (the system keeps no names of people who use drugs).

A heuristic for Vietnamese names: a common family name followed by one to three capitalised words
("Hoàng Văn Em", "Nguyễn Thị Lan"; in capitals "NGUYỄN VĂN HÙNG", with a common middle name), not preceded by a
word that makes it a place ("phố Trần Phú", "phường Lê Chân") and not a common word that begins with a family name
("Đoàn Thanh niên", "HỒ SƠ"). An import only warns (it keeps the row and asks the user to remove the name); free
text a user types — a hotspot's note, a task's notes, comments and checklist, a classification's reason — where it
can be rephrased at once, is refused by :func:`refuse_names`, which every service storing such text calls.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

from models.errors import InvalidRequest
from models.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:  # a hotspot's note is checked by a server that imports neither at start (models/lazy.py)
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

#: The commonest Vietnamese family names (together about nine people in ten).
SURNAMES = frozenset(
    unicodedata.normalize("NFC", name)
    for name in (
        "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đào Đinh Mai Trịnh Lương Cao Tạ Hà"
        " Lâm Tô Quách Chu Vương Đoàn Lưu Kiều Phùng Thái Triệu Khúc Đàm Nghiêm Tăng Văn Thân Trương Doãn Khổng"
    ).split()
)
#: Words after which a name is a place or a street, not a person: the whole name that follows passes («phố Trần
#: Phú», «đường Nguyễn Văn Linh», which had been refused for its «Văn Linh»).
PLACE_WORDS = frozenset(
    unicodedata.normalize("NFC", word)
    for word in "phố đường phường xã quận huyện tỉnh ngõ ngách hẻm khu thôn xóm tổ trường chợ cầu bến cảng".split()
)
#: The last word of a venue's kind, where a hotspot is («quán», «cà phê», «karaoke», «nhà nghỉ», «khách sạn», «nhà
#: hàng», «bệnh viện», «công ty (TNHH, cổ phần)», «khu vực», «trường THCS»…): a name of two words after it is the
#: venue's («quán karaoke Hoàng Gia», «Trường THCS Lê Lợi» were refused); three or more are a person's as anywhere
#: («quán Nguyễn Văn Hùng»). Not «nhà»: «nhà Nguyễn Văn A» is a person's house.
VENUE_WORDS = frozenset(
    unicodedata.normalize("NFC", word)
    for word in "quán phê karaoke bar nghỉ sạn hàng viện ty tnhh phần vực thcs thpt đình chùa đền".split()
)
#: Common middle names (tên đệm). A name written in capitals — how police documents write a suspect's: «đối tượng
#: NGUYỄN VĂN HÙNG» — is one only with one of them after the family name: in capitals a family name begins common
#: words too («HỒ SƠ», «DƯƠNG TÍNH», «LÝ DO», «VĂN PHÒNG», «CAO ĐIỂM»), which a note in capitals must keep.
MIDDLE_NAMES = frozenset(
    unicodedata.normalize("NFC", name)
    for name in (
        "Văn Thị Đức Minh Hữu Quang Ngọc Thanh Xuân Hoàng Quốc Công Đình Trọng Tuấn Anh Hồng Kim Thu Mạnh Huy Bảo"
        " Gia Khắc Bá Duy Phương Thế Viết Tiến Trung Như Diệu Mỹ Bích Hoài Nhật Phúc Thành Việt Chí Thùy Thúy Khánh"
        " Đăng Ánh Tấn Phước Trường Sỹ Sĩ"
    ).split()
)
#: Words that begin with a family name and name no one, as a note writes them capitalised or in capitals: the
#: Youth Union, a partner of every commune's prevention work («phối hợp Đoàn Thanh niên» was refused), and common
#: words of a report.
NOT_NAMES = frozenset(
    tuple(unicodedata.normalize("NFC", phrase).split())
    for phrase in (
        "đoàn thanh niên",
        "đoàn tncs",  # Đoàn TNCS Hồ Chí Minh (the city and the person: a place the database knows)
        "văn phòng",
        "văn hóa",
        "hồ sơ",
        "dương tính",
        "lý do",
        "cao điểm",
        "tăng cường",
        "thái độ",
        "lưu ý",
        "đào tạo",
        "vũ khí",
    )
)
_WORD = re.compile(r"\w+")
#: A quick first pass: a family name (or one in capitals) followed by a word somewhere in the text.
_CANDIDATE = re.compile(r"(?<!\w)(?:" + "|".join(sorted(SURNAMES | {name.upper() for name in SURNAMES})) + r")\s+\w")


def _as_written(word: str) -> tuple[str, bool]:
    """A word capitalised as a name is («NGUYỄN» → «Nguyễn»), and whether it was in capitals (one letter is not)."""
    shouted = len(word) > 1 and word.isupper()
    return (word.capitalize() if shouted else word), shouted


def looks_like_name(text: str, places: Collection[str] = ()) -> bool:
    """Whether ``text`` holds what looks like a person's name (family name + capitalised given names).

    ``places``: names of known places (communes, provinces: "Lê Chân", "Nguyễn Bỉnh Khiêm", "Hà Nội") written bare,
    without the word that makes them a place. 23 of Hải Phòng's 114 communes are named after people or start with a
    family name; without them a note saying "tuần tra ở Lê Chân" was refused. Such a place passes only as a whole: not
    followed by one more capitalised word ("Lê Chân Hùng" is a person), unless that word begins a place too
    ("Lê Chân Hải Phòng").
    """
    text = unicodedata.normalize("NFC", text)
    words, shouted, spaced = [], [], []  # spaced: only a space from the word before (no comma, no full stop)
    end = 0
    for match in _WORD.finditer(text):
        word, caps = _as_written(match.group())
        words.append(word)
        shouted.append(caps)
        spaced.append(not text[end : match.start()].strip())
        end = match.end()
    known = {unicodedata.normalize("NFC", place) for place in places}

    def place_at(i: int) -> int:
        """How many words the longest known place starting at word ``i`` spans (0: none)."""
        return max((n for n in range(1, min(5, len(words) - i + 1)) if " ".join(words[i : i + n]) in known), default=0)

    def capitalised_at(i: int) -> int:
        """How many capitalised words follow one another from word ``i`` (itself one), spaces alone between them, at
        most 3: most streets' and people's names («Nguyễn Văn Linh»; a fourth word may begin a name of its own)."""
        last = min(3, len(words) - i)
        return next((n for n in range(1, last) if not (words[i + n][:1].isupper() and spaced[i + n])), last)

    i = 0
    while i < len(words):
        word = words[i]
        if word not in SURNAMES:
            i += 1
            continue
        before = words[i - 1].lower() if i else ""
        run = capitalised_at(i)
        if before in PLACE_WORDS or (before in VENUE_WORDS and run <= 2):
            i += run
            continue
        common = next((len(p) for p in NOT_NAMES if tuple(w.lower() for w in words[i : i + len(p)]) == p), 0)
        if common:
            i += common
            continue
        span = place_at(i)
        after = i + span
        if span and (after == len(words) or not words[after][:1].isupper() or place_at(after)):
            i = after
            continue
        following = words[i + 1 : i + 4]
        if following and following[0][:1].isupper() and (not shouted[i] or following[0] in MIDDLE_NAMES):
            return True
        i += 1
    return False


def refuse_names(text: str, field_label: str, places: Callable[[], Collection[str]] = frozenset) -> None:
    """Refuse free text a user typed (``field_label``: its field as the page names it, e.g. "Ghi chú") when it looks
    like it holds a person's name: InvalidRequest (HTTP 422, the CLI's refusal), with one Vietnamese message for
    every field, so that the user rephrases it before anything is stored. ``places`` gives the known places'
    names (see looks_like_name); it is called only for a text that looks like a name without them (rare: the database
    is read only then, gis.store.communes.refuse_personal_names).

    An officer's title before the name ("đồng chí Nguyễn Văn An", "đ/c …", "cán bộ …", "CB …") does not exempt it: a
    note cannot tell an officer from a person who uses drugs that it names the same way ("đối tượng", a nickname, a
    title written wrong), an exemption any prefix passes would let every name through, and who did what is already
    recorded by the account that sends the note. The user writes the role or the team instead ("tổ 05", "trưởng công
    an xã"); streets and places written with their word ("phố Trần Phú", "đường Lê Lợi") pass (PLACE_WORDS), and so
    do the communes and provinces named bare ("Lê Chân", "Hà Nội").
    """
    if looks_like_name(text) and looks_like_name(text, places()):
        raise InvalidRequest(
            f"{field_label} có vẻ chứa tên người: hệ thống không lưu tên người, kể cả tên cán bộ — hãy ghi vai trò"
            " hoặc tổ thay cho tên («tổ 05», «trưởng công an xã»), mô tả nơi và dấu hiệu (tên đường, địa danh ghi kèm"
            " «phố», «đường», «ngõ»…)",
            f"{field_label!r} looks like it holds a person's name",
        )


def name_like_rows(values: pd.Series, places: Collection[str] = ()) -> np.ndarray:
    """Mask of the values that look like they hold a person's name (``places``: as for looks_like_name, "CA Lê Chân"
    is a place). Each distinct value is judged once (free text such as a source repeats: "CAP", "Công an phường …"),
    after a regex pass over them all joined."""
    codes, uniques = pd.factorize(values.fillna("").astype(str))
    if not len(uniques) or not _CANDIDATE.search(unicodedata.normalize("NFC", "\n".join(uniques))):
        return np.zeros(len(values), dtype=bool)
    named = np.fromiter((looks_like_name(v, places) for v in uniques), dtype=bool, count=len(uniques))
    return named[codes]


def listed_lines(lines: np.ndarray, shown: int = 10) -> str:
    """Lines as an import's warning lists them: the first `shown`, then «…»."""
    return ", ".join(str(int(n)) for n in lines[:shown]) + (" …" if len(lines) > shown else "")


def name_warning(column: str, lines: np.ndarray, shown: int = 10) -> str:
    """The import's warning for the lines of ``column`` (named by its Vietnamese label) that look like they hold
    names."""
    listed = listed_lines(lines, shown)
    return (
        f"{len(lines)} dòng có cột «{column}» giống tên người (dòng {listed}): hệ thống không lưu tên người,"
        " hãy xóa tên khỏi tệp"
    )
