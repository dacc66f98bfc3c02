"""Reading import files: encodings, separators, Excel; the fast Arrow path and the line-tracking path agree;
chunks of a file read as the whole of it, with true line numbers."""

import codecs
import io
import json
import re
import tracemalloc
import unicodedata
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from openpyxl import Workbook

from gis.io.readers import (
    FileFormatError,
    _arrow_chunks,
    _formula_cells,
    _tracking_chunks,
    _UnnamedCell,
    concat_chunks,
    read_csv_chunks,
    read_csv_lines,
    read_table,
    read_table_chunks,
    scan_text,
    sniff_delimiter,
    text_codec,
    transcode,
)
from gis.io.text_encodings import encode_cp1258
from models.domain.incident_contract import validate_incidents
from models.domain.indicator_contract import validate_indicators
from models.domain.row_checks import ContractError
from models.vocabulary import WHOLE_ROW
from tests.form_workbooks import BLANK_ROWS, RECORD_ROWS, TOTALS_ROW, indicator_form

WELL_FORMED = 'ref,occurred_at,kind,substance\r\nA,2025-01-01,tip,"heroin, 2 gói"\r\nB,2025-01-02,tip,\r\n'
VIETNAMESE = (
    "ref;occurred_at;kind;substance;address\n"
    "A1;05/03/2024 14:30;Tàng trữ;ma túy đá;Phường Quán Toan, Quận Hồng Bàng, Thành phố Hải Phòng\n"
    "A2;06/03/2024;mua bán;hêrôin 0,5 g;Xã Lê Ninh, Thị xã Kinh Môn, Tỉnh Hải Dương\n"
    "A3;07/03/2024;Tin báo;;Ưu Đàm, Ngõ Ốc, Đường Ỷ Lan\n"
)


def _fast(data: bytes, chunk_rows: int = 1000) -> tuple[pd.DataFrame | None, bool]:
    """What Arrow's path delivers of `data` (None: nothing) and whether it read the whole of it."""
    scan = scan_text(io.BytesIO(data))
    chunks = _arrow_chunks(pa.BufferReader(data), scan, sniff_delimiter(scan.head), chunk_rows)
    frames = []
    try:
        while True:
            frames.append(next(chunks))
    except StopIteration as stop:
        finished = stop.value[1]
    return (concat_chunks(frames) if frames else None), finished


def _slow(data: bytes) -> pd.DataFrame:
    return concat_chunks(_tracking_chunks(io.BytesIO(data), sniff_delimiter(data), 1000))


def test_fast_path_matches_the_tracking_reader() -> None:
    data = WELL_FORMED.encode()
    fast, finished = _fast(data)
    assert fast is not None and finished
    slow = _slow(data)
    assert fast[slow.columns].astype(str).values.tolist() == slow.astype(str).values.tolist()
    assert list(fast["line"]) == [2, 3]


def test_rows_of_separators_alone_are_passed_over_on_the_fast_path_too() -> None:
    """Excel writes «;;;» rows below a table it once formatted: the tracking reader passed them over, Arrow's path
    delivered them as rows of empty values, each reported as a refused row (no ref, no time, no kind)."""
    data = ("\ufeff" + VIETNAMESE + ";;;;\n ; ;;;\nA4;08/03/2024;tip;;Hải Phòng\n;;;;\n").encode()
    fast, finished = _fast(data)
    assert fast is not None and finished
    assert list(fast["line"]) == list(_slow(data)["line"]) == [2, 3, 4, 7]
    assert fast.iloc[-1]["ref"] == "A4"


