"""``GET /health`` (and ``HEAD``, for probes): no key needed; says whether the database answers
and how many runs wait."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from sqlalchemy.exc import SQLAlchemyError

from .. import store
from ..deps import DbDep
from ..schemas import ErrorPublic, HealthPublic

router = APIRouter(tags=["health"])


@router.head("/health", include_in_schema=False)
@router.get("/health", response_model=HealthPublic,
            responses={503: {"model": ErrorPublic, "description": "The database is unreachable"}})
def health(db: DbDep) -> HealthPublic:
    try:
        with db.session() as session:
            counts = store.queue_counts(session)
    except SQLAlchemyError as exc:
        raise HTTPException(503, f"the database is unreachable: {type(exc).__name__}") from None
    return HealthPublic(status="ok", database=db.engine.dialect.name,
                        queued=counts.get("queued", 0), running=counts.get("running", 0))
