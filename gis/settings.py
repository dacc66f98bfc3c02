"""Every setting of diaban, in one module: ``DIABAN_*`` environment variables read by pydantic-settings.

Grouped by concern (one class each, as tipg does) so a command reads only what it needs; the README's
configuration table lists them all. ``maps`` does not import this module: the API passes the page
settings to the renderers.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from models.errors import InvalidInput, SettingError

#: The checkout this code runs from, if it runs from one (a wheel install has no pyproject.toml beside it).
_CHECKOUT = Path(__file__).resolve().parents[1]
_IN_CHECKOUT = (_CHECKOUT / "pyproject.toml").is_file()
#: The boundary file `make demo` imports: the project's shared data beside the checkout.
_SHARED_BOUNDARIES = _CHECKOUT.parent / "shared" / "data" / "haiphong" / "communes.geojson"
#: All 3,321 units of the 34 provinces (gzip-compressed GeoJSON), for national tests and benchmarks.
_SHARED_NATIONAL = _CHECKOUT.parent / "shared" / "data" / "vietnam" / "communes.geojson.gz"


def _default_home() -> Path:
    """`.diaban/` in a checkout (where `make demo` runs), else the user's data directory (XDG)."""
    if _IN_CHECKOUT:
        return _CHECKOUT / ".diaban"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "diaban"


#: Settings whose value may hold a password or a key: an error names them without repeating what was given.
_HIDDEN = frozenset({"database_url", "owner_database_url", "replica_urls", "cache_url", "secret_key"})
#: The shortest signing key accepted (DIABAN_SECRET_KEY): RFC 7518 §3.2, an HS256 key at least as long as the hash;
#: tokens signed with a shorter one could be forged by brute force.
MIN_SECRET_BYTES = 32
#: Upper bounds of the numeric settings: each finite and within what its use takes (a date, an interval, a timer).
#: Days kept or waited: a century (PostgreSQL's intervals and dates overflowed at 999,999,999 days).
MAX_DAYS = 36_500
#: A distance on the ground: the length of Việt Nam, about 1,650 km.
MAX_DISTANCE_M = 1_650_000
HOUR_SECONDS = 3600
DAY_SECONDS = 86_400
WEEK_MINUTES = 7 * 24 * 60


