"""The FastAPI application: routers, error table, request log, settings and reference data read once."""

import asyncio
import ctypes
import gc
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine, make_url
from starlette.datastructures import QueryParams
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.responses import Response
from starlette.types import Scope

from api.admission import Admission
from api.cache import LruCache, Memo, RedisStore, ResponseCache
from api.deps import get_current_user
from api.errors import ErrorOut, add_exception_handlers
from api.headers import SecurityHeaders
from api.limits import RequestBodies
from api.logs import RequestLog, configure_logging
from api.replicas import ReplicaFallback
from api.routes import (
    accounts,
    analysis,
    auth,
    basemap,
    classifications,
    communes,
    health,
    hotspot_transitions,
    hotspots,
    imports,
    inbox,
    incidents,
    pages,
    reports,
    tasks,
    vector_tiles,
)
from api.security import resolve_secret_key
from api.sessions import SessionCache
from api.slots import AnalysisSlots
from gis.io.mbtiles import MBTiles
from gis.reference import load_national_targets, load_rules, load_targets
from gis.services.analyses import MAX_COST
from gis.settings import (
    ApiSettings,
    AuthSettings,
    CacheSettings,
    ClassificationSettings,
    DatabaseSettings,
    DataSettings,
    EvidenceSettings,
    LifecycleSettings,
    MapSettings,
)
from gis.store.db import postgres_url, warm_pool
from gis.store.replicas import Replicas
from gis.store.session_notices import SessionListener
from maps.assets import OFFLINE_TILE_URL, STATIC_DIR, STATIC_URL, VERSION_PARAM, Basemap, file_version
from models.domain.hotspot_lifecycle import hotspot_lifecycle

log = logging.getLogger("diaban.sessions")

#: Error answers every route may give, documented once in the OpenAPI description.
ERROR_SCHEMA_REF = "#/components/schemas/ErrorOut"
#: Always JSON, whatever the route's own media type (a tile or a GeoJSON route refuses in JSON too).
ERROR_RESPONSES: dict[int | str, dict] = {
    status: {"description": description, "content": {"application/json": {"schema": {"$ref": ERROR_SCHEMA_REF}}}}
    for status, description in (
        (400, "tệp hoặc dữ liệu không đọc được (unreadable input)"),
        (401, "chưa đăng nhập (not authenticated)"),
        (403, "không có quyền (forbidden)"),
        (404, "không tìm thấy (not found)"),
        (409, "xung đột trạng thái (conflict)"),
        (412, "phiên bản đã cũ (stale version)"),
        (413, "nội dung yêu cầu quá lớn (request body too large)"),
        (422, "yêu cầu không hợp lệ (invalid request)"),
        (429, "máy chủ đang bận tính các phân tích nặng khác, thử lại sau giây lát (busy; see Retry-After)"),
        (503, "CSDL tạm thời không dùng được (unavailable)"),
        (504, "truy vấn chạy quá thời gian cho phép, hãy thu hẹp yêu cầu (statement timeout)"),
    )
}

#: Open without a token (pages redirect to the login form themselves). Every other router needs a valid token.
PUBLIC = (health, auth, pages)
PROTECTED = (
    vector_tiles,  # first: the map asks for dozens of tiles per view, and each request tries the routes in order
    communes,
    incidents,
    hotspots,
    analysis,
    classifications,
    reports,
    hotspot_transitions,
    tasks,
    inbox,
    imports,
    accounts,
    basemap,
)


def _hoist_definitions(node: object, components: dict) -> None:
    """Move the ``$defs`` of schemas written by hand into a route's responses (a second media type) into the
    components, and point their references there: ``#/$defs/…`` resolves nowhere in an OpenAPI document."""
    if isinstance(node, dict):
        definitions = node.pop("$defs", None)
        if definitions:
            _hoist_definitions(definitions, components)
            components.update(definitions)
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            node["$ref"] = "#/components/schemas/" + ref.removeprefix("#/$defs/")
        for value in node.values():
            _hoist_definitions(value, components)
    elif isinstance(node, list):
        for value in node:
            _hoist_definitions(value, components)


