"""Domain errors: one base with a stable machine code and a Vietnamese message.

Every error a user can meet derives from :class:`DiabanError`. Its ``code`` is stable (clients and
tests match on it), its message is Vietnamese (what the page, the API ``detail`` and the CLI show),
and ``reason`` may add the English reason for the API and the logs. The mapping to HTTP statuses
lives in one table (``api.errors``), the mapping to exit codes in another (``api.cli.main.EXIT_CODES``):
both follow the families below, so a new error needs no new entry unless it is a new family.

Errors of the analytics used as a library (wrong array shapes, unknown kernels) stay ``ValueError``,
as in scikit-learn: they are programming errors of the caller, not something a user did.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar


class DiabanError(Exception):
    """Base of every error a user can meet: a stable ``code``, a Vietnamese message, an optional English reason."""

    code: ClassVar[str] = "error"

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.message} ({self.reason})" if self.reason else self.message


class InvalidInput(DiabanError):
    """A file or value cannot be read as the contract says (bad columns, encoding, format)."""

    code = "invalid_input"


class SettingError(InvalidInput):
    """``DIABAN_*`` settings whose values cannot be used, named by their variables before any work. ``problems``:
    variable → its pydantic error (``type``, ``input``, ``ctx``, English ``msg``), for a caller to word in Vietnamese
    (api.validation_vi); the message names them with the English reason."""

    code = "invalid_setting"

    def __init__(self, message: str, reason: str | None = None, problems: Mapping[str, Mapping] | None = None) -> None:
        super().__init__(message, reason)
        self.problems = dict(problems or {})

    @classmethod
    def of(cls, problems: Mapping[str, Mapping]) -> SettingError:
        """The error of these settings, each named with the value given."""
        named = "; ".join(f"{name}={error.get('input')!r}" for name, error in problems.items())
        reasons = "; ".join(str(error.get("msg", "")) for error in problems.values())
        return cls(f"cài đặt không dùng được: {named}", reasons, problems)


class InvalidRequest(DiabanError):
    """The request is well-formed but does not make sense for the data (e.g. a hotspot without a commune)."""

    code = "invalid_request"


class NotFound(DiabanError):
    """The resource does not exist, or lies outside what the user may see."""

    code = "not_found"


class PermissionDenied(DiabanError):
    """The user's role or area does not allow this action."""

    code = "permission_denied"


class PasswordChangeRequired(PermissionDenied):
    """The user's password was given by an administrator (a new account, a reset): they must change it first."""

    code = "password_change_required"


class Conflict(DiabanError):
    """The action contradicts the current state (an approved year, an existing name, a refused transition)."""

    code = "conflict"


class KeyReused(Conflict):
    """A client's ``Idempotency-Key`` sent with another request than the one first stored under it (a retry must send
    the same thing; something new needs a new key)."""

    def __init__(self, reason: str) -> None:
        super().__init__("mã gửi lại (Idempotency-Key) này đã dùng cho một yêu cầu khác: hãy gửi với mã mới", reason)


class AlreadyExists(Conflict):
    """A resource with the same natural key exists (a username, a team, an open task)."""

    code = "already_exists"


class StaleVersion(DiabanError):
    """The update carried a version that is no longer current: reload and retry."""

    code = "stale_version"


class Busy(DiabanError):
    """The server is busy with other work of the same kind (every slot for heavy analyses taken): retry in a
    moment. Not a fault of the server: a front must not take it out of rotation for this (HTTP 429, not 503)."""

    code = "busy"


class Unavailable(DiabanError):
    """A service the action needs (the database) cannot be reached now; retrying later may succeed."""

    code = "unavailable"
