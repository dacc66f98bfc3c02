"""API settings (DIABAN_ prefix)."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    """Where to serve and page sizes."""

    model_config = SettingsConfigDict(env_prefix="DIABAN_")

    host: str = "127.0.0.1"
    port: int = 8000
    page_max: int = 10_000
