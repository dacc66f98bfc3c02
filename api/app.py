"""The FastAPI application."""

from fastapi import FastAPI
from sqlalchemy import Engine

from api.errors import DEFAULT_STATUS_CODES, add_exception_handlers
from api.routes import communes, health, incidents


def create_app(engine: Engine) -> FastAPI:
    """App bound to a prepared (migrated) engine."""
    app = FastAPI(title="diaban", description="Giám sát địa bàn, điểm nóng ma túy — Hải Phòng", version="0.1.0")
    app.state.engine = engine
    add_exception_handlers(app, DEFAULT_STATUS_CODES)
    for module in (health, communes, incidents):
        app.include_router(module.router)
    return app
