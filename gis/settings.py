"""Every setting of diaban, in one module: ``DIABAN_*`` environment variables read by pydantic-settings.

Grouped by concern (one class each, as tipg does) so a command reads only what it needs; the README's
configuration table lists them all. ``maps`` does not import this module: the API passes the page
settings to the renderers.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from models.errors import InvalidInput

#: The checkout this code runs from, if it runs from one (a wheel install has no pyproject.toml beside it).
_CHECKOUT = Path(__file__).resolve().parents[1]
_IN_CHECKOUT = (_CHECKOUT / "pyproject.toml").is_file()
#: The boundary file `make demo` imports: the project's shared data beside the checkout.
_SHARED_BOUNDARIES = _CHECKOUT.parent / "shared" / "data" / "haiphong" / "communes.geojson"


def _default_home() -> Path:
    """`.diaban/` in a checkout (where `make demo` runs), else the user's data directory (XDG)."""
    if _IN_CHECKOUT:
        return _CHECKOUT / ".diaban"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "diaban"


class _Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DIABAN_", extra="ignore")


class DatabaseSettings(_Settings):
    """Where the database is: an external URL, or a managed cluster under `home`."""

    database_url: str | None = None
    home: Path = _default_home()
    pg_bin: Path | None = None
    #: Non-root system user that runs the managed server when diaban runs as root.
    pg_os_user: str = "postgres"


class DataSettings(_Settings):
    """Paths of the boundary data (configurable so users can point at official files)."""

    #: No default outside a checkout: an installed diaban has no boundary file of its own.
    boundaries: Path | None = _SHARED_BOUNDARIES if _IN_CHECKOUT else None
    #: Points outside every commune but within this distance are assigned to the nearest one.
    nearest_commune_m: float = 200.0

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
    targets_file: Path | None = None


class ApiSettings(_Settings):
    """Where to serve, and how many database connections each server process opens before it serves."""

    host: str = "127.0.0.1"
    port: int = 8000
    warm_connections: int = 24
    #: Level of the `diaban` loggers (requests, handled errors): DEBUG, INFO, WARNING, ERROR.
    log_level: str = "INFO"


class AuthSettings(_Settings):
    """Token signing and login lockout. Without DIABAN_SECRET_KEY a key is generated and kept under DIABAN_HOME."""

    secret_key: str | None = None
    token_minutes: int = 30
    max_failed_logins: int = 5
    lockout_minutes: int = 15


class LifecycleSettings(_Settings):
    """Hotspot lifecycle rules kept in configuration (DIABAN_MONITORING_DAYS)."""

    monitoring_days: int = 180


class ClassificationSettings(_Settings):
    """The planners' yearly cycle: whether an approval needs a second person (DIABAN_FOUR_EYES, on by default)."""

    #: The approver of a year must differ from whoever last overrode a commune's class in its draft.
    four_eyes: bool = True


class EvidenceSettings(_Settings):
    """Photo evidence of progress notes: the largest photo accepted (DIABAN_PHOTO_MAX_MB)."""

    photo_max_mb: float = 8.0


class CacheSettings(_Settings):
    """Memory each server process may spend on cached map responses (DIABAN_CACHE_MB; 0 turns caching off)."""

    cache_mb: float = 256.0


class MapSettings(_Settings):
    """The basemap: an offline raster MBTiles file served by the app itself (DIABAN_BASEMAP_PATH; wins when both are
    set, a closed network has no other), else a tile server (DIABAN_TILE_URL, e.g. a police intranet one); with
    neither the maps draw their own base from the communes (land, water, boundaries, names)."""

    tile_url: str = ""
    tile_attribution: str = ""
    basemap_path: Path | None = None