def _problem(field: str, error: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A setting's variable and its pydantic error, its value hidden when it may hold a secret."""
    return f"DIABAN_{field.upper()}", {**error, "input": "***"} if field in _HIDDEN else error


class _Settings(BaseSettings):
    #: No setting is infinite or not a number: `inf` and `nan` are refused like any value out of range (an infinite
    #: cache or statement timeout was an OverflowError at start, a `nan` distance a point never assigned).
    model_config = SettingsConfigDict(env_prefix="DIABAN_", extra="ignore", allow_inf_nan=False)

    def __init__(self, **values: Any) -> None:
        """Read the settings; SettingError naming each unusable one (a value out of range, a list that is no JSON)."""
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise SettingError.of(dict(_problem(str(error["loc"][0]), dict(error)) for error in exc.errors())) from None
        except SettingsError as exc:  # a list or mapping setting whose value is no JSON, before any validation
            field = str(exc).split('"')[1]
            given = os.environ.get(f"DIABAN_{field.upper()}", "")
            error = {"type": "value_error", "input": given, "msg": 'phải là JSON, ví dụ ["https://cong.local"]'}
            raise SettingError.of(dict([_problem(field, error)])) from None


class DatabaseSettings(_Settings):
    """Where the database is: an external URL, or a managed cluster under `home`.

    ``database_url`` is the application's role (data privileges only); ``owner_database_url``, if set, is the
    role that owns the schema and runs the migrations (without it the application's URL runs them).
    """

    database_url: str | None = None
    owner_database_url: str | None = None
    home: Path = _default_home()
    pg_bin: Path | None = None
    #: Non-root system user that runs the managed server when diaban runs as root.
    pg_os_user: str = "postgres"
    #: Streaming replicas (hot standby) of the database, comma-separated URLs of the application's role on each
    #: (DIABAN_REPLICA_URLS); the server sends its read-only map and list routes there (gis.store.replicas).
    replica_urls: str = ""
    #: A replica whose replay is further behind than this is skipped until it catches up (DIABAN_REPLICA_MAX_LAG_SECONDS).
    replica_max_lag_seconds: float = Field(default=5.0, gt=0, le=DAY_SECONDS)
    #: How often a server process asks each replica whether it is up and how far behind (DIABAN_REPLICA_CHECK_SECONDS).
    replica_check_seconds: float = Field(default=1.0, gt=0, le=HOUR_SECONDS)
    #: The URLs lead to PgBouncer in transaction mode (DIABAN_PGBOUNCER): no prepared statements, no startup options.
    pgbouncer: bool = False
    #: The application's role on the primary directly, not through PgBouncer, for the connection each server process
    #: keeps to hear ended sessions (DIABAN_LISTEN_URL; default: DIABAN_DATABASE_URL, unless DIABAN_PGBOUNCER, which
    #: passes no notice: then without it every request checks its session in the database).
    listen_url: str | None = None

    def replicas(self) -> tuple[str, ...]:
        """The replica URLs, without blanks."""
        return tuple(url.strip() for url in self.replica_urls.split(",") if url.strip())


class DataSettings(_Settings):
    """Paths of the boundary data (configurable so users can point at official files)."""

    #: No default outside a checkout: an installed diaban has no boundary file of its own.
    boundaries: Path | None = _SHARED_BOUNDARIES if _IN_CHECKOUT else None
    #: The national boundary file (DIABAN_NATIONAL_BOUNDARIES): tests of several provinces and national benchmarks.
    national_boundaries: Path | None = _SHARED_NATIONAL if _IN_CHECKOUT else None
    #: Points outside every commune but within this distance are assigned to the nearest one.
    nearest_commune_m: float = Field(default=200.0, ge=0, le=MAX_DISTANCE_M)
    #: The city's extent is its communes' bounding box widened by this margin: a point beyond (a far-away typo, a
    #: swapped longitude) is refused for a hand-made hotspot; an import keeps such an incident as ``outside``.
    city_margin_m: float = Field(default=20_000.0, ge=0, le=MAX_DISTANCE_M)
    #: Memory PostgreSQL may use per sort or hash during an incident import (work_mem of its transaction): 1 MB
    #: (PostgreSQL's least is 64 kB) to its largest, 2^31 - 1 kB.
    import_work_mem_mb: int = Field(default=256, ge=1, le=2_097_151)

    def boundary_file(self) -> Path:
        """The configured boundary file, or a clear error naming the setting when there is none."""
        if self.boundaries is None:
            raise InvalidInput(
                "chưa có tệp ranh giới: truyền đường dẫn hoặc đặt DIABAN_BOUNDARIES",
                "no boundary file: pass a path or set DIABAN_BOUNDARIES",
            )
        return self.boundaries


class ReferenceSettings(_Settings):
    """Other versions of the legal criteria or the KPI targets than the packaged ones (TOML files)."""

    criteria_file: Path | None = None
    #: A province's targets (its `province_code` says which); the packaged file is Hải Phòng's.
    targets_file: Path | None = None
    #: The country's targets (the national report, and every province without a file of its own).
    national_targets_file: Path | None = None


class ApiSettings(_Settings):
    """Where to serve, and how many database connections each server process opens before it serves."""

    host: str = "127.0.0.1"
    #: 0: the system chooses a free port (as `--port 0`).
    port: int = Field(default=8000, ge=0, le=65_535)
    #: Server processes of one `diaban serve` (DIABAN_WORKERS; `--workers` wins): each has its own pool and cache.
    workers: int = Field(default=1, ge=1, le=256)
    warm_connections: int = Field(default=24, ge=0, le=10_000)
    #: Addresses of the front (nginx) whose X-Forwarded-For header names the client (comma-separated, or * for any):
    #: the login brakes count failures per client address, which must not be the front's for everyone.
    forwarded_allow_ips: str = "127.0.0.1"
    #: Level of the `diaban` loggers (requests, handled errors): DEBUG, INFO, WARNING, ERROR (any case).
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    #: Work one analysis may cost (grid cells × time steps × neighbourhood cells); unset = the built-in limit
    #: (gis.services.analyses.MAX_COST). A costlier request is refused with 422 and how to narrow it.
    max_analysis_cost: int | None = Field(default=None, ge=1, le=10**15)
    #: Largest request body (JSON, forms), and for routes that take files (photos), refused with 413 before parsing.
    max_body_kb: int = Field(default=1024, ge=1, le=1_048_576)
    max_upload_mb: int = Field(default=20, ge=1, le=10_240)
    #: Other origins (scheme://host[:port]) whose pages may post the login form, e.g. a portal in front of diaban;
    #: by default only the site itself may (login CSRF).
    allowed_origins: tuple[str, ...] = ()
    #: Server-side time limit of each SQL statement the server runs (a stuck query is cancelled: 504).
    #: At most PostgreSQL's largest statement_timeout, 2^31 - 1 ms (a larger one failed every connection).
    statement_timeout_s: float = Field(default=30.0, ge=0, le=2_147_483)
    #: Parallel workers PostgreSQL may give one statement of the server (DIABAN_PARALLEL_WORKERS, its
    #: max_parallel_workers_per_gather), none by default: a server answers many small statements at once, and the
    #: planner sent a street-zoom tile read alone (on a replica, which writes its access line apart) through
    #: parallel workers over the yearly partitions: 22-30 ms a tile instead of 2.3-3.4 ms (1M incidents, one
    #: connection, load 1.7, measured).
    parallel_workers: int = Field(default=0, ge=0, le=1024)
    #: Requests one server process works on at once (DIABAN_MAX_ACTIVE_REQUESTS; 0: no limit): the others wait
    #: their turn in arrival order (api.admission; 8 measured best with 2 processes on 2 cores, bench_api).
    max_active_requests: int = Field(default=8, ge=0, le=100_000)
    #: How long a request counts against that limit at most (DIABAN_ADMISSION_HOLD_SECONDS): a longer one (an import,
    #: an export) then lets the next one in and goes on.
    admission_hold_seconds: float = Field(default=1.0, gt=0, le=HOUR_SECONDS)
    #: Heavy analyses (heat maps, Gi*, emerging patterns, exports) each server process computes at once
    #: (DIABAN_MAX_CONCURRENT_ANALYSES): memory stays bounded, and tiles and lists do not queue behind them.
    max_concurrent_analyses: int = Field(default=2, ge=1, le=1024)
    #: How long a heavy analysis waits for its turn (DIABAN_ANALYSIS_WAIT_SECONDS), then 429 "máy chủ đang bận" (busy).
    analysis_wait_seconds: float = Field(default=10.0, ge=0, le=HOUR_SECONDS)


class AuthSettings(_Settings):
    """Token signing and the brakes on password guessing. Without DIABAN_SECRET_KEY a key is generated and kept under
    DIABAN_HOME."""

    secret_key: str | None = None
    token_minutes: int = Field(default=30, ge=1, le=WEEK_MINUTES)
    #: Failures that lock an account, and for how long: short, so that a stranger cannot keep an officer out for
    #: long (an administrator can unlock at once).
    max_failed_logins: int = Field(default=5, ge=1, le=1000)
    lockout_minutes: int = Field(default=5, ge=0, le=WEEK_MINUTES)
    #: Failures a client address may make before it must wait 1, 2, 4 … s before each further try, up to the cap;
    #: failures older than the window are forgotten, a success clears the address.
    login_free_failures: int = Field(default=10, ge=0, le=100_000)
    login_max_delay_s: int = Field(default=900, ge=0, le=DAY_SECONDS)
    login_window_minutes: int = Field(default=60, ge=1, le=WEEK_MINUTES)
    #: How long a server process trusts that a session it found open is still open, while it hears the database's
    #: notices of ended sessions (api.sessions: a revocation made anywhere applies at once; this bounds only a session
    #: that reaches its expiry time).
    session_check_seconds: float = Field(default=5.0, ge=0, le=HOUR_SECONDS)

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: str | None) -> str | None:
        """A key shorter than MIN_SECRET_BYTES is refused at start, like any other unusable setting."""
        if value and len(value.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"quá ngắn: cần ít nhất {MIN_SECRET_BYTES} byte")
        return value


