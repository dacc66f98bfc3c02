"""Offline basemap files for the tests: a small MBTiles file made as a unit would (gdal_translate), tile by tile."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

from PIL import Image


def png(colour: tuple[int, int, int]) -> bytes:
    """A 256-pixel tile of one colour."""
    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def make_mbtiles(path: Path, tiles: dict[tuple[int, int, int], bytes], fmt: str = "png") -> Path:
    """An MBTiles 1.3 file: metadata (zooms from the tiles given) and tiles keyed by TMS rows."""
    zooms = [z for z, _, _ in tiles]
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        db.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
        db.executemany(
            "INSERT INTO metadata VALUES (?, ?)",
            [
                ("name", "Nền Hải Phòng"),
                ("format", fmt),
                ("minzoom", str(min(zooms, default=10))),
                ("maxzoom", str(max(zooms, default=12))),
                ("attribution", "Bản đồ nền của đơn vị"),
            ],
        )
        db.executemany(
            "INSERT INTO tiles VALUES (?, ?, ?, ?)", [(z, x, 2**z - 1 - y, data) for (z, x, y), data in tiles.items()]
        )
    return path
