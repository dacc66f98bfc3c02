"""GeoJSON features read as a stream (gis.io.json_stream): the values, errors and positions of `json.loads`, in
blocks small enough to cut every token and character, and in bounded memory."""

from __future__ import annotations

import io
import itertools
import json
import tracemalloc

import pytest

from gis.io import json_stream
from gis.io.json_stream import NotACollection, NotJson, NotUtf8, features


def feature(n: int) -> dict:
    return {
        "type": "Feature",
        "properties": {"ref": f"V{n}", "ghi_chú": "phường Lê Chân ✓", "n": n * 1.5, "ok": n % 2 == 0, "x": None},
        "geometry": {"type": "Point", "coordinates": [106.68 + n / 1e4, 20.86]},
    }


VALID = [
    json.dumps({"type": "FeatureCollection", "features": [feature(n) for n in range(5)]}, ensure_ascii=False),
    json.dumps({"features": [feature(1)], "type": "FeatureCollection", "bbox": [1, 2, 3, 4], "n": 12345}),
    '\n  { "name" : "x\\"y" ,\r\n "crs": {"p": [1, {"q": null}]}, "features" : [ ] , "count": 0 }\n',
    '{"features": [' + ",".join(json.dumps(feature(n), indent=2) for n in range(3)) + '], "tail": 98765}',
]


@pytest.mark.parametrize("block", [1, 3, 7, 1 << 20])
@pytest.mark.parametrize("doc", VALID, ids=["plain", "members-after", "spaces", "indented"])
def test_features_are_those_json_loads_reads(monkeypatch: pytest.MonkeyPatch, doc: str, block: int) -> None:
    monkeypatch.setattr(json_stream, "BLOCK", block)
    for data in (doc.encode(), b"\xef\xbb\xbf" + doc.encode()):
        assert list(features(io.BytesIO(data))) == json.loads(doc)["features"]


BROKEN = [
    '{"type": "FeatureCollection", "features": [\n  {"type": "Feature",\n',
    '{"features": [1, 2,]}',
    '{"features": [1 2]}',
    '{"features": [1], }',
    '{"features" [1]}',
    '{"features": [1]} extra',
    '{"features": [{"a": "tab\there"}]}',
    '{"features": [{"a": "\\q"}]}',
    '{"features": [{"a": "unterminated}]}',
    '{"features": [{"a": 1,}]}',
    "\n\n   @",
    "",
    '{"features": [{"p": "ồ"}, {"p": "ạ" ]}',
]


@pytest.mark.parametrize("block", [1, 5, 1 << 20])
@pytest.mark.parametrize("doc", BROKEN)
def test_errors_name_the_place_and_reason_json_loads_gives(monkeypatch: pytest.MonkeyPatch, doc: str, block: int):
    monkeypatch.setattr(json_stream, "BLOCK", block)
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(doc)
    want = expected.value
    with pytest.raises(NotJson) as got:
        list(features(io.BytesIO(doc.encode())))
    assert (got.value.msg, got.value.line, got.value.column) == (want.msg, want.lineno, want.colno)
    assert got.value.byte == len(doc[: want.pos].encode())


@pytest.mark.parametrize("doc", ["[]", "[1, 2]", '"text"', "12", "{}", '{"features": {"0": 1}}', '{"type": "x"}'])
def test_valid_json_that_is_no_collection_is_told_so(doc: str) -> None:
    with pytest.raises(NotACollection):
        list(features(io.BytesIO(doc.encode())))


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_bare_constant_is_refused_where_it_stands(monkeypatch: pytest.MonkeyPatch, constant: str) -> None:
    monkeypatch.setattr(json_stream, "BLOCK", 4)
    doc = '{"features": [{"a": "NaN, Infinity"},\n {"b": ' + constant + "}]}"
    with pytest.raises(NotJson) as got:
        list(features(io.BytesIO(doc.encode())))
    assert constant in got.value.msg and (got.value.line, got.value.column) == (2, 8)


def test_bytes_that_are_not_utf8_are_placed_by_line_and_byte(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_stream, "BLOCK", 3)
    data = '{"features": [\n{"a": "ồ"},\n{"b": "'.encode() + b"\xff" + b'"}]}'
    with pytest.raises(NotUtf8) as got:
        list(features(io.BytesIO(data)))
    assert (got.value.line, got.value.byte) == (3, data.index(b"\xff"))


class Generated(io.RawIOBase):
    """A collection of `count` features made as it is read: no copy of the document exists anywhere."""

    def __init__(self, count: int) -> None:
        self._parts = self._make(count)
        self._rest = b""

    @staticmethod
    def _make(count: int):  # noqa: ANN205
        yield b'{"type": "FeatureCollection", "features": ['
        for n in range(count):
            yield (b"," if n else b"") + json.dumps(feature(n)).encode()
        yield b"]}"

    def read(self, size: int = -1) -> bytes:
        pieces, held = [self._rest], len(self._rest)
        while held < size:
            part = next(self._parts, None)
            if part is None:
                break
            pieces.append(part)
            held += len(part)
        data = b"".join(pieces)
        out, self._rest = data[:size], data[size:]
        return out


def test_memory_does_not_grow_with_the_document() -> None:
    """40,000 features (~8.5 MB of JSON, whose objects alone take several times that): the peak is a few blocks."""
    tracemalloc.start()
    try:
        count = sum(1 for _ in features(Generated(40_000)))  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 40_000
    assert peak < 12 * 2**20, f"peak {peak / 2**20:.1f} MB"


def test_a_break_early_in_a_large_file_is_told_without_reading_on() -> None:
    """A feature broken near the start of a 40 MB collection is reported from the first block, not after
    reading ahead in search of the rest of a value."""
    source = Generated(200_000)
    parts = source._parts
    source._parts = itertools.chain(
        [next(parts), next(parts), b',{"type": "Feature", "properties": {"a": 1 2}}'], parts
    )
    read = 0
    plain_read = source.read

    def counted(size: int = -1) -> bytes:
        nonlocal read
        data = plain_read(size)
        read += len(data)
        return data

    source.read = counted  # type: ignore[method-assign]
    with pytest.raises(NotJson, match="Expecting ',' delimiter"):
        list(features(source))  # type: ignore[arg-type]
    assert read <= 2 * json_stream.BLOCK
