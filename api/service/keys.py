"""API keys: ``sp_<id>_<secret>``, shown once, stored as the sha256 of the whole key.

The id (8 hex digits) finds the row; the hash is compared in constant time. Keys are revoked,
never deleted, so a revoked key keeps answering 401 rather than becoming unknown.

Each key belongs to one workspace and has one role (:data:`~.db.ROLES`); the CLI creates keys in
any workspace, an ``admin`` key creates, lists and revokes the keys of its own workspace over
the API.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from salesplan.scenarios.errors import SalesplanError

from .db import DEFAULT_WORKSPACE, ROLES, ApiKey, utcnow

__all__ = ["ApiKeyError", "CreatedKey", "check_workspace", "create_key", "find_key", "list_keys",
           "revoke_key", "verify_key"]

PREFIX = "sp"
_KEY = re.compile(r"^sp_([0-9a-f]{8})_([A-Za-z0-9_-]{20,100})$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
_WORKSPACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class ApiKeyError(SalesplanError):
    """A key cannot be created or revoked (duplicate or unknown name)."""


@dataclass(frozen=True)
class CreatedKey:
    id: str
    name: str
    key: str  # the secret: print it once, it is not stored
    workspace: str = DEFAULT_WORKSPACE
    role: str = "admin"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def check_workspace(workspace: str) -> str:
    if not _WORKSPACE.match(workspace):
        raise ApiKeyError(f"workspace name {workspace!r} must be 1-64 letters, digits or ._- "
                          "(starting with a letter or digit)")
    return workspace


def create_key(session: Session, name: str, *, workspace: str = DEFAULT_WORKSPACE,
               role: str = "admin") -> CreatedKey:
    """A new key named ``name`` (unique across the server) with ``role`` in ``workspace``."""
    check_workspace(workspace)
    if role not in ROLES:
        raise ApiKeyError(f"unknown role {role!r}; expected one of: {', '.join(ROLES)}")
    if not _NAME.match(name):
        raise ApiKeyError(f"key name {name!r} must be 1-100 letters, digits or ._@- "
                          "(starting with a letter or digit)")
    if session.scalar(select(ApiKey).where(ApiKey.name == name)) is not None:
        raise ApiKeyError(f"an API key named {name!r} already exists (revoke it or pick another "
                          "name)")
    key_id = secrets.token_hex(4)
    while session.get(ApiKey, key_id) is not None:  # pragma: no cover - 1 in 4 billion
        key_id = secrets.token_hex(4)
    key = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    session.add(ApiKey(id=key_id, name=name, key_hash=hash_key(key), workspace=workspace,
                       role=role))
    session.flush()
    return CreatedKey(key_id, name, key, workspace, role)


def list_keys(session: Session, workspace: str | None = None) -> list[ApiKey]:
    """Every key (``workspace``: only that workspace's), oldest first."""
    q = select(ApiKey)
    if workspace is not None:
        q = q.where(ApiKey.workspace == workspace)
    return list(session.scalars(q.order_by(ApiKey.created, ApiKey.id)))


def find_key(session: Session, name_or_id: str, workspace: str | None = None) -> ApiKey | None:
    row = session.get(ApiKey, name_or_id)
    row = row or session.scalar(select(ApiKey).where(ApiKey.name == name_or_id))
    if row is not None and workspace is not None and row.workspace != workspace:
        return None
    return row


def revoke_key(session: Session, name_or_id: str, workspace: str | None = None) -> ApiKey:
    """Revoke a key by name or id (``workspace``: only one of that workspace's)."""
    row = find_key(session, name_or_id, workspace)
    if row is None:
        raise ApiKeyError(f"no API key named or with id {name_or_id!r}")
    if row.revoked is None:
        row.revoked = utcnow()
    return row


def verify_key(session: Session, key: str | None) -> ApiKey | None:
    """The active key row for ``key``, or None (unknown, malformed or revoked)."""
    if not key:
        return None
    m = _KEY.match(key.strip())
    if not m:
        return None
    row = session.get(ApiKey, m.group(1))
    if row is None or row.revoked is not None:
        return None
    if not hmac.compare_digest(row.key_hash, hash_key(key.strip())):
        return None
    return row
