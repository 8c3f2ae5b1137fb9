"""The run kinds: name -> options model and the application function that does the work.

Every kind is ``(scenario, options, progress) -> RunOutput``: ``result`` (JSON), ``tables``
(frames, served as CSV) and ``charts`` (PNG bytes). Options are validated by the kind's pydantic
model before a run is queued (an unknown option or a bad value is a 422 naming the field).
Engines and application functions are imported inside each kind function, so this module loads
even while an engine is unavailable, and a run process imports only what its kind needs.

Routing strategies and quota methods are names looked up in their registries, never code.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from salesplan.scenarios import Scenario

from ..executors import run_replications
from ..formatting import jsonable

__all__ = [
    "KINDS",
    "AlignOptions",
    "CompOptions",
    "Kind",
    "PlanHeadcountOptions",
    "Progress",
    "QuotasOptions",
    "RunOutput",
    "SimulateOptions",
    "WhatifOptions",
    "jsonable",
]

Progress = Callable[..., None]
"""``progress(fraction, message, partial=None)``: ``fraction`` in 0..1 (negative: unknown), a
message, and optionally the estimates so far (JSON), which ``GET /v1/runs/{id}`` shows as the
run's ``partial`` while it runs."""


@dataclass
class RunOutput:
    """What a run produced: JSON ``result``, ``tables`` served as CSV, ``charts`` as PNG."""

    result: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    charts: dict[str, bytes] = field(default_factory=dict)


KindFunction = Callable[[Scenario, dict[str, Any], Progress], RunOutput]


@dataclass(frozen=True)
class Kind:
    """A run kind: its options model and its function (importable by name: it runs in a
    separate process)."""

    name: str
    options: type[BaseModel]
    run: KindFunction
    description: str = ""
    check: Callable[[Scenario, Any], list[str]] | None = None
    """What the options name that the scenario must have (variants, regions, reps): one
    ``"field: message"`` per problem, checked at submission so a run never fails for it."""


TEXT_ERROR = "invalid_text"
"""The error type of the options' text check; its message is ``path: message; ...``."""


class _Options(BaseModel):
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


def _whatif_check(scenario: Scenario, o: Any) -> list[str]:
    known = [v.name for v in scenario.variants]
    return [f"variants: {name!r} is not a variant of this scenario (defined: "
            f"{', '.join(known) or 'none'})" for name in (o.variants or []) if name not in known]


def _headcount_check(scenario: Scenario, o: Any) -> list[str]:
    known = scenario.region_ids
    return [f"regions: {name!r} is not a region of this scenario (defined: {', '.join(known)})"
            for name in (o.regions or []) if name not in known]


def _comp_check(scenario: Scenario, o: Any) -> list[str]:
    out = [] if scenario.compensation is not None else [
        "kind: the scenario has no compensation section (a pay plan); add one"]
    if o.quotas is not None:
        ids = [r.id for r in scenario.reps]
        unknown = sorted(set(o.quotas) - set(ids))
        missing = [r for r in ids if r not in o.quotas]
        parts = ([f"reps the scenario does not have: {', '.join(unknown[:10])}"] if unknown
                 else []) + ([f"missing for reps: {', '.join(missing[:10])}"
                              + (f" ({len(missing)} in all)" if len(missing) > 10 else "")]
                             if missing else [])
        if parts:
            out.append(f"quotas: {'; and '.join(parts)}")
    return out


def _check_in_registry(value: str | None, loader: Callable[[], Any], what: str) -> str | None:
    """Reject a name absent from an engine's registry (skipped if the engine is unavailable)."""
    if value is None:
        return value
    try:
        names = sorted(loader())
    except ImportError:  # engine not installed yet: the run reports the error
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


class SimulateOptions(_Options):
    replications: int = Field(200, ge=1, strict=True, description="Monte Carlo replications")
    seed: int = Field(0, ge=0, le=2**63 - 1, strict=True)
    routing: str | None = Field(None, description="A registered routing strategy name "
                                                  "(default: the scenario's)")
    keep_deals: int = Field(1, ge=0, le=10, strict=True,
                            description="Replications whose per-deal records form the deals "
                                        "table (it is large)")

    @field_validator("routing")
    @classmethod
    def _routing(cls, v: str | None) -> str | None:
        return _check_in_registry(v, _routing_names, "routing strategy")


