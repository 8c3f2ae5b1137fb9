"""``GET /health`` (and ``HEAD``, for probes): no key needed; says whether the database answers
and how many runs wait."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, HTTPException, Request
from sqlalchemy.exc import SQLAlchemyError

from .. import store
from ..deps import DbDep
from ..schemas import ErrorPublic, HealthPublic

router = APIRouter(tags=["health"])


@router.head("/health", include_in_schema=False)
@router.get("/health", response_model=HealthPublic,
            responses={503: {"model": ErrorPublic, "description": "The database is unreachable"}})
async def health(db: DbDep, request: Request) -> HealthPublic:
    """The database query runs on threads of its own (``app.state.health_threads``), so a probe
    never waits behind busy request threads (fifty uploads waiting to be validated)."""

    def counts_now() -> dict:
        with db.session() as session:
            return store.queue_counts(session)

    try:
        counts = await anyio.to_thread.run_sync(counts_now,
                                                limiter=request.app.state.health_threads)
    except SQLAlchemyError as exc:
        raise HTTPException(503, f"the database is unreachable: {type(exc).__name__}") from None
    return HealthPublic(status="ok", database=db.engine.dialect.name,
                        queued=counts.get("queued", 0), running=counts.get("running", 0))
