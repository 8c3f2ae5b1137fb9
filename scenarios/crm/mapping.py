"""Column mappings: how an opportunity export's columns and values map onto salesplan's
canonical deal table.

A mapping names, for each canonical field, the export column that holds it (any may be missing
except ``id`` and one date):

==============  ===========================================================================
field           meaning
==============  ===========================================================================
id              the opportunity id (required)
created         the date the deal entered the funnel (created, or engaged)
close           the close date (won or lost; ignored on open deals unless they closed later)
stage           the current stage or outcome (mapped through ``outcomes`` and ``stages``)
amount          the deal amount (currency)
owner           the rep who owns the deal
account         the account (customer) name or id
product         the product
region          the region (else taken from the team table through the owner)
segment         the customer segment
source          the lead source (channel)
sourced_by      who or what created the opportunity (optional; read through ``rep_sourced``)
==============  ===========================================================================

``outcomes`` maps export stage values to ``won``/``lost``; any value listed in ``stages`` is an
open stage (in funnel order). A value in neither is an *unknown stage* (reported). Value matching
ignores case and spacing (``Closed  won`` is ``Closed Won``).

``rep_sourced`` lists the ``sourced_by`` values that mean a rep created the deal (outbound
prospecting, self-generated, referral, expansion...): the calibration estimates the reps' own
sourcing rate from those deals and the lead sources from the others. ``routed`` (optional) lists
the values that mean a routed lead; with it, any other value is reported. ``sourced_by`` may be
the same export column as ``source`` (Salesforce's ``LeadSource``).

Presets: ``maven`` (the Maven Analytics CRM sample: a flat list with current stage only) and
``salesforce`` (an Opportunity export plus an OpportunityHistory file of stage changes). A YAML
mapping file gives the same keys for anything else (see ``docs/calibration.md``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import SalesplanError

__all__ = [
    "CANONICAL_FIELDS",
    "PRESETS",
    "HistoryMapping",
    "MappingError",
    "TeamMapping",
    "get_mapping",
    "norm_key",
]

DEFAULT_STAGE = "open"
"""The one stage of a flat export whose mapping lists no open stage."""

CANONICAL_FIELDS = ("id", "created", "close", "stage", "amount", "owner", "account", "product",
                    "region", "segment", "source", "sourced_by")


class MappingError(SalesplanError):
    """A mapping file or preset name that cannot be used."""


def norm_key(value: str) -> str:
    """The key two spellings share when they differ only in case, spacing or punctuation
    (``'GTXPro'``, ``'GTX Pro'`` and ``'gtx-pro'`` all give ``'gtxpro'``)."""
    return "".join(ch for ch in str(value).casefold() if ch.isalnum())


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TeamMapping(_Frozen):
    """Columns of a team table (one row per rep): ``rep`` and ``region`` (required), ``manager``
    (optional)."""

    rep: str = "rep"
    region: str = "region"
    manager: str | None = None


class HistoryMapping(_Frozen):
    """How to read one export. ``columns`` maps canonical field -> export column.

    - ``date_format``: a ``strftime`` format for every date column (None: ISO 8601 / inferred).
    - ``outcomes``: export stage value -> ``won`` or ``lost``.
    - ``stages``: open stages in funnel order (export values; the scenario uses
      ``stage_names`` for them if given, else the values themselves).
    - ``history``: for ``kind: history`` only, the stage-change file's columns
      (``id``, ``date``, ``stage``, optional ``amount``) and the file name to look for beside
      the opportunity file.
    - ``teams``: the team table's columns and the file name to look for beside the history.
    - ``rep_sourced``: the values of the ``sourced_by`` column that mean a rep created the
      deal; ``routed``: the values that mean a routed lead (None: every other value). Both
      need ``columns`` to map ``sourced_by``; matching ignores case, spacing and punctuation.
    - ``zero_amount``: what an amount of 0 on a won or open deal means: ``unknown`` (the
      default: the field was never filled in; blanked and reported) or ``free`` (a real zero,
      kept: deal sizes get a point mass at 0).
    - ``stale_after_days``: a deal still open this many days after it was created is lost at
      that age (None: estimated for an export that records no loss, else no rule).
    - ``stages`` may be empty for a flat export (every deal closed, or no stage column): the
      scenario's one stage is then ``open``.
    """

    name: str = "custom"
    kind: Literal["flat", "history"] = "flat"
    columns: dict[str, str]
    date_format: str | None = None
    outcomes: dict[str, Literal["won", "lost"]]
    stages: list[str] = Field(default_factory=list)
    stage_names: list[str] | None = None
    history_columns: dict[str, str] | None = None
    history_file: str | None = None
    history_date_format: str | None = None
    teams: TeamMapping = Field(default_factory=TeamMapping)
    teams_file: str | None = None
    funnel_entry: str | None = None
    rep_sourced: list[str] = Field(default_factory=list)
    routed: list[str] | None = None
    zero_amount: Literal["unknown", "free"] = "unknown"
    stale_after_days: float | None = Field(default=None, gt=0)
    notes: str = ""

    @model_validator(mode="after")
    def _check(self) -> HistoryMapping:
        unknown = sorted(set(self.columns) - set(CANONICAL_FIELDS))
        if unknown:
            raise ValueError(f"unknown canonical field(s) {unknown} "
                             f"(known: {', '.join(CANONICAL_FIELDS)})")
        if "id" not in self.columns:
            raise ValueError("columns must map 'id'")
        if not ({"created", "close"} & set(self.columns)):
            raise ValueError("columns must map at least one date ('created' or 'close')")
        if self.kind == "history" and not self.stages:
            raise ValueError("kind 'history' needs stages: the open stages in funnel order")
        if self.stage_names is not None and len(self.stage_names) != len(self.stages):
            raise ValueError("stage_names must have one name per entry of stages")
        if self.kind == "history":
            need = {"id", "date", "stage"}
            have = set(self.history_columns or {})
            if not need <= have:
                raise ValueError(f"kind 'history' needs history_columns for {sorted(need)}")
        self._check_sourcing()
        return self

    def _check_sourcing(self) -> None:
        """``rep_sourced`` and ``routed`` go with a ``sourced_by`` column; their values are not
        blank, not repeated, and in one list only (compared by :func:`norm_key`)."""
        column = self.columns.get("sourced_by")
        if column is None and (self.rep_sourced or self.routed):
            listed = self.rep_sourced or self.routed
            which = "rep_sourced" if self.rep_sourced else "routed"
            raise ValueError(f"{which} lists {listed} but columns maps no 'sourced_by' column "
                             "(the export column saying who sourced a deal)")
        if column is not None and not self.rep_sourced:
            raise ValueError(f"columns maps 'sourced_by' to {column!r} but rep_sourced lists no "
                             "value of it meaning a rep created the deal (e.g. Outbound)")
        seen: dict[str, tuple[str, str]] = {}
        for which, values in (("rep_sourced", self.rep_sourced), ("routed", self.routed or [])):
            for v in values:
                key = norm_key(v)
                if not key:
                    raise ValueError(f"{which}: value {v!r} is blank (expected a value of the "
                                     f"sourced_by column {column!r})")
                if key in seen:
                    w0, v0 = seen[key]
                    if w0 == which:
                        raise ValueError(f"{which}: value {v!r} is listed twice (as {v0!r}; "
                                         "values match ignoring case, spacing and punctuation)")
                    raise ValueError(f"{which}: value {v!r} is also in {w0} (as {v0!r}): a "
                                     "value means rep-sourced or routed, not both")
                seen[key] = (which, v)

    def stage_name(self, export_value: str) -> str:
        """The scenario stage name of an open export stage value."""
        i = self.stages.index(export_value)
        return self.stage_names[i] if self.stage_names else export_value

    @property
    def scenario_stages(self) -> list[str]:
        """The scenario's open stages (``[DEFAULT_STAGE]`` when the mapping lists none: every
        deal of the export is closed, or an open deal has no stage column to say where)."""
        return list(self.stage_names or self.stages) or [DEFAULT_STAGE]


MAVEN = HistoryMapping(
    name="maven",
    kind="flat",
    columns={"id": "opportunity_id", "created": "engage_date", "close": "close_date",
             "stage": "deal_stage", "amount": "close_value", "owner": "sales_agent",
             "account": "account", "product": "product"},
    date_format="%Y-%m-%d",
    outcomes={"Won": "won", "Lost": "lost"},
    stages=["Prospecting", "Engaging"],
    stage_names=["prospecting", "engaging"],
    teams=TeamMapping(rep="sales_agent", region="regional_office", manager="manager"),
    teams_file="sales_teams.csv",
    funnel_entry="Engaging",
    notes=("Maven records engage_date (not creation) and the current stage only. The funnel the "
           "data identify starts at engagement: leads arrive at engage_date and one stage, "
           "'engaging', ends in won or lost. Prospecting rows carry no date at all."),
)

SALESFORCE_STAGES = ["Prospecting", "Qualification", "Needs Analysis", "Value Proposition",
                     "Id. Decision Makers", "Perception Analysis", "Proposal/Price Quote",
                     "Negotiation/Review"]

SALESFORCE = HistoryMapping(
    name="salesforce",
    kind="history",
    columns={"id": "Id", "created": "CreatedDate", "close": "CloseDate", "stage": "StageName",
             "amount": "Amount", "owner": "OwnerId", "account": "AccountId",
             "source": "LeadSource", "product": "Product", "region": "Region",
             "segment": "Type"},
    date_format=None,
    outcomes={"Closed Won": "won", "Closed Lost": "lost"},
    stages=SALESFORCE_STAGES,
    history_columns={"id": "OpportunityId", "date": "CreatedDate", "stage": "StageName",
                     "amount": "Amount"},
    history_file="OpportunityHistory.csv",
    teams=TeamMapping(rep="rep", region="region", manager="manager"),
    notes=("Salesforce Opportunity export (current state) plus OpportunityHistory (one row per "
           "stage change, dated by CreatedDate). Optional columns absent from an export are "
           "skipped. The standard stage picklist is the funnel order."),
)

PRESETS: dict[str, HistoryMapping] = {"maven": MAVEN, "salesforce": SALESFORCE}


def _error_text(e: dict) -> str:
    """One validation error as ``field: message`` (no ``field:`` for the whole mapping, and
    without pydantic's ``Value error,`` prefix)."""
    msg = str(e["msg"]).removeprefix("Value error, ")
    where = ".".join(map(str, e["loc"]))
    got = e.get("input")
    if where and isinstance(got, str | int | float | bool) and e.get("type") != "missing":
        msg = f"{msg} (got {got!r})"
    return f"{where}: {msg}" if where else msg


def get_mapping(spec: str | Path | HistoryMapping | None) -> HistoryMapping:
    """A preset by name (``maven``, ``salesforce``), a YAML mapping file, or a mapping."""
    if isinstance(spec, HistoryMapping):
        return spec
    if spec is None:
        spec = "maven"
    if isinstance(spec, str) and spec in PRESETS:
        return PRESETS[spec]
    path = Path(spec)
    if not path.exists():
        raise MappingError(f"mapping {str(spec)!r} is neither a preset "
                           f"({', '.join(PRESETS)}) nor an existing YAML file")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise MappingError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(doc, dict):
        raise MappingError(f"{path}: a mapping file must be a YAML mapping of keys")
    base = doc.pop("preset", None)
    doc.setdefault("name", path.stem)
    if base is not None:
        if base not in PRESETS:
            raise MappingError(f"{path}: unknown preset {base!r} (known: {', '.join(PRESETS)})")
        doc = {**PRESETS[base].model_dump(), **doc}
    doc.setdefault("name", path.stem)
    try:
        return HistoryMapping.model_validate(doc)
    except ValidationError as exc:
        msgs = "; ".join(_error_text(e) for e in exc.errors(include_url=False))
        raise MappingError(f"{path}: {msgs}") from exc