def _document_error_body(app: FastAPI) -> None:
    """Add the error body's schema to the OpenAPI components (the error answers refer to it by name)."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            models = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(models.pop("$defs", {}))
            components["ErrorOut"] = models
            _hoist_definitions(schema["paths"], components)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def offline_basemap() -> MBTiles | None:
    """The offline basemap file the app serves (DIABAN_BASEMAP_PATH, an MBTiles file), opened here so that a missing or
    unreadable file stops the server at start; None when not configured."""
    path = MapSettings().basemap_path
    return MBTiles(path) if path is not None else None


def configured_basemap(offline: MBTiles | None = None) -> Basemap:
    """The basemap of the pages: the offline file served by the app if there is one, else DIABAN_TILE_URL /
    DIABAN_TILE_ATTRIBUTION (none: the pages draw their own base)."""
    settings = MapSettings()
    offline = offline or offline_basemap()
    if offline is not None:
        return Basemap(OFFLINE_TILE_URL, settings.tile_attribution or offline.attribution, offline.max_zoom)
    return Basemap(settings.tile_url, settings.tile_attribution)


def configured_replicas(engine: Engine) -> Replicas | None:
    """The replicas of DIABAN_REPLICA_URLS beside ``engine`` (the primary), checked once; None when there are none."""
    database, api = DatabaseSettings(), ApiSettings()
    if not database.replicas():
        return None
    return Replicas.connect(
        engine,
        database.replicas(),
        database.replica_max_lag_seconds,
        database.replica_check_seconds,
        round(api.statement_timeout_s * 1000),
        database.pgbouncer,
        parallel_workers=api.parallel_workers,
    )


#: glibc's malloc arenas a server process may use (unless MALLOC_ARENA_MAX is set). By default glibc gives each
#: worker thread that contends for memory an arena of its own, up to 8 per core, each keeping freed memory apart:
#: with 2 arenas a worker after bench_api's users and saturation phases held 273-279 MB instead of 288-295 MB
#: (2 workers, 1M incidents, 2 cores at load 7-8, same run).
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # mallopt's parameter number (malloc.h)


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> None:
    """Cap glibc's malloc arenas of this process (no-op without glibc, or when MALLOC_ARENA_MAX says otherwise)."""
    if "MALLOC_ARENA_MAX" in os.environ:  # glibc read it at start: the operator's choice stands
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (musl, macOS): nothing to tune
        return
    libc.mallopt(_M_ARENA_MAX, arenas)


def freeze_startup_objects() -> None:
    """Collect the garbage of start-up, then leave every object alive now out of the collector's later passes.

    A server process starts with some 280,000 objects (modules, routes, schemas) that live as long as it does, and
    Python's full collection walks them all: one pause of 176 ms in 20 s of bench_api's request mix sent through the
    app in one process, during which every request of that process waits; frozen, a full collection took 3 ms
    (2 cores, load 1). Only for a long-lived server: in a process that builds many apps (the tests), whatever a
    frozen cycle holds would never be freed."""
    gc.collect()
    gc.freeze()


#: A static file asked for under its current version (maps.assets.static_url): the URL changes with the file.
IMMUTABLE = "public, max-age=31536000, immutable"