class AlignOptions(_Options):
    mode: Literal["carve", "realign"] = "realign"
    balance: dict[Literal["workload", "potential", "accounts"], float] = Field(
        default_factory=lambda: {"workload": 0.10},
        description="metric -> tolerance (fraction of the pool mean)")
    soft_balance: bool = False
    dedicate_oversized: bool = Field(
        False, description="an account above every rep's band gets a rep of its own")
    max_moves: int | None = Field(None, ge=0, strict=True)
    max_distance: float | None = Field(None, gt=0)
    max_workload_hours: float | None = Field(None, gt=0)
    disruption: float = Field(100.0, ge=0)
    candidates: int | None = Field(8, ge=1, strict=True)
    strategy: Literal["auto", "exact", "fix"] = "auto"
    solver: Literal["highs", "cbc"] = "highs"
    time_limit: float = Field(120.0, gt=0, le=3600)
    gap: float = Field(0.005, ge=0, lt=1)

    @field_validator("balance")
    @classmethod
    def _tolerances(cls, v: dict[str, float]) -> dict[str, float]:
        for metric, tol in v.items():
            if not (0 < tol < 10) or not math.isfinite(tol):
                raise ValueError(f"tolerance of {metric} must be in (0, 10), got {tol}")
        return v


class WhatifOptions(_Options):
    variants: list[str] | None = Field(None, description="Variant names (default: all)")
    replications: int = Field(200, ge=2, strict=True, description="Replications per variant "
                              "(at least 2, for an interval)")
    seed: int = Field(0, ge=0, le=2**63 - 1, strict=True)
    quota_method: QuotaMethodName = Field(
        "blended", description="A registered quota method name (default: the blend of "
                               "capacity, history and potential)")


class PlanHeadcountOptions(_Options):
    p: float = Field(0.8, gt=0, lt=1, description="Required P(hit the company target)")
    replications: int = Field(100, ge=10, strict=True, description="Replications per plan "
                              "(at least 10, as on the command line)")
    seed: int = Field(0, ge=0, le=2**63 - 1, strict=True)
    regions: list[str] | None = None
    start_month: int = Field(1, ge=1, le=120, strict=True,
                             description="Earliest start month of hires")
    max_hires: int = Field(20, ge=0, le=1000, strict=True)
    cost: Literal["hires", "payroll"] = Field(
        "hires", description="Orders plans with as many hires: 'hires' starts them as early "
                             "as allowed, 'payroll' later when still reaching p and cheaper")


