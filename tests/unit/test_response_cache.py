"""The in-process response cache: LRU bounded in bytes, one build per key under concurrency, failures not kept."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from api.cache import CachedResponse, ResponseCache


def body(n: int, fill: bytes = b"x") -> CachedResponse:
    return CachedResponse(fill * n, "application/octet-stream")


def test_least_recently_used_entries_leave_first_within_the_byte_budget() -> None:
    cache = ResponseCache(max_bytes=1000)
    for key in "abcd":
        cache.get_or_build(key, lambda: body(250))
    cache.get_or_build("a", lambda: pytest.fail("a is cached"))  # a is now the most recent
    cache.get_or_build("e", lambda: body(250))  # 1250 bytes > 1000: b, the least recent, goes
    built = []
    cache.get_or_build("b", lambda: built.append("b") or body(250))
    assert built == ["b"]
    assert cache.get_or_build("a", lambda: pytest.fail("a is still cached")).body == b"x" * 250


def test_an_answer_too_large_for_the_cache_is_served_but_not_kept() -> None:
    cache = ResponseCache(max_bytes=400)
    assert cache.get_or_build("big", lambda: body(200)).body == b"x" * 200
    built = []
    cache.get_or_build("big", lambda: built.append(1) or body(200))
    assert built == [1]


def test_concurrent_requests_for_a_missing_key_build_it_once() -> None:
    cache = ResponseCache(max_bytes=10_000)
    calls = []
    arrived = threading.Barrier(8)
    everyone_asked = threading.Event()

    def slow() -> CachedResponse:
        calls.append(threading.get_ident())
        everyone_asked.wait(timeout=30)  # keep the build open until all eight requests have asked for the key
        return body(10, b"y")

    def ask(_: int) -> bytes:
        if arrived.wait() == 0:
            threading.Timer(0.05, everyone_asked.set).start()  # the others are on their way into get_or_build
        return cache.get_or_build("k", slow).body

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, range(8)))
    assert len(calls) == 1 and answers == [b"y" * 10] * 8
    assert cache.misses == 1 and cache.hits == 7


def test_a_failed_build_is_not_kept_and_the_next_request_builds_again() -> None:
    cache = ResponseCache(max_bytes=10_000)

    def fail() -> CachedResponse:
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        cache.get_or_build("k", fail)
    assert cache.get_or_build("k", lambda: body(3)).body == b"xxx"


def test_a_zero_budget_turns_caching_off() -> None:
    cache = ResponseCache(max_bytes=0)
    built = []
    for _ in range(3):
        cache.get_or_build("k", lambda: built.append(1) or body(3))
    assert len(built) == 3


def test_a_memo_is_trusted_for_its_delay_and_forgotten_at_once() -> None:
    from api.cache import Memo

    now, reads = [0.0], []
    memo: Memo[int] = Memo(2.0, clock=lambda: now[0])
    read = lambda: reads.append(1) or len(reads)  # noqa: E731 - each read answers a new value
    assert (memo.get(read), memo.get(read)) == (1, 1)
    now[0] = 1.99
    assert memo.get(read) == 1
    now[0] = 2.0
    assert memo.get(read) == 2  # too old: read again
    memo.forget()
    assert memo.get(read) == 3
    assert Memo(0).get(read) == 4 and len(reads) == 4  # 0: never remembered


def test_a_value_read_while_it_was_forgotten_is_not_kept() -> None:
    from api.cache import Memo

    memo: Memo[str] = Memo(60.0)

    def stale() -> str:
        memo.forget()  # another request committed a change while this one was reading
        return "stale"

    assert memo.get(stale) == "stale"
    assert memo.get(lambda: "fresh") == "fresh"


def test_a_remembered_token_still_expires_and_a_refused_one_is_never_remembered(monkeypatch) -> None:  # noqa: ANN001
    import time

    import api.security as security

    key = "k" * 40
    token = security.create_access_token(7, "s-1", key, 30)
    assert security.decode_access_token(token, key) == security.TokenClaims(7, "s-1")
    assert security._verified.cache_info().currsize >= 1
    later = time.time() + 30 * 60 + 1
    monkeypatch.setattr(security.time, "time", lambda: later)
    with pytest.raises(security.InvalidToken, match="expired"):
        security.decode_access_token(token, key)
    monkeypatch.undo()
    before = security._verified.cache_info().currsize
    for wrong in (token + "x", token.replace(".", ".x", 1)):
        with pytest.raises(security.InvalidToken):
            security.decode_access_token(wrong, key)
    with pytest.raises(security.InvalidToken):
        security.decode_access_token(token, "another key" * 4)
    assert security._verified.cache_info().currsize == before