@pytest.mark.parametrize(
    "body",
    [
        WELL_FORMED + "\r\nC,2025-01-03,tip,\r\n",  # blank line
        'ref,occurred_at,kind,substance\nA,2025-01-01,tip,"two\nlines"\nB,2025-01-02,tip,\n',  # newline in quotes
        WELL_FORMED + "C,2025-01-03\n",  # wrong number of fields
    ],
)
def test_odd_files_keep_true_line_numbers(tmp_path: Path, body: str) -> None:
    path = tmp_path / "odd.csv"
    path.write_text(body, encoding="utf-8")
    assert not _fast(body.encode())[1] or not scan_text(io.BytesIO(body.encode())).one_record_per_line
    frame = read_csv_lines(path)
    last = frame.iloc[-1]
    assert last["line"] == body.replace("\r\n", "\n").rstrip("\n").count("\n") + 1


def test_a_few_broken_bytes_in_a_utf8_file_reject_their_rows_only(tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_bytes(
        "ref,occurred_at,kind,substance\nA,2025-01-01,tip,ma túy đá\n".encode() + b"B,2025-01-01,tip,h\xe9\n"
    )
    frame = read_csv_lines(path)
    assert list(frame["_error"] == "") == [True, False] and "UTF-8" in frame.iloc[1]["_error"]
    assert frame.iloc[0]["substance"] == "ma túy đá"


def _same_text(frame: pd.DataFrame) -> list[list[str]]:
    return frame.drop(columns=["_error"]).astype(str).values.tolist()


@pytest.mark.parametrize(
    ("name", "encode"),
    [
        ("utf8-bom", lambda t: codecs.BOM_UTF8 + t.encode("utf-8")),
        ("utf16-le-bom", lambda t: t.encode("utf-16")),  # Excel's "Unicode text"
        ("utf16-be", lambda t: t.encode("utf-16-be")),
        ("cp1258", encode_cp1258),
        ("nfd-utf8", lambda t: unicodedata.normalize("NFD", t).encode("utf-8")),
    ],
)
def test_each_encoding_reads_to_the_same_table(tmp_path: Path, name: str, encode) -> None:  # noqa: ANN001
    plain = tmp_path / "plain.csv"
    plain.write_text(VIETNAMESE, encoding="utf-8")
    other = tmp_path / f"{name}.csv"
    other.write_bytes(encode(VIETNAMESE))
    assert _same_text(read_csv_lines(other)) == _same_text(read_csv_lines(plain))
    assert read_csv_lines(other).iloc[2]["address"] == "Ưu Đàm, Ngõ Ốc, Đường Ỷ Lan"


def to_utf8(data: bytes, encoding: str | None = None) -> tuple[bytes, str]:
    """Bytes in memory through the reader's two encoding steps (the codec decided once, then transcoded)."""
    codec, name = text_codec(lambda: io.BytesIO(data), encoding)
    if codec is None:
        return data.removeprefix(codecs.BOM_UTF8), name
    out = io.BytesIO()
    transcode(io.BytesIO(data), out, codec, name)
    return out.getvalue(), name


def test_cp1252_french_text_is_read() -> None:
    data, name = to_utf8("ref;substance\nA;héroïne, café\n".encode("cp1252"))
    assert name == "Windows-1252" and "héroïne" in data.decode()


def test_two_code_pages_equally_likely_are_refused_naming_the_encodings_tried() -> None:
    # One byte, 0xD0: 'Đ' in Windows-1258 and 'Ð' in Windows-1252; nothing else to tell them apart.
    with pytest.raises(FileFormatError, match="Windows-1258.*Windows-1252") as caught:
        to_utf8(b"ref;note\nA;\xd0\n")
    assert "bảng mã" in caught.value.message and "đã thử UTF-8, UTF-16" in caught.value.message
    assert to_utf8(b"ref;note\nA;\xd0\n", "cp1258")[0].decode() == "ref;note\nA;Đ\n"


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [("a,b,c\n1,2,3\n", ","), ("a;b;c\n1,5;2;3\n", ";"), ("a\tb\tc\n1\t2,5\t3\n", "\t"), ("a\n1\n", ",")],
)
def test_separator_is_sniffed(text: str, delimiter: str) -> None:
    assert sniff_delimiter(text.encode()) == delimiter


