"""The features of a GeoJSON FeatureCollection, read one at a time from a byte stream in bounded memory.

`json.load` holds the whole document, and its Python objects take several times the file's size: a GeoJSON of
ten million points is gigabytes. Here the file is decoded block by block; the top-level object's members are
read with the standard library's own scanner (`JSONDecoder.raw_decode`), each feature of `features` handed
over as soon as it is complete. Errors carry the line, column and byte `json.loads` would give, with its
messages ("Expecting ',' delimiter", ...), so that a refusal says where the file stops being JSON.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import BinaryIO

#: Bytes decoded at a time.
BLOCK = 1 << 20
#: A value (a feature, or another member of the collection) not complete after this many characters is not waited
#: for any longer: the error `raw_decode` gives there is reported. No real feature comes near it.
MAX_VALUE = 64 << 20
#: Characters before the end of the text read within which a failure may only mean the text is cut there (`tru|e`,
#: `-Infin|ity`, `"\u00|e9"`): more is read before deciding. A failure earlier is where the file is broken.
_CUT_MARGIN = 16
_SPACE = re.compile(r"[ \t\n\r]*")
#: A JSON string or a bare non-standard constant, to find where a NaN or Infinity stands.
_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|NaN|-?Infinity')
#: First characters of a JSON value other than an object.
_OTHER_VALUE = frozenset('["-0123456789tfn')


class NotUtf8(ValueError):
    """The bytes at `byte` (on `line`) are not UTF-8."""

    def __init__(self, line: int, byte: int) -> None:
        super().__init__(f"not UTF-8 at line {line}, byte {byte}")
        self.line, self.byte = line, byte


#: What is wrong where a text stops being JSON, for a user (the parser's own reason is English and technical).
BROKEN_SYNTAX = "thiếu hoặc thừa dấu phẩy, ngoặc hay dấu nháy (tệp bị cắt dở hoặc bị sửa tay?)"


class NotJson(ValueError):
    """The text stops being JSON at `line`, `column` (1-based) and `byte`, for the reason `msg` (English, for the log)
    and `why` (in Vietnamese, for the user)."""

    def __init__(self, msg: str, line: int, column: int, byte: int, why: str = BROKEN_SYNTAX) -> None:
        super().__init__(f"{msg}: line {line} column {column} (byte {byte})")
        self.msg, self.line, self.column, self.byte, self.why = msg, line, column, byte, why


class NotACollection(ValueError):
    """Valid JSON, but not an object with one `features` list."""


class _Constant(Exception):
    def __init__(self, name: str) -> None:
        self.name = name


def _refuse_constant(name: str) -> None:
    raise _Constant(name)


class _LongInteger(Exception):
    def __init__(self, digits: str) -> None:
        self.digits = digits


def _integer(digits: str) -> int:
    """The integer ``digits`` spell; one too long for Python to convert (``sys.get_int_max_str_digits``, 4,300 digits)
    is refused where it stands, like NaN (its ValueError was a server error)."""
    try:
        return int(digits)
    except ValueError:
        raise _LongInteger(digits) from None


class _Text:
    """The stream's text, decoded block by block; `buf[pos:]` is unread. Knows the line, column and byte of any
    position, including those of text already dropped."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self.buf, self.pos, self.eof = "", 0, False
        self._bytes_read = 0  # bytes taken from the stream
        self._newlines = 0  # line breaks in the text decoded so far
        self._line, self._column, self._byte = 1, 0, 0  # of buf[0] (column 0-based)

    def more(self, size: int | None = None) -> bool:
        """Drop the read text and append up to `size` bytes more (a block); False at the end of the stream."""
        if self.eof:
            return False
        first = self._bytes_read == 0
        data = self._stream.read(max(size or BLOCK, len(codecs.BOM_UTF8) if first else 0))
        end = not data
        if first and data.startswith(codecs.BOM_UTF8):
            data, self._byte, self._bytes_read = data[len(codecs.BOM_UTF8) :], len(codecs.BOM_UTF8), 3
        pending = self._decoder.getstate()[0]
        start = self._bytes_read - len(pending)  # byte offset of pending + data
        self._bytes_read += len(data)
        try:
            text = self._decoder.decode(data, final=end)
        except UnicodeDecodeError as exc:
            raise NotUtf8(self._newlines + (pending + data)[: exc.start].count(b"\n") + 1, start + exc.start) from None
        self._newlines += text.count("\n")
        self._drop()
        self.buf += text
        self.eof = end
        return not end

    def _drop(self) -> None:
        done = self.buf[: self.pos]
        breaks = done.count("\n")
        self._line += breaks
        self._column = len(done) - done.rfind("\n") - 1 if breaks else self._column + len(done)
        self._byte += len(done.encode("utf-8"))
        self.buf, self.pos = self.buf[self.pos :], 0

    def error(self, msg: str, at: int, why: str = BROKEN_SYNTAX) -> NotJson:
        """The error `msg` (`why`, in Vietnamese) at `buf[at]`."""
        before = self.buf[:at]
        newline = before.rfind("\n")
        column = at - newline if newline >= 0 else self._column + at + 1
        return NotJson(msg, self._line + before.count("\n"), column, self._byte + len(before.encode("utf-8")), why)

    def next_char(self) -> str:
        """The next character that is not white space ("" at the end), left unread."""
        while True:
            # The pattern matches at every position (maybe nothing).
            self.pos = _SPACE.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return ""

    def take(self, char: str, msg: str) -> None:
        """Read `char` as the next character, or fail with `msg` there."""
        if self.next_char() != char:
            raise self.error(msg, self.pos)
        self.pos += 1

    def value(self, decoder: json.JSONDecoder) -> object:
        """The JSON value at `pos`, read whole (more text read while it is incomplete)."""
        size = BLOCK
        while True:
            try:
                value, end = decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                # An unterminated string is told where it starts: its end may lie in the next blocks.
                cut = exc.msg.startswith("Unterminated string") or exc.pos >= len(self.buf) - _CUT_MARGIN
                if not cut or self.eof or len(self.buf) - self.pos > MAX_VALUE:
                    raise self.error(exc.msg, exc.pos) from None
                self.more(size)
                size *= 2  # a value longer than a block is re-read a few times, not once per block
                continue
            except RecursionError:
                # Arrays or objects nested thousands deep (no GeoJSON is): the scanner recurses once per level.
                raise self.error("nested too deeply", self.pos, "dữ liệu lồng nhau quá nhiều tầng") from None
            except _Constant as constant:
                token = next(m for m in _TOKEN.finditer(self.buf, self.pos) if m.group() == constant.name)
                raise self.error(
                    f"{constant.name} is not a JSON number: expected a number",
                    token.start(),
                    f"«{constant.name}» không phải một số: hãy ghi số hoặc để trống",
                ) from None
            except _LongInteger as long:
                raise self.error(
                    "integer too long", self.buf.index(long.digits, self.pos), "có một số dài quá nhiều chữ số"
                ) from None
            if end == len(self.buf) and self.more():  # a number may go on in the next block
                continue
            self.pos = end
            return value