class PasswordSettings(_Settings):
    """The cost of an argon2id password hash (new and changed passwords; a stored hash keeps the cost it was made
    with). The defaults are argon2-cffi's (RFC 9106's second recommendation: 3 passes over 64 MiB, about 0.1 s on
    the development machine); the test suite lowers them (tests/conftest.py), where some 250 hashes and checks took
    40 s of its CPU. Below OWASP's floor (2 passes over 19 MiB) is for tests only."""

    password_hash_time_cost: int = Field(default=3, ge=1, le=100)
    password_hash_memory_kib: int = Field(default=65536, ge=1024, le=4_194_304)


class AuditSettings(_Settings):
    """How long the access log and ended sessions are kept (`diaban audit --prune` deletes older ones)."""

    #: Days an access line is kept (the decree's retention period is to confirm: keep it configurable). At least one:
    #: 0 or less would have `diaban audit --prune` erase the whole log, today's lines included.
    access_log_days: int = Field(default=365, ge=1, le=MAX_DAYS)
    #: Days an ended (expired or revoked) session is kept before it is deleted.
    session_days: int = Field(default=30, ge=0, le=MAX_DAYS)


class LifecycleSettings(_Settings):
    """Hotspot lifecycle rules kept in configuration (DIABAN_MONITORING_DAYS)."""

    monitoring_days: int = Field(default=180, ge=0, le=MAX_DAYS)


