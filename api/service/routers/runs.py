"""``/v1/runs``: submit (202, queued), list, status, cancel, result JSON, CSV tables, PNG
charts, the CLI's files (``report.html``...) and the whole result as one zip. Runs execute in
the run pool, never in the request.

A key sees only its workspace's runs (another workspace's answer 404); submitting and
cancelling need the planner role (viewers: 403)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from .. import store
from ..db import Run, utcnow
from ..deps import ApiKeyDep, KindsDep, PlannerDep, PoolDep, RunId, SessionDep, SettingsDep
from ..schemas import (
    MAX_ID,
    ErrorPublic,
    RunCreate,
    RunPublic,
    RunResultPublic,
    RunsPublic,
    RunStatus,
)

router = APIRouter(prefix="/v1/runs", tags=["runs"])

NOT_DONE = {"model": ErrorPublic, "description": "The run has not succeeded (yet)"}
FINISHED = {"model": ErrorPublic, "description": "The run has already finished"}
FileName = Annotated[str, Path(max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")]


def _public(run: Run, pool=None) -> RunPublic:
    """The run; with the run pool, a running run's estimates so far (``partial``)."""
    seconds = None
    if run.started is not None:
        end = run.finished or utcnow()
        start = run.started
        if start.tzinfo is None:
            end = end.replace(tzinfo=None)
        elif end.tzinfo is None:
            end = end.replace(tzinfo=start.tzinfo)
        seconds = max(0.0, (end - start).total_seconds())
    return RunPublic(id=run.id, scenario_id=run.scenario_id, version=run.version, kind=run.kind,
                     options=run.options or {}, status=run.status, progress=run.progress,
                     message=run.message or "", error=run.error, attempts=run.attempts,
                     created=run.created, started=run.started, finished=run.finished,
                     seconds=seconds,
                     partial=pool.partial(run.id) if pool is not None
                     and run.status == "running" else None)


@router.post("", status_code=202, response_model=RunPublic,
             responses={202: {"description": "Queued; poll GET /v1/runs/{id}"}})
def submit_run(body: RunCreate, session: SessionDep, settings: SettingsDep, kinds: KindsDep,
               pool: PoolDep, key: PlannerDep, response: Response) -> RunPublic:
    run = store.submit_run(session, kinds, settings, scenario_id=body.scenario_id,
                           version=body.version, kind=body.kind, options=body.options,
                           api_key_id=key.id, workspace=key.workspace)
    session.commit()
    if pool is not None:
        pool.wake()
    response.headers["Location"] = f"/v1/runs/{run.id}"
    return _public(run)


@router.get("", response_model=RunsPublic)
def list_runs(session: SessionDep, key: ApiKeyDep, status: RunStatus | None = None,
              scenario_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
              offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
              limit: Annotated[int, Query(ge=1, le=500)] = 100) -> RunsPublic:
    rows, count = store.list_runs(session, offset, limit, status, scenario_id, key.workspace)
    return RunsPublic(data=[_public(r) for r in rows], count=count)


@router.get("/{run_id}", response_model=RunPublic)
def get_run(run_id: RunId, session: SessionDep, key: ApiKeyDep, pool: PoolDep) -> RunPublic:
    return _public(store.get_run(session, run_id, key.workspace), pool)


@router.delete("/{run_id}", response_model=RunPublic,
               responses={409: FINISHED})
def cancel_run(run_id: RunId, session: SessionDep, pool: PoolDep,
               key: PlannerDep) -> RunPublic:
    """Cancel a queued or running run (a running one's process is stopped)."""
    run = store.cancel_run(session, run_id, key.workspace)
    session.commit()
    if pool is not None:
        pool.wake()
    return _public(run)


@router.get("/{run_id}/result", response_model=RunResultPublic,
            responses={409: NOT_DONE})
def get_result(run_id: RunId, session: SessionDep, key: ApiKeyDep) -> RunResultPublic:
    run, result, files = store.get_result(session, run_id, key.workspace)
    return RunResultPublic(run_id=run.id, kind=run.kind, result=result.result,
                           tables=[name for kind, name in files if kind == "table"],
                           charts=[name for kind, name in files if kind == "chart"],
                           files=[name for kind, name in files if kind == "file"])


@router.get("/{run_id}/tables/{name}", response_class=Response,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                             "description": "The table as CSV"},
                       409: NOT_DONE})
def get_table(run_id: RunId, name: FileName, session: SessionDep, key: ApiKeyDep) -> Response:
    row = store.get_file(session, run_id, "table", re.sub(r"\.csv$", "", name), key.workspace)
    return Response(row.content, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{row.name}.csv"'})


@router.get("/{run_id}/charts/{name}", response_class=Response,
            responses={200: {"content": {"image/png": {"schema": {"type": "string",
                                                                   "format": "binary"}}},
                             "description": "The chart as PNG"},
                       409: NOT_DONE})
def get_chart(run_id: RunId, name: FileName, session: SessionDep, key: ApiKeyDep) -> Response:
    row = store.get_file(session, run_id, "chart", re.sub(r"\.png$", "", name), key.workspace)
    return Response(row.content, media_type="image/png")


MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "gz": "application/gzip",
               "json": "application/json", "html": "text/html; charset=utf-8",
               "png": "image/png"}
REPORT_POLICY = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
                 "frame-ancestors 'none'")
"""What a served report may load: its own inline styles and embedded images, nothing else (no
script runs in it, whatever text it quotes)."""


@router.get("/{run_id}/files/{name}", response_class=Response,
            responses={200: {"content": {t.split(";")[0]: {"schema": {"type": "string"}}
                                         for t in MEDIA_TYPES.values()},
                             "description": "A file the CLI writes for this kind of run "
                                            "(report.html, summary.json, CSV, PNG...)"},
                       409: NOT_DONE})
def get_run_file(run_id: RunId, name: FileName, session: SessionDep, key: ApiKeyDep
                 ) -> Response:
    """A file of the result, as the CLI writes it into its ``--out`` folder (the names are
    in ``GET /v1/runs/{id}/result``, ``files``)."""
    row = store.get_file(session, run_id, "file", name, key.workspace)
    media = MEDIA_TYPES.get(row.name.rpartition(".")[2], "application/octet-stream")
    headers = {"Content-Disposition": f'inline; filename="{row.name}"',
               "X-Content-Type-Options": "nosniff"}
    if media.startswith("text/html"):
        headers["Content-Security-Policy"] = REPORT_POLICY
    return Response(row.content, media_type=media, headers=headers)


@router.get("/{run_id}/download", response_class=Response,
            responses={200: {"content": {"application/zip": {"schema": {
                "type": "string", "format": "binary"}}},
                "description": "The whole result as a zip"}, 409: NOT_DONE})
def download_run(run_id: RunId, session: SessionDep, key: ApiKeyDep) -> Response:
    """The whole result as one zip: the CLI's files at the top (as in its ``--out`` folder),
    ``result.json``, ``tables/<name>.csv`` and ``charts/<name>.png``."""
    content = store.result_zip(session, run_id, key.workspace)
    return Response(content, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="run-{run_id}.zip"'})
