"""Vectorised building blocks for validating imported tables: reject collection and number parsing."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from models.domain.personal_names import listed_lines
from models.errors import InvalidInput
from models.vocabulary import WHOLE_ROW, plain_key, without_accents

REJECT_COLUMNS = ("line", "ref", "field", "reason")
#: A GeoJSON feature's point (longitude, latitude), as the reader gives it apart from the feature's properties: a layer
#: may keep its coordinates in its attributes too («Kinh độ», «Vĩ độ»), which then meant the same field twice.
POINT_COLUMNS = ("_point_lon", "_point_lat")
#: A workbook's cells in a record holding a formula without a stored result, as (column, cell name such as «D2»)
#: pairs (None: none), given by the reader apart from `_error`: only those in a column the contract reads reject the
#: record (`canonical_columns`) — an «STT» of «=ROW()-1» in a workbook nobody calculated had rejected every row.
FORMULA_CELLS = "_formulas"
#: The columns the file reader (gis.io.readers) adds: the record's line (or feature number) and the error that makes
#: it malformed ('' for none), in every table; a workbook's uncached formulas; a GeoJSON feature's point.
READER_COLUMNS = ("line", "_error", FORMULA_CELLS, *POINT_COLUMNS)
#: Between a header and the position that names its column apart (`names_apart`): a control character, which the
#: reader takes out of every header (`header_text`), so that no file's header can be such a name.
_APART = "\x1f"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: How a message names a column whose header cell is blank.
UNNAMED_COLUMN = "(cột không tên)"
#: Longest value a text field may hold; longer ones (a 100 MB field) reject their row.
MAX_FIELD_CHARS = 10_000
#: The largest count a record holds (people arrested, residents, plants destroyed): what the 32-bit integer columns
#: store. A larger figure is a typing mistake; it had been stored as garbage (1e20 arrested became -9.2e18) or
#: stopped an import with a traceback (found by fuzzing the importers).
COUNT_MAX = 2**31 - 1
#: Longest ref shown in a reject (the value itself may be anything).
_SHOWN_REF = 80


@dataclass
class ValidationResult:
    """Valid rows (canonical types), rejects (line, ref, field, reason) and file-level warnings."""

    valid: pd.DataFrame
    rejects: pd.DataFrame
    warnings: list[str] = field(default_factory=list)

    @property
    def rejected_rows(self) -> int:
        return int(self.rejects["line"].nunique()) if len(self.rejects) else 0


class ContractError(InvalidInput):
    """The file as a whole does not follow the contract (e.g. a required column is missing)."""


class Rejects:
    """Collects one reject (line, ref, field, reason) per failed check, as boolean row masks."""

    def __init__(self, raw: pd.DataFrame, ref_column: str = "ref") -> None:
        self.lines = raw["line"].to_numpy()
        # Kept as the column: only rejected rows' refs are taken out of it (a million Python strings cost 0.1 s).
        self.refs = raw[ref_column].fillna("").astype(str) if ref_column in raw else pd.Series("", index=raw.index)
        self.parts: list[pd.DataFrame] = []
        self.bad = np.zeros(len(raw), dtype=bool)
        #: Rows the reader found malformed: only that error is reported for them.
        self.malformed = np.zeros(len(raw), dtype=bool)

    def add(
        self, mask: np.ndarray | pd.Series, field_name: str, reason: str | pd.Series, values: pd.Series | None = None
    ) -> None:
        """Reject the rows in `mask` for `field_name`; with `values`, `reason` is a template filled per row."""
        mask = np.asarray(mask, dtype=bool) & ~self.malformed
        if not mask.any():
            return
        if values is not None:  # format only the rejected rows: most rows are valid
            reasons = [reason.format(_shown(v)) for v in values[mask].to_numpy(object)]
        else:
            reasons = list(reason.to_numpy()[mask]) if isinstance(reason, pd.Series) else [reason] * int(mask.sum())
        self.parts.append(
            pd.DataFrame(
                {
                    "line": self.lines[mask],
                    "ref": [_shown(ref) for ref in self.refs[mask].to_numpy(object)],
                    "field": field_name,
                    "reason": reasons,
                }
            )
        )
        self.bad |= mask

    def frame(self) -> pd.DataFrame:
        """All rejects ordered by line."""
        if not self.parts:
            return empty_rejects()
        return pd.concat(self.parts, ignore_index=True).sort_values(["line", "field"], kind="stable", ignore_index=True)


def _shown(value: object) -> object:
    """A rejected value as a reason quotes it: at most a line's worth, NUL made visible (a 100 MB field is not echoed)."""
    if not isinstance(value, str):
        return value
    value = value.replace("\x00", "\u2400")
    return value if len(value) <= _SHOWN_REF else value[:_SHOWN_REF] + "…"


