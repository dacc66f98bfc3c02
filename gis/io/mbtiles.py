"""An offline raster basemap from an MBTiles file (a unit's own tiles on a closed network, DIABAN_BASEMAP_PATH).

MBTiles 1.3 is a single SQLite file: ``metadata(name, value)`` and ``tiles(zoom_level, tile_column, tile_row,
tile_data)`` with rows counted from the south (TMS); the map asks for XYZ rows counted from the north. The file is
opened read-only once and shared by the server's threads (one lock: a lookup is one indexed read).
"""

from __future__ import annotations

import hashlib
import io
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from models.errors import InvalidInput

#: Raster formats a browser draws as an <img> tile, and their media types.
RASTER_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}


def _empty_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (256, 256), (0, 0, 0, 0)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


#: Served where the file has no tile (outside its area or zooms): transparent, so the app's own base shows through.
EMPTY_TILE = _empty_png()


@dataclass(frozen=True)
class TileAnswer:
    """A tile's bytes, media type and validator (ETag)."""

    data: bytes
    media_type: str
    etag: str


class MBTiles:
    """A read-only raster MBTiles file."""

    def __init__(self, path: Path) -> None:
        path = Path(path)
        if not path.is_file():
            raise InvalidInput(
                f"không tìm thấy tệp bản đồ nền offline {path} (DIABAN_BASEMAP_PATH)", f"basemap file {path} not found"
            )
        try:
            self._db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
            self.metadata = dict(self._db.execute("SELECT name, value FROM metadata").fetchall())
            self._db.execute("SELECT 1 FROM tiles LIMIT 1").fetchall()
        except sqlite3.DatabaseError as error:
            raise InvalidInput(
                f"tệp bản đồ nền {path} không phải tệp MBTiles đọc được",
                f"{path} is not a readable MBTiles file: {error}",
            ) from error
        fmt = self.metadata.get("format", "png").lower()
        if fmt not in RASTER_TYPES:
            raise InvalidInput(
                f"tệp bản đồ nền {path} có định dạng ô «{fmt}»; chỉ dùng được ảnh PNG, JPEG hoặc WebP",
                f"basemap tile format {fmt!r} is not a raster image",
            )
        self.media_type = RASTER_TYPES[fmt]
        stat = path.stat()
        self._version = f"{stat.st_size}-{stat.st_mtime_ns}"
        self._lock = threading.Lock()

    @property
    def attribution(self) -> str:
        """The file's own attribution (shown in the map corner), else its name."""
        return self.metadata.get("attribution") or self.metadata.get("name") or "bản đồ nền offline"

    @property
    def max_zoom(self) -> int | None:
        """The deepest zoom the file holds (the map enlarges its tiles beyond it)."""
        value = self.metadata.get("maxzoom")
        return int(value) if value not in (None, "") else None

    def tile(self, z: int, x: int, y: int) -> TileAnswer:
        """The tile at XYZ (z, x, y), or a transparent one where the file has none."""
        with self._lock:
            row = self._db.execute(
                "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                (z, x, 2**z - 1 - y),
            ).fetchone()
        data, media_type = (bytes(row[0]), self.media_type) if row else (EMPTY_TILE, "image/png")
        tag = hashlib.sha256(f"{self._version}|{z}/{x}/{y}|{bool(row)}".encode()).hexdigest()[:32]
        return TileAnswer(data, media_type, f'"{tag}"')