def test_semicolon_file_is_not_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "excel-vi.csv"
    path.write_text(VIETNAMESE, encoding="utf-8")
    frame = read_csv_lines(path)
    assert list(frame.columns[:5]) == ["ref", "occurred_at", "kind", "substance", "address"]
    assert frame.iloc[1]["substance"] == "hêrôin 0,5 g"


def test_excel_first_sheet_or_named_sheet_with_row_numbers(tmp_path: Path) -> None:
    book = Workbook()
    notes = book.active
    notes.title = "Vụ việc"
    notes.append(["Danh sách vụ việc (dữ liệu tổng hợp)"])
    notes.append([])
    notes.append(["Số hiệu", "Thời gian", "Loại", "Kinh độ", "Vĩ độ", "Khối lượng (g)"])
    notes.append(["V-1", datetime(2024, 3, 5, 14, 30), "tip", 106.6885, 20.86, 3.0])
    notes.append([None, None, None, None, None, None])
    notes.append(["V-2", "06/03/2024", "tip", 106.7, 20.9, 2.5, "lạc"])
    other = book.create_sheet("Khác")
    other.append(["ref", "kind"])
    other.append(["K-1", "tip"])
    path = tmp_path / "book.xlsx"
    book.save(path)

    frame = read_table(path)
    assert list(frame["line"]) == [4, 6]  # the title block (rows 1-2) is passed over
    assert frame.iloc[0].to_dict() == {
        "số hiệu": "V-1",
        "thời gian": "2024-03-05T14:30:00",
        "loại": "tip",
        "kinh độ": "106.6885",
        "vĩ độ": "20.86",
        "khối lượng (g)": "3",
        "line": 4,
        "_error": "",
    }
    assert "ngoài các cột tiêu đề" in frame.iloc[1]["_error"]
    assert read_table(path, sheet="Khác").iloc[0]["ref"] == "K-1"
    with pytest.raises(FileFormatError, match="không có trang tính «Không có»; các trang: «Vụ việc», «Khác»"):
        read_table(path, sheet="Không có")  # named as the pages quote, not as Python does ('Không có')


def test_a_workbook_opening_on_a_hidden_sheet_is_read_from_its_first_visible_one(tmp_path: Path) -> None:
    """An office keeps a hidden sheet of lists first (its data validation reads it): the table the user sees, in the
    first visible tab, is read, not the hidden lists (the import was refused for columns the user never sees)."""
    book = Workbook()
    lists = book.active
    lists.title, lists.sheet_state = "Danh mục", "hidden"
    lists.append(["Loại", "Mã"])
    lists.append(["tàng trữ", "possession"])
    table = book.create_sheet("Vụ việc")
    table.append(["Số hiệu", "Loại"])
    table.append(["V-1", "tip"])
    book.active = 1
    path = tmp_path / "an.xlsx"
    book.save(path)
    assert read_table(path)[["số hiệu", "loại", "line"]].values.tolist() == [["V-1", "tip", 2]]
    assert read_table(path, sheet="Danh mục").iloc[0]["mã"] == "possession"  # still read when named


def test_a_header_naming_a_column_twice_is_refused_naming_that_column_alone(tmp_path: Path) -> None:
    """The message named the whole header as a Python list (['year', 'mã xã', 'mã xã', …]): now the doubled names —
    the contract's, which knows the column; the two blank header cells (ignored columns) no longer refuse the file."""
    doubled = tmp_path / "trung.csv"
    doubled.write_text("year,Mã xã,population,mã xã,,,x\n2025,10507,100,10507,,,1\n", encoding="utf-8")
    table = read_table(doubled)
    assert table[["year", "line", "_error"]].values.tolist() == [["2025", 2, ""]]
    with pytest.raises(ContractError) as refused:
        validate_indicators(table)
    assert refused.value.message == "tiêu đề có cột trùng tên: «mã xã»; hãy giữ một cột cho mỗi nghĩa"


