"""The options of every run kind, defined once: the CLI commands build these models from their
arguments, the service validates ``POST /v1/runs`` with them, ``GET /v1/kinds`` lists their JSON
Schemas and ``/openapi.json`` publishes them (the run body is a union on ``kind``).

Same names, defaults and bounds on both sides; ``tests/test_run_options.py`` walks the typer
commands and checks every CLI option against its kind's model (and back).

Options that are files on the command line (a travel table, a pins CSV, a CRM export...) are,
in the service, the **name of a file uploaded with the scenario version** (its ``tables``): the
model holds a ``str``, a path for the CLI, a table name for the service (which checks that the
version has it). Quotas per rep (``simulate`` and ``comp``) are inline mappings in both: the CLI
reads its ``--quotas`` CSV into one.

This module imports pydantic only (engines are looked up inside validators), so the CLI loads it
when a command runs, never at start-up.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from salesplan.errors import SalesplanError

__all__ = [
    "OPTIONS",
    "TEXT_ERROR",
    "AlignOptions",
    "BalanceBandOptions",
    "CompOptions",
    "OptionsError",
    "PlanHeadcountOptions",
    "QuotasOptions",
    "RunOptions",
    "SimulateOptions",
    "TrackOptions",
    "WhatifOptions",
    "cli_options",
    "problems_of",
]

TEXT_ERROR = "invalid_text"
"""The error type of the options' text check; its message is ``path: message; ...``."""

MAX_SEED = 2**63 - 1


class OptionsError(SalesplanError):
    """Options that break their kind's rules (the CLI's exit 2, one line)."""


class RunOptions(BaseModel):
    """Every kind's options: no unknown field, finite numbers only, integers given as integers
    (``true`` is not 1), and text that is valid Unicode without NUL characters."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _text(cls, data: Any) -> Any:
        from salesplan.scenarios.text import text_problems

        problems = text_problems(data)
        if problems:
            raise PydanticCustomError(
                TEXT_ERROR, "{problems}",
                {"problems": "; ".join(f"{path or 'options'}: {msg}" for path, msg in problems)})
        return data


def _check_in_registry(value: str | None, loader: Callable[[], Any], what: str) -> str | None:
    """Reject a name absent from an engine's registry (skipped if the engine is unavailable)."""
    if value is None:
        return value
    try:
        names = sorted(loader())
    except ImportError:  # engine not installed: the run reports the error
        return value
    if value not in names:
        raise ValueError(f"unknown {what} {value!r}; expected one of: {', '.join(names)}")
    return value


def _routing_names() -> Any:
    from salesplan.simulator import ROUTING_STRATEGIES

    return ROUTING_STRATEGIES


def _quota_names() -> Any:
    from salesplan.optimizer.quotas.methods import method_names

    return method_names()


QuotaMethodName = Annotated[str, AfterValidator(
    lambda v: _check_in_registry(v, _quota_names, "quota method"))]
"""A quota method's name, checked against the optimiser's registry."""

Seed = Annotated[int, Field(ge=0, le=MAX_SEED, strict=True,
                            description="The random seed (results depend only on it)")]
FileRef = Annotated[str, Field(min_length=1, max_length=500)]
"""A file: a path on the command line, the name of a file uploaded with the scenario version
in the service."""
RepQuotas = dict[str, float]
DEFAULT_QUOTA_METHOD = "blended"
QUOTA_METHOD_HELP = ("A registered quota method name (default: the blend of capacity, history "
                     "and potential)")


def _rep_quotas(v: dict[str, float] | None) -> dict[str, float] | None:
    bad = [rep for rep, q in (v or {}).items() if not math.isfinite(q) or q < 0]
    if bad:
        raise ValueError(f"quotas must be finite and >= 0 (reps {', '.join(bad[:10])})")
    return v


