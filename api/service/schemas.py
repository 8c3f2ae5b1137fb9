"""Request and response bodies (the schema families of the API).

``ScenarioCreate`` -> ``ScenarioPublic`` / ``ScenariosPublic(data, count)``, the same for
versions and runs; ``ErrorPublic`` is every 4xx body: a message and, for validation errors,
every problem with its field path.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    create_model,
    model_validator,
)

from ..options import OPTIONS


def _utc(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat()


UTCDateTime = Annotated[dt.datetime, PlainSerializer(_utc, return_type=str)]

MAX_ID = 2**31 - 1
"""Ids and version numbers are 32-bit integers (PostgreSQL ``integer``)."""

RunStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
"""A run is ``queued``, then ``running``, then one of the last three (final) states."""


class ProblemPublic(BaseModel):
    path: str = Field(description="Where: a field path (stages[2].conversion), a CSV row "
                                  "(accounts.csv line 412) or '' for the whole body")
    message: str


class ErrorPublic(BaseModel):
    detail: str
    problems: list[ProblemPublic] = Field(default_factory=list)


class ScenarioCreate(BaseModel):
    """A scenario as a JSON document, or as YAML/JSON text; CSV tables by the names the
    document refers to (``accounts: accounts.csv``)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "text": "name: demo\n...", "format": "yaml", "tables": {"accounts.csv": "id,..."}}]})

    document: dict[str, Any] | None = Field(None, description="The scenario document")
    text: str | None = Field(None, description="The scenario as YAML or JSON text")
    format: Literal["yaml", "json"] = Field("yaml", description="Format of ``text``")
    tables: dict[str, str] = Field(default_factory=dict,
                                   description="CSV text of each table the document names")

    @model_validator(mode="after")
    def _one_source(self) -> ScenarioCreate:
        if (self.document is None) == (self.text is None):
            raise ValueError("give exactly one of 'document' and 'text'")
        return self


class VersionSummary(BaseModel):
    version: int
    created: UTCDateTime
    name: str
    counts: dict[str, int] = Field(description="Rows per section (regions, reps, accounts...)")


class ScenarioPublic(BaseModel):
    id: int
    name: str
    created: UTCDateTime
    updated: UTCDateTime
    latest_version: int
    latest: VersionSummary | None = None


class ScenariosPublic(BaseModel):
    data: list[ScenarioPublic]
    count: int


class ScenarioVersionPublic(VersionSummary):
    scenario_id: int
    document: dict[str, Any] = Field(description="The document as uploaded")
    tables: dict[str, str] = Field(description="CSV tables as uploaded, by name")


class ScenarioVersionsPublic(BaseModel):
    data: list[VersionSummary]
    count: int


class _RunTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenario_id: int = Field(ge=1, le=MAX_ID)
    version: int | None = Field(None, ge=1, le=MAX_ID, description="Default: the latest version")


def _kind_body(kind: str, options: type[BaseModel]) -> type[BaseModel]:
    """The body of a run of ``kind``: ``options`` is that kind's model (required when the
    model has a required field, else ``{}`` by default)."""
    name = "".join(part.capitalize() for part in kind.split("-")) + "RunCreate"
    required = any(f.is_required() for f in options.model_fields.values())
    return create_model(
        name, __base__=_RunTarget, __doc__=f"A {kind} run: its options as the CLI's.",
        kind=(Literal[kind], ...),  # type: ignore[valid-type]
        options=(options, ...) if required else (options, Field(default_factory=dict)))


_BODIES = [_kind_body(k, m) for k, m in OPTIONS.items()]
RUN_BODIES = TypeAdapter(Annotated[functools.reduce(operator.or_, _BODIES),  # type: ignore
                                   Field(discriminator="kind")])
"""The published body of ``POST /v1/runs``: one schema per kind, chosen by ``kind``."""


class RunCreate(_RunTarget):
    """``POST /v1/runs``. Published (``/openapi.json``) as the union on ``kind`` of every
    kind's body, each with its kind's options model (:mod:`salesplan.api.options`); validated
    with those same models at submission (``store.submit_run``), so a problem is named
    ``options.<field>`` whatever the kind, and kinds added to a server's registry by an
    extension are accepted too."""

    kind: str = Field(description="The run kind (GET /v1/kinds)", max_length=40)
    options: dict[str, Any] = Field(default_factory=dict,
                                    description="The kind's options (see GET /v1/kinds)")

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema, handler):
        return handler(RUN_BODIES.core_schema)


class RunPublic(BaseModel):
    id: int
    scenario_id: int
    version: int
    kind: str
    options: dict[str, Any]
    status: RunStatus
    progress: float = Field(description="0..1")
    message: str
    error: str | None
    attempts: int
    created: UTCDateTime
    started: UTCDateTime | None
    finished: UTCDateTime | None
    seconds: float | None = Field(description="Run time so far, or in total once finished")
    partial: dict[str, Any] | None = Field(
        None, description="While running, the estimates so far if the kind reports them "
                          "(whatif: P(hit) and bookings per variant with 95% intervals after "
                          "each round of replications; see docs/service.md); else null")


class RunsPublic(BaseModel):
    data: list[RunPublic]
    count: int


class RunResultPublic(BaseModel):
    run_id: int
    kind: str
    result: dict[str, Any]
    tables: list[str] = Field(description="GET /v1/runs/{id}/tables/{name} (CSV)")
    charts: list[str] = Field(description="GET /v1/runs/{id}/charts/{name} (PNG)")
    files: list[str] = Field(default_factory=list,
                             description="The files the CLI writes for this run (report.html, "
                                         "summary.json, CSV...): GET /v1/runs/{id}/files/{name}; "
                                         "all of them and the rest of the result as one zip: "
                                         "GET /v1/runs/{id}/download")


class KindPublic(BaseModel):
    name: str
    description: str
    options_schema: dict[str, Any]


class KindsPublic(BaseModel):
    data: list[KindPublic]
    count: int


class HealthPublic(BaseModel):
    status: Literal["ok"]
    database: str
    queued: int
    running: int


Role = Literal["viewer", "planner", "admin"]
"""A key's role: a viewer reads; a planner also writes scenarios and runs; an admin also manages
its workspace's keys."""


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$",
                      description="A name for the key's holder, unique on this server")
    role: Role = Field("viewer", description="The new key's role in the caller's workspace")


class KeyPublic(BaseModel):
    id: str = Field(description="The key's id (the 8 hex digits after 'sp_' in the key)")
    name: str
    workspace: str
    role: Role
    created: UTCDateTime
    revoked: UTCDateTime | None = None


class KeyCreated(KeyPublic):
    key: str = Field(description="The key itself: shown in this answer only, store it now "
                                 "(the server keeps only its hash)")


class KeysPublic(BaseModel):
    data: list[KeyPublic]
    count: int
