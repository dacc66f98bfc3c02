"""Caches of computed map responses (tiles, heat, Gi*, emerging) and of the city-wide analyses behind them, keyed by
the data they derive from.

Keys carry the data versions that triggers raise on every change of incidents and team areas
(gis/data_versions.py), so an import makes every older entry unreachable at once and it ages out of
the LRU. Concurrent requests for the same missing key wait for one computation instead of all
repeating it (a command room opening the same map after an import).

Responses have two levels: each process's LRU, then, with DIABAN_CACHE_URL, a Redis shared by every app server
(:class:`RedisStore`), so that a tile one server computed is a hit on the others, and one computation per missing
key holds across servers (a lock key taken with SET NX). Measured by bench/bench_cache.py (see the README): a hit in
the process costs 1–2 µs, a Redis get over loopback about 0.1 ms for a tile and 0.2 ms for a heat overlay, a read
of the same body from a PostgreSQL UNLOGGED table 1.5–2.7 times as long for a tile and 10–25 times for a heat
overlay, on the one primary every server shares — hence Redis, behind the in-process level. Redis down or
unreachable fails no request: the server computes, logs the outage once and tries Redis again every few seconds.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, TypeVar
from urllib.parse import urlsplit

import redis
from fastapi import Request, Response

log = logging.getLogger("diaban.cache")

V = TypeVar("V")


@dataclass(frozen=True)
class CachedResponse:
    """What is kept of a response: body, media type, headers and status."""

    body: bytes
    media_type: str
    headers: dict[str, str] = field(default_factory=dict)
    status_code: int = 200

    def response(self) -> Response:
        """A fresh response object with the kept body, headers and status."""
        return Response(self.body, status_code=self.status_code, media_type=self.media_type, headers=self.headers)


class LruCache(Generic[V]):
    """A thread-safe LRU bounded in bytes (``size`` of each value), with one computation per missing key."""

    def __init__(self, max_bytes: int, size: Callable[[V], int]) -> None:
        self.max_bytes = max_bytes
        self.size = size
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._pending: dict[Hashable, threading.Event] = {}
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_build(self, key: Hashable, build: Callable[[], V]) -> V:
        """The cached value of ``key``, else build it (once, however many requests ask at the same time)."""
        if self.max_bytes <= 0:
            return build()
        while True:
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    self.hits += 1
                    return self._items[key]
                waiting = self._pending.get(key)
                if waiting is None:
                    self._pending[key] = threading.Event()
                    self.misses += 1
                    break
            waiting.wait()  # another request is building it; if that one failed, the loop builds it here
        try:
            value = build()
            self._store(key, value)
            return value
        finally:
            with self._lock:
                self._pending.pop(key).set()

    def _store(self, key: Hashable, value: V) -> None:
        size = self.size(value)
        if size > self.max_bytes // 4:  # one answer may not push out most of the others
            return
        with self._lock:
            self._items[key] = value
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, evicted = self._items.popitem(last=False)
                self._bytes -= self.size(evicted)


class RedisStore:
    """The level shared by every app server: Redis, keys of bytes to values of bytes, each kept ``ttl_s`` seconds.

    A failure to reach Redis (down, refused, slower than ``timeout_s``) is logged once and then Redis is left alone for
    ``retry_s`` seconds: reads miss, writes are skipped, every lock is granted (each server computes for itself), and
    no request waits on a dead server more than once per ``retry_s``. The first success after an outage is logged too.
    """

    def __init__(self, url: str, ttl_s: float = 86_400, timeout_s: float = 0.5, retry_s: float = 5.0) -> None:
        parts = urlsplit(url)
        self.where = f"{parts.hostname}:{parts.port or 6379}"  # for the log: never the URL's password
        self.ttl_ms = int(ttl_s * 1000)
        self.retry_s = retry_s
        self._client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
        self._down_until: float | None = None  # set while Redis is considered down
        self._lock = threading.Lock()

    def get(self, key: bytes) -> bytes | None:
        """The value stored under ``key``, else None (absent, or Redis unreachable)."""
        return self._call(lambda: self._client.get(key), None)  # type: ignore[return-value]

    def set(self, key: bytes, value: bytes) -> None:
        """Store ``value`` under ``key`` for the store's lifetime (skipped while Redis is unreachable)."""
        self._call(lambda: self._client.set(key, value, px=self.ttl_ms), None)

    def claim(self, key: bytes, ttl_s: float) -> bool:
        """Take the lock ``key`` for at most ``ttl_s`` seconds if nobody holds it; True when taken (or Redis is
        unreachable: then nobody coordinates and the caller computes)."""
        return bool(self._call(lambda: self._client.set(key, b"1", nx=True, px=int(ttl_s * 1000)), True))

    def release(self, key: bytes) -> None:
        """Drop the lock ``key``."""
        self._call(lambda: self._client.delete(key), None)

    def held(self, key: bytes) -> bool:
        """Whether the lock ``key`` is held (False when Redis is unreachable)."""
        return bool(self._call(lambda: self._client.exists(key), False))

    def _call(self, op: Callable[[], object], fallback: object) -> object:
        with self._lock:
            if self._down_until is not None and time.monotonic() < self._down_until:
                return fallback
        try:
            result = op()
        except redis.RedisError as exc:
            with self._lock:
                if self._down_until is None:
                    log.warning(
                        "shared cache %s unreachable (%s): computing without it, retrying every %.0f s",
                        self.where,
                        exc,
                        self.retry_s,
                    )
                self._down_until = time.monotonic() + self.retry_s
            return fallback
        if self._down_until is not None:
            with self._lock:
                if self._down_until is not None:
                    self._down_until = None
                    log.warning("shared cache %s reachable again", self.where)
        return result