def _positive_quotas(v: dict[str, float] | None) -> dict[str, float] | None:
    bad = [rep for rep, q in (v or {}).items() if not math.isfinite(q) or q <= 0]
    if bad:
        raise ValueError(f"quotas must be positive numbers (reps {', '.join(bad[:10])})")
    return v


class SimulateOptions(RunOptions):
    replications: int = Field(200, ge=1, strict=True, description="Monte Carlo replications")
    seed: Seed = 0
    routing: str | None = Field(None, description="A registered routing strategy name "
                                                  "(default: the scenario's policy)")
    keep_deals: int = Field(1, ge=0, le=10, strict=True,
                            description="Replications whose per-deal records form the deals "
                                        "table, one row per deal (0 keeps none)")
    quotas: RepQuotas | None = Field(
        None, description="Horizon quota per rep id (currency, > 0); rep attainment is "
                          "measured against them (CLI: a quotas CSV with columns rep, "
                          "quota, read into this mapping)")

    _routing = field_validator("routing")(
        lambda v: _check_in_registry(v, _routing_names, "routing strategy"))
    _quotas = field_validator("quotas")(_positive_quotas)


Metric = Literal["workload", "potential", "accounts"]


class BalanceBandOptions(RunOptions):
    tolerance: float = Field(gt=0, lt=10, description="Fraction of the pool mean")
    weight: float = Field(1.0, gt=0, description="Penalty weight of a violation (soft mode)")


class AlignOptions(RunOptions):
    mode: Literal["carve", "realign"] = Field(
        "realign", description="carve ignores today's owners; realign moves few accounts")
    balance: dict[Metric, float | BalanceBandOptions] = Field(
        default_factory=lambda: {"workload": 0.10},
        description="metric -> tolerance (a fraction of the pool mean), or {tolerance, "
                    "weight} for soft_balance; {} for none (CLI: workload=0.10,potential=0.2:2)")
    soft_balance: bool = Field(False, description="Penalise band violations instead of "
                                                  "forbidding them")
    dedicate_oversized: bool = Field(
        False, description="An account above every rep's band gets a rep of its own")
    max_moves: int | None = Field(None, ge=0, strict=True,
                                  description="The most accounts moved (realign)")
    max_moved_potential: float | None = Field(
        None, ge=0, description="The most potential moved, currency per year (realign)")
    max_workload_hours: float | None = Field(None, gt=0, description="Every rep's capacity, "
                                                                     "hours per year")
    max_distance: float | None = Field(None, gt=0, description="Accounts farther than this "
                                                               "(km or minutes) are ineligible")
    disruption: float = Field(100.0, ge=0, description="A move costs like serving the account "
                                                       "this much farther (km or minutes)")
    candidates: int = Field(8, ge=0, strict=True, description="Candidate reps per account "
                                                              "(the k nearest; 0 for all)")
    strategy: Literal["auto", "exact", "fix"] = Field(
        "auto", description="exact (MILP), fix (LP fix-and-repair) or auto")
    solver: Literal["highs", "cbc"] = Field("highs", description="The MILP solver")
    time_limit: float = Field(120.0, gt=0, le=3600,
                              description="Solver time limit, seconds (per point of a tradeoff)")
    gap: float = Field(0.005, ge=0, lt=1, description="Relative MIP gap to stop at")
    travel: FileRef | None = Field(
        None, description="Travel table (CSV: account, rep, and distance in km or minutes); "
                          "service: a file of the scenario version")
    tradeoff: bool = Field(False, description="Sweep the disruption weight: the Pareto points "
                                              "(tradeoff table and chart) instead of one plan")

    @field_validator("balance")
    @classmethod
    def _tolerances(cls, v: dict[str, Any]) -> dict[str, Any]:
        for metric, band in v.items():
            tol = band.tolerance if isinstance(band, BalanceBandOptions) else band
            if not (0 < tol < 10):
                raise ValueError(f"tolerance of {metric} must be in (0, 10), got {tol}")
        return v

    @model_validator(mode="after")
    def _caps_need_realign(self) -> AlignOptions:
        if self.mode == "carve" and (self.max_moves is not None
                                     or self.max_moved_potential is not None):
            raise ValueError("`max_moves` and `max_moved_potential` need `mode` realign "
                             "(carve ignores today's owners)")
        return self

    def bands(self) -> tuple:
        """The balance bands as the optimiser takes them."""
        from salesplan.optimizer import BalanceBand

        return tuple(BalanceBand(m, b.tolerance, b.weight) if isinstance(b, BalanceBandOptions)
                     else BalanceBand(m, b) for m, b in sorted(self.balance.items()))

    def engine(self):
        """The optimiser's ``AlignmentOptions``."""
        from salesplan.optimizer import AlignmentOptions

        return AlignmentOptions(
            mode=self.mode, balance=self.bands(), soft_balance=self.soft_balance,
            dedicate_oversized=self.dedicate_oversized, max_moves=self.max_moves,
            max_moved_potential=self.max_moved_potential,
            max_workload_hours=self.max_workload_hours, max_distance=self.max_distance,
            disruption=self.disruption, candidates=self.candidates or None,
            strategy=self.strategy, solver=self.solver, time_limit=self.time_limit,
            gap=self.gap)