def test_a_forms_two_row_header_units_and_numbering_rows_read_as_one_header_with_excel_lines(tmp_path: Path) -> None:
    """A group cell merged over its sub-headers (the other cells merged down), a units row and a numbering row under
    the header: the group's name joins each sub-header's, the unit follows the name, the numbering row is no record,
    and each record keeps the row Excel shows. The form was refused: «tiêu đề có cột trùng tên: ô tiêu đề để trống»."""
    table = read_table(indicator_form(tmp_path / "bieu.xlsx"))
    assert list(table.columns) == [
        "stt",
        "năm",
        "mã xã",
        "tên xã",
        "dân số (người)",
        "số người nghiện có hồ sơ (người)",
        "số người nghiện không hồ sơ (người)",
        "số cây bị phá hủy (cây)",
        "diện tích trồng (m²)",
        "trên tuyến trọng điểm",
        "line",
        "_error",
    ]
    assert table["line"].tolist() == [*RECORD_ROWS, TOTALS_ROW, *BLANK_ROWS]
    assert table.iloc[0][["mã xã", "số người nghiện có hồ sơ (người)"]].tolist() == ["10507", "120"]


def test_a_csv_saved_from_a_form_reads_its_two_row_header_on_either_path(tmp_path: Path) -> None:
    """Saved as CSV the merged cells are a name and blank cells: the sub-header row was read as the first record by
    the fast path (one group of two columns leaves the header's names unique)."""
    path = tmp_path / "bieu.csv"
    path.write_text(
        "Năm,Mã xã,Số người nghiện,\n,,Có hồ sơ,Không hồ sơ\n1,2,3,4\n2025,10507,120,15\n2025,10525,7,3\n",
        encoding="utf-8",
    )
    table = read_table(path)
    assert list(table.columns[:4]) == ["năm", "mã xã", "số người nghiện có hồ sơ", "số người nghiện không hồ sơ"]
    assert table["line"].tolist() == [4, 5] and table["số người nghiện có hồ sơ"].tolist() == ["120", "7"]


def test_a_header_of_three_rows_is_refused_saying_to_make_it_one_row(tmp_path: Path) -> None:
    """Groups within groups are not read: the message says what to do rather than only «ô tiêu đề để trống»."""
    book = Workbook()
    sheet = book.active
    sheet.append(["Năm", "Mã xã", "Số người", None, None])
    sheet.append([None, None, "Nghiện", None, "Sử dụng"])
    sheet.append([None, None, "Có hồ sơ", "Không hồ sơ", None])
    sheet.append([2025, "10507", 1, 2, 3])
    path = tmp_path / "ba-dong.xlsx"
    book.save(path)
    with pytest.raises(FileFormatError, match="hãy gộp tiêu đề thành một dòng"):
        read_table(path)


def test_unreadable_workbook_and_old_excel_are_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "x.xlsx"
    bad.write_bytes(b"PK")
    with pytest.raises(FileFormatError, match="Excel"):
        read_table(bad)
    old = tmp_path / "x.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(FileFormatError, match=".xlsx"):
        read_table(old)


def test_geojson_feature_without_geometry_may_give_an_address(tmp_path: Path) -> None:
    path = tmp_path / "f.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": ['
        '{"type": "Feature", "geometry": null, "properties": {"ref": "G1", "Địa chỉ": "Phường Hồng Bàng, Hải Phòng"}},'
        '{"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},'
        ' "properties": {"ref": "G2"}}]}',
        encoding="utf-8",
    )
    frame = read_table(path)
    assert list(frame["_error"] == "") == [True, False]
    assert frame.iloc[0]["địa chỉ"] == "Phường Hồng Bàng, Hải Phòng"


