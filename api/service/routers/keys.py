"""``/v1/keys``: an admin key creates (the key shown once), lists (never the secrets) and revokes
the keys of its own workspace. Keys of other workspaces are not found (404). Any key may ask
who it is (``GET /v1/keys/me``: its name, workspace and role, never the key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from .. import keys as keystore
from ..db import ApiKey
from ..deps import AdminDep, ApiKeyDep, SessionDep
from ..schemas import ErrorPublic, KeyCreate, KeyCreated, KeyPublic, KeysPublic, Role
from ..store import ConflictError, NotFoundError

router = APIRouter(prefix="/v1/keys", tags=["keys"])

KeyRef = Annotated[str, Path(max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$",
                             description="The key's id or name")]


class KeySelf(BaseModel):
    """The caller's own key as a client shows it (the web app's header): never the key."""
    name: str = Field(description="The key holder's name")
    workspace: str = Field(description="The workspace the key sees and writes")
    role: Role = Field(description="viewer (reads), planner (also writes and runs) or admin "
                                   "(also manages the workspace's keys)")


def _public(row: ApiKey) -> KeyPublic:
    return KeyPublic(id=row.id, name=row.name, workspace=row.workspace, role=row.role,
                     created=row.created, revoked=row.revoked)


@router.get("/me", response_model=KeySelf)
def who_am_i(key: ApiKeyDep) -> KeySelf:
    """The caller's key: its name, workspace and role (any role; never the key itself), so a
    client can show who is signed in and offer only what the role may do (the API still
    refuses the rest with 403)."""
    return KeySelf(name=key.name, workspace=key.workspace, role=key.role)


@router.post("", status_code=201, response_model=KeyCreated,
             responses={409: {"model": ErrorPublic, "description": "The name is taken"}})
def create_key(body: KeyCreate, session: SessionDep, admin: AdminDep) -> KeyCreated:
    """Create a key in the caller's workspace; the answer is the only time the key is shown."""
    if keystore.find_key(session, body.name) is not None:
        raise ConflictError(f"an API key named {body.name!r} already exists on this server; "
                            "pick another name")
    created = keystore.create_key(session, body.name, workspace=admin.workspace, role=body.role)
    row = session.get(ApiKey, created.id)
    return KeyCreated(**_public(row).model_dump(), key=created.key)


@router.get("", response_model=KeysPublic)
def list_keys(session: SessionDep, admin: AdminDep) -> KeysPublic:
    """The workspace's keys, revoked ones included (never the keys themselves)."""
    rows = keystore.list_keys(session, admin.workspace)
    return KeysPublic(data=[_public(r) for r in rows], count=len(rows))


@router.delete("/{key_ref}", response_model=KeyPublic,
               responses={409: {"model": ErrorPublic, "description": "The caller's own key"}})
def revoke_key(key_ref: KeyRef, session: SessionDep, admin: AdminDep) -> KeyPublic:
    """Revoke a key of the workspace (by id or name): it answers 401 from now on. An admin
    cannot revoke its own key (another admin or ``salesplan apikey revoke`` can), so that a
    workspace is never left without the key that manages it by mistake."""
    row = keystore.find_key(session, key_ref, admin.workspace)
    if row is None:
        raise NotFoundError(f"no API key named or with id {key_ref!r} in this workspace")
    if row.id == admin.id:
        raise ConflictError("this is the key making the request; revoke it with another admin "
                            "key of the workspace or with `salesplan apikey revoke`")
    return _public(keystore.revoke_key(session, row.id, admin.workspace))