def encode(value: CachedResponse) -> bytes:
    """A response as bytes for the shared store: the length of a JSON head (status, media type, headers), the head,
    then the body as it is."""
    head = json.dumps([value.status_code, value.media_type, value.headers]).encode()
    return struct.pack(">I", len(head)) + head + value.body


def decode(data: bytes) -> CachedResponse:
    """The response :func:`encode` stored."""
    (length,) = struct.unpack_from(">I", data)
    status_code, media_type, headers = json.loads(data[4 : 4 + length])
    return CachedResponse(data[4 + length :], media_type, headers, status_code)


class CacheSource(StrEnum):
    """Where an answer came from (the ``X-Diaban-Cache`` header): this process's memory, the shared store, or a
    computation."""

    LOCAL = "local"
    SHARED = "shared"
    BUILT = "built"


#: Response header naming the :class:`CacheSource` of a cached route's answer.
SOURCE_HEADER = "X-Diaban-Cache"
#: Namespace of the keys in the shared store: another release may encode answers differently.
_NAMESPACE = b"diaban:1:"


class ResponseCache(LruCache[CachedResponse]):
    """The cache of response bodies (tiles, heat, Gi*, emerging answers): this process's LRU of ``max_bytes``, then
    the ``shared`` store if there is one.

    A key missing from both is computed once across servers: the first server takes a lock key in the shared store,
    the others poll for the value while the lock is held (at most ``lock_s`` seconds: a server killed in the middle
    holds no one up longer), then compute for themselves.
    """

    def __init__(self, max_bytes: int, shared: RedisStore | None = None, lock_s: float = 10.0) -> None:
        super().__init__(max_bytes, lambda value: len(value.body))
        self.shared = shared
        self.lock_s = lock_s
        self.shared_hits = 0

    def lookup(self, key: Hashable, build: Callable[[], CachedResponse]) -> tuple[CachedResponse, CacheSource]:
        """The answer for ``key`` and where it came from."""
        source = CacheSource.LOCAL

        def from_shared() -> CachedResponse:
            nonlocal source
            value, source = self._shared_or_build(digest(key), build)
            return value

        return self.get_or_build(key, from_shared), source

    def _shared_or_build(self, name: bytes, build: Callable[[], CachedResponse]) -> tuple[CachedResponse, CacheSource]:
        store = self.shared
        if store is None:
            return build(), CacheSource.BUILT
        key, lock = _NAMESPACE + b"r:" + name, _NAMESPACE + b"l:" + name
        found = store.get(key)
        if found is None and not store.claim(lock, self.lock_s):
            found = self._await(store, key, lock)
            if found is None:  # the other server failed, was killed or did not store it: compute here
                return build(), CacheSource.BUILT
        if found is not None:
            self.shared_hits += 1
            return decode(found), CacheSource.SHARED
        try:
            value = build()
            store.set(key, encode(value))
        finally:
            store.release(lock)
        return value, CacheSource.BUILT

    def _await(self, store: RedisStore, key: bytes, lock: bytes) -> bytes | None:
        """The value another server is computing, polled while its lock is held (10 ms, doubling up to 100 ms)."""
        deadline, pause = time.monotonic() + self.lock_s, 0.01
        while time.monotonic() < deadline:
            time.sleep(pause)
            found = store.get(key)
            if found is not None or not store.held(lock):
                return found
            pause = min(pause * 2, 0.1)
        return None


