"""API settings (DIABAN_ prefix)."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    """Where to serve, and how many database connections each server process opens before it serves."""

    model_config = SettingsConfigDict(env_prefix="DIABAN_")

    host: str = "127.0.0.1"
    port: int = 8000
    warm_connections: int = 24


class AuthSettings(BaseSettings):
    """Token signing and login lockout. Without DIABAN_SECRET_KEY a key is generated and kept under DIABAN_HOME."""

    model_config = SettingsConfigDict(env_prefix="DIABAN_")

    secret_key: str | None = None
    token_minutes: int = 30
    max_failed_logins: int = 5
    lockout_minutes: int = 15


class LifecycleSettings(BaseSettings):
    """Hotspot lifecycle rules kept in configuration (DIABAN_MONITORING_DAYS)."""

    model_config = SettingsConfigDict(env_prefix="DIABAN_")

    monitoring_days: int = 180


class CacheSettings(BaseSettings):
    """Memory each server process may spend on cached map responses (DIABAN_CACHE_MB; 0 turns caching off)."""

    model_config = SettingsConfigDict(env_prefix="DIABAN_")

    cache_mb: float = 256.0