def test_geojson_chunks_carry_every_property_seen_so_far(tmp_path: Path) -> None:
    """A GeoJSON read two features at a time: a property given by the first features only is missing (not absent)
    in later chunks, as when read whole, so a required one left out rejects its rows rather than the file."""
    props = [{"ref": "G1", "ghi chú": "a"}, {"ref": "G2"}, {"ref": "G3"}, {"ref": "G4", "mới": "b"}, {"ref": "G5"}]
    path = tmp_path / "f.geojson"
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": p} for p in props]}),
        encoding="utf-8",
    )
    chunks = list(read_table_chunks(path, chunk_rows=2))
    assert [len(c) for c in chunks] == [2, 2, 1] and [c["line"].tolist() for c in chunks] == [[1, 2], [3, 4], [5]]
    assert chunks[1]["ghi chú"].isna().all() and chunks[2]["mới"].isna().all()
    assert chunks[1]["mới"].isna().tolist() == [True, False]  # first given by the chunk's second feature
    whole = read_table(path)
    assert concat_chunks(chunks)["ref"].tolist() == whole["ref"].tolist() == [p["ref"] for p in props]


def test_geojson_broken_after_a_chunk_is_refused_while_read(tmp_path: Path) -> None:
    path = tmp_path / "late.geojson"
    path.write_text('{"features": [\n{"properties": {"ref": "G1"}},\n{"properties": {"ref": "G2"}},\n{"x": }]}')
    chunks = read_table_chunks(path, chunk_rows=1)
    assert next(chunks)["ref"].tolist() == ["G1"]
    with pytest.raises(FileFormatError, match="dòng 4, cột 7"):
        list(chunks)


def test_chunks_read_as_the_whole_file_with_true_lines(tmp_path: Path) -> None:
    """A file read in chunks of two records gives the table read at once; where Arrow stops (a line break inside
    quotes, late in the file) the line-tracking reader goes on from the first record Arrow did not deliver."""
    rows = [f"R{i},2025-01-0{1 + i % 9},tip,ghi chú {i}" for i in range(9)]
    rows[6] = 'R6,2025-01-07,tip,"hai\ndòng"'
    path = tmp_path / "many.csv"
    path.write_text("ref,occurred_at,kind,note\n" + "\n".join(rows) + "\n", encoding="utf-8")
    chunks = list(read_csv_chunks(path, chunk_rows=2))
    assert all(len(c) <= 2 for c in chunks) and sum(len(c) for c in chunks) == 9
    frame = concat_chunks(chunks)
    assert list(frame["ref"]) == [f"R{i}" for i in range(9)]
    assert list(frame["line"]) == [2, 3, 4, 5, 6, 7, 8, 10, 11]  # R6 takes lines 8 and 9
    assert frame.iloc[6]["note"] == "hai\ndòng"
    whole = _slow(path.read_bytes())
    assert frame.astype(str).values.tolist() == whole.astype(str).values.tolist()


