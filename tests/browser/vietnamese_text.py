"""The browser tests' one check that a page speaks Vietnamese (tests/browser/test_first_day.py, test_map_reading.py):
no English word and no internal code in what a user reads.

A word is foreign when it is no Vietnamese syllable once its accents are taken off (English left in a page, whatever
the word), unless it is a listed proper name, unit or format, a login name or a word of a place's name; or when it is an English word spelled
like a syllable («the», «team»), which the first rule lets through; or an internal code of the vocabulary. The two
tests had one rule each: a list of 60 English words (blind to any other) and the syllables (blind to these few).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

from sqlalchemy import Engine, text

from models.analytics.emerging import PATTERNS
from models.vocabulary import (
    Category,
    HotspotKind,
    HotspotStatus,
    IncidentKind,
    Role,
    TaskKind,
    TaskPriority,
    TaskState,
)

#: A Vietnamese syllable, written without its accents: an initial consonant, vowels, a final consonant.
SYLLABLE = re.compile(r"(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnpqrstvx])?[aeiouy]+(ng|nh|ch|[cmnpt])?")
#: Words that are no syllable and stay as they are.
NAMES = {
    *("arcgis", "gauss", "getis", "ord", "gi", "leaflet", "unicode", "diaban"),  # names of methods and software
    *("logistic",),  # «hồi quy logistic», as Vietnamese statistics names it (the forecast's note)
    *("csv", "txt", "excel", "xlsx", "geojson", "jpeg", "png", "webp", "gps"),  # file formats, the photos' location
    *("utf",),  # a text file's encoding, as Excel's «CSV UTF-8» names it
    *("km", "km²", "m²", "dd", "mm", "yyyy"),  # units, the date format
    *("hp", "nv"),  # the province's initials in the short title, «NV 7» (nhiệm vụ 7): both in the help
    *("qd", "ttg"),  # a legal document's number: «QĐ 28/2025/QĐ-TTg»
    *("csdl",),  # «cơ sở dữ liệu», as the command line abbreviates it
}
#: English words of user interfaces spelled like a Vietnamese syllable without accents (found as typed, in ASCII:
#: «thể» and «nốt» are not «the» and «not»).
LOOKALIKES = {"the", "not", "team", "true", "nan"}
#: Every internal code a page could leak where a Vietnamese label belongs (state names, kinds, roles, classes).
CODES = {
    str(code)
    for vocabulary in (HotspotStatus, TaskState, HotspotKind, IncidentKind, Category, Role, TaskKind, TaskPriority)
    for code in vocabulary
    if len(str(code)) > 3
} | set(PATTERNS)
#: A command of the command line the pages name (its words are the command's, not English prose).
COMMAND = re.compile(r"«diaban [a-z -]+»")
#: Every piece of text a user may meet: the rendered text, and the placeholders, tooltips and accessible names.
_SHOWN_TEXT = """() => [document.body.innerText, ...[...document.querySelectorAll('[placeholder],[title],[aria-label]')]
  .flatMap(e => [e.getAttribute('placeholder'), e.getAttribute('title'), e.getAttribute('aria-label')])
  .filter(Boolean)].join('\\n')"""


def shown_text(page) -> str:
    """What a user of ``page`` reads: the visible text, and the placeholders, tooltips and accessible names."""
    return page.evaluate(_SHOWN_TEXT)


def names_shown(engine: Engine) -> set[str]:
    """What pages show as it is stored: the users' login names, and each word of the provinces' and units' names
    («Đắk Lắk», a province in the admin page's choice of scope, is no Vietnamese syllable)."""
    with engine.connect() as conn:
        logins = set(conn.execute(text("SELECT username FROM users")).scalars())
        places = conn.execute(text("SELECT full_name FROM provinces UNION SELECT full_name FROM admin_units")).scalars()
        return logins | {word for place in places for word in re.findall(r"[^\W\d_]{2,}", place)}


def foreign_words(shown: str, names: Collection[str] = ()) -> set[str]:
    """The internal codes and the words of ``shown`` that are not Vietnamese (see the module's docstring)."""
    found = {code for code in re.findall(r"[A-Za-z_]+", shown) if code in CODES}
    shown = COMMAND.sub(" ", shown)
    # Where a lower-case letter meets an upper-case one, two names were joined by the page's text («hiệnTừ»: buttons).
    shown = "".join(
        f" {c}" if c.isupper() and 0 < i < len(shown) - 1 and shown[i - 1].islower() and shown[i + 1].islower() else c
        for i, c in enumerate(shown)
    )
    for word in re.findall(r"[^\W\d_]{2,}", shown):
        bare = "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))
        bare = bare.replace("đ", "d").replace("Đ", "D").lower()
        lookalike = word.isascii() and bare in LOOKALIKES
        if lookalike or (not SYLLABLE.fullmatch(bare) and bare not in NAMES and word not in names):
            found.add(word)
    return found