def empty_rejects() -> pd.DataFrame:
    """A reject table with no rows and the right columns."""
    return pd.DataFrame(
        {
            "line": pd.Series(dtype="int64"),
            "ref": pd.Series(dtype=str),
            "field": pd.Series(dtype=str),
            "reason": pd.Series(dtype=str),
        }
    )


def header_text(cell: str) -> str:
    """A header cell as its column is named (NFC, trimmed, lower case), a control character (a line break typed in a
    header with Alt+Enter) read as a space: no header then holds `_APART`."""
    return _CONTROL.sub(" ", unicodedata.normalize("NFC", cell)).strip().lower()


def names_apart(headers: list[str]) -> list[str]:
    """The headers (as `header_text` gives them) as column names, all distinct and none a reader column: a header given
    again (two «Ghi chú», two blank cells: common in police spreadsheets), or named as a reader column («line»,
    «_error»), is named by how many times it came after `_APART` (the same name in every feature of a GeoJSON). A
    column the contract does not know is ignored whatever its name; a known one given twice is refused by
    `canonical_columns`, named by its header. The first had refused the file, the second been overwritten by the
    reader's column, unsaid."""
    counts = dict.fromkeys(READER_COLUMNS, 1)
    names = []
    for header in headers:
        count = counts.get(header, 0)
        counts[header] = count + 1
        names.append(f"{header}{_APART}{count}" if count else header)
    return names


def column_header(column: object) -> str:
    """The header a column was read under (`names_apart` undone)."""
    return str(column).split(_APART, 1)[0]


def shown_header(column: object) -> str:
    """A column's header as a message shows it: a blank one as `UNNAMED_COLUMN`."""
    return column_header(column) or UNNAMED_COLUMN


def unknown_columns_warning(columns: Iterable[str], known: Iterable[str]) -> list[str]:
    """The warning naming, once each, the headers of the columns an import ignores (none: no warning)."""
    known = set(known)
    unknown = sorted({shown_header(c) for c in columns if c not in READER_COLUMNS and c not in known})
    return [f"bỏ qua các cột không xác định: {', '.join(unknown)}"] if unknown else []


def text_column(raw: pd.DataFrame, name: str) -> pd.Series:
    """A column as stripped strings; an absent column reads as empty strings."""
    if name in raw:
        return raw[name].fillna("").astype(str).str.strip()
    # An absent column costs nothing: an object array of one shared "" (a string-dtype one costs 0.1 s per
    # 500,000 rows to build, measured).
    return pd.Series(np.full(len(raw), "", dtype=object), index=raw.index)


_PLAIN = r"[+-]?\d+"
#: One separator followed by other than three digits, or after a leading zero, can only be a decimal mark.
_DECIMAL_ONLY = {
    sep: rf"^(?:[+-]?0{re.escape(sep)}\d+|{_PLAIN}{re.escape(sep)}(?:\d{{1,2}}|\d{{4,}}))$" for sep in ",."
}
#: Grouped thousands with a decimal part: the last separator is the decimal mark.
_GROUPED = {
    ",": r"^[+-]?\d{1,3}(?:\.\d{3})+,\d+$",  # 1.234,5 (Vietnamese)
    ".": r"^[+-]?\d{1,3}(?:,\d{3})+\.\d+$",  # 1,234.5 (English)
}