class VersionedStatic(StaticFiles):
    """The pages' static files: kept a year by the browser when asked for under their current version (a phone on
    a weak link asks nothing on its next visits), revalidated (ETag, 304) otherwise, e.g. Leaflet's images, which
    its stylesheet names without a version, or an old page's URL of a file changed since."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            asked = QueryParams(scope["query_string"]).get(VERSION_PARAM)
            current = asked is not None and _current_version(path) == asked
            response.headers["Cache-Control"] = IMMUTABLE if current else "no-cache"
        return response


def _current_version(path: str) -> str | None:
    """The version of the static file at ``path`` now (None: no such file)."""
    try:
        return file_version(path)
    except OSError:
        return None


#: Answers from this size on go gzip-compressed to a client that accepts it (a phone on the closed network): a team's
#: page of 50 tasks is 35 KB of JSON, 2.1 KB compressed; the classification map of Hải Phòng's 114 communes 1.17 MB,
#: 206 KB; the pages' scripts and styles shrink 3-4 times. Level 1: 0.04 ms for the task page and 5 ms for the map
#: (level 6: 0.24 and 12 ms for 1.8 KB and 149 KB; the server's CPU is what runs out under load), in a worker thread
#: from 128 KiB on. Smaller answers (most tiles, a view's hotspots) go as they are: the network saves little on them.
#: Images and workbooks are compressed already.
COMPRESS_FROM_BYTES = 16 * 1024


#: Seconds a starting process waits for the first heartbeat of its session notices before it serves (until then, and
#: if it does not come, every request checks its session in the database).
HEARING_WAIT_S = 5.0


def listen_conninfo(engine: Engine) -> str | None:
    """Where to hear the session notices: DIABAN_LISTEN_URL, else the primary's URL of ``engine``; None through
    PgBouncer in transaction mode without DIABAN_LISTEN_URL (a notice reaches whichever client holds the server
    connection that listened: heartbeats could come back while the notices go elsewhere), logged once."""
    database = DatabaseSettings()
    if database.listen_url:
        url = make_url(postgres_url(database.listen_url, "DIABAN_LISTEN_URL"))
    elif database.pgbouncer:
        log.warning("DIABAN_PGBOUNCER without DIABAN_LISTEN_URL: every request checks its session in the database")
        return None
    else:
        url = engine.url
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@asynccontextmanager
async def listening(engine: Engine, sessions: SessionCache) -> AsyncIterator[None]:
    """Hear the database's notices of ended sessions on the primary (``engine``: a replica hears none of them) while
    the app runs, so that ``sessions`` may trust what it remembers (api.sessions); nothing when it remembers nothing."""
    conninfo = listen_conninfo(engine)
    if sessions.ttl_s <= 0 or conninfo is None:
        yield
        return
    listener = SessionListener(conninfo, sessions)
    task = asyncio.create_task(listener.run())
    try:
        await asyncio.wait_for(listener.hearing.wait(), HEARING_WAIT_S)
    except TimeoutError:
        log.warning("session notices not heard yet: every request checks its session in the database until they are")
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


def set_state(app: FastAPI, engine: Engine, replicas: Replicas | None) -> None:
    """What ``app`` keeps while it runs, new: the settings read now, empty caches and memos, free analysis slots.
    :func:`create_app` sets it once; a test process that serves many tests with one app sets it again before each
    (FastAPI derives an app's routes on its first request: 0.08-0.16 s, a sixth of the API tests' CPU)."""
    app.state.engine = engine
    app.state.replicas = replicas
    app.state.replica_versions = {}  # replica engine → (replay position, its data versions): api.deps.get_data_key
    app.state.offline_basemap = offline_basemap()
    app.state.basemap = configured_basemap(app.state.offline_basemap)
    settings = AuthSettings()
    app.state.auth = settings.model_copy(
        update={"secret_key": resolve_secret_key(settings.secret_key, DatabaseSettings().home)}
    )
    app.state.hotspot_machine = hotspot_lifecycle(LifecycleSettings().monitoring_days)
    app.state.four_eyes = ClassificationSettings().four_eyes
    app.state.photo_max_bytes = int(EvidenceSettings().photo_max_mb * 2**20)
    caching = CacheSettings()
    shared = (
        RedisStore(caching.cache_url, caching.cache_ttl_seconds, caching.cache_timeout_seconds)
        if caching.cache_url
        else None
    )
    app.state.cache = ResponseCache(int(caching.cache_mb * 2**20), shared, caching.cache_lock_seconds)
    # City-wide Gi* and emerging results behind the answers, clipped per user (same budget, counted apart; kept in the
    # process: arrays that only this process's answers are cut from, and the answers themselves are shared).
    # A None answer (no boundaries loaded yet: no view extent) is kept too, at no cost: its key holds the
    # boundaries' version, which the first import changes.
    app.state.analysis_memo = LruCache(
        int(caching.cache_mb * 2**20), lambda value: 0 if value is None else value.nbytes
    )
    app.state.sessions = SessionCache(app.state.auth.session_check_seconds)
    app.state.data_versions = Memo(caching.data_version_seconds)
    api = ApiSettings()
    app.state.max_analysis_cost = api.max_analysis_cost or MAX_COST
    app.state.analysis_slots = AnalysisSlots(api.max_concurrent_analyses, api.analysis_wait_seconds)
    app.state.city_margin_m = DataSettings().city_margin_m
    app.state.allowed_origins = frozenset(api.allowed_origins)


def create_app(
    engine: Engine, warm_connections: int = 0, replicas: Replicas | None = None, server_process: bool = False
) -> FastAPI:
    """App bound to a prepared (migrated) engine; a server opens ``warm_connections`` before it takes requests.
    Read-only routes go to ``replicas`` when given, else to those of DIABAN_REPLICA_URLS if any. In a
    ``server_process`` the objects of start-up are frozen once it is warm (:func:`freeze_startup_objects`)."""
    limit_malloc_arenas()
    replicas = replicas or configured_replicas(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(warm_pool, engine, warm_connections)
        async with listening(engine, app.state.sessions):
            if server_process:
                freeze_startup_objects()
            yield
        if replicas is not None:
            replicas.dispose()

    api = ApiSettings()
    configure_logging(api.log_level)
    # No /docs: FastAPI's documentation pages load their scripts from a CDN; the schema is at /openapi.json.
    app = FastAPI(
        title="diaban",
        description="Giám sát địa bàn, điểm nóng ma túy — Hải Phòng",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    _document_error_body(app)
    app.mount(STATIC_URL, VersionedStatic(directory=STATIC_DIR), name="static")
    app.add_middleware(ReplicaFallback)  # innermost: a read retried on the primary is one request for the others
    app.add_middleware(RequestBodies, fastapi=app, default=api.max_body_kb * 1024)
    app.add_middleware(
        GZipMiddleware,
        minimum_size=COMPRESS_FROM_BYTES,
        compresslevel=1,
        exclude_content_types=(*DEFAULT_EXCLUDED_CONTENT_TYPES, reports.XLSX),
    )
    # Inside the request log: the time a request waited for its turn is in its logged duration.
    app.add_middleware(Admission, limit=api.max_active_requests, hold_s=api.admission_hold_seconds)
    app.add_middleware(RequestLog)
    app.add_middleware(SecurityHeaders, tile_url=MapSettings().tile_url)
    add_exception_handlers(app)
    (
        load_rules(),
        load_targets(),
        load_national_targets(),
    )  # read and validated once at start-up: a broken criteria file stops the server here
    set_state(app, engine, replicas)
    for module in PUBLIC:
        app.include_router(module.router)
    for module in PROTECTED:
        app.include_router(module.router, dependencies=[Depends(get_current_user)])
    return app
