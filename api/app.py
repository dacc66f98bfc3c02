"""The FastAPI application."""

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from api.config import AuthSettings, LifecycleSettings
from api.deps import get_current_user
from api.errors import DEFAULT_STATUS_CODES, add_exception_handlers
from api.routes import (accounts, analysis, auth, classifications, communes, health, hotspot_transitions, hotspots,
                        inbox, incidents, pages, reports, tasks, vector_tiles)
from api.security import resolve_secret_key
from gis.settings import DatabaseSettings
from maps.base_map import STATIC_DIR, STATIC_URL
from models.hotspot_lifecycle import hotspot_lifecycle

#: Open without a token (pages redirect to the login form themselves). Every other router needs a valid token.
PUBLIC = (health, auth, pages)
PROTECTED = (communes, incidents, hotspots, analysis, classifications, reports, hotspot_transitions, tasks, inbox, accounts,
             vector_tiles)


def create_app(engine: Engine) -> FastAPI:
    """App bound to a prepared (migrated) engine."""
    # No /docs: FastAPI's documentation pages load their scripts from a CDN; the schema is at /openapi.json.
    app = FastAPI(title="diaban", description="Giám sát địa bàn, điểm nóng ma túy — Hải Phòng", version="0.1.0",
                  docs_url=None, redoc_url=None)
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")
    app.state.engine = engine
    add_exception_handlers(app, DEFAULT_STATUS_CODES)
    settings = AuthSettings()
    app.state.auth = settings.model_copy(
        update={"secret_key": resolve_secret_key(settings.secret_key, DatabaseSettings().home)})
    app.state.hotspot_machine = hotspot_lifecycle(LifecycleSettings().monitoring_days)
    for module in PUBLIC:
        app.include_router(module.router)
    for module in PROTECTED:
        app.include_router(module.router, dependencies=[Depends(get_current_user)])
    return app
