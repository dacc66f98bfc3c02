"""The FastAPI application."""

from fastapi import Depends, FastAPI
from sqlalchemy import Engine

from api.config import AuthSettings, LifecycleSettings
from api.deps import get_current_user
from api.errors import DEFAULT_STATUS_CODES, add_exception_handlers
from api.routes import (accounts, analysis, hotspots, auth, classifications, communes, health, hotspot_transitions, inbox, incidents,
                        reports, tasks)
from api.security import resolve_secret_key
from gis.settings import DatabaseSettings
from models.hotspot_lifecycle import hotspot_lifecycle

#: Open without a token. Every other router is included behind a valid bearer token.
PUBLIC = (health, auth)
PROTECTED = (communes, incidents, hotspots, analysis, classifications, reports, hotspot_transitions, tasks, inbox, accounts)


def create_app(engine: Engine) -> FastAPI:
    """App bound to a prepared (migrated) engine."""
    app = FastAPI(title="diaban", description="Giám sát địa bàn, điểm nóng ma túy — Hải Phòng", version="0.1.0")
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
