"""ASGI entry point for running diaban under an external server (`uvicorn api.asgi:app --workers N`)."""

from api.app import create_app
from gis.settings import ApiSettings
from gis.store.db import get_engine

app = create_app(get_engine(), ApiSettings().warm_connections)
