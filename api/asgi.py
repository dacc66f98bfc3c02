"""ASGI entry point for running diaban under an external server (`uvicorn api.asgi:app --workers N`)."""

from api.app import create_app
from gis.settings import ApiSettings
from gis.store.db import get_engine

_api = ApiSettings()
app = create_app(
    get_engine(statement_timeout_s=_api.statement_timeout_s, parallel_workers=_api.parallel_workers),
    _api.warm_connections,
    server_process=True,
)