class WhatifOptions(RunOptions):
    variants: list[str] | None = Field(None, description="Variant names (default: all)")
    replications: int = Field(200, ge=2, strict=True, description="Replications per variant "
                              "(at least 2, for an interval)")
    seed: Seed = 0
    quota_method: QuotaMethodName = Field(DEFAULT_QUOTA_METHOD, description=QUOTA_METHOD_HELP)
    against: list[FileRef] | None = Field(
        None, description="Other scenario files (other plans) compared with the base on common "
                          "random numbers, each a variant named after its file (then variants "
                          "defaults to none); service: files of the scenario version")


class PlanHeadcountOptions(RunOptions):
    p: float = Field(0.8, ge=0.01, le=0.99, description="Required P(hit the company target)")
    replications: int = Field(100, ge=10, strict=True, description="Replications per plan "
                              "(at least 10)")
    seed: Seed = 0
    regions: list[str] | None = Field(None, description="Regions that may hire (default: all)")
    start_month: int = Field(1, ge=1, le=120, strict=True,
                             description="Earliest start month of hires")
    max_hires: int = Field(20, ge=0, le=1000, strict=True, description="The most hires in all")
    cost: Literal["hires", "payroll"] = Field(
        "hires", description="Orders plans with as many hires: 'hires' starts them as early "
                             "as allowed, 'payroll' later when still reaching p and cheaper")


DIMENSIONS_HELP = "product or category, segment, and one of quarter, month, week"


