"""Photo evidence from the field: checked by size, by magic bytes and by decoding, with its location removed.

Phones write the place a photo was taken into its metadata (EXIF GPS, and often XMP). A team may choose
to keep it; otherwise it is removed **without re-encoding the image** (the evidence's pixels stay exactly
as taken): the metadata segments of a JPEG, the chunks of a PNG or WebP are rewritten, the image data is
copied byte for byte. Only JPEG, PNG and WebP are accepted (what phone cameras and browsers produce).
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from gis.io.exports import vn_megabytes
from models.errors import InvalidInput

#: Media type of each accepted format, found by its magic bytes (never by the file name or declared type).
MEDIA_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
#: Images larger than this are refused before decoding (a decompression bomb is small on the wire).
MAX_PIXELS = 40_000_000
GPS_IFD = 0x8825
#: The longest side in pixels of a photo's preview (a history's thumbnail is 160 CSS px wide: sharp on a 2× screen).
PREVIEW_SIDE = 320
_XMP_JPEG = b"http://ns.adobe.com/xap/1.0/\x00"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: What PIL's EXIF parser and the chunk walkers below raise on metadata the image decoder never reads (a broken TIFF
#: header in the EXIF block, a chunk cut short after the image): the photo is refused as damaged, not a server error.
_DAMAGED_METADATA = (struct.error, SyntaxError, ValueError, LookupError, TypeError, OSError, EOFError)


@dataclass(frozen=True)
class Photo:
    """An accepted photo: the bytes to store, their media type and size in pixels, and what was done about location."""

    content: bytes
    media_type: str
    width: int
    height: int
    had_location: bool
    location_kept: bool


def sniff(data: bytes) -> str | None:
    """The format a file's first bytes announce (JPEG, PNG, WEBP), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(_PNG_SIGNATURE):
        return "PNG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def accept_photo(data: bytes, *, max_bytes: int, keep_location: bool, size: int | None = None) -> Photo:
    """Check a photo (size, type by magic bytes, a complete decodable image of sane size) and, unless the team keeps
    it, remove the place it was taken from its metadata. Raises InvalidInput with the reason in Vietnamese.
    ``size``: the whole file's size when ``data`` was read only up to just past the limit."""
    if not data:
        raise InvalidInput("tệp ảnh rỗng", "empty file")
    if len(data) > max_bytes:
        whole = max(size or 0, len(data))
        raise InvalidInput(
            f"ảnh quá lớn: {vn_megabytes(whole, over=max_bytes)}, tối đa {vn_megabytes(max_bytes)}",
            f"photo larger than {max_bytes} bytes",
        )
    kind = sniff(data)
    if kind is None:
        raise InvalidInput("chỉ nhận ảnh JPEG, PNG hoặc WebP", "not a JPEG, PNG or WebP file (magic bytes)")
    width, height = _check_decodes(data, kind)
    try:
        had_location = _has_location(data)
        content = data if keep_location else strip_location(data, kind)
    except _DAMAGED_METADATA as error:
        raise InvalidInput(
            "tệp ảnh hỏng: không đọc được thông tin kèm ảnh (EXIF) hoặc phần cuối tệp", f"damaged metadata: {error}"
        ) from None
    return Photo(content, MEDIA_TYPES[kind], width, height, had_location, keep_location and had_location)