def features(stream: BinaryIO) -> Iterator[object]:
    """Each element of the `features` list of the JSON object in `stream`, in order, as soon as it is read.

    Raises NotUtf8, NotJson (where and why the text stops being JSON, also after features already given) or
    NotACollection (valid JSON that is not an object with exactly one `features` list).
    """
    text = _Text(stream)
    decoder = json.JSONDecoder(parse_constant=_refuse_constant, parse_int=_integer)
    first = text.next_char()
    if first != "{":
        if first and first in _OTHER_VALUE:
            raise NotACollection
        raise text.error("Expecting value", text.pos)
    text.pos += 1
    lists = 0
    if text.next_char() == "}":
        raise NotACollection
    while True:
        if text.next_char() != '"':
            raise text.error("Expecting property name enclosed in double quotes", text.pos)
        key = text.value(decoder)
        text.take(":", "Expecting ':' delimiter")
        if key == "features" and text.next_char() == "[":
            lists += 1
            text.pos += 1
            if text.next_char() == "]":
                text.pos += 1
            else:
                while True:
                    text.next_char()
                    yield text.value(decoder)
                    if text.next_char() != ",":
                        text.take("]", "Expecting ',' delimiter")
                        break
                    text.pos += 1
        else:
            text.next_char()
            member = text.value(decoder)
            if key == "features":
                raise NotACollection(f"features is a {type(member).__name__}")
        if text.next_char() != ",":
            text.take("}", "Expecting ',' delimiter")
            break
        text.pos += 1
    if text.next_char():
        raise text.error("Extra data", text.pos)
    if lists != 1:
        raise NotACollection