def decimal_mark(text: pd.Series) -> str | None:
    """The column's decimal mark: ',' or '.' when its values show only one convention, else None.

    A value like "1,5", "0,125" or "1.234,5" can only use a decimal comma; "2.75" or "1,234.5" only a
    decimal point. "1.500" or "1,500" alone could be either (1.5 or 1500): the column decides.
    """
    marks = [m for m in ",." if (text.str.match(_DECIMAL_ONLY[m]) | text.str.match(_GROUPED[m])).any()]
    return marks[0] if len(marks) == 1 else None


#: A whole number written with its thousands grouped by one mark throughout: "30.000", "1.234.567", "30,000", or by
#: spaces, "30 000" (also the no-break spaces a spreadsheet's number format writes).
_GROUPED_WHOLE = r"^[+-]?\d{1,3}(?:(?:\.\d{3})+|(?:,\d{3})+|(?:[ \u00a0\u202f]\d{3})+)$"


def parse_numbers(text: pd.Series, whole: bool = False) -> tuple[pd.Series, np.ndarray]:
    """Decimals with a point or a Vietnamese decimal comma, and a mask of non-empty values that are not numbers.

    The decimal mark is decided per column (`decimal_mark`); the other mark may group thousands in
    threes. In a column that shows no convention, a value with one separator is read as a decimal
    ("106,6885" or "2.5"); a value that is ambiguous in its column ("1.500" beside "2,5" and "3.25")
    is not a number. `text` is a column as `text_column` gives it (stripped, "" when empty).

    ``whole``: the column counts (people, plants), so a mark (or a space) followed by groups of three digits can only
    group thousands: "30.000" and "30 000" residents are 30000, whatever the column's other values (read as a decimal, a population
    typed as text in a Vietnamese workbook was stored as 30, silently, and a count of "1.234.567" was refused).
    """
    if whole:
        grouped = text.str.match(_GROUPED_WHOLE).to_numpy(dtype=bool)
        if grouped.any():
            text = text.where(~grouped, text.str.replace(r"[.,\s]", "", regex=True))
    has_comma = bool(text.str.contains(",", regex=False).any())
    mark = decimal_mark(text) if has_comma else "."
    if not has_comma:  # plain decimals: the usual file pays one scan here, not five
        plain = text
    elif mark is None:
        single = text.str.match(rf"^{_PLAIN}[.,]\d+$")
        plain = text.where(~single, text.str.replace(",", ".", regex=False))
        mixed = text.str.match(r"^[+-]?\d{1,3}[.,]\d{3}$") & (
            text.str.match(_DECIMAL_ONLY[","]).any() & text.str.match(_DECIMAL_ONLY["."]).any()
        )
        plain = plain.where(~mixed, "?")
    else:
        group = "." if mark == "," else ","
        grouped = text.str.match(rf"^[+-]?\d{{1,3}}(?:{re.escape(group)}\d{{3}})+(?:{re.escape(mark)}\d+)?$")
        plain = text.where(~grouped, text.str.replace(group, "", regex=False))
        plain = plain.str.replace(mark, ".", regex=False) if mark == "," else plain
    values = _arrow_decimals(plain)
    if values is None:
        values = pd.to_numeric(plain, errors="coerce")
    bad = values.isna().to_numpy() & (text != "").to_numpy()
    bad |= ~np.isfinite(values.fillna(0).to_numpy())
    return values.where(~pd.Series(bad, index=values.index)), bad


def nulls_for_empty(text: pd.Series) -> pa.Array:
    """A text column as an Arrow string array in which an empty value is null."""
    values = pa.array(text, type=pa.large_string(), from_pandas=True)
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.large_string()), values)


