"""The application factory: ``create_app(settings)`` builds the FastAPI app; its lifespan starts
the run pool (re-queueing runs a previous process left running) and stops it.

The documentation pages (``/docs``, ``/redoc``) load Swagger UI and ReDoc from this server
(``/docs-assets/...``, the files the ``fastapi-offline`` package ships), never from a CDN, so they
work on a network with no internet access."""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from ..web import add_web_app
from .db import Database
from .deps import get_kinds, require_key
from .errors import ERROR_RESPONSES, BodyLimit, install_error_handlers
from .ratelimit import FailureLimiter
from .routers import health, keys, kinds, runs, scenarios
from .schemas import ErrorPublic
from .settings import Settings, get_settings
from .worker import RunPool

__all__ = ["create_app"]

log = logging.getLogger("salesplan.service")

DESCRIPTION = """Share sales-planning scenarios and run simulations, territory alignments,
quotas, what-ifs and headcount plans on a server.

Every route except `/health` and the documentation needs an API key (`X-API-Key: <key>` or
`Authorization: Bearer <key>`); create one with `salesplan apikey create NAME`. A key belongs to
one workspace and sees only its scenarios and runs; its role is `viewer` (reads), `planner`
(also creates scenarios and runs, cancels, deletes) or `admin` (also manages the workspace's
keys under `/v1/keys`). Runs are queued (202) and executed in a pool of worker processes; poll
`GET /v1/runs/{id}`."""

DOCS_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
"""The files of the documentation pages, served from ``/docs-assets/`` (MIT licensed:
Swagger UI by SmartBear, ReDoc by Redocly, shipped by the ``fastapi-offline`` package)."""

FORBIDDEN = {"model": ErrorPublic, "description": "The key's role does not allow this"}
TOO_MANY = {"model": ErrorPublic,
            "description": "Too many failed authentications from this address (see Retry-After)"}


def _docs_assets_dir():
    from importlib.resources import files

    return files("fastapi_offline") / "static"


def _add_docs(app: FastAPI) -> None:
    """``/docs`` and ``/redoc`` with their scripts and styles served by this app (without the
    ``fastapi-offline`` package: from a CDN, with a warning saying so)."""
    try:
        assets = _docs_assets_dir()
    except ModuleNotFoundError:
        assets = None
        log.warning("fastapi-offline is not installed (pip install 'salesplan[service]'): the "
                    "/docs and /redoc pages load their scripts from a CDN and stay blank "
                    "without internet access")

    if assets is not None:
        @app.get("/docs-assets/{name}", include_in_schema=False)
        def docs_asset(name: str) -> FileResponse:
            if name not in DOCS_ASSETS:
                raise HTTPException(404, f"no documentation asset {name!r}")
            return FileResponse(str(assets / name), media_type=DOCS_ASSETS[name],
                                headers={"Cache-Control": "public, max-age=86400"})

    def urls(request: Request, **names: str) -> dict[str, str]:
        # behind a proxy that mounts the app under a prefix (uvicorn --root-path /salesplan),
        # the pages' URLs carry the prefix
        root = request.scope.get("root_path", "").rstrip("/")
        local = {k: f"{root}/docs-assets/{v}" for k, v in names.items()}
        return {"openapi_url": root + app.openapi_url, "title": f"{app.title} - API",
                **(local if assets is not None else {})}

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(**urls(request, swagger_js_url="swagger-ui-bundle.js",
                                          swagger_css_url="swagger-ui.css",
                                          swagger_favicon_url="favicon.png"))

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(**urls(request, redoc_js_url="redoc.standalone.js",
                                     redoc_favicon_url="favicon.png"),
                              with_google_fonts=assets is None)


def create_app(settings: Settings | None = None, run_pool: bool = True) -> FastAPI:
    """The service. ``settings`` default to the environment (``SALESPLAN_*``); ``run_pool``:
    start the run pool with the app (off: runs stay queued, e.g. for schema fuzzing)."""
    settings = settings or get_settings()
    db = Database.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if run_pool:
            kinds_provider = app.dependency_overrides.get(get_kinds, get_kinds)
            kinds = kinds_provider()  # the production one is async, tests' overrides not
            if inspect.isawaitable(kinds):
                kinds = await kinds
            pool = RunPool(db, settings, kinds)
            pool.start()
            app.state.pool = pool
        try:
            yield
        finally:
            pool = getattr(app.state, "pool", None)
            if pool is not None:
                pool.stop()
                app.state.pool = None

    app = FastAPI(title="salesplan", version="1", description=DESCRIPTION, lifespan=lifespan,
                  responses={code: ERROR_RESPONSES[code] for code in (400, 413, 422)},
                  docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.db = db
    app.state.validation_slots = threading.BoundedSemaphore(settings.validation_concurrency)
    app.state.health_threads = anyio.CapacityLimiter(2)
    app.state.pool = None
    app.state.auth_limiter = FailureLimiter(settings.auth_failure_limit,
                                            settings.auth_failure_window)
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        # keys travel in headers, never cookies: no credentials mode
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                           allow_methods=["GET", "HEAD", "POST", "PUT", "DELETE"],
                           allow_headers=["X-API-Key", "Authorization", "Content-Type"],
                           expose_headers=["Location", "Retry-After", "Content-Disposition"],
                           max_age=600)
    _add_docs(app)
    add_web_app(app)  # the web app at / (api/web), a client of the /v1 routes below
    app.include_router(health.router)
    protected = {"dependencies": [Depends(require_key)],
                 "responses": {401: ERROR_RESPONSES[401], 404: ERROR_RESPONSES[404],
                               429: TOO_MANY}}
    for module in (scenarios, runs, kinds):
        app.include_router(module.router, **protected)
    app.include_router(keys.router, dependencies=protected["dependencies"],
                       responses={**protected["responses"], 403: FORBIDDEN})
    return app
