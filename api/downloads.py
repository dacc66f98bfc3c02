"""How a file the API hands over is named: its Vietnamese name for browsers, a plain-letter one for the others."""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

from gis.io.exports import ascii_name


def disposition(name: str, how: Literal["attachment", "inline"] = "attachment") -> dict[str, str]:
    """The ``Content-Disposition`` header of a file called ``name`` (Vietnamese, with its diacritics): RFC 6266's
    ``filename`` in plain ASCII letters for clients that read no other, and ``filename*`` (RFC 5987, UTF-8,
    percent-encoded), which every current browser prefers, so that the file is saved as «phân-loại-2025-….xlsx».
    A non-ASCII ``filename`` alone arrives as mojibake (HTTP header values are Latin-1) or not at all."""
    return {"Content-Disposition": f"{how}; filename=\"{ascii_name(name)}\"; filename*=UTF-8''{quote(name, safe='')}"}