class ClassificationSettings(_Settings):
    """The planners' yearly cycle: whether an approval needs a second person (DIABAN_FOUR_EYES, on by default)."""

    #: The approver of a year must differ from whoever ran its draft and whoever overrode a commune's class in it.
    four_eyes: bool = True


class EvidenceSettings(_Settings):
    """Photo evidence of progress notes: the largest photo accepted (DIABAN_PHOTO_MAX_MB)."""

    photo_max_mb: float = Field(default=8.0, gt=0, le=1024)


class CacheSettings(_Settings):
    """Memory each server process may spend on cached map responses (DIABAN_CACHE_MB; 0: no cache in the process),
    and the Redis that several app servers share (DIABAN_CACHE_URL, e.g. ``redis://cache-host:6379/0``; unset: each
    process caches for itself)."""

    cache_mb: float = Field(default=256.0, ge=0, le=1_048_576)
    cache_url: str = ""
    #: How long the shared cache keeps an answer; an answer is unreachable anyway once the data behind it changes.
    cache_ttl_seconds: float = Field(default=86_400.0, gt=0, le=365 * DAY_SECONDS)
    #: Longest wait for an answer another server is computing, then this server computes it too.
    cache_lock_seconds: float = Field(default=10.0, gt=0, le=HOUR_SECONDS)
    #: Longest wait for one Redis command: slower counts as an outage (computed without Redis, tried again in 5 s).
    cache_timeout_seconds: float = Field(default=0.5, gt=0, le=HOUR_SECONDS)
    #: How long a server process trusts the data versions it read (DIABAN_DATA_VERSION_SECONDS): a change committed
    #: by this process applies at once, one made elsewhere (an import from the command line, another worker) within
    #: this delay. 0: read them for every request.
    data_version_seconds: float = Field(default=2.0, ge=0, le=HOUR_SECONDS)

    @field_validator("cache_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        """Empty, or an address redis-py can open (a typo was its ValueError at start: a traceback)."""
        if value and urlsplit(value).scheme not in ("redis", "rediss", "unix"):
            raise ValueError("phải là địa chỉ Redis dạng redis://máy:6379/0 (hoặc rediss://, unix://)")
        return value


class MapSettings(_Settings):
    """The basemap: an offline raster MBTiles file served by the app itself (DIABAN_BASEMAP_PATH; wins when both are
    set, a closed network has no other), else a tile server (DIABAN_TILE_URL, e.g. a police intranet one); with
    neither the maps draw their own base from the communes (land, water, boundaries, names)."""

    tile_url: str = ""
    tile_attribution: str = ""
    basemap_path: Path | None = None


def check_settings() -> None:
    """Read every group of settings once: SettingError for the first unusable one. Every command calls it before it
    does anything (api.cli.main): a token lifetime of 0 took `diaban serve` 2.5 s (the database reached, the schema
    checked, the web application's modules loaded) to be refused, and other commands ran with it."""
    for group in _Settings.__subclasses__():
        group()