def digest(key: Hashable) -> bytes:
    """A cache key as 32 hex characters, the same in every process (the key's repr: tuples of numbers, strings,
    dates and frozen dataclasses of them, none of which depends on the process's hash seed)."""
    return hashlib.sha256(repr(key).encode()).hexdigest()[:32].encode()


#: Cached answers from this size on are kept gzip-compressed at this level, compressed once when built: level 6 is
#: about a fifth smaller than the level-1 compression of every answer on the way out (api/app.py), for a few times its
#: CPU, spent once per version of the data. Hải Phòng's communes at 20 m: 130 → 110 KB on the wire (the national
#: 3,321 units: see the README's *Web pages*). Smaller answers (most tiles) stay as they are.
PACK_FROM_BYTES = 16 * 1024
PACK_LEVEL = 6


def packed(value: CachedResponse) -> CachedResponse:
    """``value`` kept gzip-compressed (``Content-Encoding: gzip``) when it is large enough to gain, else (an image: PNG
    is compressed already) as it is."""
    if len(value.body) < PACK_FROM_BYTES or value.status_code != 200 or value.media_type.startswith("image/"):
        return value
    headers = {**value.headers, "Content-Encoding": "gzip"}
    return CachedResponse(gzip.compress(value.body, PACK_LEVEL, mtime=0), value.media_type, headers, value.status_code)


def cached_response(
    request: Request, cache: ResponseCache, key: Hashable, build: Callable[[], CachedResponse]
) -> Response:
    """The response for ``key`` from the cache (built once, kept :func:`packed`), with an ETag the browser
    revalidates: 304 if unchanged; a client that takes no gzip gets the body uncompressed.

    The key holds the data versions, so the ETag changes exactly when the data behind the answer does.
    """
    headers = {"ETag": '"' + digest(key).decode() + '"', "Cache-Control": "private, no-cache"}
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    value, source = cache.lookup(key, lambda: packed(build()))
    if value.headers.get("Content-Encoding") == "gzip":
        headers["Vary"] = "Accept-Encoding"
        if "gzip" not in request.headers.get("accept-encoding", ""):  # the rule of the gzip middleware (api/app.py)
            plain = {name: v for name, v in value.headers.items() if name != "Content-Encoding"}
            value = CachedResponse(gzip.decompress(value.body), value.media_type, plain, value.status_code)
    response = value.response()
    response.headers.update(headers)
    response.headers[SOURCE_HEADER] = source
    return response


class Memo(Generic[V]):
    """One value trusted for ``ttl_s`` seconds, then read again (0: always read); :meth:`forget` drops it at once.

    The data versions behind the cache keys: reading them cost every map request a statement (0.3–0.5 ms and a
    round trip); remembered, a warm tile request runs only the tile's own statement.
    """

    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._value: tuple[V, float] | None = None
        self._generation = 0  # raised by forget: a value read before it is not kept
        self._lock = threading.Lock()

    def get(self, read: Callable[[], V]) -> V:
        """The remembered value while fresh, else ``read()`` (remembered from now)."""
        with self._lock:
            remembered = self._remembered()
            if remembered is not None:
                return remembered
            generation = self._generation
        value = read()
        if self.ttl_s > 0:
            with self._lock:
                if generation == self._generation:
                    self._value = (value, self._clock() + self.ttl_s)
        return value

    def fresh(self) -> V | None:
        """The remembered value while fresh, else None (without reading: the caller reads in a worker thread)."""
        with self._lock:
            return self._remembered()

    def _remembered(self) -> V | None:
        """The value while fresh (the caller holds the lock)."""
        if self._value is not None and self._value[1] > self._clock():
            return self._value[0]
        return None

    def forget(self) -> None:
        """Drop the remembered value (this process just changed what it depends on)."""
        with self._lock:
            self._value = None
            self._generation += 1
