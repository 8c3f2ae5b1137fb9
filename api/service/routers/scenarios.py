"""``/v1/scenarios``: create (JSON or multipart upload), list, get, new version, versions,
delete. Every version is immutable; an update adds one.

A key sees only its workspace's scenarios (another workspace's answer 404); creating, updating
and deleting need the planner role (viewers: 403)."""

from __future__ import annotations

from functools import partial
from pathlib import PurePath
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from salesplan.scenarios.errors import ScenarioError
from salesplan.scenarios.references import Problem

from .. import store
from ..db import ScenarioRow, ScenarioVersion
from ..deps import ApiKeyDep, PlannerDep, ScenarioId, SessionDep, SettingsDep, VersionNo
from ..schemas import (
    ScenarioCreate,
    ScenarioPublic,
    ScenariosPublic,
    ScenarioVersionPublic,
    ScenarioVersionsPublic,
    VersionSummary,
)
from ..settings import Settings

router = APIRouter(prefix="/v1/scenarios", tags=["scenarios"])

Offset = Annotated[int, Query(ge=0, le=10**9)]
Limit = Annotated[int, Query(ge=1, le=500)]


def _summary(v: ScenarioVersion) -> VersionSummary:
    return VersionSummary(version=v.version, created=v.created, name=v.name, counts=v.counts)


def _public(session, row: ScenarioRow) -> ScenarioPublic:
    latest = store.latest_version(session, row)
    return ScenarioPublic(id=row.id, name=row.name, created=row.created, updated=row.updated,
                          latest_version=row.latest_version,
                          latest=_summary(latest) if latest else None)


def _from_body(body: ScenarioCreate, settings: Settings, request: Request) -> store.Validated:
    return store.validate_scenario(settings, text=body.text, fmt=body.format,
                                   document=body.document, tables=body.tables,
                                   slots=request.app.state.validation_slots)


async def _decode(upload: UploadFile, what: str) -> str:
    raw = await upload.read()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError([Problem(upload.filename or what, f"not UTF-8 text ({exc})")],
                            "upload") from None


async def _from_upload(file: UploadFile, tables: list[UploadFile], fmt: str | None,
                       settings: Settings, request: Request) -> store.Validated:
    text = await _decode(file, "file")
    if fmt is None:
        fmt = "json" if PurePath(file.filename or "").suffix.lower() == ".json" else "yaml"
    named = {}
    for t in tables:
        named[PurePath(t.filename or "table.csv").name] = await _decode(t, "table")
    # CPU-bound: in a worker thread, so the event loop (and /health) keeps answering
    return await run_in_threadpool(
        partial(store.validate_scenario, settings, text=text, fmt=fmt, tables=named,
                slots=request.app.state.validation_slots))


FileField = Annotated[UploadFile, File(description="The scenario, YAML or JSON")]
TablesField = Annotated[list[UploadFile], File(
    description="CSV tables, each under the file name the scenario refers to")]
FormatField = Annotated[Literal["yaml", "json"] | None, Form(
    description="Default: from the file name (.json, else YAML)")]


@router.post("", status_code=201, response_model=ScenarioPublic)
def create_scenario(body: ScenarioCreate, session: SessionDep, settings: SettingsDep,
                    key: PlannerDep, request: Request) -> ScenarioPublic:
    """Create a scenario from a JSON body (a document, or YAML/JSON text, with CSV tables)."""
    row = store.create_scenario(session, _from_body(body, settings, request), key.workspace)
    session.commit()  # the write transaction ends here, not after the response is built
    return _public(session, row)


@router.post("/upload", status_code=201, response_model=ScenarioPublic)
async def upload_scenario(session: SessionDep, settings: SettingsDep, key: PlannerDep,
                          request: Request, file: FileField, tables: TablesField = (),
                          format: FormatField = None) -> ScenarioPublic:
    """Create a scenario from a multipart upload: the document file and its CSV tables."""
    validated = await _from_upload(file, list(tables), format, settings, request)
    row = store.create_scenario(session, validated, key.workspace)
    session.commit()
    return _public(session, row)


@router.get("", response_model=ScenariosPublic)
def list_scenarios(session: SessionDep, key: ApiKeyDep, offset: Offset = 0, limit: Limit = 100
                   ) -> ScenariosPublic:
    rows, count = store.list_scenarios(session, offset, limit, key.workspace)
    return ScenariosPublic(data=[_public(session, r) for r in rows], count=count)


@router.get("/{scenario_id}", response_model=ScenarioPublic)
def get_scenario(scenario_id: ScenarioId, session: SessionDep, key: ApiKeyDep) -> ScenarioPublic:
    return _public(session, store.get_scenario(session, scenario_id, key.workspace))


@router.put("/{scenario_id}", response_model=ScenarioPublic)
def update_scenario(scenario_id: ScenarioId, body: ScenarioCreate, session: SessionDep,
                    settings: SettingsDep, key: PlannerDep, request: Request) -> ScenarioPublic:
    """Store a new version (earlier versions stay as they were)."""
    store.get_scenario(session, scenario_id, key.workspace)
    validated = _from_body(body, settings, request)
    row = store.add_version(session, scenario_id, validated, key.workspace)
    session.commit()
    return _public(session, row)


@router.put("/{scenario_id}/upload", response_model=ScenarioPublic)
async def upload_version(scenario_id: ScenarioId, session: SessionDep, settings: SettingsDep,
                         key: PlannerDep, request: Request, file: FileField,
                         tables: TablesField = (), format: FormatField = None,
                         ) -> ScenarioPublic:
    """A new version from a multipart upload."""
    store.get_scenario(session, scenario_id, key.workspace)
    validated = await _from_upload(file, list(tables), format, settings, request)
    row = store.add_version(session, scenario_id, validated, key.workspace)
    session.commit()
    return _public(session, row)


@router.get("/{scenario_id}/versions", response_model=ScenarioVersionsPublic)
def list_versions(scenario_id: ScenarioId, session: SessionDep,
                  key: ApiKeyDep) -> ScenarioVersionsPublic:
    store.get_scenario(session, scenario_id, key.workspace)
    rows = store.list_versions(session, scenario_id)
    return ScenarioVersionsPublic(data=[_summary(v) for v in rows], count=len(rows))


@router.get("/{scenario_id}/versions/{version}", response_model=ScenarioVersionPublic)
def get_version(scenario_id: ScenarioId, version: VersionNo,
                session: SessionDep, key: ApiKeyDep) -> ScenarioVersionPublic:
    v = store.get_version(session, scenario_id, version, key.workspace)
    return ScenarioVersionPublic(version=v.version, created=v.created, name=v.name,
                                 counts=v.counts, scenario_id=v.scenario_id,
                                 document=v.document, tables=v.tables)


@router.delete("/{scenario_id}", status_code=204, response_class=Response)
def delete_scenario(scenario_id: ScenarioId, session: SessionDep, key: PlannerDep) -> Response:
    """Delete a scenario (its versions are kept for the runs that used them)."""
    store.delete_scenario(session, scenario_id, key.workspace)
    return Response(status_code=204)
