"""What the routes call: validate and store scenarios and versions, submit and cancel runs.

Each function takes a session and plain values and returns rows or raises a domain error
(:class:`NotFoundError`, :class:`ConflictError`, :class:`~salesplan.scenarios.errors.ScenarioError`,
a :class:`LimitError`), which the app turns into 404 / 409 / 422 answers.

The routes pass the caller's ``workspace``: a scenario or run of another workspace is "not found"
exactly as one that does not exist (404, never 403: its existence is not revealed). ``None``
(internal callers only) means every workspace.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from salesplan.scenarios import Scenario
from salesplan.scenarios.errors import SalesplanError, ScenarioError
from salesplan.scenarios.io import (
    TABLE_SECTIONS,
    YAML_LOADER,
    loads_scenario,
    parse_scenario,
    parse_text,
    scenario_to_document,
)
from salesplan.scenarios.references import Problem

from .db import DEFAULT_WORKSPACE, Result, ResultFile, Run, ScenarioRow, ScenarioVersion, utcnow
from .kinds import Kind, safe_file_name
from .settings import Settings

__all__ = [
    "ConflictError",
    "LimitError",
    "NotFoundError",
    "add_version",
    "cancel_run",
    "create_scenario",
    "submit_run",
    "validate_scenario",
]

COUNTED = ("regions", "segments", "products", "reps", "accounts", "stages", "lead_sources",
           "variants", "initial_pipeline")


class NotFoundError(SalesplanError):
    """404: no such scenario, version, run or result file."""


class ConflictError(SalesplanError):
    """409: the request is valid but not in the current state (a result of a queued run...)."""


class LimitError(ScenarioError):
    """422: a configured limit (accounts, reps, replications) is exceeded."""


class Validated:
    """A validated upload: the scenario, its JSON document (table sections as references to
    ``tables``) and row counts."""

    def __init__(self, scenario: Scenario, document: dict, tables: dict[str, str]):
        self.scenario = scenario
        self.document = document
        self.tables = tables
        self.counts = {k: len(getattr(scenario, k) or []) for k in COUNTED}


def _table_refs(document: Mapping[str, Any]) -> dict[str, str]:
    """Sections that the (already valid) document gives as a CSV reference."""
    return {s: document[s] for s in TABLE_SECTIONS if isinstance(document.get(s), str)}


MAX_YAML_NODES = 2_000_000
"""Nodes a YAML document may expand to once its aliases are resolved (a "billion laughs"
document is a few lines that expand to billions of nodes)."""


def _check_yaml_expansion(text: str) -> None:
    """Reject YAML whose aliases expand past :data:`MAX_YAML_NODES` (syntax errors are left
    to the scenario loader, which reports them with their line)."""
    try:
        root = yaml.compose(text, Loader=YAML_LOADER)
    except yaml.YAMLError:
        return
    if root is None:
        return
    sizes: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        sizes[key] = 1  # a cycle counts once (the loader rejects it later)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(n) for n in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        total = min(total, MAX_YAML_NODES + 1)
        sizes[key] = total
        return total

    if size(root) > MAX_YAML_NODES:
        raise ScenarioError([Problem("", f"the YAML document expands to more than "
                                         f"{MAX_YAML_NODES:,} values through its aliases "
                                         "(&anchor / *alias); write the values out")],
                            "scenario")


def validate_scenario(settings: Settings, *, text: str | None = None, fmt: str = "yaml",
                      document: Mapping[str, Any] | None = None,
                      tables: Mapping[str, str] | None = None,
                      slots: AbstractContextManager | None = None) -> Validated:
    """Validate an upload (every problem at once) and check the size limits; ``slots`` (a
    semaphore) bounds how many validations run at once."""
    with slots if slots is not None else nullcontext():
        return _validate_scenario(settings, text=text, fmt=fmt, document=document,
                                  tables=tables)


def _validate_scenario(settings: Settings, *, text: str | None, fmt: str,
                       document: Mapping[str, Any] | None,
                       tables: Mapping[str, str] | None) -> Validated:
    tables = dict(tables or {})
    try:
        if document is not None:
            text, fmt = json.dumps(document), "json"
        assert text is not None
        if fmt == "yaml":
            _check_yaml_expansion(text)
        parsed = parse_text(text, fmt, "scenario")  # once: the scenario and its references
        scenario = parse_scenario(parsed, tables.__getitem__, source="scenario")
    except RecursionError:
        raise ScenarioError([Problem("", "the document is nested too deeply")],
                            "scenario") from None
    refs = _table_refs(parsed)
    problems = []
    for section, limit, setting in (("accounts", settings.max_accounts, "MAX_ACCOUNTS"),
                                    ("reps", settings.max_reps, "MAX_REPS")):
        n = len(getattr(scenario, section))
        if n > limit:
            problems.append(Problem(section, f"{n} {section} exceed this server's limit of "
                                             f"{limit} (SALESPLAN_{setting})"))
    if problems:
        raise LimitError(problems, "scenario")
    used = {ref: tables[ref] for ref in refs.values()}
    attached = {name: text for name, text in tables.items() if name not in used}
    _check_attached(attached)
    return Validated(scenario, scenario_to_document(scenario, refs), used | attached)


def _check_attached(files: Mapping[str, str]) -> None:
    """Files uploaded beside the scenario that it does not refer to (a CRM export, targets, a
    travel table, pins: what run options name) are kept with the version; their names must be
    plain file names and their text valid Unicode without NUL (422 otherwise)."""
    from salesplan.scenarios.text import text_problems

    problems = [Problem(name, "a file the scenario does not refer to (kept for the runs that "
                              "name it) needs a plain file name: no folder, not starting "
                              "with '.', at most 100 characters")
                for name in files if not safe_file_name(name)]
    problems += [Problem(path, msg) for path, msg in text_problems(dict(files))]
    if problems:
        raise ScenarioError(problems, "scenario")


def _visible(row, workspace: str | None) -> bool:
    return workspace is None or row.workspace == workspace


def get_scenario(session: Session, scenario_id: int,
                 workspace: str | None = None) -> ScenarioRow:
    row = session.get(ScenarioRow, scenario_id)
    if row is None or row.deleted or not _visible(row, workspace):
        raise NotFoundError(f"no scenario {scenario_id}")
    return row


def get_version(session: Session, scenario_id: int, version: int,
                workspace: str | None = None) -> ScenarioVersion:
    get_scenario(session, scenario_id, workspace)
    row = session.scalar(select(ScenarioVersion).where(
        ScenarioVersion.scenario_id == scenario_id, ScenarioVersion.version == version))
    if row is None:
        raise NotFoundError(f"scenario {scenario_id} has no version {version}")
    return row


def latest_version(session: Session, row: ScenarioRow) -> ScenarioVersion | None:
    return session.scalar(select(ScenarioVersion).where(
        ScenarioVersion.scenario_id == row.id, ScenarioVersion.version == row.latest_version))


def create_scenario(session: Session, v: Validated,
                    workspace: str = DEFAULT_WORKSPACE) -> ScenarioRow:
    row = ScenarioRow(name=v.scenario.name[:200], latest_version=1, workspace=workspace)
    session.add(row)
    session.flush()
    session.add(ScenarioVersion(scenario_id=row.id, version=1, name=row.name,
                                document=v.document, tables=v.tables, counts=v.counts))
    session.flush()
    return row


def add_version(session: Session, scenario_id: int, v: Validated,
                workspace: str | None = None) -> ScenarioRow:
    row = get_scenario(session, scenario_id, workspace)
    number = (session.scalar(select(func.max(ScenarioVersion.version))
                             .where(ScenarioVersion.scenario_id == row.id)) or 0) + 1
    session.add(ScenarioVersion(scenario_id=row.id, version=number, name=v.scenario.name[:200],
                                document=v.document, tables=v.tables, counts=v.counts))
    row.latest_version = number
    row.name = v.scenario.name[:200]
    row.updated = utcnow()
    session.flush()
    return row


def list_scenarios(session: Session, offset: int, limit: int,
                   workspace: str | None = None) -> tuple[list[ScenarioRow], int]:
    where = ScenarioRow.deleted.is_(False)
    if workspace is not None:
        where = where & (ScenarioRow.workspace == workspace)
    count = session.scalar(select(func.count()).select_from(ScenarioRow).where(where)) or 0
    rows = session.scalars(select(ScenarioRow).where(where).order_by(ScenarioRow.id)
                           .offset(offset).limit(limit)).all()
    return list(rows), count


def delete_scenario(session: Session, scenario_id: int, workspace: str | None = None) -> None:
    get_scenario(session, scenario_id, workspace).deleted = True


# ---- runs ----------------------------------------------------------------------------------------

def validate_options(kind: Kind, options: Mapping[str, Any], settings: Settings) -> dict:
    """The kind's options, validated and with defaults filled in (422 naming each field)."""
    from ..options import problems_of

    try:
        parsed = kind.options.model_validate(dict(options))
    except ValidationError as exc:
        problems = [Problem(f"options.{path}" if path else "options", msg)
                    for path, msg in problems_of(exc)]
        raise ScenarioError(problems, f"invalid options for run kind {kind.name!r}") from None
    reps = getattr(parsed, "replications", None)
    if reps is not None and reps > settings.max_replications:
        raise LimitError([Problem("options.replications",
                                  f"{reps} replications exceed this server's limit of "
                                  f"{settings.max_replications} (SALESPLAN_MAX_REPLICATIONS)")],
                         "run")
    return parsed.model_dump(mode="json")


