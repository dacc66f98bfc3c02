"""The response cache's shared level on a real Redis started here: two caches stand for two server processes."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Iterator

import pytest

from api.cache import _NAMESPACE, CachedResponse, CacheSource, RedisStore, ResponseCache, decode, digest, encode
from gis.ops.redis import free_port, temporary_redis

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None,
    reason="redis-server is not installed (make test-system-deps installs Debian's redis-server)",
)

#: Timeout of a store that must answer: on a loaded test machine a slow answer is no outage.
UP_S = 10.0
TILE = CachedResponse(b"\x1a\x02tile", "application/vnd.mapbox-vector-tile", {"X-Incidents": "3"})


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with temporary_redis() as url:
        yield url


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def cache_log() -> Iterator[list[str]]:
    """The lines the shared cache logs (its own handler: the app's logging set-up stops ``diaban`` records from
    propagating to pytest's capture)."""
    logger, handler = logging.getLogger("diaban.cache"), _Lines()
    saved = logger.level
    logger.setLevel(logging.WARNING)
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)
    logger.setLevel(saved)


def _key() -> tuple:
    """A key no other test uses (the module shares one Redis)."""
    return ("tile", 12, 3261, 1805, time.monotonic_ns())


def test_an_answer_built_by_one_process_is_a_hit_in_another(redis_url: str) -> None:
    a, b = (
        ResponseCache(2**20, RedisStore(redis_url, timeout_s=UP_S)),
        ResponseCache(2**20, RedisStore(redis_url, timeout_s=UP_S)),
    )
    key, built = _key(), []
    assert a.lookup(key, lambda: built.append(1) or TILE) == (TILE, CacheSource.BUILT)
    assert a.lookup(key, lambda: built.append(1) or TILE) == (TILE, CacheSource.LOCAL)
    assert b.lookup(key, lambda: built.append(1) or TILE) == (TILE, CacheSource.SHARED)
    assert b.lookup(key, lambda: built.append(1) or TILE) == (TILE, CacheSource.LOCAL)
    assert built == [1] and b.shared_hits == 1


def test_status_media_type_headers_and_body_survive_the_store() -> None:
    for value in (TILE, CachedResponse(b"", "image/png", status_code=204), CachedResponse(b"\x00" * 70_000, "x/y")):
        assert decode(encode(value)) == value


def test_one_computation_per_missing_key_across_processes(redis_url: str) -> None:
    """A second process asking while the first computes waits for its answer instead of computing it again."""

    class Watched(RedisStore):
        refused = threading.Event()

        def claim(self, key: bytes, ttl_s: float) -> bool:
            taken = super().claim(key, ttl_s)
            if not taken:
                self.refused.set()
            return taken

    a, b = ResponseCache(0, Watched(redis_url, timeout_s=UP_S)), ResponseCache(0, Watched(redis_url, timeout_s=UP_S))
    key, builds, release = _key(), [], threading.Event()

    def slow() -> CachedResponse:
        builds.append(1)
        assert release.wait(30)
        return TILE

    first = threading.Thread(target=a.lookup, args=(key, slow))
    first.start()
    results: list = []
    second = threading.Thread(target=lambda: results.append(b.lookup(key, slow)))
    while not builds:  # the first process holds the lock and computes
        time.sleep(0.005)
    second.start()
    assert Watched.refused.wait(30)  # the second found the lock taken
    release.set()
    first.join(30)
    second.join(30)
    assert builds == [1] and results == [(TILE, CacheSource.SHARED)]


def test_a_lock_left_by_a_killed_server_delays_the_others_at_most_its_lifetime(redis_url: str) -> None:
    store = RedisStore(redis_url, timeout_s=UP_S)
    key = _key()
    assert store.claim(_NAMESPACE + b"l:" + digest(key), ttl_s=0.3)  # taken, never released
    cache = ResponseCache(0, store, lock_s=0.3)
    assert cache.lookup(key, lambda: TILE) == (TILE, CacheSource.BUILT)


def test_redis_down_fails_nothing_and_is_logged_once_then_its_return(cache_log: list[str]) -> None:
    port = free_port()
    # refused at once while down; once up, a loaded machine must not look like an outage
    cache = ResponseCache(0, RedisStore(f"redis://127.0.0.1:{port}/0", timeout_s=UP_S, retry_s=0))
    for _ in range(3):
        assert cache.lookup(_key(), lambda: TILE) == (TILE, CacheSource.BUILT)
    assert len(cache_log) == 1 and f"127.0.0.1:{port} unreachable" in cache_log[0]
    with temporary_redis(port):
        key = _key()
        assert cache.lookup(key, lambda: TILE) == (TILE, CacheSource.BUILT)
        assert cache.lookup(key, lambda: TILE) == (TILE, CacheSource.SHARED)  # stored in Redis this time
    assert len(cache_log) == 2 and "reachable again" in cache_log[1]


def test_while_redis_is_down_it_is_not_asked_again_before_the_retry_delay() -> None:
    port = free_port()
    store = RedisStore(f"redis://127.0.0.1:{port}/0", timeout_s=0.2, retry_s=3600)
    assert store.get(b"k") is None
    with temporary_redis(port):
        store_now_up = RedisStore(f"redis://127.0.0.1:{port}/0", timeout_s=UP_S)
        store_now_up.set(b"k", b"v")
        assert store.get(b"k") is None  # still considered down: no request pays a timeout per call
        assert store_now_up.get(b"k") == b"v"


def test_the_outage_line_names_the_server_not_its_password(cache_log: list[str]) -> None:
    port = free_port()
    assert RedisStore(f"redis://:hunter2@127.0.0.1:{port}/0", timeout_s=0.2).get(b"k") is None
    assert [f"127.0.0.1:{port} unreachable" in line and "hunter2" not in line for line in cache_log] == [True]