def _arrow_decimals(text: pd.Series) -> pd.Series | None:
    """Plain decimals parsed by Arrow (30x faster than `pd.to_numeric`), or None when some value is not one.

    Arrow reads every value it accepts as `pd.to_numeric` does ("1e3", ".5", "+1.5", "inf"); a column with
    any other value goes the general way, so that its bad values are found and reported.
    """
    try:
        parsed = pc.cast(nulls_for_empty(text), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return pd.Series(parsed.to_numpy(zero_copy_only=False), index=text.index)


#: Header names accepted for the columns that name a commune, in both import contracts (keys as :func:`header_key`
#: writes them); see the README ("Header aliases").
UNIT_ALIASES: dict[str, str] = {
    **dict.fromkeys(("ma_xa", "ma_phuong", "ma_xa_phuong", "ma_don_vi", "ma_dvhc"), "commune_code"),
    **dict.fromkeys(("dia_chi", "dia_diem", "noi_xay_ra"), "address"),
    **dict.fromkeys(("xa", "phuong", "xa_phuong", "ten_xa", "ten_xa_phuong", "ward", "commune_name"), "commune"),
    **dict.fromkeys(("huyen", "quan", "quan_huyen", "ten_huyen"), "district"),
    **dict.fromkeys(("tinh", "tinh_thanh", "tinh_thanh_pho", "ten_tinh"), "province"),
}


def header_key(name: str) -> str:
    """A header name without accents, case or punctuation: "Số hiệu" → "so_hieu", "Kinh độ (°)" → "kinh_do",
    "Diện tích (m²)" → "dien_tich_m2" (compatibility forms such as ² read as the plain character)."""
    return plain_key(unicodedata.normalize("NFKC", name))


#: Header keys of a form's row-number column («STT», «Số TT»): numbers of the form's rows, no field of the contract.
ROW_NUMBER_KEYS = frozenset({"stt", "so_tt", "tt", "so_thu_tu"})
#: Units (header keys) a form writes after a count's name, «Dân số (người)», «Số cây (cây)»: they add nothing to the
#: field's name and are dropped to match it. An area's unit stays: «Diện tích (m²)» matches, «Diện tích (ha)» does not.
COUNT_UNITS = frozenset({"nguoi", "cay", "diem", "vu", "vu_viec", "doi_tuong", "so_nguoi"})
_TRAILING_UNIT = re.compile(r"^(?P<name>.*\S)\s*\((?P<unit>[^()]*)\)\s*$")


def field_of(column: str, aliases: dict[str, str], known: set[str]) -> str | None:
    """The contract field a header names (through `aliases`, or by its own name), its count unit aside."""
    key = header_key(column)
    target = aliases.get(key) or (key if key in known else None)
    unit = _TRAILING_UNIT.match(column)
    if target is None and unit and header_key(unit["unit"]) in COUNT_UNITS:
        return field_of(unit["name"], aliases, known)
    return target


def missing_columns(missing: Iterable[str], present: Iterable[str], labels: dict[str, str]) -> ContractError:
    """The refusal of a table that lacks required columns: each column by its Vietnamese name (a header the contract
    reads, as the user may write it), the ones read named likewise (a column the contract does not know, by the
    header the file gave it)."""
    named = ", ".join(missing)
    shown = dict.fromkeys(labels.get(c) or shown_header(c) for c in sorted(set(present) - set(READER_COLUMNS)))
    read = ", ".join(f"«{name}»" for name in shown)
    return ContractError(
        f"thiếu cột bắt buộc: {named}; các cột đọc được: {read or 'không có'}", "missing required columns"
    )


def canonical_columns(
    raw: pd.DataFrame, aliases: dict[str, str], names: Iterable[str], labels: dict[str, str] | None = None
) -> pd.DataFrame:
    """Rename columns given under an alias (Vietnamese or English, accents and case ignored) to contract names.

    `aliases` maps header keys (see `header_key`) to contract names; the contract names themselves are
    accepted as given, and a count's unit after its name («Dân số (người)») is passed over (`COUNT_UNITS`). Two
    columns meaning the same field are a file error, the field named by its Vietnamese label (`labels`) beside the
    file's own headers; one header given twice for a field, «tiêu đề có cột trùng tên» with that header. Columns named
    apart by the reader (`names_apart`) are matched by their header. A form's row-number column («STT») is dropped.
    A workbook's formulas without a stored result (`FORMULA_CELLS`) reject their record in the columns read only.
    """
    known = set(names)
    renames: dict[str, str] = {}
    numbering = [c for c in raw.columns if header_key(column_header(c)) in ROW_NUMBER_KEYS and c not in known]
    if numbering:
        raw = raw.drop(columns=numbering)
    for column in raw.columns:
        if column in READER_COLUMNS or column in known:
            continue
        header = column_header(column)
        target = header if header in known else field_of(header, aliases, known)
        if target is not None:
            renames[column] = target
    targets = [renames.get(c, c) for c in raw.columns]
    doubled = sorted({t for t in targets if targets.count(t) > 1})
    if doubled:
        given = {t: [column_header(c) for c in raw.columns if renames.get(c, c) == t] for t in doubled}
        twice = "; ".join(f"«{shown[0]}»" for shown in given.values() if len(set(shown)) == 1)
        meaning = "; ".join(
            f"«{(labels or {}).get(t, t)}» ← {', '.join(cs)}" for t, cs in given.items() if len(set(cs)) > 1
        )
        parts = ([f"tiêu đề có cột trùng tên: {twice}"] if twice else []) + (
            [f"nhiều cột cùng nghĩa: {meaning}"] if meaning else []
        )
        raise ContractError(f"{'; '.join(parts)}; hãy giữ một cột cho mỗi nghĩa", "several columns mean the same field")
    if FORMULA_CELLS in raw:
        raw = _formulas_read(raw, {c for c in raw.columns if renames.get(c, c) in known})
    return raw.rename(columns=renames) if renames else raw


def _formulas_read(raw: pd.DataFrame, read: set[str]) -> pd.DataFrame:
    """The table without its `FORMULA_CELLS`, a record with such a cell in a column of ``read`` marked malformed
    naming the cells (unless the reader marked it already); those in other columns are passed over, unread."""
    cells = [
        [ref for column, ref in pairs if column in read] if isinstance(pairs, tuple) else []
        for pairs in raw[FORMULA_CELLS].to_numpy(object)
    ]
    errors = raw["_error"].fillna("").astype(str) if "_error" in raw else pd.Series("", index=raw.index)
    marked = [
        error or (uncached_formulas_error(refs) if refs else "") for error, refs in zip(errors, cells, strict=True)
    ]
    return raw.drop(columns=[FORMULA_CELLS]).assign(_error=pd.Series(marked, index=raw.index, dtype=object))


def uncached_formulas_error(cells: list[str]) -> str:
    """The error of a record whose ``cells`` (read by the contract) are formulas without a stored result."""
    named = f"ô {cells[0]}" if len(cells) == 1 else f"các ô {', '.join(cells)}"
    return f"{named} là công thức chưa có kết quả: hãy mở tệp trong Excel và lưu lại"


#: What a totals row of a form says in its first cells («Tổng cộng», «Cộng:», «Toàn thành phố»), lower case, with and
#: without accents.
_TOTAL_LABELS = frozenset(
    text
    for label in ("tổng cộng", "cộng", "tổng", "tổng số", "toàn thành phố", "toàn tỉnh", "tổng cộng toàn thành phố")
    for text in (label, without_accents(label))
)
_TOTAL_VALUES = pa.array(sorted(_TOTAL_LABELS), type=pa.string())
#: A subtotal row's label (lower case): «Cộng quận Hồng Bàng», «Tổng cộng khu vực I», «Cộng mục II» — «cộng» then a
#: unit or a section, not any text: «Cộng tác viên báo …» opens a tip's description.
_SUBTOTAL = (
    r"^(?:tổng cộng|cộng|tong cong|cong)\s+(?:(?:quận|huyện|thị xã|thành phố|khu vực|mục|quan|huyen|thi xa|thanh pho"
    r"|khu vuc|muc)(?:\s|$)|[ivxl]+$)"
)
#: How many of a table's first columns may hold a totals row's label (merged over «STT» and the name, or in the name,
#: which a form may put after «STT», the year and the code).
_LABEL_COLUMNS = 4
#: A section's number in an «STT» cell: a Roman numeral or a capital letter («I», «II.», «A»), numbering a heading row
#: such as «I | Quận Hồng Bàng» above the communes (1, 2, 3 …) of a former district; its cells may hold the section's
#: subtotals. Records are numbered with digits.
_SECTION_NUMBER = r"^(?:[IVXL]+|[A-Z])[.)]?$"
#: The same heading written in one cell of a form without an «STT» column: «I. Quận Hồng Bàng», «B) Khu vực ngoại thành».
_SECTION_LABEL = r"^(?:[IVXL]+|[A-Z])[.)]\s+\S"


def _flags(mask: pa.Array) -> np.ndarray:
    """An Arrow boolean mask as NumPy's (a null, which no cell here gives, as False)."""
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)