def check_against_scenario(kind: Kind, stored: ScenarioVersion, options: dict) -> None:
    """What the options name (variants, regions, reps) must exist in the scenario version the
    run is for: 422 at submission, never a failed run later."""
    if kind.check is None:
        return
    scenario = loads_scenario(json.dumps(stored.document), "json", tables=stored.tables or {},
                              source="scenario")
    problems = kind.check(scenario, kind.options.model_validate(options), stored.tables or {})
    if problems:
        raise ScenarioError([Problem(f"options.{p.partition(': ')[0]}", p.partition(": ")[2])
                             for p in problems], f"invalid options for run kind {kind.name!r}")


def submit_run(session: Session, kinds: Mapping[str, Kind], settings: Settings, *,
               scenario_id: int, version: int | None, kind: str, options: Mapping[str, Any],
               api_key_id: str | None = None, workspace: str | None = None) -> Run:
    """Queue a run of a scenario version (``workspace``: the caller's; the run belongs to the
    scenario's workspace)."""
    if kind not in kinds:
        raise ScenarioError([Problem("kind", f"unknown run kind {kind!r}; expected one of: "
                                             f"{', '.join(sorted(kinds))}")], "run")
    row = get_scenario(session, scenario_id, workspace)
    number = version if version is not None else row.latest_version
    stored = get_version(session, scenario_id, number, workspace)
    clean = validate_options(kinds[kind], options, settings)
    check_against_scenario(kinds[kind], stored, clean)
    run = Run(scenario_id=scenario_id, version=number, kind=kind, options=clean,
              status="queued", message="queued", api_key_id=api_key_id,
              workspace=row.workspace)
    session.add(run)
    session.flush()
    return run