class QuotasOptions(RunOptions):
    method: QuotaMethodName = Field(DEFAULT_QUOTA_METHOD, description=QUOTA_METHOD_HELP)
    replications: int = Field(200, ge=2, strict=True, description="Replications simulated "
                              "(at least 2)")
    seed: Seed = 0
    over_assign: float = Field(1.0, ge=0.5, le=3.0, description="Sum of rep quotas / target "
                                                                "(1.1 = 110%)")
    rounding: int = Field(1000, ge=1, le=10**9, strict=True,
                          description="Quotas are multiples of this (currency)")
    peer_band: tuple[float, float | None] | None = Field(
        (0.5, 2.0), description="Each rep's quota within [low, high] times its region's mean "
                                "rep quota (scaled by its ramp); high null for no upper limit; "
                                "null switches the band off")
    by: list[str] = Field(["product", "segment", "month"],
                          description=f"The split within each rep: {DIMENSIONS_HELP}")
    pins: FileRef | None = Field(
        None, description="Pins CSV (level, id(s), value) of quotas fixed in advance; "
                          "service: a file of the scenario version")
    compare_methods: bool = Field(False, description="Every method side by side on the same "
                                                     "draws (no pins)")

    @field_validator("peer_band")
    @classmethod
    def _band(cls, v: tuple[float, float | None] | None) -> tuple[float, float | None] | None:
        from salesplan.optimizer.quotas import Bounds, QuotaError

        if v is None:
            return None
        try:
            Bounds(peer_band=(v[0], math.inf if v[1] is None else v[1]))
        except QuotaError as exc:
            raise ValueError(str(exc).removeprefix("bounds: ")) from None
        return v

    @field_validator("by")
    @classmethod
    def _by(cls, v: list[str]) -> list[str]:
        from salesplan.optimizer.quotas import QuotaError
        from salesplan.optimizer.quotas.decomposition import parse_by

        try:
            return list(parse_by(v))
        except QuotaError as exc:
            raise ValueError(str(exc)) from None

    @model_validator(mode="after")
    def _pins_or_compare(self) -> QuotasOptions:
        if self.compare_methods and self.pins is not None:
            raise ValueError("`pins` fix one plan's quotas; `compare_methods` compares the "
                             "methods without pins: give one of them")
        return self

    def bounds(self):
        """The optimiser's ``Bounds`` (the peer band; ramp relief as by default)."""
        from salesplan.optimizer.quotas import Bounds

        band = self.peer_band
        return Bounds(peer_band=None if band is None else
                      (band[0], math.inf if band[1] is None else band[1]))


