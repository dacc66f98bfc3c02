"""The cost of a password hash comes from the settings (PasswordSettings): argon2-cffi's by default, what
DIABAN_PASSWORD_HASH_* say otherwise (the test suite lowers it, tests/conftest.py)."""

from collections.abc import Iterator

import pytest

from api import security
from models.errors import SettingError


@pytest.fixture
def fresh_hasher() -> Iterator[None]:
    """The hasher made again from the environment as a test sets it, and again after it."""
    security._hasher.cache_clear()
    yield
    security._hasher.cache_clear()


def test_a_hash_is_made_at_the_configured_cost_and_checked_at_its_own(
    fresh_hasher: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DIABAN_PASSWORD_HASH_TIME_COST", raising=False)
    monkeypatch.delenv("DIABAN_PASSWORD_HASH_MEMORY_KIB", raising=False)
    stored = security.hash_password("mật-khẩu-dài")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")  # argon2-cffi's default, RFC 9106
    security._hasher.cache_clear()
    monkeypatch.setenv("DIABAN_PASSWORD_HASH_TIME_COST", "2")
    monkeypatch.setenv("DIABAN_PASSWORD_HASH_MEMORY_KIB", "19456")
    assert security.hash_password("mật-khẩu-dài").startswith("$argon2id$v=19$m=19456,t=2,p=4$")
    # A hash made at another cost still opens: its cost is written in it.
    assert security.verify_password("mật-khẩu-dài", stored) and not security.verify_password("sai", stored)


def test_a_cost_below_the_floor_is_refused_by_name(fresh_hasher: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIABAN_PASSWORD_HASH_MEMORY_KIB", "512")
    with pytest.raises(SettingError, match="DIABAN_PASSWORD_HASH_MEMORY_KIB"):
        security.hash_password("mật-khẩu-dài")
