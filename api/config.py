"""API settings (DIABAN_ prefix)."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    """Where to serve."""

    model_config = SettingsConfigDict(env_prefix="DIABAN_")

    host: str = "127.0.0.1"
    port: int = 8000


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