class CompOptions(RunOptions):
    replications: int = Field(200, ge=2, strict=True, description="Monte Carlo replications "
                              "(at least 2)")
    seed: Seed = 0
    method: QuotaMethodName = Field(
        DEFAULT_QUOTA_METHOD, description="A registered quota method name, used when no "
                                          "quotas are given (default: blended)")
    quotas: RepQuotas | None = Field(
        None, description="Horizon quota per rep id (currency, finite, >= 0), for every rep of "
                          "the scenario; default: quotas from the method (CLI: a quotas CSV "
                          "read into this mapping)")
    budget_cost_of_sales: float | None = Field(
        None, gt=0, lt=10, description="Design search: the most pay / bookings allowed (a "
                                       "fraction); needs share_at_quota")
    share_at_quota: tuple[float, float] | None = Field(
        None, description="Design search: the wanted share of reps at quota [low, high] "
                          "(fractions); needs budget_cost_of_sales")

    _quotas = field_validator("quotas")(_rep_quotas)

    @field_validator("share_at_quota")
    @classmethod
    def _band(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        if v is not None and not 0 <= v[0] <= v[1] <= 1:
            raise ValueError(f"must satisfy 0 <= low <= high <= 1, got {list(v)}")
        return v

    @model_validator(mode="after")
    def _design_pair(self) -> CompOptions:
        if (self.budget_cost_of_sales is None) != (self.share_at_quota is None):
            raise ValueError("the design search needs both `budget_cost_of_sales` and "
                             "`share_at_quota`")
        return self

    @property
    def design(self) -> tuple[float, tuple[float, float]] | None:
        if self.budget_cost_of_sales is None or self.share_at_quota is None:
            return None
        return self.budget_cost_of_sales, self.share_at_quota


class TrackOptions(RunOptions):
    history: FileRef = Field(description="The opportunity export (CSV); service: a file of the "
                                         "scenario version")
    asof: str = Field(description="The as-of date YYYY-MM-DD: everything after it in the "
                                  "export is ignored")
    targets: FileRef | None = Field(
        None, description="Targets CSV: period (2017Q4, 2017-11 or 2017), level (company, "
                          "region, rep, product, segment), id, target")
    quotas: FileRef | None = Field(None, description="The quotas.csv of a quotas run, taken as "
                                                     "rep targets (and their sums)")
    mapping: str = Field("maven", min_length=1, max_length=500,
                         description="How to read the export: maven, salesforce, or a YAML "
                                     "mapping file")
    teams: FileRef | None = Field(None, description="Team table CSV (rep -> region); default: "
                                                    "the mapping's teams file beside the export")
    scenario: FileRef | None = Field(
        None, description="A plan (scenario YAML or JSON): its reps are placed in their "
                          "regions; without targets or quotas, its targets are tracked")
    replications: int = Field(1000, ge=1, strict=True, description="Monte Carlo replications")
    seed: Seed = 0
    history_file: FileRef | None = Field(None, description="Stage-history CSV for history "
                                                           "mappings (default: the mapping's)")
    products: FileRef | None = Field(None, description="Product list CSV (first column: "
                                                       "canonical names); default: "
                                                       "products.csv beside the export")
    strict: bool = Field(False, description="Turn every data problem into an error")

    @field_validator("asof")
    @classmethod
    def _date(cls, v: str) -> str:
        try:
            dt.date.fromisoformat(v)
        except ValueError:
            raise ValueError(f"must be a date YYYY-MM-DD, got {v!r}") from None
        if len(v) != 10:
            raise ValueError(f"must be a date YYYY-MM-DD, got {v!r}")
        return v

    @model_validator(mode="after")
    def _targets(self) -> TrackOptions:
        if self.targets is not None and self.quotas is not None:
            raise ValueError("give the targets with one of `targets` and `quotas`, not both")
        if self.targets is None and self.quotas is None and self.scenario is None:
            raise ValueError("give the targets with `targets` or `quotas` (or a `scenario` "
                             "plan with targets)")
        return self

    def files(self) -> dict[str, str]:
        """The file options given: option name -> file."""
        return {name: value for name in ("history", "targets", "quotas", "teams", "scenario",
                                         "history_file", "products")
                if (value := getattr(self, name)) is not None}


OPTIONS: dict[str, type[RunOptions]] = {
    "simulate": SimulateOptions, "align": AlignOptions, "quotas": QuotasOptions,
    "comp": CompOptions, "whatif": WhatifOptions, "plan-headcount": PlanHeadcountOptions,
    "track": TrackOptions,
}
"""Each run kind's options model, by kind name (the CLI command of the same name)."""


# ---- the CLI side -------------------------------------------------------------------------------

_FIELD = re.compile(r"`([a-z_]+)`")
"""A field named in a message (model-level checks name the fields they relate)."""


def problems_of(exc: ValidationError, cli: bool = False) -> list[tuple[str, str]]:
    """``(field path, message)`` per problem of a validation error (the text check's problems
    one by one); fields named in a message lose their backquotes (the CLI makes flags of
    them: :func:`cli_options`)."""
    out = []
    for e in exc.errors(include_url=False):
        if e["type"] == TEXT_ERROR:
            for chunk in e["msg"].split("; "):
                path, _, msg = chunk.partition(": ")
                out.append(("" if path == "options" else path, msg))
            continue
        loc = [str(p) for p in e["loc"]]
        msg = e["msg"].removeprefix("Value error, ")
        out.append((".".join(loc), msg if cli else _FIELD.sub(r"\1", msg)))
    return out


def _flag(name: str) -> str:
    return f"--{name.replace('_', '-')}"


def _cli_message(path: str, msg: str) -> str:
    """One problem in the CLI's words: the option as a flag, and the fields the message names
    (in backquotes) as flags too (``give the targets with --targets or --quotas``)."""
    msg = _FIELD.sub(lambda m: _flag(m.group(1)), msg)
    if not path:
        return msg
    head, dot, rest = path.partition(".")
    return f"{_flag(head)}{f' ({rest})' if dot else ''}: {msg}"


def cli_options(model: type[RunOptions], **values: Any) -> Any:
    """``model`` built from a command's arguments; raises :class:`OptionsError` with every
    problem on one line, by option name (``--replications: Input should be greater than or
    equal to 2``)."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise OptionsError("; ".join(_cli_message(path, msg)
                                     for path, msg in problems_of(exc, cli=True))) from None
