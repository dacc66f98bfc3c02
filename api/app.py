"""The FastAPI application."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from api.cache import ResponseCache
from api.config import AuthSettings, CacheSettings, LifecycleSettings
from api.deps import get_current_user
from api.errors import DEFAULT_STATUS_CODES, add_exception_handlers
from api.routes import (accounts, analysis, auth, classifications, communes, health, hotspot_transitions, hotspots,
                        inbox, incidents, pages, reports, tasks, vector_tiles)
from api.security import resolve_secret_key
from gis.db import warm_pool
from gis.settings import DatabaseSettings
from maps.base_map import STATIC_DIR, STATIC_URL
from models.hotspot_lifecycle import hotspot_lifecycle

#: Open without a token (pages redirect to the login form themselves). Every other router needs a valid token.
PUBLIC = (health, auth, pages)
PROTECTED = (communes, incidents, hotspots, analysis, classifications, reports, hotspot_transitions, tasks, inbox, accounts,
             vector_tiles)


def create_app(engine: Engine, warm_connections: int = 0) -> FastAPI:
    """App bound to a prepared (migrated) engine; a server opens ``warm_connections`` before it takes requests."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(warm_pool, engine, warm_connections)
        yield

    # No /docs: FastAPI's documentation pages load their scripts from a CDN; the schema is at /openapi.json.
    app = FastAPI(title="diaban", description="Giám sát địa bàn, điểm nóng ma túy — Hải Phòng", version="0.1.0",
                  docs_url=None, redoc_url=None, lifespan=lifespan)
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")
    app.state.engine = engine
    add_exception_handlers(app, DEFAULT_STATUS_CODES)
    settings = AuthSettings()
    app.state.auth = settings.model_copy(
        update={"secret_key": resolve_secret_key(settings.secret_key, DatabaseSettings().home)})
    app.state.hotspot_machine = hotspot_lifecycle(LifecycleSettings().monitoring_days)
    app.state.cache = ResponseCache(int(CacheSettings().cache_mb * 2**20))
    for module in PUBLIC:
        app.include_router(module.router)
    for module in PROTECTED:
        app.include_router(module.router, dependencies=[Depends(get_current_user)])
    return app