def _check_decodes(data: bytes, kind: str) -> tuple[int, int]:
    """Decode the whole image (a truncated or forged file fails) and return its size in pixels."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != kind:
                raise InvalidInput("nội dung ảnh không khớp định dạng", f"content is {image.format}, not {kind}")
            if image.width * image.height > MAX_PIXELS:
                raise InvalidInput(
                    f"ảnh quá nhiều điểm ảnh ({image.width}×{image.height})", "too many pixels (decompression bomb?)"
                )
            image.load()
            return image.width, image.height
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise InvalidInput("tệp ảnh hỏng hoặc không đọc được", f"unreadable image: {error}") from None


def preview(content: bytes) -> bytes:
    """A small JPEG of a stored photo for a history's thumbnail: at most PREVIEW_SIDE pixels a side, turned as its
    EXIF orientation says, without any metadata (no place). A phone on a weak network fetched the whole photo, several
    MB, for each thumbnail — the one it had just sent, too, crowding out its next requests."""
    with Image.open(io.BytesIO(content)) as image:
        image.draft("RGB", (PREVIEW_SIDE, PREVIEW_SIDE))  # a JPEG decoded at 1/2 to 1/8 of its size: fast, small
        small = ImageOps.exif_transpose(image).convert("RGB")
    small.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def _has_location(data: bytes) -> bool:
    """Whether the photo's EXIF holds GPS data (XMP places are also removed, but not reported)."""
    with Image.open(io.BytesIO(data)) as image:
        return bool(image.getexif().get_ifd(GPS_IFD))


def strip_location(data: bytes, kind: str) -> bytes:
    """The same image without GPS in its EXIF and without XMP; the image data itself is copied unchanged."""
    if kind == "JPEG":
        return _strip_jpeg(data)
    if kind == "PNG":
        return _strip_png(data)
    return _strip_webp(data)


def _without_gps(exif_payload: bytes) -> bytes:
    """An EXIF block (with its "Exif\\0\\0" header) re-serialised without the GPS directory."""
    exif = Image.Exif()
    exif.load(exif_payload)
    exif.get_ifd(GPS_IFD)  # loaded, so that deleting drops the directory rather than only the pointer
    if GPS_IFD in exif:
        del exif[GPS_IFD]
    return exif.tobytes()


def _jpeg_segments(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(marker, whole segment bytes) of a JPEG up to the start of scan; then (0xDA, the rest of the file)."""
    position = 2
    while position < len(data):
        if data[position] != 0xFF:
            raise InvalidInput("tệp JPEG hỏng", "malformed JPEG segment")
        marker = data[position + 1]
        if marker == 0xDA:  # start of scan: the entropy-coded image follows, copied as it is
            yield marker, data[position:]
            return
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        yield marker, data[position : position + 2 + length]
        position += 2 + length


def _strip_jpeg(data: bytes) -> bytes:
    out = [data[:2]]
    for marker, segment in _jpeg_segments(data):
        payload = segment[4:]
        if marker == 0xE1 and payload.startswith(b"Exif\x00\x00"):
            exif = _without_gps(payload)
            segment = b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif
        elif marker == 0xE1 and payload.startswith(_XMP_JPEG):
            continue
        out.append(segment)
    return b"".join(out)


def _strip_png(data: bytes) -> bytes:
    out, position = [_PNG_SIGNATURE], len(_PNG_SIGNATURE)
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        chunk_type = data[position + 4 : position + 8]
        chunk = data[position : position + 12 + length]
        body = chunk[8:-4]
        if chunk_type == b"eXIf":
            exif = _without_gps(b"Exif\x00\x00" + body)[6:]
            chunk = struct.pack(">I", len(exif)) + b"eXIf" + exif + struct.pack(">I", zlib.crc32(b"eXIf" + exif))
        elif chunk_type == b"iTXt" and body.startswith(b"XML:com.adobe.xmp\x00"):
            chunk = b""
        out.append(chunk)
        position += 12 + length
    return b"".join(out)


def _strip_webp(data: bytes) -> bytes:
    chunks, position = [], 12
    while position < len(data):
        chunk_type = data[position : position + 4]
        (length,) = struct.unpack("<I", data[position + 4 : position + 8])
        body = data[position + 8 : position + 8 + length]
        position += 8 + length + (length & 1)
        if chunk_type == b"EXIF":
            header = b"Exif\x00\x00" if body.startswith(b"Exif\x00\x00") else b""
            body = _without_gps(b"Exif\x00\x00" + body[len(header) :])[6:]
        elif chunk_type == b"XMP ":
            continue
        elif chunk_type == b"VP8X":
            body = bytes([body[0] & ~0x04]) + body[1:]  # no XMP any more (the EXIF flag stays: EXIF stays)
        chunks.append(chunk_type + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) & 1 else b""))
    payload = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(payload)) + payload
