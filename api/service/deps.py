"""Typed dependencies, all in one place. Tests override these (``app.dependency_overrides``)
rather than patching: ``get_settings``, ``get_db``, ``get_kinds``, ``get_pool``.

The dependencies that only read ``app.state`` (or check a role) are ``async def``: FastAPI runs
a plain ``def`` dependency in its thread pool, whose 40 threads a burst of uploads fills, so a
``/health`` probe used to wait for a free thread just to read the database object (measured:
probes at 250-310 ms during 50 concurrent uploads while the handler itself took under 100 ms).
Those that touch the database (``require_key``, ``get_session``) stay on threads."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from .db import ROLES, ApiKey, Database
from .keys import verify_key
from .kinds import KINDS, Kind
from .ratelimit import FailureLimiter
from .schemas import MAX_ID
from .settings import Settings
from .worker import RunPool

__all__ = ["AdminDep", "ApiKeyDep", "DbDep", "KindsDep", "PlannerDep", "PoolDep", "RunId",
           "ScenarioId", "SessionDep", "SettingsDep", "VersionNo", "require_key", "require_role"]


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_db(request: Request) -> Database:
    return request.app.state.db


async def get_kinds() -> Mapping[str, Kind]:
    """The run kinds this server offers (the production registry)."""
    return KINDS


async def get_pool(request: Request) -> RunPool | None:
    return getattr(request.app.state, "pool", None)


ScenarioId = Annotated[int, Path(ge=1, le=MAX_ID, description="Scenario id")]
VersionNo = Annotated[int, Path(ge=1, le=MAX_ID, description="Version number (1, 2, ...)")]
RunId = Annotated[int, Path(ge=1, le=MAX_ID, description="Run id")]

SettingsDep = Annotated[Settings, Depends(get_settings)]
DbDep = Annotated[Database, Depends(get_db)]
KindsDep = Annotated[Mapping[str, Kind], Depends(get_kinds)]
PoolDep = Annotated[RunPool | None, Depends(get_pool)]


def get_session(db: DbDep) -> Iterator[Session]:
    with db.session() as s:
        yield s


SessionDep = Annotated[Session, Depends(get_session)]

_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key")
_bearer = HTTPBearer(auto_error=False, description="An API key as a bearer token")


async def get_limiter(request: Request) -> FailureLimiter:
    return request.app.state.auth_limiter


def require_key(
    request: Request,
    db: DbDep,
    limiter: Annotated[FailureLimiter, Depends(get_limiter)],
    header: Annotated[str | None, Security(_header)] = None,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
) -> ApiKey:
    """The caller's API key (``X-API-Key`` or ``Authorization: Bearer``), else 401. A wrong key
    counts as a failure of the client (remote address); past its limit the client gets 429
    before any key is checked, so that a blocked client learns nothing about the keys it
    tries (a missing key is not counted: nothing was guessed)."""
    client = request.client.host if request.client else "unknown"
    wait = limiter.retry_after(client)
    if wait is not None:
        raise HTTPException(429, f"too many failed authentications from this address; retry "
                                 f"in {wait} s", {"Retry-After": str(wait)})
    key = header or (bearer.credentials if bearer else None)
    if not key:  # nothing was guessed: not counted
        raise HTTPException(401, "an API key is required (X-API-Key header or "
                                 "Authorization: Bearer)", {"WWW-Authenticate": "Bearer"})
    with db.session() as s:
        row = verify_key(s, key)
    if row is None:
        limiter.failed(client)
        raise HTTPException(401, "invalid or revoked API key", {"WWW-Authenticate": "Bearer"})
    return row


ApiKeyDep = Annotated[ApiKey, Depends(require_key)]


def require_role(role: str):
    """A dependency: the caller's key if its role is ``role`` or above (viewer < planner <
    admin), else 403 naming the role needed."""
    needed = ROLES.index(role)

    async def check(key: ApiKeyDep) -> ApiKey:
        if ROLES.index(key.role) < needed:
            raise HTTPException(403, f"this API key is a {key.role} of workspace "
                                     f"{key.workspace!r}; this needs the {role} role"
                                     + (" (or admin)" if role == "planner" else ""))
        return key

    return check


PlannerDep = Annotated[ApiKey, Depends(require_role("planner"))]
AdminDep = Annotated[ApiKey, Depends(require_role("admin"))]
