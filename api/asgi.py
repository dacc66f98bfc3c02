"""ASGI entry point for running diaban under an external server (`uvicorn api.asgi:app --workers N`)."""

from api.app import create_app
from api.config import ApiSettings
from gis.db import get_engine

app = create_app(get_engine(), ApiSettings().warm_connections)
