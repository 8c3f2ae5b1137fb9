"""``GET /health``: no key needed; says whether the database answers and how many runs wait."""

from __future__ import annotations

from fastapi import APIRouter

from .. import store
from ..deps import SessionDep
from ..schemas import HealthPublic

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthPublic)
def health(session: SessionDep) -> HealthPublic:
    counts = store.queue_counts(session)
    return HealthPublic(status="ok", database=session.get_bind().dialect.name,
                        queued=counts.get("queued", 0), running=counts.get("running", 0))
