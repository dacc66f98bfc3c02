"""Passwords (argon2), the token signing key and short-lived HS256 access tokens naming a server-side session."""

from __future__ import annotations

import os
import secrets
import time
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gis.settings import PasswordSettings

ALGORITHM = "HS256"
SECRET_FILE = "secret_key"


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    """The argon2id hasher at the configured cost (PasswordSettings), made on first use."""
    settings = PasswordSettings()
    return PasswordHasher(time_cost=settings.password_hash_time_cost, memory_cost=settings.password_hash_memory_kib)


class InvalidToken(Exception):
    """The token is malformed, tampered with, expired or lacks a subject or a session."""


@dataclass(frozen=True)
class TokenClaims:
    """Who a valid token names: the user and the session it was issued for."""

    user_id: int
    session_id: str


def hash_password(password: str) -> str:
    """Argon2id hash of a password, in Unicode NFC: "mậtkhẩu" typed on a phone or a Mac may arrive decomposed (NFD),
    on Windows composed; both are the same password to the person typing it."""
    return _hasher().hash(unicodedata.normalize("NFC", password))


#: Characters of generated passwords: letters and digits that cannot be mistaken for one another when read aloud
#: or copied by hand (no 0/O, 1/l/I).
PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
GENERATED_PASSWORD_LENGTH = 14


def generate_password() -> str:
    """A random password for a new or reset account (14 characters: about 81 bits), shown once to the administrator."""
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(GENERATED_PASSWORD_LENGTH))


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """Verified against when the user does not exist, so unknown names take as long as wrong passwords."""
    return _hasher().hash("không-phải-mật-khẩu")


def verify_password(password: str, password_hash: str) -> bool:
    """Whether ``password`` matches the stored hash, in either Unicode form: NFC as hashed now, else as typed, for a
    hash made before passwords were normalised from a decomposed entry."""
    composed = unicodedata.normalize("NFC", password)
    return _verify(composed, password_hash) or (composed != password and _verify(password, password_hash))


def _verify(password: str, password_hash: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def resolve_secret_key(configured: str | None, home: Path) -> str:
    """The configured key (AuthSettings refuses one shorter than 32 bytes), else the one kept in ``home/secret_key``
    (created 0600 on first use)."""
    if configured:
        return configured
    path = home / SECRET_FILE
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        draft = home / f".{SECRET_FILE}.{os.getpid()}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)  # atomic: concurrent workers all end up with the first key written
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text(encoding="ascii").strip()


def create_access_token(user_id: int, session_id: str, secret: str, minutes: int, now: datetime | None = None) -> str:
    """Signed token naming the user and their session, valid for ``minutes`` (the session may end sooner)."""
    issued = now or datetime.now(UTC)
    claims = {"sub": str(user_id), "sid": session_id, "iat": issued, "exp": issued + timedelta(minutes=minutes)}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


@lru_cache(maxsize=4096)
def _verified(token: str, secret: str) -> tuple[TokenClaims, float]:
    """The claims and expiry (epoch seconds) of a token whose signature and claims check out; raises otherwise.

    Remembered per token: a map view sends the same token with dozens of tile requests, and PyJWT's checks cost
    0.2–0.4 ms a token (2 cores at load 5), a tenth of a warm tile's Python time. The signature of a given token
    under a given key never changes; the expiry is compared again on every use (decode_access_token). Refused
    tokens are not remembered (an exception is not cached)."""
    claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "sid", "exp"]})
    if not isinstance(claims["sid"], str):
        raise InvalidToken("sid must be a string")
    return TokenClaims(int(claims["sub"]), claims["sid"]), float(claims["exp"])


def decode_access_token(token: str, secret: str) -> TokenClaims:
    """The user and session of a valid, unexpired token; raise InvalidToken otherwise."""
    try:
        claims, expires = _verified(token, secret)
    except (jwt.PyJWTError, ValueError) as exc:
        raise InvalidToken(str(exc)) from None
    if expires <= time.time():  # PyJWT's rule: expired at the second it names
        raise InvalidToken("Signature has expired")
    return claims
