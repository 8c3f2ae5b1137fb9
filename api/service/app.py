"""The application factory: ``create_app(settings)`` builds the FastAPI app; its lifespan starts
the run pool (re-queueing runs a previous process left running) and stops it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from .db import Database
from .deps import get_kinds, require_key
from .errors import ERROR_RESPONSES, BodyLimit, install_error_handlers
from .routers import health, kinds, runs, scenarios
from .settings import Settings, get_settings
from .worker import RunPool

__all__ = ["create_app"]

log = logging.getLogger("salesplan.service")

DESCRIPTION = """Share sales-planning scenarios and run simulations, territory alignments,
quotas, what-ifs and headcount plans on a server.

Every route except `/health` and the documentation needs an API key (`X-API-Key: <key>` or
`Authorization: Bearer <key>`); create one with `salesplan apikey create NAME`. Runs are queued
(202) and executed in a pool of worker processes; poll `GET /v1/runs/{id}`."""


def create_app(settings: Settings | None = None, run_pool: bool = True) -> FastAPI:
    """The service. ``settings`` default to the environment (``SALESPLAN_*``); ``run_pool``:
    start the run pool with the app (off: runs stay queued, e.g. for schema fuzzing)."""
    settings = settings or get_settings()
    db = Database.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if run_pool:
            kinds_provider = app.dependency_overrides.get(get_kinds, get_kinds)
            pool = RunPool(db, settings, kinds_provider())
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
                  responses={code: ERROR_RESPONSES[code] for code in (400, 413, 422)})
    app.state.settings = settings
    app.state.db = db
    app.state.pool = None
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.include_router(health.router)
    protected = {"dependencies": [Depends(require_key)],
                 "responses": {401: ERROR_RESPONSES[401], 404: ERROR_RESPONSES[404]}}
    for module in (scenarios, runs, kinds):
        app.include_router(module.router, **protected)
    return app
