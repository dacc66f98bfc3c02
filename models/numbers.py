"""Numbers as Vietnamese readers write them: '.' groups thousands, ',' marks decimals ("3.000", "0,12").

The one implementation behind every figure a user reads: the exports, the command line's refusals (through
``gis.io.exports``), its counts and the forecast evaluation's tables and verdicts (``models.forecast``), the import
summaries and progress bar, and the legal criteria's explanations (``models.domain.legal_rules``). Pure: no locale
is consulted, so a server's settings cannot change what a report says.
"""

from __future__ import annotations

import math
from typing import Any

from models.vocabulary import MISSING_DATA_LABEL

#: Swaps the English separators for the Vietnamese ones in one pass.
_VIETNAMESE_SEPARATORS = str.maketrans(",.", ".,")


def vn_number(value: Any, decimals: int = 2, *, trim: bool = False, fixed: bool = False, sign: bool = False) -> str:
    """``value`` in the Vietnamese format: an integer whole ("3.000"), another number to ``decimals`` decimals
    ("0,50"), or with ``trim`` to at most that many (trailing zeros dropped: "0,5", "12"); with ``fixed`` always to
    exactly ``decimals`` decimals, an integer too ("3,00": a table's column, a figure beside others rounded alike);
    with ``sign`` a "+" before a positive number (a difference: "+0,48"); a bool as "Có" / "Không"; None or NaN as
    "thiếu dữ liệu" (missing, never 0)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING_DATA_LABEL
    if isinstance(value, bool):
        return "Có" if value else "Không"
    number = float(value)  # numpy's NaN is a float; a Decimal's is not, but a database gives None for a missing one
    plus = "+" if sign else ""
    if number.is_integer() and not fixed:
        return f"{int(number):{plus},}".translate(_VIETNAMESE_SEPARATORS)
    text = f"{number:{plus},.{decimals}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.translate(_VIETNAMESE_SEPARATORS)


def vn_percent(share: Any, decimals: int = 1, *, sign: bool = False) -> str:
    """A share (0.0931) as a percentage the way the reports write it, a space before the sign: "9,3 %", with ``sign``
    "+585,3 %" (a relative change); always ``decimals`` decimals; None or NaN as "thiếu dữ liệu"."""
    shown = vn_number(None if share is None else float(share) * 100, decimals, fixed=True, sign=sign)
    return shown if shown == MISSING_DATA_LABEL else f"{shown} %"