def get_run(session: Session, run_id: int, workspace: str | None = None) -> Run:
    run = session.get(Run, run_id)
    if run is None or not _visible(run, workspace):
        raise NotFoundError(f"no run {run_id}")
    return run


def list_runs(session: Session, offset: int, limit: int, status: str | None,
              scenario_id: int | None, workspace: str | None = None) -> tuple[list[Run], int]:
    q = select(Run)
    if workspace is not None:
        q = q.where(Run.workspace == workspace)
    if status:
        q = q.where(Run.status == status)
    if scenario_id is not None:
        q = q.where(Run.scenario_id == scenario_id)
    count = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = session.scalars(q.order_by(Run.id).offset(offset).limit(limit)).all()
    return list(rows), count


def cancel_run(session: Session, run_id: int, workspace: str | None = None) -> Run:
    run = get_run(session, run_id, workspace)
    changed = session.execute(
        update(Run).where(Run.id == run_id, Run.status.in_(("queued", "running")))
        .values(status="cancelled", finished=utcnow(), message="cancelled",
                error="cancelled on request")
    ).rowcount
    if changed != 1:
        session.refresh(run)
        raise ConflictError(f"run {run_id} is already {run.status}; only queued or running "
                            "runs can be cancelled")
    session.refresh(run)
    return run


def get_result(session: Session, run_id: int,
               workspace: str | None = None) -> tuple[Run, Result, list[tuple[str, str]]]:
    run = get_run(session, run_id, workspace)
    if run.status != "succeeded":
        detail = f": {run.error}" if run.error else ""
        raise ConflictError(f"run {run_id} is {run.status}{detail}; results exist only for "
                            "succeeded runs")
    result = session.get(Result, run_id)
    if result is None:  # pragma: no cover - written with the status
        raise NotFoundError(f"run {run_id} has no stored result")
    files = session.execute(select(ResultFile.kind, ResultFile.name)
                            .where(ResultFile.run_id == run_id)
                            .order_by(ResultFile.kind, ResultFile.name)).all()
    return run, result, [(kind, name) for kind, name in files]


def get_file(session: Session, run_id: int, kind: str, name: str,
             workspace: str | None = None) -> ResultFile:
    get_result(session, run_id, workspace)
    row = session.get(ResultFile, (run_id, kind, name))
    if row is None:
        raise NotFoundError(f"run {run_id} has no {kind} named {name!r}")
    return row


def result_zip(session: Session, run_id: int, workspace: str | None = None) -> bytes:
    """A succeeded run's whole result as zip bytes: the CLI's files at the top,
    ``result.json``, ``tables/<name>.csv`` and ``charts/<name>.png`` (names in order, fixed
    timestamps: the same result gives the same bytes)."""
    import io
    import zipfile

    _, result, _ = get_result(session, run_id, workspace)
    rows = session.scalars(select(ResultFile).where(ResultFile.run_id == run_id)
                           .order_by(ResultFile.kind, ResultFile.name)).all()
    folders = {"file": "", "table": "tables/", "chart": "charts/"}
    suffix = {"file": "", "table": ".csv", "chart": ".png"}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        def add(name: str, content: bytes) -> None:
            z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), content,
                       compress_type=zipfile.ZIP_DEFLATED)

        add("result.json", json.dumps(result.result, indent=2, allow_nan=False).encode())
        for row in rows:
            add(f"{folders[row.kind]}{row.name}{suffix[row.kind]}", bytes(row.content))
    return buf.getvalue()


def queue_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Run.status, func.count()).group_by(Run.status))
    return {status: n for status, n in rows}


def list_versions(session: Session, scenario_id: int) -> list[ScenarioVersion]:
    return list(session.scalars(select(ScenarioVersion)
                                .where(ScenarioVersion.scenario_id == scenario_id)
                                .order_by(ScenarioVersion.version)))
