"""Read tabular import files (CSV/text, Excel, GeoJSON points) into raw string tables with their source lines.

The reading layer is three steps, each replaceable on its own:

1. bytes → UTF-8 bytes (`text_codec`, `transcode`): UTF-8 with or without BOM passes through untouched; UTF-16
   ("Unicode text" from Excel) and the Windows code pages of Vietnamese offices (1258, 1252) are
   decoded block by block, normalised to NFC and re-encoded into a temporary file. The decision is made once per
   file, never per row.
2. UTF-8 bytes → table of strings with the physical line of each record (`sniff_delimiter`, then
   Arrow's reader, or the line-tracking reader for odd files). Excel sheets go straight to step 2's
   output, with the worksheet row number as the line.
3. The contract modules (models/domain/*_contract.py) validate the strings.

Every record keeps the line (CSV, Excel row) or feature number (GeoJSON) it came from, so that each
reject can be reported where the user will find it. Malformed records are marked in `_error`, never dropped.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import tempfile
import unicodedata
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import charset_normalizer
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from gis.io import json_stream
from models.domain.row_checks import FORMULA_CELLS, POINT_COLUMNS, ContractError, header_text, names_apart
from models.errors import InvalidInput

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

_NOT_UTF8 = "\ufffd"
#: The error of a record holding text that is not UTF-8 (broken bytes; in JSON, an escaped lone surrogate «\\ud800»).
_NOT_UTF8_ROW = "dòng có ký tự hỏng, không đọc được (không phải bảng mã UTF-8)"
#: A lone surrogate: JSON may escape one, no UTF-8 text (nor Arrow, nor PostgreSQL) holds one.
_SURROGATE = re.compile("[\ud800-\udfff]")
#: Single-byte code pages tried, in order of preference, when a file is not UTF-8 or UTF-16.
LEGACY_ENCODINGS = ("cp1258", "cp1252")
#: How a refusal of a file's encoding ends: a page has no way to name one, the command line has (as «Trang tính»'s
#: refusal says «--sheet»).
_NAME_ENCODING = "(dòng lệnh: hoặc ghi bảng mã bằng --encoding)"
#: Every encoding the reader recognises, as named in messages.
ENCODINGS_TRIED = ("UTF-8", "UTF-16", "Windows-1258", "Windows-1252")
#: Field separators recognised in text files: Excel writes ';' in a Vietnamese locale and tabs in "Unicode text".
DELIMITERS = (",", ";", "\t")
#: Two candidate code pages whose "chaos" (charset-normalizer's mess ratio) differs by less than this, while
#: decoding to different text, are too close to choose between.
AMBIGUOUS_CHAOS = 0.01
_SNIFF_LINES = 50
#: Rows of a table (text or worksheet) among which its header is looked for (`header_position`).
HEADER_SCAN_ROWS = 30
TEXT_SUFFIXES = {".csv", ".txt", ".tsv", ".tab"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
GEOJSON_SUFFIXES = {".geojson", ".json"}
#: The csv module refuses fields over 128 KiB and stops reading there; every field is read whole instead, and a row
#: with an over-long value is rejected by the contract (models.domain.row_checks).
csv.field_size_limit(2**31 - 1)
#: Bytes of a file in a Windows code page from which charset-normalizer tells the code page (it holds what it is given
#: several times over): every office file whole.
ENCODING_SAMPLE = 16 << 20
#: Records read, validated and staged at a time: an import holds one chunk, whatever the file's size. Reading,
#: validating and encoding a million rows peaked at 338 MB in chunks of 40,000 (1 MB blocks, Arrow's unused
#: memory released after each), 585 MB in chunks of 200,000 (4 MB blocks), in the same time (measured).
CHUNK_ROWS = 40_000
#: Bytes Arrow's streaming reader parses at a time (its batches; a chunk gathers several).
ARROW_BLOCK = 1 << 20


class FileFormatError(InvalidInput):
    """The file cannot be read at all (unknown format, undecidable encoding, not a table, invalid JSON ...)."""


def read_table(path: Path, *, sheet: str | None = None, encoding: str | None = None) -> pd.DataFrame:
    """Read a text table, an Excel sheet or GeoJSON points into strings plus `line` (and `_error`)."""
    return concat_chunks(read_table_chunks(path, sheet=sheet, encoding=encoding))


def read_table_chunks(
    path: Path, *, sheet: str | None = None, encoding: str | None = None, chunk_rows: int = CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """`read_table` in chunks of at most `chunk_rows` records (at least one chunk, maybe empty, with the header's
    columns), so that a caller holds one chunk at a time."""
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return read_csv_chunks(path, encoding=encoding, chunk_rows=chunk_rows)
    if suffix in EXCEL_SUFFIXES:
        return read_excel_chunks(path, sheet=sheet, chunk_rows=chunk_rows)
    if suffix in GEOJSON_SUFFIXES:
        return read_geojson_chunks(path, chunk_rows=chunk_rows)
    hint = save_as_hint(suffix)
    raise FileFormatError(
        f"định dạng tệp {suffix or 'không có đuôi'} không hỗ trợ{hint}: chỉ nhận tệp CSV hoặc văn bản (.csv, .txt),"
        " Excel (.xlsx) hoặc GeoJSON (.geojson)",
        f"unsupported file type {suffix!r}: use .csv, .txt, .xlsx or .geojson",
    )


def save_as_hint(suffix: str) -> str:
    """What to do with a file of a format no reader takes that Excel can save as one (an old workbook, .xls), to follow
    its refusal; '' for any other."""
    return " (hãy lưu lại dưới dạng .xlsx)" if suffix.lower() == ".xls" else ""


# ------------------------------------------------------------------------------------------------ encoding
def text_codec(open_stream: Callable[[], BinaryIO], encoding: str | None = None) -> tuple[str | None, str]:
    """The codec a text file is read with, decided once per file, and the encoding's name in messages.

    None: UTF-8 as it is — a plain UTF-8 file, or one that is mostly valid UTF-8 with a few broken bytes, so that only
    its broken rows are rejected. Otherwise UTF-16 (a BOM, or NUL bytes filling every other byte of the start),
    UTF-8 to normalise to NFC, or the Windows code page charset-normalizer finds least chaotic (its first
    ``ENCODING_SAMPLE`` bytes decide: every office file whole). ``open_stream`` opens the file from its start (each
    pass closes it), so that a file of any size is read in blocks.
    """
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            raise FileFormatError(
                f"không đọc được tệp bằng bảng mã {encoding}", f"cannot decode the file as {encoding}: {exc}"
            ) from exc
        return encoding, encoding
    with open_stream() as stream:
        head = stream.read(4096)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "UTF-16"
    if not head.startswith(codecs.BOM_UTF8) and (utf16 := _utf16_without_bom(head)) is not None:
        return utf16, "UTF-16"
    valid, broken, read = _utf8_damage(open_stream())
    if valid:
        return "utf-8-sig", "UTF-8"  # normalised to NFC as it streams
    if read > broken:  # mostly UTF-8: only some rows are broken
        return None, "UTF-8"
    with open_stream() as stream:
        codec = _legacy_codec(stream.read(ENCODING_SAMPLE))
    return codec, _display(codec)


def _utf8_damage(stream: BinaryIO, block: int = 1 << 20) -> tuple[bool, int, int]:
    """A stream read as UTF-8 (closed afterwards): whether it all decodes, the characters that do not (each
    replaced by U+FFFD) and the non-ASCII characters that do."""
    strict = codecs.getincrementaldecoder("utf-8")()
    loose = codecs.getincrementaldecoder("utf-8")(errors="replace")
    valid, broken, read = True, 0, 0
    with stream:
        while True:
            chunk = stream.read(block)
            if valid:
                try:
                    strict.decode(chunk, final=not chunk)
                except UnicodeDecodeError:
                    valid = False
            text = loose.decode(chunk, final=not chunk)
            bad = text.count(_NOT_UTF8)
            broken += bad
            read += len(text) - len(text.encode("ascii", errors="ignore")) - bad
            if not chunk:
                return valid, broken, read


def transcode(source: BinaryIO, target: BinaryIO, codec: str, name: str, block: int = 1 << 20) -> None:
    """Decode ``source`` with ``codec`` block by block and write it to ``target`` as UTF-8 in NFC without BOM: memory
    holds one block whatever the file's size. A character that cannot be decoded refuses the file."""
    decoder = codecs.getincrementaldecoder(codec)()
    held, start = "", True
    while True:
        chunk = source.read(block)
        try:
            text = held + decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            raise FileFormatError(
                f"không đọc được tệp bằng bảng mã {name}", f"cannot decode the file as {name}: {exc}"
            ) from exc
        if start and text:
            text, start = text.removeprefix("\ufeff"), False
        cut = _nfc_cut(text) if chunk else len(text)
        text, held = text[:cut], text[cut:]
        target.write(unicodedata.normalize("NFC", text).encode("utf-8"))
        if not chunk:
            return