class QuotasOptions(_Options):
    method: QuotaMethodName = Field(
        "blended", description="A registered quota method name (default: the blend of "
                               "capacity, history and potential)")
    replications: int = Field(200, ge=2, strict=True, description="Replications simulated "
                              "(at least 2)")
    seed: int = Field(0, ge=0, le=2**63 - 1, strict=True)
    over_assign: float = Field(1.0, gt=0, le=5, description="Sum of quotas / target")
    rounding: int = Field(1000, ge=1, le=10**9, strict=True,
                          description="Quotas are multiples of this")
    peer_band: tuple[float, float] | None = Field(
        (0.5, 2.0), description="Each rep's quota within [low, high] times its region's mean "
                                "rep quota (scaled by its ramp); null switches the band off")

    @field_validator("peer_band")
    @classmethod
    def _band(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        from salesplan.optimizer.quotas import Bounds, QuotaError

        try:
            return Bounds(peer_band=v).peer_band
        except QuotaError as exc:
            raise ValueError(str(exc).removeprefix("bounds: ")) from None


class CompOptions(_Options):
    replications: int = Field(200, ge=2, strict=True, description="Monte Carlo replications "
                              "(at least 2)")
    seed: int = Field(0, ge=0, le=2**63 - 1, strict=True)
    method: QuotaMethodName = Field(
        "blended", description="A registered quota method name, used when no quotas are given "
                               "(default: the blend of capacity, history and potential)")
    quotas: dict[str, float] | None = Field(
        None, description="Horizon quota per rep id (currency, finite, >= 0), for every rep of "
                          "the scenario; default: quotas from the method")
    budget_cost_of_sales: float | None = Field(
        None, gt=0, lt=10, description="Design search: the most pay / bookings allowed (a "
                                       "fraction); needs share_at_quota")
    share_at_quota: tuple[float, float] | None = Field(
        None, description="Design search: the wanted share of reps at quota [low, high] "
                          "(fractions); needs budget_cost_of_sales")

    @field_validator("quotas")
    @classmethod
    def _quotas(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        bad = [rep for rep, q in (v or {}).items() if not math.isfinite(q) or q < 0]
        if bad:
            raise ValueError(f"quotas must be finite and >= 0 (reps {', '.join(bad[:10])})")
        return v

    @field_validator("share_at_quota")
    @classmethod
    def _band(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        if v is not None and not 0 <= v[0] <= v[1] <= 1:
            raise ValueError(f"must satisfy 0 <= low <= high <= 1, got {list(v)}")
        return v

    @model_validator(mode="after")
    def _design_pair(self) -> CompOptions:
        if (self.budget_cost_of_sales is None) != (self.share_at_quota is None):
            raise ValueError("the design search needs both budget_cost_of_sales and "
                             "share_at_quota")
        return self

    @property
    def design(self) -> tuple[float, tuple[float, float]] | None:
        if self.budget_cost_of_sales is None or self.share_at_quota is None:
            return None
        return self.budget_cost_of_sales, self.share_at_quota


# ---- JSON helpers -------------------------------------------------------------------------------

def _value(obj: Any, name: str) -> Any:
    """An attribute or the result of a method of that name (engines use both)."""
    value = getattr(obj, name, None)
    return value() if callable(value) else value


def _frames(obj: Any, names: list[str]) -> dict[str, pd.DataFrame]:
    """The named frames of ``obj`` (attributes or methods) that exist and are frames."""
    out = {}
    for name in names:
        attr = getattr(obj, name, None)
        try:
            value = attr() if callable(attr) else attr
        except Exception:
            continue
        if isinstance(value, pd.DataFrame):
            out[name] = value
    return out


# ---- kinds --------------------------------------------------------------------------------------

def run_simulate(scenario: Scenario, options: dict[str, Any], progress: Progress) -> RunOutput:
    from salesplan.simulator import simulate

    o = SimulateOptions.model_validate(options)

    def chunk_done(done: int, total: int) -> None:
        progress(done / max(total, 1), f"{done} of {total} replications")

    res = simulate(scenario, replications=o.replications, seed=o.seed,
                   **run_replications().kwargs(),
                   routing=o.routing, progress=chunk_done, keep_deals=o.keep_deals)
    tables = _frames(res, ["bookings", "reps", "funnel", "coverage", "flow", "deals"])
    return RunOutput(result=jsonable(_value(res, "summary")), tables=tables)


def run_align(scenario: Scenario, options: dict[str, Any], progress: Progress) -> RunOutput:
    from salesplan.optimizer import AlignmentOptions, BalanceBand, align

    o = AlignOptions.model_validate(options)
    progress(0.0, "building the alignment model")
    ao = AlignmentOptions(
        mode=o.mode,
        balance=tuple(BalanceBand(m, t) for m, t in sorted(o.balance.items())),
        soft_balance=o.soft_balance, dedicate_oversized=o.dedicate_oversized,
        max_moves=o.max_moves, max_distance=o.max_distance,
        max_workload_hours=o.max_workload_hours, disruption=o.disruption,
        candidates=o.candidates, strategy=o.strategy, solver=o.solver,
        time_limit=o.time_limit, gap=o.gap)
    res = align(scenario, ao)
    progress(1.0, "done")
    return RunOutput(result=jsonable(res.summary()),
                     tables=_frames(res, ["assignment", "territories"]))


def run_whatif_kind(scenario: Scenario, options: dict[str, Any], progress: Progress
                    ) -> RunOutput:
    from salesplan.api.planning.report import report_charts
    from salesplan.api.planning.whatif import run_whatif

    o = WhatifOptions.model_validate(options)

    def estimates(p: dict) -> None:  # after each round of replications of every variant
        progress(p["replications_done"] / p["replications"], f"estimates from "
                 f"{p['replications_done']} of {p['replications']} replications", p)

    comparison = run_whatif(scenario, variants=o.variants, replications=o.replications,
                            seed=o.seed, **run_replications().kwargs(), progress=progress,
                            quota_method=o.quota_method, partial=estimates)
    charts = report_charts(comparison)
    tables = {"comparison": comparison.table(), "regions": comparison.region_table(),
              "reps": comparison.rep_table()}
    return RunOutput(result=jsonable(comparison.summary()), tables=tables, charts=charts)


def run_plan_headcount_kind(scenario: Scenario, options: dict[str, Any], progress: Progress
                            ) -> RunOutput:
    """The plan, or the best plan found with ``reached`` false and the ``verdict`` saying why
    (the run succeeds either way, so the frontier is kept)."""
    from salesplan.api.planning.whatif import run_plan_headcount

    o = PlanHeadcountOptions.model_validate(options)
    plan = run_plan_headcount(scenario, p=o.p, replications=o.replications, seed=o.seed,
                              **run_replications().kwargs(), regions=o.regions,
                              start_month=o.start_month, max_hires=o.max_hires, cost=o.cost,
                              progress=lambda message: progress(-1.0, message))
    return RunOutput(result=jsonable(plan.as_dict()),
                     tables={"frontier": plan.frontier_table()})


def run_quotas_kind(scenario: Scenario, options: dict[str, Any], progress: Progress
                    ) -> RunOutput:
    from salesplan.api.planning.quotas import run_quotas

    o = QuotasOptions.model_validate(options)

    def simulated(done: int, total: int) -> None:
        progress(0.9 * done / max(total, 1), f"simulated {done} of {total} replications")

    from salesplan.optimizer.quotas import Bounds

    res = run_quotas(scenario, method=o.method, replications=o.replications, seed=o.seed,
                     **run_replications().kwargs(), over_assign=o.over_assign,
                     rounding=o.rounding,
                     bounds=Bounds(peer_band=o.peer_band), progress=simulated)
    progress(1.0, "done")
    tables = _frames(res, ["quotas", "reps"])
    tables |= _frames(getattr(res, "plan", None), ["regions", "reconcile_report"])
    for name in ("reps", "regions"):  # indexed by rep and region: the ids are columns in CSV
        if name in tables and tables[name].index.name:
            tables[name] = tables[name].reset_index()
    result = dict(_value(res, "summary") or {})
    if scenario.compensation is not None:  # what the quotas do to pay, as the CLI reports it
        from salesplan.api.planning.compensation import pay_figures, plan_rep_quotas

        result["pay"] = pay_figures(scenario, res.result, plan_rep_quotas(scenario, res.quotas))
    return RunOutput(result=jsonable(result), tables=tables)


def run_comp_kind(scenario: Scenario, options: dict[str, Any], progress: Progress
                  ) -> RunOutput:
    """The pay plan on simulated sales: ``result`` is the comp summary, tables ``payouts``
    (and ``design``), charts ``pay_curve`` and ``pay_distribution``."""
    from salesplan.api.planning.comp_report import comp_charts, payouts_table
    from salesplan.api.planning.compensation import run_comp

    o = CompOptions.model_validate(options)

    def simulated(done: int, total: int) -> None:
        progress(0.9 * done / max(total, 1), f"simulated {done} of {total} replications")

    run = run_comp(scenario, o.quotas, o.method, o.replications, o.seed,
                   **run_replications().kwargs(), progress=simulated, design=o.design)
    tables = {"payouts": payouts_table(run)}
    if run.design is not None:
        tables["design"] = run.design.grid
    charts = comp_charts(run)
    progress(1.0, "done")
    return RunOutput(result=jsonable(run.summary), tables=tables, charts=charts)


KINDS: dict[str, Kind] = {
    k.name: k for k in (
        Kind("simulate", SimulateOptions, run_simulate,
             "Monte Carlo simulation of the scenario (summary with intervals, tidy frames)"),
        Kind("align", AlignOptions, run_align, "Territory alignment with the optimiser"),
        Kind("quotas", QuotasOptions, run_quotas_kind, "Quotas per rep by a quota method"),
        Kind("comp", CompOptions, run_comp_kind,
             "Incentive pay on simulated sales: cost of sales, pay per rep, pay equity, and "
             "optionally the plan design search", check=_comp_check),
        Kind("whatif", WhatifOptions, run_whatif_kind,
             "Base and variants side by side with common random numbers", check=_whatif_check),
        Kind("plan-headcount", PlanHeadcountOptions, run_plan_headcount_kind,
             "Fewest hires per region so that P(hit target) >= p", check=_headcount_check),
    )
}
"""The production registry. Tests add kinds through the ``get_kinds`` dependency only."""
