"""API keys: ``sp_<id>_<secret>``, shown once, stored as the sha256 of the whole key.

The id (8 hex digits) finds the row; the hash is compared in constant time. Keys are revoked,
never deleted, so a revoked key keeps answering 401 rather than becoming unknown.
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

from .db import ApiKey, utcnow

__all__ = ["ApiKeyError", "CreatedKey", "create_key", "find_key", "list_keys", "revoke_key",
           "verify_key"]

PREFIX = "sp"
_KEY = re.compile(r"^sp_([0-9a-f]{8})_([A-Za-z0-9_-]{20,100})$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")


class ApiKeyError(SalesplanError):
    """A key cannot be created or revoked (duplicate or unknown name)."""


@dataclass(frozen=True)
class CreatedKey:
    id: str
    name: str
    key: str  # the secret: print it once, it is not stored


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, name: str) -> CreatedKey:
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
    session.add(ApiKey(id=key_id, name=name, key_hash=hash_key(key)))
    session.flush()
    return CreatedKey(key_id, name, key)


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created, ApiKey.id)))


def find_key(session: Session, name_or_id: str) -> ApiKey | None:
    row = session.get(ApiKey, name_or_id)
    return row or session.scalar(select(ApiKey).where(ApiKey.name == name_or_id))


def revoke_key(session: Session, name_or_id: str) -> ApiKey:
    row = find_key(session, name_or_id)
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