def test_a_header_alone_reads_as_an_empty_table_with_its_columns(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("ref,occurred_at,kind\n", encoding="utf-8")
    chunks = list(read_table_chunks(path))
    assert len(chunks) == 1 and chunks[0].empty
    assert {"ref", "occurred_at", "kind", "line"} <= set(chunks[0].columns)


def test_the_scan_sees_encoding_and_line_structure_across_blocks() -> None:
    """An accent split from its letter by a block boundary still marks the text as not NFC; a blank line or a
    lone CR rules out one record per line; a quote is noted."""
    nfd = ("a" * 9 + "e\u0301").encode()
    split = scan_text(io.BytesIO(nfd), block=10)
    assert not split.utf8 and scan_text(io.BytesIO("é".encode()), block=10).utf8
    assert not scan_text(io.BytesIO(b"a,b\n1,2\n\n3,4\n"), block=9).one_record_per_line
    assert not scan_text(io.BytesIO(b"a,b\r1,2\r"), block=4).one_record_per_line
    assert scan_text(io.BytesIO(b"a,b\r\n1,2\r\n"), block=5).one_record_per_line
    assert scan_text(io.BytesIO(b'a,b\n"1",2\n')).quoted and not scan_text(io.BytesIO(b"a,b\n1,2\n")).quoted
    assert not scan_text(io.BytesIO("ab\u00e9".encode()[:-1])).utf8  # ends inside a character


def test_a_workbook_is_read_in_chunks(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["ref", "kind"])
    for i in range(5):
        sheet.append([f"K-{i}", "tip"])
    path = tmp_path / "chunks.xlsx"
    book.save(path)
    chunks = list(read_table_chunks(path, chunk_rows=2))
    assert [len(c) for c in chunks] == [2, 2, 1]
    assert list(concat_chunks(chunks)["line"]) == [2, 3, 4, 5, 6]


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "cp1258", "utf-8-sig"])
@pytest.mark.parametrize("block", [1, 2, 3, 7, 64])
def test_a_file_transcoded_block_by_block_is_its_whole_text_in_nfc(codec: str, block: int) -> None:
    """Blocks split UTF-16 code units, surrogate pairs and a letter from its tone marks (Windows-1258 writes
    them apart; NFD UTF-8 too): the result is the NFC text of the whole file, without BOM."""
    plant = "x" if codec == "cp1258" else "🌿"  # no emoji in a code page
    text = unicodedata.normalize("NFD", VIETNAMESE) + f"Ngõ {plant} Ốc\n"
    data = encode_cp1258(text) if codec == "cp1258" else text.encode(codec)
    out = io.BytesIO()
    transcode(io.BytesIO(data), out, codec, codec, block=block)
    assert out.getvalue().decode("utf-8") == unicodedata.normalize("NFC", text)


def test_a_character_that_cannot_be_decoded_late_in_a_file_refuses_it() -> None:
    data = ("a;b\n" + "x;y\n" * 1000).encode("utf-16-le") + b"\x00\xd8" + "z\n".encode("utf-16-le")  # lone surrogate
    with pytest.raises(FileFormatError, match="bảng mã UTF-16"):
        transcode(io.BytesIO(data), io.BytesIO(), "utf-16-le", "UTF-16", block=256)


def _utf16_read_peak(path: Path, rows: int) -> int:
    """Python's peak memory reading a UTF-16 file of ``rows`` rows chunk by chunk (every row and line checked)."""
    tracemalloc.start()
    try:
        seen = last = 0
        for chunk in read_csv_chunks(path, chunk_rows=2_000):
            seen, last = seen + len(chunk), int(chunk["line"].iloc[-1])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seen == rows and last == rows + 1
    return peak


def test_a_large_utf16_file_is_read_in_bounded_memory_with_its_lines(tmp_path: Path) -> None:
    """Excel's "Unicode text" of 11 and 22 MB: read chunk by chunk, Python's peak is the same for both and under the
    smaller file (8 MB: a block of 1 MB in its forms; before, it held the whole file, decoded and re-encoded), and
    the table equals the UTF-8 file's, lines included."""
    row = "A{};05/03/2024 14:30;Tàng trữ;ma túy đá;Phường Quán Toan, Quận Hồng Bàng, Thành phố Hải Phòng\n"
    peaks, sizes = [], []
    for rows in (60_000, 120_000):
        body = "ref;occurred_at;kind;substance;address\n" + "".join(row.format(i) for i in range(rows))
        wide = tmp_path / f"unicode-{rows}.txt"
        wide.write_bytes(body.encode("utf-16"))
        sizes.append(wide.stat().st_size)
        peaks.append(_utf16_read_peak(wide, rows))
    assert sizes[1] > 20 << 20
    assert peaks[1] < 1.25 * peaks[0] and peaks[1] < sizes[0], f"peaks {peaks} for files of {sizes} bytes"
    plain = tmp_path / "plain.csv"
    plain.write_text(body, encoding="utf-8")
    assert _same_text(next(read_csv_chunks(wide, chunk_rows=1_000))) == _same_text(
        next(read_csv_chunks(plain, chunk_rows=1_000))
    )


