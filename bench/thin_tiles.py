"""The thinnest HTTP server of our incident tiles, for bench_tiles.py (not part of the app): uvicorn and a bare ASGI
function that parses ``/{z}/{x}/{y}.mvt``, sends the same statement as ``diaban serve`` (gis.store.tiles, in the
scope of the province ``THIN_SCOPE_PROVINCE`` names, or of the whole country; with its access line at street zoom)
on one of its own async psycopg connections, and answers the bytes. No authentication, no framework, no thread, no
middleware: what any HTTP server of these tiles costs at least, so bench_tiles can show how much of the gap to the
SQL floor HTTP itself takes.

Run by bench_tiles.py: ``uvicorn thin_tiles:app --workers N`` with ``THIN_DATABASE_URL`` set.
"""

from __future__ import annotations

import asyncio
import os
import re

import psycopg

from gis.ops.postgres import libpq_url
from gis.store.access_log import AccessLine
from gis.store.scoping import AreaScope
from gis.store.selection import Where
from gis.store.tiles import incident_tile_statement

_PATH = re.compile(r"^/(\d+)/(\d+)/(\d+)\.mvt$")
_SCOPE = AreaScope(province_code=os.environ.get("THIN_SCOPE_PROVINCE") or None)
_LINE = AccessLine("bench", "command", "GET /tiles/incidents/{z}/{x}/{y}.mvt", {}, "127.0.0.1")
_idle: asyncio.Queue[psycopg.AsyncConnection] | None = None


async def _connection() -> psycopg.AsyncConnection:
    """One of the process's 16 connections, opened with its first request (waiting while all are busy)."""
    global _idle
    if _idle is None:
        _idle = asyncio.Queue()
        for _ in range(16):
            _idle.put_nowait(
                await psycopg.AsyncConnection.connect(libpq_url(os.environ["THIN_DATABASE_URL"]), autocommit=True)
            )
    return await _idle.get()


async def app(scope: dict, receive, send) -> None:  # type: ignore[no-untyped-def]
    """One tile per request; 404 for any other path."""
    if scope["type"] != "http":
        return
    match = _PATH.match(scope["path"])
    if match is None:
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    z, x, y = (int(v) for v in match.groups())
    sql, params = incident_tile_statement(z, x, y, _SCOPE, access=_LINE)
    conn = await _connection()
    try:
        row = await (await conn.execute(*Where([sql], params).pyformat())).fetchone()
    finally:
        assert _idle is not None
        _idle.put_nowait(conn)
    body = bytes(row[0] or b"") if row else b""
    headers = [(b"content-type", b"application/vnd.mapbox-vector-tile"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