def _nfc_cut(text: str) -> int:
    """Where ``text`` may be split so that NFC of the two parts is NFC of the whole: before its last character that
    neither is a combining mark nor composes with the one before it (a letter and its accents stay together)."""
    cut = len(text) - 1
    while cut > 0 and (
        unicodedata.combining(text[cut]) or len(unicodedata.normalize("NFC", text[cut - 1 : cut + 1])) < 2
    ):
        cut -= 1
    return max(cut, 0)


def _utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le' / 'utf-16-be' when NUL bytes fill every other byte of the start (ASCII text in UTF-16)."""
    head = data[:4096]
    if len(head) < 4 or head.count(0) < len(head) // 4:
        return None
    odd, even = head[1::2].count(0), head[0::2].count(0)
    if odd > 0.9 * (len(head) // 2):
        return "utf-16-le"
    if even > 0.9 * (len(head) // 2):
        return "utf-16-be"
    return None


def _legacy_codec(data: bytes) -> str:
    """The Windows code page charset-normalizer finds least chaotic, or refuse when two are as likely — unless the
    text holds Vietnamese tone marks as Windows-1258 writes them (`_vietnamese_tones`): then it is Windows-1258."""
    matches = sorted(charset_normalizer.from_bytes(data, cp_isolation=list(LEGACY_ENCODINGS)), key=lambda m: m.chaos)
    tried = ", ".join(ENCODINGS_TRIED)
    if not matches:
        raise FileFormatError(
            f"không xác định được bảng mã của tệp (đã thử {tried}); hãy lưu tệp dưới dạng CSV UTF-8 {_NAME_ENCODING}",
            f"unknown encoding; tried {tried}",
        )
    best = matches[0]
    texts = {m.encoding: unicodedata.normalize("NFC", str(m)) for m in matches}
    rivals = [
        m.encoding
        for m in matches[1:]
        if m.chaos - best.chaos < AMBIGUOUS_CHAOS and texts[m.encoding] != texts[best.encoding]
    ]
    if rivals and "cp1258" in [best.encoding, *rivals] and _vietnamese_tones(data):
        return "cp1258"
    if rivals:
        names = ", ".join(_display(e) for e in [best.encoding, *rivals])
        raise FileFormatError(
            f"bảng mã của tệp không rõ ràng: đọc được bằng {names} nhưng cho chữ khác nhau (đã thử {tried});"
            f" hãy lưu tệp dưới dạng CSV UTF-8 {_NAME_ENCODING}",
            f"ambiguous encoding between {names}",
        )
    return best.encoding


#: The five tone marks Windows-1258 writes as combining characters after their letter (bytes CC, EC, D2, DE, F2),
#: which Windows-1252 reads as «Ì», «ì», «Ò», «Þ», «ò».
_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"
_TONE_AFTER_LETTER = re.compile(rf"[^\W\d_][{_TONE_MARKS}]")
_TONE_ELSEWHERE = re.compile(rf"(?:^|[\W\d_])[{_TONE_MARKS}]")


def _vietnamese_tones(data: bytes) -> bool:
    """Whether the bytes read as Windows-1258 hold tone marks, each right after a letter: Vietnamese, which Windows-1252
    reads as no language's text («Tàng» as «TaÌng»). On a file of a few words charset-normalizer finds the two code
    pages equally likely."""
    text = data.decode("cp1258", errors="replace")
    return bool(_TONE_AFTER_LETTER.search(text)) and not _TONE_ELSEWHERE.search(text)


def _display(codec: str) -> str:
    return {"cp1258": "Windows-1258", "cp1252": "Windows-1252"}.get(codec, codec)


# ------------------------------------------------------------------------------------------------ text tables
def sniff_delimiter(data: bytes) -> str:
    """The separator among `DELIMITERS` that splits the header into most fields and keeps the next lines as wide."""
    lines = data[: 1 << 16].decode("utf-8", errors="replace").splitlines()[:_SNIFF_LINES]
    best, best_score = ",", (0, 0, 0)
    for delimiter in DELIMITERS:
        rows = [r for r in csv.reader(lines, delimiter=delimiter) if r]
        if not rows:
            continue
        width = len(rows[0])
        score = (int(width > 1), sum(len(r) == width for r in rows[1:]), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def read_csv_lines(path: Path, encoding: str | None = None) -> pd.DataFrame:
    """A delimited text file in any recognised encoding, separator sniffed; header row required (all chunks)."""
    return concat_chunks(read_csv_chunks(path, encoding))


def read_csv_chunks(path: Path, encoding: str | None = None, chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """A delimited text file as string tables of at most `chunk_rows` records, each with its lines.

    A plain UTF-8 file (NFC, one record per physical line) streams from disk through Arrow's reader: memory
    holds one chunk whatever the file's size. Records where that no longer holds (a line break inside quotes,
    a broken byte, a wrong number of fields) are read on by the line-tracking reader from where Arrow stopped.
    A file in another encoding (or UTF-8 not in NFC) is first transcoded block by block into a temporary UTF-8 file
    (:func:`transcode`), then read the same way: memory holds one block and one chunk whatever the file's size.
    """
    scan = scan_text(path.open("rb")) if encoding is None else None
    codec, name = (None, "UTF-8") if scan is not None and scan.utf8 else text_codec(lambda: path.open("rb"), encoding)
    if codec is None:  # UTF-8 as it is (a broken row is rejected with its line)
        yield from _csv_chunks(_file_source(path), scan or scan_text(path.open("rb")), chunk_rows)
        return
    with tempfile.TemporaryDirectory(prefix="diaban-utf8-") as folder:
        utf8 = Path(folder) / path.name
        with path.open("rb") as source, utf8.open("wb") as target:
            transcode(source, target, codec, name)
        yield from _csv_chunks(_file_source(utf8), scan_text(utf8.open("rb")), chunk_rows)


def _file_source(path: Path) -> _Source:
    return _Source(lambda: pa.OSFile(str(path)), lambda: path.open("rb"))


@dataclass(frozen=True)
class _Source:
    """Two ways to open the same bytes: natively for Arrow (no Python in its reads), as a Python stream."""

    arrow: Callable[[], pa.NativeFile]
    binary: Callable[[], BinaryIO]


@dataclass(frozen=True)
class TextScan:
    """What one pass over a text file's bytes found (before any table is read)."""

    #: Valid UTF-8 in NFC throughout (a BOM aside): readable as it is.
    utf8: bool
    #: Each physical line holds one record as far as bytes tell: no blank line, no line ended by a lone CR.
    one_record_per_line: bool
    #: The first bytes after any BOM, for the separator and the header.
    head: bytes
    #: A double quote somewhere: a quoted value may hold a line break.
    quoted: bool


def scan_text(stream: BinaryIO, block: int = 1 << 20) -> TextScan:
    """One pass over a text stream in blocks (closed afterwards): encoding and line structure."""
    with stream:
        decoder = codecs.getincrementaldecoder("utf-8")()
        head, utf8, single, quoted, tail, last = b"", True, True, False, b"", ""
        while chunk := stream.read(block):
            if not head:
                chunk = chunk.removeprefix(codecs.BOM_UTF8)
                head = chunk[: 1 << 16]
            if utf8 and chunk.isascii():
                last = chunk[-1:].decode("ascii")
            elif utf8:
                try:
                    decoded = decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
                else:  # with the block's last character before: a letter and its accent may straddle two blocks
                    utf8, last = unicodedata.is_normalized("NFC", last + decoded), decoded[-1:]
            joined = tail + chunk  # a blank line or CR LF may straddle two blocks
            if (
                b"\n\n" in joined
                or b"\n\r\n" in joined
                or joined.count(b"\r") != joined.count(b"\r\n") + joined.endswith(b"\r")
            ):
                single = False
            quoted = quoted or b'"' in chunk
            tail = joined[-2:]
        if tail.endswith(b"\r"):
            single = False
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:  # the file ends inside a character
            utf8 = False
    return TextScan(utf8=utf8, one_record_per_line=single, head=head, quoted=quoted)


def _header_names(header: list[str]) -> list[str]:
    """Column names as compared (`header_text`: NFC, trimmed, lower case), without the empty cells after the last one: Excel writes
    a separator, or keeps a cell, for every column once used or formatted."""
    names = [header_text(h) for h in header]
    while names and not names[-1]:
        names.pop()
    return names


def header_position(rows: list[list[str]]) -> int | None:
    """Which of a table's first rows (``HEADER_SCAN_ROWS`` of them) is its header: the first with two or more filled
    cells that fill more than half the widest of these rows. Offices put a title block above the table — a heading,
    blank rows, the two-cell heading of an official document («CÔNG AN THÀNH PHỐ …» | «CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT
    NAM») — in workbooks and in the CSV Excel saves from them; these rows are passed over."""
    filled = [sum(bool(cell.strip()) for cell in row) for row in rows]
    widest = max(filled, default=0)
    return next((i for i, count in enumerate(filled) if count >= 2 and 2 * count > widest), None)


@dataclass(frozen=True)
class HeaderLayout:
    """Where a table's header lies among its first rows and the column names it gives."""

    #: Column names as compared (`_header_names`): a group cell's name joined to each of its sub-headers, a unit
    #: written under a column in parentheses after its name («số người nghiện có hồ sơ (người)»).
    names: list[str]
    #: Index, among the rows scanned, of the first row below the header (its sub-header, units and numbering rows).
    body: int


#: What to do with a header the reader cannot read.
ONE_ROW_HEADER = "hãy gộp tiêu đề thành một dòng, mỗi cột một tên (ví dụ «Số người nghiện có hồ sơ»)"
#: A cell of a numbering row under a form's header: «1», «(2)», «A», «(4)=(2)+(3)».
_COLUMN_NUMBER = re.compile(r"^\(?(\d{1,3}|[A-Za-z])\)?(?:\s*=.*)?$")
#: A cell of a units row: «(người)», «(m²)», «ĐVT: cây».
_UNIT_CELL = re.compile(r"^(?:\((?P<paren>[^()]{1,20})\)|(?:đvt|ĐVT|Đvt)\s*:\s*(?P<named>.{1,20}))$")


def header_layout(rows: list[list[str]]) -> HeaderLayout | None:
    """The header of a table from its first rows (``HEADER_SCAN_ROWS``), as statistical forms (biểu mẫu) lay it out:
    its row (`header_position`), then, when present, a sub-header row under group cells merged across columns («Số
    người nghiện» over «Có hồ sơ» | «Không hồ sơ»), a units row («(người)», «(m²)») and a numbering row («1 2 3 …»,
    «A B 1 2 …»). A group's name is joined to each of its sub-headers; the numbering row is passed over. None: no
    header among these rows."""
    at = header_position(rows)
    if at is None:
        return None
    names, body = list(rows[at]), at + 1
    if body < len(rows) and (joined := _joined_subheaders(names, rows[body])) is not None:
        if body + 1 < len(rows) and _joined_subheaders(names, rows[body + 1]) is not None:
            raise FileFormatError(
                f"tiêu đề có nhiều hơn hai dòng (dòng {at + 1} đến {body + 2}); {ONE_ROW_HEADER}",
                "header of more than two rows",
            )
        names, body = joined, body + 1
    units = numbering = False
    while body < len(rows) and not (units and numbering):
        row = [cell.strip() for cell in rows[body]]
        if not numbering and _is_numbering(row):  # first: «(1)» would read as a unit
            numbering = True
        elif not units and any(row) and all(not c or _UNIT_CELL.match(c) for c in row):
            names = [_with_unit(name, unit) for name, unit in itertools.zip_longest(names, row, fillvalue="")]
            units = True
        else:
            break
        body += 1
    return HeaderLayout(_header_names(names), body)


def _joined_subheaders(header: list[str], below: list[str]) -> list[str] | None:
    """The header's names with its groups' sub-headers joined, when ``below`` is a sub-header row: text cells only,
    each under a group (a named cell followed by blank ones, as a merged cell reads) and none under a column of its own
    (merged down over both rows, it leaves the cell below blank); else None (``below`` is the first record)."""
    width = max(len(header), len(below))
    top = [c.strip() for c in header] + [""] * (width - len(header))
    sub = [c.strip() for c in below] + [""] * (width - len(below))
    group_of: list[int | None] = []
    start: int | None = None
    for i, name in enumerate(top):
        if name:
            start = i
        group_of.append(start)
    grouped = {i for i in range(width) if group_of[i] is not None and group_of.count(group_of[i]) > 1}
    filled = [i for i in range(width) if sub[i]]
    if not filled or not set(filled) <= grouped or any(_COLUMN_NUMBER.match(sub[i]) for i in filled):
        return None
    return [
        f"{top[group]} {sub[i]}".strip() if (group := group_of[i]) is not None and i in grouped else top[i]
        for i in range(width)
    ]


def _with_unit(name: str, cell: str) -> str:
    """A column's name with the unit written under it: «Dân số» + «(người)» → «Dân số (người)»."""
    found = _UNIT_CELL.match(cell)
    if not found or not name.strip():
        return name
    return f"{name} ({(found['paren'] or found['named']).strip()})"


def _is_numbering(row: list[str]) -> bool:
    """A form's numbering row: two or more cells, each a column number or letter, the numbers counting up by one."""
    filled = [c for c in row if c]
    if len(filled) < 2 or not all(_COLUMN_NUMBER.match(c) for c in filled):
        return False
    numbers = [int(m[1]) for c in filled if (m := _COLUMN_NUMBER.match(c)) and m[1].isdigit()]
    return all(b == a + 1 for a, b in itertools.pairwise(numbers))


def _values_beyond(cells: list[str], width: int) -> str:
    """The error of a record holding values after the header's last column ('' when those cells are empty)."""
    extra = [c for c in cells[width:] if c.strip()]
    return f"có giá trị ngoài các cột tiêu đề: «{'», «'.join(extra)}»" if extra else ""


def _csv_chunks(source: _Source, scan: TextScan, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Chunks of a UTF-8 text table: Arrow's streaming reader while it keeps line numbers true, then the
    line-tracking reader from the first record Arrow did not deliver."""
    delimiter = sniff_delimiter(scan.head)
    delivered, finished = 0, False
    if scan.one_record_per_line:
        delivered, finished = yield from _arrow_chunks(source.arrow(), scan, delimiter, chunk_rows)
    if not finished:
        yield from _tracking_chunks(source.binary(), delimiter, chunk_rows, skip=delivered)


def _arrow_chunks(
    source: pa.NativeFile, scan: TextScan, delimiter: str, chunk_rows: int
) -> Generator[pd.DataFrame, None, tuple[int, bool]]:
    """Arrow's streaming reader over a file of one record per physical line: line = record number + 1.

    Returns (records delivered, whether the whole file was). It stops before a batch holding a line break
    inside a value (lines would drift) or that Arrow refuses (a wrong number of fields, a broken byte).
    """
    try:
        header = next(csv.reader([scan.head.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")], delimiter=delimiter))
    except (UnicodeDecodeError, StopIteration):
        return 0, False
    names = _header_names(header)
    top = [
        r
        for r in csv.reader(
            scan.head.decode("utf-8", errors="replace").splitlines()[:HEADER_SCAN_ROWS], delimiter=delimiter
        )
        if r
    ]
    layout = header_layout(top)
    if len(names) != len(header) or names_apart(names) != names or layout is None:
        return 0, False
    if layout.body != 1:  # a title above the header, or a header of several rows
        return 0, False
    delivered, pending, finished = 0, [], False
    with source:
        try:
            reader = pa_csv.open_csv(
                source,
                read_options=pa_csv.ReadOptions(block_size=ARROW_BLOCK),
                parse_options=pa_csv.ParseOptions(delimiter=delimiter, ignore_empty_lines=False),
                convert_options=pa_csv.ConvertOptions(
                    column_types={h: pa.string() for h in header},
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
            for batch in reader:
                # Checked only when a value can be quoted: the check costs 0.5 s per million rows.
                if scan.quoted and any(_holds_line_break(column) for column in batch.columns):
                    break
                pending.append(batch)
                if sum(b.num_rows for b in pending) >= chunk_rows:
                    yield _arrow_frame(pa.Table.from_batches(pending), names, delivered)
                    delivered += sum(b.num_rows for b in pending)
                    pending = []
            else:
                finished = True
                if not pending and not delivered:  # a header alone: an empty table, columns named
                    pending_table = reader.schema.empty_table()
                    yield _arrow_frame(pending_table, names, 0)
        except pa.ArrowInvalid:
            pass
        if pending:
            yield _arrow_frame(pa.Table.from_batches(pending), names, delivered)
            delivered += sum(b.num_rows for b in pending)
    return delivered, finished


def _holds_line_break(column: pa.Array) -> bool:
    """A value with a line break (quoted): Arrow counts it as one line, the file holds two."""
    return any(pc.any(pc.match_substring(column, end)).as_py() for end in ("\n", "\r"))


def _arrow_frame(table: pa.Table, names: list[str], before: int) -> pd.DataFrame:
    """Arrow's strings as a table numbered from line `before` + 2 (after the header), without the records of
    separators or spaces alone, as the line-tracking reader passes them over (`_numbered_records`)."""
    lines = np.arange(before + 2, before + 2 + table.num_rows, dtype=np.int64)
    blank = _blank_records(table)
    if blank is not None:
        table, lines = table.filter(pc.invert(blank)), lines[~blank.to_numpy(zero_copy_only=False)]
    frame = table.to_pandas()
    frame.columns = names
    frame["line"] = lines
    frame["_error"] = ""
    return frame


def _blank_records(table: pa.Table) -> pa.Array | None:
    """Which records hold nothing but separators and spaces (the «;;;;;» rows Excel writes below a table, reported as
    rows of empty values when read by Arrow), or None when none does: the usual chunk, whose first column has a value in
    every record, pays for that column alone."""
    blank = None
    for column in table.columns:
        empty = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(column)), 0)
        blank = empty if blank is None else pc.and_(blank, empty)
        if not pc.any(blank).as_py():
            return None
    return blank


def _tracking_chunks(source: BinaryIO, delimiter: str, chunk_rows: int, skip: int = 0) -> Iterator[pd.DataFrame]:
    """The csv module over UTF-8 text (broken bytes marked), tracking the physical line where each record
    starts; the first `skip` records (delivered already) are passed over."""
    with io.TextIOWrapper(source, encoding="utf-8-sig", errors="replace", newline="") as text:
        reader = csv.reader(text, delimiter=delimiter)
        numbered = _numbered_records(reader)
        first = list(itertools.islice(numbered, HEADER_SCAN_ROWS))
        if not first:
            raise FileFormatError("tệp rỗng", "empty file")
        layout = header_layout([record for _, record in first])
        header, body = (layout.names, layout.body) if layout else (_header_names(first[0][1]), 1)
        records = _checked_records(itertools.chain(first[body:], numbered), len(header))
        for _ in itertools.islice(records, skip):
            pass
        while True:
            batch = list(itertools.islice(records, chunk_rows))
            if batch or not skip:
                yield _frame_from_records(header, batch)
            if len(batch) < chunk_rows:
                return
            skip = 1  # records were delivered: no empty chunk at the end


def concat_chunks(chunks: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """The chunks of one table as one frame (their lines stay as read)."""
    frames = list(chunks)
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _numbered_records(reader):  # noqa: ANN001, ANN202 - a csv reader; yields (line, record)
    """The records holding a value, each with the physical line it starts on (blank lines and rows of separators
    alone, which Excel writes below a table, are passed over)."""
    last = reader.line_num
    for record in reader:
        start, last = last + 1, reader.line_num
        if any(value.strip() for value in record):
            yield start, record


def _checked_records(numbered, width: int):  # noqa: ANN001, ANN202 - (line, record) pairs; yields (line, record, error)
    """Records fitted to the header's `width`, each with its error: too few fields, values after the header's last
    column (empty cells there are Excel's and are dropped), broken bytes."""
    for start, record in numbered:
        error = _values_beyond(record, width)
        if len(record) < width:
            error = f"sai số cột: cần {width}, có {len(record)}"
        if any(_NOT_UTF8 in value for value in record):
            error = _NOT_UTF8_ROW
        yield start, (record + [""] * width)[:width], error


def _frame_from_records(header: list[str], records) -> pd.DataFrame:  # noqa: ANN001 - iterable of (line, row, error)
    """A string table with `line` and `_error` from (line, values, error) records."""
    if not header or not any(header):
        raise FileFormatError("tệp không có dòng tiêu đề", "no header row")
    # A header given twice, or named as a reader column, is named apart: the contract ignores it or refuses it by name.
    header = names_apart(header)
    lines: list[int] = []
    rows: list[list[str]] = []
    errors: list[str] = []
    for line, record, error in records:
        lines.append(line)
        rows.append(record)
        errors.append(error)
    frame = pd.DataFrame(rows, columns=header, dtype=object) if rows else pd.DataFrame(columns=header, dtype=object)
    frame["line"] = pd.Series(lines, dtype="int64")
    frame["_error"] = errors
    return frame


# ------------------------------------------------------------------------------------------------ Excel
def excel_cell_text(value: object) -> str:
    """A cell as the text a CSV export of it would hold: dates in ISO 8601, whole numbers without '.0'."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.isoformat(sep="T")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return unicodedata.normalize("NFC", str(value)).strip()


def read_excel_rows(path: Path, sheet: str | None = None) -> pd.DataFrame:
    """The first visible worksheet (or `sheet`) of a workbook; `line` is the worksheet row number (all chunks)."""
    return concat_chunks(read_excel_chunks(path, sheet))


def read_excel_chunks(path: Path, sheet: str | None = None, chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """The first visible worksheet (or `sheet`) of a workbook in chunks (streamed: openpyxl's read-only mode); `line`
    is the worksheet row number.

    The header is found by `header_position`, so that a title block above the table (a heading in one merged cell,
    blank rows, an official document's two-cell heading) is passed over as people lay sheets out.
    """
    from openpyxl import load_workbook  # imported on use: a second or more for every CLI start otherwise

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, XML errors … for a damaged or foreign file
        raise FileFormatError("không đọc được tệp Excel (.xlsx)", f"cannot read the workbook: {exc}") from exc
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise FileFormatError(
                f"không có trang tính «{sheet}»; các trang: {', '.join(f'«{name}»' for name in book.sheetnames)}",
                "no such sheet",
            )
        worksheet = book[sheet] if sheet is not None else _first_visible_sheet(book)
        # The size the sheet declares is not trusted: «A1:XFD1048576» made every empty row a tuple of 16,384 cells,
        # minutes of work for a file of a few kilobytes. Each row is read as long as its own cells go.
        worksheet.reset_dimensions()
        uncached = _uncached_formulas(book, worksheet)
        rows = _worksheet_rows(worksheet.iter_rows(values_only=True))
        first = [[excel_cell_text(v) for v in values] for values in itertools.islice(rows, HEADER_SCAN_ROWS)]
        layout = header_layout(first)
        header, body = (layout.names, layout.body) if layout is not None else ([], 0)
        if not header:
            raise FileFormatError("trang tính rỗng", "empty worksheet")
        width = len(header)

        def records():  # noqa: ANN202
            later = ([excel_cell_text(v) for v in values] for values in rows)
            for line, cells in enumerate(itertools.chain(first[body:], later), start=body + 1):
                formulas = [(column, ref) for column, ref in uncached.get(line, ()) if column <= width]
                if any(cells) or formulas:
                    yield line, (cells + [""] * width)[:width], _values_beyond(cells, width), formulas

        found = records()
        while True:
            batch = list(itertools.islice(found, chunk_rows))
            frame = _frame_from_records(header, [record[:3] for record in batch])
            if any(record[3] for record in batch):
                # Named as the frame names its columns (`names_apart`): the contract knows which of them it reads.
                frame[FORMULA_CELLS] = [
                    tuple((frame.columns[column - 1], ref) for column, ref in record[3]) or None for record in batch
                ]
            yield frame
            if len(batch) < chunk_rows:
                return
    finally:
        book.close()


#: A formula's element in a worksheet's XML, with or without a namespace prefix («<f>», «<f t="shared" si="0"/>»,
#: «<x:f>»). Text in the XML cannot hold «<», so these bytes are no cell's value.
_FORMULA_MARKS = (b"<f>", b"<f ", b":f>", b":f ")
_PREFIX = rb"(?:[\w.-]+:)?"
#: A worksheet row's element and its cells (group 1: its attributes, 2: its content).
_XML_ROW = re.compile(rb"<" + _PREFIX + rb"row\b([^>]*)>(.*?)</" + _PREFIX + rb"row>", re.S)
_XML_CELL_START = re.compile(rb"<" + _PREFIX + rb"c\b")
#: A cell holding a formula (group 1: the cell's attributes), then its stored result (group 2; absent or empty: none).
_XML_FORMULA_CELL = re.compile(
    rb"<" + _PREFIX + rb"c\b([^>]*)>\s*<" + _PREFIX + rb"f\b(?:[^>]*/>|[^>]*>[^<]*</" + _PREFIX + rb"f>)\s*"
    rb"(?:<" + _PREFIX + rb"v\s*/>|<" + _PREFIX + rb"v>([^<]*)</" + _PREFIX + rb"v>)?"
)
_XML_ATTRIBUTE = {name: re.compile(rb"\b" + name.encode() + rb'="([^"]*)"') for name in ("r", "t")}


def _holds_formulas(stream: BinaryIO, block: int = 1 << 20) -> bool:
    """Whether a worksheet's XML (closed afterwards) holds a formula: one pass over its bytes, no parsing."""
    with stream:
        tail = b""
        while chunk := stream.read(block):
            joined = tail + chunk
            if any(mark in joined for mark in _FORMULA_MARKS):
                return True
            tail = joined[-3:]
    return False


def _uncached_formulas(book: Workbook, worksheet: Worksheet) -> dict[int, list[tuple[int, str]]]:
    """The cells holding a formula without a stored result, by row: (column number, cell name such as «D2»).

    Excel stores each formula's last result beside it, and the reader takes that result (openpyxl's ``data_only``);
    a program other than Excel (openpyxl, some exporters) may store the formula alone, which then reads as a blank
    cell — a count silently missing. A result of empty text (``t="str"``, Excel's ``=""``) is a result. In a workbook
    never calculated (`_never_calculated`) no stored result is one: XlsxWriter stores 0 for every formula. The reader
    gives these cells in the column `FORMULA_CELLS`; the contract rejects a row for those in the columns it reads
    (`models.domain.row_checks.canonical_columns`): an «STT» of «=ROW()-1» rejects nothing.

    Read from the worksheet's XML bytes, in blocks of whole rows: a sheet without a formula (most exports) costs one
    pass over its bytes (0.2–1.1 s for 100,000 rows of eight columns, 1–4 % of the 13–97 s reading them took on a
    shared machine), one with formulas a pass of regular expressions (1.9–2.2 s for 100,000 formulas; ElementTree's
    parse took 6–7 s), measured."""
    path = getattr(worksheet, "_worksheet_path", None)  # a read-only worksheet's part in the archive
    archive = getattr(book, "_archive", None)
    if path is None or archive is None or not _holds_formulas(archive.open(path)):
        return {}
    results = not _never_calculated(archive)
    try:
        return _formula_cells(archive.open(path), by_row=False, results=results)
    except _UnnamedCell:  # cells may go unnamed, placed by their order in their row: read row by row
        return _formula_cells(archive.open(path), by_row=True, results=results)


#: The package's relationship to its workbook part («xl/workbook.xml» as Excel names it; another writer may not).
_WORKBOOK_PART = re.compile(rb'<(?:[\w.-]+:)?Relationship\b[^>]*?/officeDocument"[^>]*?\bTarget="/?([^"]+)"')
_WORKBOOK_PART_REVERSED = re.compile(rb'<(?:[\w.-]+:)?Relationship\b[^>]*?\bTarget="/?([^"]+)"[^>]*?/officeDocument"')
#: The workbook's calculation properties asking the application to calculate every formula when it opens the file.
_FULL_CALC_ON_LOAD = re.compile(rb'<(?:[\w.-]+:)?calcPr\b[^>]*\bfullCalcOnLoad="(?:1|true)"')


def _never_calculated(archive) -> bool:  # noqa: ANN001 - the workbook's zipfile.ZipFile
    """Whether the workbook's formula results were never calculated: its calculation properties ask for every formula
    to be calculated when the file is opened («fullCalcOnLoad»). XlsxWriter, openpyxl and other writers that cannot
    calculate set it, and XlsxWriter stores 0 as the result of every formula it wrote — a count of 0 nobody counted.
    Excel (and LibreOffice) calculate and drop the flag when they save. The application's name is no sign: XlsxWriter
    names itself «Microsoft Excel» in docProps/app.xml."""
    try:
        rels = archive.read("_rels/.rels")
        found = _WORKBOOK_PART.search(rels) or _WORKBOOK_PART_REVERSED.search(rels)
        part = found[1].decode("utf-8", errors="replace") if found else "xl/workbook.xml"
        return bool(_FULL_CALC_ON_LOAD.search(archive.read(part)))
    except KeyError:  # no such part: openpyxl opened the workbook without it, no flag to read
        return False


class _UnnamedCell(Exception):
    """A formula cell without its name (``r``): its place is known only by walking the rows."""


def _formula_cells(stream: BinaryIO, *, by_row: bool, results: bool = True) -> dict[int, list[tuple[int, str]]]:
    """`_uncached_formulas` over a worksheet's XML (closed afterwards): the cells named by their ``r``, or with
    ``by_row`` placed by their row and their order in it. Without ``results`` (a workbook never calculated,
    `_never_calculated`) every formula cell is one: the result stored beside it is none."""
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.cell import coordinate_to_tuple

    found: dict[int, list[tuple[int, str]]] = {}
    row_number, held = 0, b""
    with stream:
        while True:
            chunk = stream.read(1 << 20)
            joined = held + chunk
            end = joined.rfind(b"row>")  # after a row's end (or start tag); none yet: all held for the next block
            cut = (end + 4 if end >= 0 else 0) if chunk else len(joined)
            part, held = joined[:cut], joined[cut:]
            rows = ((row[1], row[2]) for row in _XML_ROW.finditer(part)) if by_row else [(b"", part)]
            for attributes, content in rows:
                if by_row:
                    number = _XML_ATTRIBUTE["r"].search(attributes)
                    row_number = int(number[1]) if number else row_number + 1
                for cell in _XML_FORMULA_CELL.finditer(content):
                    kind = _XML_ATTRIBUTE["t"].search(cell[1])
                    if results and (cell[2] or (kind is not None and kind[1] == b"str")):
                        continue
                    ref = _XML_ATTRIBUTE["r"].search(cell[1])
                    if ref:
                        name = ref[1].decode("ascii", errors="replace")
                        line, column = coordinate_to_tuple(name)
                    elif not by_row:
                        raise _UnnamedCell
                    else:
                        line, column = row_number, len(_XML_CELL_START.findall(content, 0, cell.start())) + 1
                        name = f"{get_column_letter(column)}{line}"
                    found.setdefault(line, []).append((column, name))
            if not chunk:
                return found


def sheet_note(path: Path, sheet: str | None) -> str:
    """Which worksheet of a workbook was read and which others the user sees, for a message about its columns ('' for
    any other file): with several sheets, the table may well be on another one."""
    if path.suffix.lower() not in EXCEL_SUFFIXES:
        return ""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    try:
        read = sheet if sheet is not None else _first_visible_sheet(book).title
        visible = [ws.title for ws in book.worksheets if ws.sheet_state == "visible"]
    finally:
        book.close()
    note = f"trang tính đã đọc: «{read}»"
    others = [name for name in visible if name != read]
    if others:
        listed = ", ".join(f"«{name}»" for name in visible)
        note += (
            f"; tệp có các trang tính {listed}: nếu bảng ở trang khác, hãy ghi tên trang vào ô «Trang tính» (dòng lệnh:"
            " --sheet TÊN)"
        )
    return note


@contextmanager
def naming_the_sheet(path: Path, sheet: str | None) -> Iterator[None]:
    """A contract's refusal of a workbook's columns (`ContractError`) says which worksheet was read and lists the
    others: a table on the second sheet was refused for columns the user never saw on the first."""
    try:
        yield
    except ContractError as exc:
        note = sheet_note(path, sheet)
        if not note:
            raise
        raise ContractError(f"{exc.message}; {note}", exc.reason) from exc


def _first_visible_sheet(book: Workbook) -> Worksheet:
    """The first worksheet a user sees in the workbook's tabs: a hidden one (a list the data validation reads, an
    office's notes) comes before it in the file as often as after, and was read instead of the table."""
    return next((ws for ws in book.worksheets if ws.sheet_state == "visible"), book.worksheets[0])


def _worksheet_rows(rows: Iterator[tuple]) -> Iterator[tuple]:
    """openpyxl's rows of a worksheet (one per row number, empty ones too), a row it cannot read refused with its row
    number: cells Excel never writes (a date cell of «2025-13-45», a number cell of «abc», a shared string the workbook
    lacks, a column past XFD) fail only as they are read, long after the workbook opened."""
    for line in itertools.count(1):
        try:
            values = next(rows)
        except StopIteration:
            return
        except Exception as exc:  # openpyxl raises ValueError, IndexError, KeyError, XML errors … for such a cell
            raise FileFormatError(
                f"không đọc được dòng {line} của trang tính (tệp Excel hỏng hoặc không phải do Excel tạo)",
                f"cannot read row {line} of the worksheet: {exc}",
            ) from exc
        yield values


# ------------------------------------------------------------------------------------------------ GeoJSON
def read_geojson_chunks(path: Path, chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """GeoJSON FeatureCollection of Points in chunks of `chunk_rows` features, read as a stream
    (`gis.io.json_stream`); `line` is the feature number (1-based).

    A chunk has a column for every property seen so far: a feature lacking one has it missing, as when read
    whole. A file that is not JSON (or holds NaN / Infinity) is refused in one line saying where and what was
    expected, also when that place comes after chunks already given; a feature that is not an object, or whose
    properties or geometry are malformed, is marked in `_error` and reported as a reject.
    """
    seen = dict.fromkeys(["line", "_error"])  # a point's columns once a point is seen
    with open(path, "rb") as stream:
        numbered = enumerate(_geojson_features(stream), start=1)
        while True:
            columns, rows = _point_columns(itertools.islice(numbered, chunk_rows))
            frame = pd.DataFrame(columns) if rows else pd.DataFrame({"line": pd.Series(dtype="int64"), "_error": ""})
            seen.update(dict.fromkeys(frame.columns))
            yield frame.reindex(columns=list(seen))
            if rows < chunk_rows:
                return


def _point_columns(numbered: Iterable[tuple[int, object]]) -> tuple[dict[str, list], int]:
    """Features as columns (a property a feature lacks is None) and their number. Built column by column: a list of
    40,000 dicts made into a DataFrame took longer than parsing the JSON, and 50 MB more (measured)."""
    columns: dict[str, list] = {}
    rows = 0
    for number, feature in numbered:
        for key, value in _point_record(number, feature).items():
            column = columns.get(key)
            if column is None:
                column = columns[key] = [None] * rows
            column.append(value)
        rows += 1
        for column in columns.values():
            if len(column) < rows:
                column.append(None)
    return columns, rows


def _geojson_features(stream: BinaryIO) -> Iterator[object]:
    """The collection's features, or FileFormatError naming the line, column and byte where it stops being
    JSON (or UTF-8), or saying it is no FeatureCollection."""
    try:
        yield from json_stream.features(stream)
    except json_stream.NotUtf8 as exc:
        raise FileFormatError(
            f"tệp GeoJSON có ký tự hỏng ở dòng {exc.line} (không phải bảng mã UTF-8): hãy xuất lại tệp từ phần mềm bản đồ",
            f"not UTF-8 at line {exc.line}, byte {exc.byte}",
        ) from None
    except json_stream.NotJson as exc:
        raise FileFormatError(
            f"tệp GeoJSON hỏng ở dòng {exc.line}, cột {exc.column}: {exc.why}; hãy xuất lại tệp từ phần mềm bản đồ",
            f"invalid JSON at line {exc.line}, column {exc.column}, byte {exc.byte}: {exc.msg}",
        ) from None
    except json_stream.NotACollection:
        raise FileFormatError(
            "tệp GeoJSON không có danh sách các điểm vụ việc: hãy xuất lại lớp điểm từ phần mềm bản đồ dưới dạng GeoJSON",
            "expected a FeatureCollection with a features list",
        ) from None


def _point_record(number: int, feature: object) -> dict[str, object]:
    """One feature as strings plus `line` and its point (`POINT_COLUMNS`), with `_error` when it is not a usable Point
    feature."""
    if not isinstance(feature, dict):
        return {"line": number, "_error": "đối tượng không đúng dạng GeoJSON: không phải một điểm vụ việc"}
    props = feature.get("properties")
    if props is not None and not isinstance(props, dict):
        return {
            "line": number,
            "_error": "phần thuộc tính của đối tượng không đúng dạng: phải là các cặp tên và giá trị",
        }
    nested = [key for key, value in (props or {}).items() if isinstance(value, dict | list)]
    if nested:
        return {
            "line": number,
            "_error": f"thuộc tính «{nested[0]}» phải là chữ hoặc số, không phải một danh sách hay nhóm giá trị",
        }
    if any(_SURROGATE.search(f"{k}{v}") for k, v in (props or {}).items()):
        return {"line": number, "_error": _NOT_UTF8_ROW}
    # Names and values as the other readers give them: headers named apart (`names_apart`), text in NFC (a GIS tool
    # may write accents as combining characters, which compared unequal to the same words from a workbook).
    names = names_apart([header_text(str(k)) for k in (props or {})])
    record: dict[str, object] = {
        name: "" if v is None else unicodedata.normalize("NFC", str(v))
        for name, v in zip(names, (props or {}).values(), strict=True)
    }
    record["line"], record["_error"] = number, ""
    geometry = feature.get("geometry") or {}
    coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
    if (
        isinstance(geometry, dict)
        and geometry.get("type") == "Point"
        and isinstance(coords, list)
        and len(coords) >= 2
        and all(isinstance(c, int | float) and not isinstance(c, bool) for c in coords[:2])
    ):
        record[POINT_COLUMNS[0]], record[POINT_COLUMNS[1]] = str(coords[0]), str(coords[1])
    elif geometry and not ({"x", "y"} <= record.keys()):
        # No geometry at all is allowed: the row is placed by its commune code or address.
        record["_error"] = "vị trí phải là một điểm có kinh độ và vĩ độ bằng số"
    return record
