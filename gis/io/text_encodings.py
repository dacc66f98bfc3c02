"""Writing text in Windows-1258, the code page of Vietnamese Windows (for sample files and tests).

Python's cp1258 codec maps bytes to characters but cannot encode most precomposed Vietnamese letters:
Windows-1258 writes a base letter (itself possibly precomposed: â, ê, ô, ơ, ư, ă, đ) followed by a
combining tone mark, as Excel does when it saves "CSV (Windows-1258)".
"""

from __future__ import annotations

import unicodedata

#: The five tone marks Windows-1258 stores as separate combining characters.
TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")


def encode_cp1258(text: str) -> bytes:
    """`text` in Windows-1258: each letter the code page lacks becomes its base letter plus a combining tone mark."""
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", char)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONE_MARKS))
        out += (base + "".join(c for c in parts if c in TONE_MARKS)).encode("cp1258")
    return bytes(out)