def _matching(cells: pa.Array, pattern: str, could: pa.Array) -> np.ndarray:
    """Where `cells` match `pattern`, the regular expression run only if a cell `could` (a cheaper test passing every
    match): a regular expression costs 30–60 ms per million cells, the tests 3–10 ms, and a column of times, refs or
    coordinates has no candidate (measured)."""
    if not pc.any(could).as_py():
        return np.zeros(len(cells), dtype=bool)
    return _flags(pc.match_substring_regex(cells, pattern))


def pass_over_rows(raw: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """A form's rows that are no records, left out with a warning naming their lines: a totals row at the bottom
    («Tổng cộng», «Cộng» in one of its first cells) or a section's subtotal («Cộng quận Hồng Bàng»), a section heading
    (numbered «I», «II», «A» in the «STT» column, or «I. Quận Hồng Bàng» in one cell) and a row holding nothing but its
    number in an «STT» column (a form numbered ahead for rows not filled in). Each had been refused with two or three
    reasons (no year, no commune …) — a section heading of subtotals once per former district."""
    columns = [c for c in raw.columns if c not in READER_COLUMNS]
    # In Arrow's kernels, on the path of every incident import: 0.21 s per million rows of four label columns (0.08 s
    # for three before sections and subtotals were looked for; pandas' string methods took 1.8 s), measured.
    totals = np.zeros(len(raw), dtype=bool)
    sections = np.zeros(len(raw), dtype=bool)
    for column in columns[:_LABEL_COLUMNS]:
        cell = pa.array(text_column(raw, column), type=pa.string())
        label = pc.utf8_rtrim(pc.utf8_lower(cell), characters=":. ")
        totals |= _flags(pc.is_in(label, value_set=_TOTAL_VALUES))
        counted = pc.or_(pc.starts_with(label, "cộng"), pc.starts_with(label, "cong"))
        totals |= _matching(label, _SUBTOTAL, pc.or_(counted, pc.match_substring(label, "tổng cộng")))
        start = pc.utf8_slice_codeunits(cell, 0, 6)
        sections |= _matching(
            cell, _SECTION_LABEL, pc.or_(pc.match_substring(start, ". "), pc.match_substring(start, ") "))
        )
    numbered = [c for c in columns if header_key(column_header(c)) in ROW_NUMBER_KEYS]
    for column in numbered:
        number = pa.array(text_column(raw, column), type=pa.string())
        sections |= _matching(number, _SECTION_NUMBER, pc.less_equal(pc.utf8_length(number), 5))
    sections &= ~totals
    blank = np.zeros(len(raw), dtype=bool)
    if numbered:
        blank = np.ones(len(raw), dtype=bool)
        for column in columns:
            if column not in numbered:
                blank &= (text_column(raw, column) == "").to_numpy(dtype=bool)
    lines = raw["line"].to_numpy()
    warnings = [
        f"bỏ qua {int(mask.sum())} {what}: dòng {listed_lines(lines[mask])}"
        for mask, what in (
            (totals, "dòng tổng cộng"),
            (sections, "dòng tiêu đề mục («I.», «A.» …)"),
            (blank & ~totals & ~sections, "dòng chỉ có số thứ tự, không có số liệu"),
        )
        if mask.any()
    ]
    dropped = totals | sections | blank
    return (raw[~dropped] if dropped.any() else raw), warnings


#: What a form writes in a figure's cell for a figure it does not have: read as unknown (blank), never as 0.
UNKNOWN_MARKS = frozenset(
    {"-", "–", "—", "n/a", "na", "#n/a", "...", "…", "không rõ", "chưa rõ", "khong ro", "chua ro"}
    | {f"{word} số liệu" for word in ("không có", "chưa có", "không")}
    | {f"{word} so lieu" for word in ("khong co", "chua co", "khong")}
)


def unknown_marks(text: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """A figure column (as `text_column` gives it) with «-», «N/A» and the like (`UNKNOWN_MARKS`) blanked, and where.

    In Vietnamese statistical forms «-» often means "nothing happened" (the statistics office's convention), but also
    "not collected": read as 0 it could make a commune drug-free on a figure nobody gave. Unknown is the safe reading —
    the commune is then reported with missing data — and the import's warning says how to write a zero."""
    marked = text.str.lower().isin(UNKNOWN_MARKS).to_numpy(dtype=bool)
    return (text.mask(marked, "") if marked.any() else text), marked


def unknown_marks_warning(lines: np.ndarray) -> str:
    """The warning for the rows where a figure was written «-» or «N/A»."""
    return (
        f"{len(lines)} dòng có ô số liệu ghi «-» hoặc «N/A» (dòng {listed_lines(lines)}): đọc là chưa biết, không phải 0;"
        " nếu là 0 hãy ghi số 0"
    )


def compose_address(raw: pd.DataFrame) -> pd.Series:
    """The row's address: the `address` column followed by the commune, district and province names, if given.

    "12 Lê Lợi" + "Phường Quán Toan" + "Quận Hồng Bàng" + "Hải Phòng" → "12 Lê Lợi, Phường Quán Toan, …".
    """
    names = [name for name in ("address", "commune", "district", "province") if name in raw]
    if len(names) <= 1:  # nothing to join (the usual file has no such column at all)
        return text_column(raw, names[0] if names else "address")
    parts = [text_column(raw, name) for name in names]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.where(part == "", joined.where(joined == "", joined + ", ") + part)
    return joined


def reject_structural(raw: pd.DataFrame, rejects: Rejects) -> None:
    """Reject rows the file reader already found malformed (column `_error`)."""
    if "_error" in raw:
        err = raw["_error"].fillna("").astype(str)
        rejects.add((err != "").to_numpy(), WHOLE_ROW, err)
        rejects.malformed = (err != "").to_numpy()


def reject_unstorable(raw: pd.DataFrame, rejects: Rejects, columns: tuple[str, ...]) -> None:
    """Reject rows whose free-text ``columns`` hold what cannot be stored: a NUL character (PostgreSQL refuses it)
    or more than MAX_FIELD_CHARS characters. Only that error is reported for such a row.

    Vectorised string methods: ~60 ms per million values of pandas' Arrow-backed strings (the fast CSV path and
    GeoJSON), ~0.4 s for Python objects (the line-tracking CSV path), measured.
    """
    bad = np.zeros(len(raw), dtype=bool)
    for name in columns:
        if name not in raw:
            continue
        values = raw[name].fillna("").astype(str)
        nul = values.str.contains("\x00", regex=False).to_numpy(dtype=bool)
        rejects.add(nul, name, "chứa ký tự NUL (byte 0), không lưu được (contains a NUL character)")
        long = (values.str.len() > MAX_FIELD_CHARS).to_numpy(dtype=bool)
        rejects.add(
            long & ~nul,
            name,
            f"giá trị dài quá {MAX_FIELD_CHARS:,} ký tự (value longer than {MAX_FIELD_CHARS:,} characters)",
        )
        bad |= nul | long
    rejects.malformed = rejects.malformed | bad