def test_a_value_after_the_headers_last_column_rejects_its_row_only(tmp_path: Path) -> None:
    """Excel's empty columns after the header are no columns; a value in one is its row's error, as in a workbook."""
    path = tmp_path / "vu.csv"
    path.write_text("ref;occurred_at;kind;;\nA;2025-01-01;tip;;\nB;2025-01-02;tip;;thừa\n;;;;\n", encoding="utf-8")
    table = read_csv_lines(path)
    assert list(table.columns) == ["ref", "occurred_at", "kind", "line", "_error"]
    assert table["line"].tolist() == [2, 3] and table["_error"].tolist()[0] == ""
    assert table["_error"].tolist()[1] == "có giá trị ngoài các cột tiêu đề: «thừa»"


@pytest.mark.parametrize("text", ["Tàng trữ", "Phường Lê Chân, tổ 5", "Hồ Nam"])
def test_a_short_file_with_vietnamese_tone_marks_is_windows_1258(text: str) -> None:
    """A daily file of a row or two, saved as «CSV» by a Vietnamese Excel: Windows-1258 writes a tone as a combining
    mark after its letter («a» + 0xCC), which Windows-1252 reads as «aÌ» — no text of any language. The two read
    «equally well» by charset-normalizer on so few letters and the file was refused, the page having no way to name
    the encoding."""
    data, name = to_utf8(encode_cp1258(f"ref;kind;note\nA1;possession;{text}\n"))
    assert name == "Windows-1258" and data.decode().endswith(f";{text}\n")


def _formula_rejects(path: Path) -> list[tuple[int, str, str]]:
    """(line, field, reason) of the incident contract's rejects of a workbook."""
    rejects = validate_incidents(read_table(path), now=datetime(2026, 1, 1, tzinfo=UTC)).rejects
    return list(rejects[["line", "field", "reason"]].itertuples(index=False, name=None))


def test_a_formula_without_a_stored_result_rejects_its_row_naming_the_cell(tmp_path: Path) -> None:
    """A workbook written by a program other than Excel (here openpyxl) stores formulas without their result: the cell
    had read as blank, a count silently missing. Its row is refused naming the cell — when the import reads that column:
    an «STT» of «=ROW()-1» or a note made by a formula had refused every row of such a workbook, for a column the import
    passes over. A formula Excel computed reads as its value."""
    book = Workbook()
    sheet = book.active
    sheet.append(["STT", "ref", "occurred_at", "kind", "arrested", "ghi chú", "address"])
    sheet.append(["=ROW()-1", "V1", "2025-05-01", "tip", "=1+1", "a", "Xã An Lão"])
    sheet.append(["=ROW()-1", "V2", "2025-05-02", "tip", 2, "b", "Xã An Lão"])
    sheet.append(["=ROW()-1", "V3", "2025-05-03", "tip", None, "=B3&B4", "Xã An Lão"])
    sheet.append(["=ROW()-1", "V4", "2025-05-04", "tip", "=1", None, "=G4"])
    path = tmp_path / "cong-thuc.xlsx"
    book.save(path)
    assert read_table(path)["line"].tolist() == [2, 3, 4, 5]
    reason = "là công thức chưa có kết quả: hãy mở tệp trong Excel và lưu lại"
    assert _formula_rejects(path) == [(2, WHOLE_ROW, f"ô E2 {reason}"), (5, WHOLE_ROW, f"các ô E5, G5 {reason}")]


