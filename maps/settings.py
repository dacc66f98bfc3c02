"""Map settings (DIABAN_ prefix): the basemap tile server, usually a police intranet one."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class MapSettings(BaseSettings):
    """Basemap tiles; with no URL the maps are drawn over the commune boundaries alone."""

    model_config = SettingsConfigDict(env_prefix="DIABAN_")

    tile_url: str = ""
    tile_attribution: str = ""
