"""Failed-login bookkeeping that holds under parallel guessing: per account and per client address.

Every function locks the row it reads (``FOR UPDATE`` / an upsert) and the caller verifies the password
while holding it, so attempts on one account, or from one address, are decided one after the other on
committed counts: forty parallel guesses are forty counted attempts, never forty unchecked ones. The
lock order is always address, then account (no deadlock). Times are the clock's, not the transaction's start
(``now()``): a request that queued for a row lock must see the block its predecessor set a moment ago.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

from gis.store.accounts import NAMED_USER

#: The exponent of the progressive delay stops growing here (2**20 s is beyond any sensible cap).
_MAX_DOUBLINGS = 20


@dataclass(frozen=True)
class LoginAccount:
    """What a login needs to know of an account, read under its row lock."""

    id: int
    password_hash: str
    active: bool
    locked: bool


def claim_source(conn: Connection, address: str, window_minutes: int) -> float:
    """Lock the address's row (created on first use) and return the seconds it must still wait (0: may try now).

    Failures older than ``window_minutes`` are forgotten.
    """
    wait = conn.execute(
        text("""
        INSERT INTO login_sources AS s (address) VALUES (:a)
        ON CONFLICT (address) DO UPDATE SET
            failures = CASE WHEN s.last_failure_at < clock_timestamp() - make_interval(mins => :window) THEN 0 ELSE s.failures END,
            blocked_until = CASE WHEN s.last_failure_at < clock_timestamp() - make_interval(mins => :window) THEN NULL
                                 ELSE s.blocked_until END
        RETURNING greatest(0, extract(epoch FROM coalesce(s.blocked_until, clock_timestamp()) - clock_timestamp()))::float8"""),
        {"a": address, "window": window_minutes},
    ).scalar_one()
    return float(wait)


def record_source(conn: Connection, address: str, ok: bool, free_failures: int, max_delay_s: int) -> None:
    """A success clears the address; its ``free_failures``-th failure blocks it for 1 s, each further one for twice as
    long, up to ``max_delay_s``."""
    if ok:
        conn.execute(
            text("UPDATE login_sources SET failures = 0, blocked_until = NULL WHERE address = :a"), {"a": address}
        )
        return
    conn.execute(
        text("""
        UPDATE login_sources SET
            failures = failures + 1,
            last_failure_at = clock_timestamp(),
            blocked_until = CASE WHEN failures + 1 >= :free
                THEN clock_timestamp() + make_interval(secs => least(power(2, least(failures + 1 - :free, :doublings)), :cap))
                ELSE NULL END
        WHERE address = :a"""),
        {"a": address, "free": free_failures, "cap": max_delay_s, "doublings": _MAX_DOUBLINGS},
    )


def claim_account(conn: Connection, username: str) -> LoginAccount | None:
    """The account ``username`` names (up to letter case and surrounding spaces: :data:`NAMED_USER`) with its row
    locked until the caller's transaction ends, or None."""
    row = conn.execute(
        text(f"""SELECT id, password_hash, active, coalesce(locked_until > clock_timestamp(), false) AS locked
                 FROM users WHERE {NAMED_USER} FOR UPDATE"""),
        {"u": username},
    ).first()
    return LoginAccount(*row) if row else None


def record_account(conn: Connection, user_id: int, ok: bool, max_failures: int, lockout_minutes: int) -> bool:
    """A success clears the account and is the user's last login; every failure is counted, and one that reaches
    ``max_failures`` (or any after it, once a lock has expired) locks the account for ``lockout_minutes``. Attempts
    while locked do not extend it. Whether the account is locked after the attempt (the caller, who knows whether it
    was before, logs a new lock)."""
    if ok:
        conn.execute(
            text("""UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = clock_timestamp()
                    WHERE id = :id"""),
            {"id": user_id},
        )
        return False
    return bool(
        conn.execute(
            text("""
            UPDATE users SET
                failed_logins = failed_logins + 1,
                locked_until = CASE
                    WHEN locked_until > clock_timestamp() THEN locked_until
                    WHEN failed_logins + 1 >= :max THEN clock_timestamp() + make_interval(mins => :mins)
                    ELSE locked_until END
            WHERE id = :id
            RETURNING coalesce(locked_until > clock_timestamp(), false)"""),
            {"id": user_id, "max": max_failures, "mins": lockout_minutes},
        ).scalar_one()
    )


def prune_login_sources(conn: Connection, window_minutes: int) -> int:
    """Forget the addresses with no failure inside the window and no block in force; the number forgotten."""
    return len(
        conn.execute(
            text("""DELETE FROM login_sources
                    WHERE coalesce(last_failure_at, '-infinity') < clock_timestamp() - make_interval(mins => :w)
                      AND coalesce(blocked_until, '-infinity') < clock_timestamp() RETURNING address"""),
            {"w": window_minutes},
        ).all()
    )
