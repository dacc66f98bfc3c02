"""Database and data-path settings, read from DIABAN_* environment variables."""

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class DatabaseSettings(BaseSettings):
    """Where the database is: an external URL, or a managed cluster under `home`."""

    model_config = SettingsConfigDict(env_prefix="DIABAN_")

    database_url: str | None = None
    home: Path = PROJECT_ROOT / ".diaban"
    pg_bin: Path | None = None
    #: Non-root system user that runs the managed server when diaban runs as root.
    pg_os_user: str = "postgres"


class DataSettings(BaseSettings):
    """Paths of the boundary data (configurable so users can point at official files)."""

    model_config = SettingsConfigDict(env_prefix="DIABAN_")

    boundaries: Path = PROJECT_ROOT.parent / "shared" / "data" / "haiphong" / "communes.geojson"
    #: Points outside every commune but within this distance are assigned to the nearest one.
    nearest_commune_m: float = 200.0