def _as_written_by(path: Path, *, result: str, calculate_on_load: bool) -> None:
    """Rewrite an openpyxl workbook as another writer would have: each formula's stored result ``result`` (XlsxWriter
    stores «0»), the workbook's flag asking to calculate on opening kept or dropped (Excel drops it when it saves)."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    parts["xl/worksheets/sheet1.xml"] = re.sub(r"(</f>)<v ?/>", rf"\1<v>{result}</v>", sheet).encode()
    if not calculate_on_load:
        parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(b' fullCalcOnLoad="1"', b"")
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


@pytest.mark.parametrize("calculated", [False, True])
def test_a_zero_stored_by_a_writer_that_never_calculated_is_no_count(tmp_path: Path, calculated: bool) -> None:
    """XlsxWriter stores 0 as the result of every formula it writes, and asks Excel to calculate them all on opening
    («fullCalcOnLoad»): a «Số người bị bắt» of «=SUM(…)» read as 0 arrested, a figure nobody counted. Such a workbook's
    formulas are without a result; once Excel has calculated and saved it (the flag gone), 0 is the count."""
    book = Workbook()
    sheet = book.active
    sheet.append(["STT", "ref", "occurred_at", "kind", "arrested", "address"])
    sheet.append(["=ROW()-1", "V1", "2025-05-01", "tip", "=SUM(1,-1)", "Xã An Lão"])
    sheet.append(["=ROW()-1", "V2", "2025-05-02", "tip", 3, "Xã An Lão"])
    path = tmp_path / "xlsxwriter.xlsx"
    book.save(path)
    _as_written_by(path, result="0", calculate_on_load=not calculated)
    result = validate_incidents(read_table(path), now=datetime(2026, 1, 1, tzinfo=UTC))
    if calculated:
        assert result.rejects.empty and result.valid["arrested"].tolist() == [0, 3]
    else:
        assert _formula_rejects(path) == [
            (2, WHOLE_ROW, "ô E2 là công thức chưa có kết quả: hãy mở tệp trong Excel và lưu lại")
        ]
        assert result.valid["ref"].tolist() == ["V2"]


def test_geojson_values_are_read_in_nfc_as_text_and_excel_values_are(tmp_path: Path) -> None:
    """A value written with combining accents (NFD, as macOS and some GIS tools write) was kept so: the same words
    as another file's did not compare equal (a commune's name, a kind)."""
    decomposed = unicodedata.normalize("NFD", "Tàng trữ")
    assert decomposed != "Tàng trữ"
    path = tmp_path / "nfd.geojson"
    feature = {"type": "Feature", "geometry": None, "properties": {"ref": "G1", "Loại": decomposed, "số": 1}}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    text = tmp_path / "nfd.csv"
    text.write_text(f"ref,loại,số\nG1,{decomposed},1\n", encoding="utf-8")
    assert read_table(path)["loại"].tolist() == read_table(text)["loại"].tolist() == ["Tàng trữ"]


def test_formula_cells_are_found_in_any_writers_xml() -> None:
    """Cells named or not (placed by their order), a namespace prefix, a shared formula, a stored result of empty text
    (Excel's «=""», a result) and an empty stored result (openpyxl's «<v />», none)."""
    xml = (
        b'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>'
        b'<x:row r="2"><x:c r="A2"><x:v>1</x:v></x:c><x:c r="B2"><x:f>A2*2</x:f><x:v>2</x:v></x:c>'
        b'<x:c r="C2" t="str"><x:f>""</x:f><x:v></x:v></x:c><x:c r="D2"><x:f t="shared" si="0"/></x:c></x:row>'
        b'<x:row r="5"><x:c><x:v>1</x:v></x:c><x:c s="1"><x:f>A5+1</x:f><x:v /></x:c></x:row></x:sheetData>'
        b"</x:worksheet>"
    )
    with pytest.raises(_UnnamedCell):
        _formula_cells(io.BytesIO(xml), by_row=False)
    assert _formula_cells(io.BytesIO(xml), by_row=True) == {2: [(4, "D2")], 5: [(2, "B5")]}
