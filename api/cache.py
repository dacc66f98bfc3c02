"""In-process caches of computed map responses (tiles, heat, Gi*, emerging) and of the city-wide analyses behind
them, keyed by the data they derive from.

Keys carry the data versions that triggers raise on every change of incidents and team areas
(gis/data_versions.py), so an import makes every older entry unreachable at once and it ages out of
the LRU. Concurrent requests for the same missing key wait for one computation instead of all
repeating it (a command room opening the same map after an import).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from fastapi import Request, Response

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


class ResponseCache(LruCache[CachedResponse]):
    """The cache of response bodies (tiles, heat, Gi*, emerging answers)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(max_bytes, lambda value: len(value.body))


def cached_response(
    request: Request, cache: ResponseCache, key: Hashable, build: Callable[[], CachedResponse]
) -> Response:
    """The response for ``key`` from the cache (built once), with an ETag the browser revalidates: 304 if unchanged.

    The key holds the data versions, so the ETag changes exactly when the data behind the answer does.
    """
    etag = '"' + hashlib.sha256(repr(key).encode()).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    response = cache.get_or_build(key, build).response()
    response.headers.update(headers)
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
            if self._value is not None and self._value[1] > self._clock():
                return self._value[0]
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
            if self._value is not None and self._value[1] > self._clock():
                return self._value[0]
            return None

    def forget(self) -> None:
        """Drop the remembered value (this process just changed what it depends on)."""
        with self._lock:
            self._value = None
            self._generation += 1
