"""Pay plans in the application layer: simulate, set quotas, then pay.

The pay engine (:mod:`salesplan.optimizer.compensation`) takes simulated sales as arrays and
never imports the simulator; this module composes the two. A comp run simulates the scenario
(``replications`` x ``seed``; the pay plan does not change sales, so the same draws serve every
quota method and every candidate plan), takes quotas from a quota method (default: the project's
default method) or from a quotas file, spreads each rep's horizon quota over the months like the
quota engine does (target seasonality x ramp), and computes every rep's pay in every replication.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from salesplan.errors import SalesplanError
from salesplan.optimizer.compensation import (
    Payouts,
    PayTerms,
    PlanDesign,
    Sales,
    compute_payouts,
    design_plan,
    pay_equity,
    pay_summary,
    pay_terms,
    rep_pay_table,
)
from salesplan.optimizer.quotas import DEFAULT_METHOD, method_names
from salesplan.optimizer.quotas.context import QuotaContext
from salesplan.optimizer.quotas.decomposition import month_shares
from salesplan.scenarios import Scenario
from salesplan.simulator import SimulationResult, simulate

from .quotas import horizon_quotas

__all__ = ["PAY_COLUMNS", "CompError", "CompRun", "comp_by_method", "comp_by_quotas",
           "monthly_quotas", "pay_figures", "plan_rep_quotas", "run_comp", "sales_from_result",
           "scenario_payouts"]

PAY_COLUMNS = ("cost_of_sales", "share_at_on_target_pay", "gini_pay_ratio", "territory_share")
"""What a quota plan does to pay, as ``salesplan quotas`` reports it (see :func:`pay_figures`)."""


class CompError(SalesplanError, ValueError):
    """A comp run cannot be made as asked (no pay plan, quotas for unknown reps...). A planner's
    error (the CLI exits 2 with the message, the service answers with it); still a
    ``ValueError`` for callers that caught it as one."""


def sales_from_result(result: SimulationResult) -> Sales:
    """The pay engine's view of a simulation (needs a scenario with a ``compensation``
    section: the simulator keeps the rep x product x month detail only then)."""
    details = [o.pay_detail for o in result.outputs]
    if any(d is None for d in details):
        raise CompError("the simulation kept no pay detail: the scenario has no compensation "
                        "section")
    return Sales(
        bookings_product=np.stack([d.bookings_product for d in details]),
        won_product=np.stack([d.won_product for d in details]),
        bookings_segment=np.stack([d.bookings_segment for d in details]),
        won_segment=np.stack([d.won_segment for d in details]),
        seated_days=np.stack([np.asarray(o.seated_days, dtype=float) for o in result.outputs]),
    )


def monthly_quotas(scenario: Scenario, quotas: Mapping[str, float],
                   ctx: QuotaContext | None = None) -> np.ndarray:
    """[R, M] each rep's horizon quota spread over the months by the quota engine's month
    shares (target seasonality x ramp; ``ctx``: the scenario's quota context, if built
    already). Reps missing from ``quotas`` raise; ids that are not reps raise."""
    ids = [r.id for r in scenario.reps]
    unknown = sorted(set(quotas) - set(ids))
    if unknown:
        raise CompError(f"quotas name reps the scenario does not have: {', '.join(unknown[:10])}")
    missing = [i for i in ids if i not in quotas]
    if missing:
        raise CompError(f"quotas are missing for reps: {', '.join(missing[:10])}"
                        + (f" ({len(missing)} in all)" if len(missing) > 10 else ""))
    total = np.array([float(quotas[i]) for i in ids])
    return total[:, None] * month_shares(ctx or QuotaContext(scenario))


def scenario_payouts(scenario: Scenario, quotas: Mapping[str, float],
                     result: SimulationResult, sales: Sales | None = None,
                     ctx: QuotaContext | None = None) -> tuple[Payouts, PayTerms, Sales]:
    """Payouts of ``scenario``'s pay plan on a simulation of it, with these horizon quotas.
    ``sales`` (:func:`sales_from_result` of ``result``) and ``ctx`` (the scenario's quota
    context) may be passed when several quota plans are paid on the same simulation."""
    ctx = ctx or QuotaContext(scenario)
    seated = ctx.seated_profile.reindex([r.id for r in scenario.reps]).to_numpy()
    terms = pay_terms(scenario, monthly_quotas(scenario, quotas, ctx), seated)
    sales = sales if sales is not None else sales_from_result(result)
    return compute_payouts(scenario, terms, sales), terms, sales


def _rep_frame(scenario: Scenario, ctx: QuotaContext | None = None) -> pd.DataFrame:
    pot = (ctx or QuotaContext(scenario)).potential
    return pd.DataFrame({"region": [r.region for r in scenario.reps],
                         "role": [r.role for r in scenario.reps],
                         "territory_potential": [float(pot.get(r.id, 0.0)) for r in scenario.reps],
                         "productivity": [r.productivity for r in scenario.reps]},
                        index=pd.Index([r.id for r in scenario.reps], name="rep"))


def _equity(scenario: Scenario, payouts: Payouts, ctx: QuotaContext | None = None) -> dict:
    reps = _rep_frame(scenario, ctx)
    return pay_equity(payouts, reps["territory_potential"].to_numpy(),
                      reps["productivity"].to_numpy())


@dataclass
class CompRun:
    """A pay plan measured on simulated sales: the payouts, the leader's summary, the per-rep
    table, pay equity, the quota source, and the design search when asked."""

    scenario: Scenario
    payouts: Payouts
    terms: PayTerms
    sales: Sales
    seed: int
    replications: int
    quota_source: str
    notes: list[str] = field(default_factory=list)
    design: PlanDesign | None = None

    @property
    def reps(self) -> pd.DataFrame:
        extra = _rep_frame(self.scenario)[["region", "role"]]
        return rep_pay_table(self.payouts, extra)

    @property
    def summary(self) -> dict:
        comp = self.scenario.compensation
        return {
            "scenario": self.scenario.name, "currency": self.scenario.horizon.currency,
            "seed": self.seed, "replications": self.replications,
            "quotas": self.quota_source,
            **pay_summary(self.payouts, comp.budget if comp else None),
            "equity": _equity(self.scenario, self.payouts),
            "design": self.design.as_dict() if self.design else None,
            "notes": list(self.notes),
        }


def _simulate(scenario: Scenario, replications: int, seed: int, workers: int | None,
              progress: Callable[[int, int], None] | None,
              executor: Executor | None = None) -> SimulationResult:
    if scenario.compensation is None:
        raise CompError(f"scenario {scenario.name!r} has no compensation section: add one "
                        "(see docs/compensation.md)")
    return simulate(scenario, replications, seed, workers=workers, executor=executor,
                    keep_deals=0, progress=progress)


def run_comp(scenario: Scenario, quotas: Mapping[str, float] | None = None,
             method: str = DEFAULT_METHOD, replications: int = 200, seed: int = 0,
             workers: int | None = None, progress: Callable[[int, int], None] | None = None,
             design: tuple[float, tuple[float, float]] | None = None,
             executor: Executor | None = None) -> CompRun:
    """Simulate, take quotas (``quotas`` by rep, else ``method`` on the same draws) and pay.
    ``design`` = (cost-of-sales budget, share-at-quota band) also runs the design search;
    ``executor``: where the replications go (default: ``workers`` local processes)."""
    result = _simulate(scenario, replications, seed, workers, progress, executor)
    notes: list[str] = []
    if quotas is None:
        if scenario.targets is None:
            raise CompError("the scenario has no target to set quotas from: give quotas "
                            "(--quotas quotas.csv)")
        quotas, notes = horizon_quotas(scenario, method, result.rep_bookings())
        source = f"method {method}"
    else:
        source = "file"
    payouts, terms, sales = scenario_payouts(scenario, quotas, result)
    zero = [rid for rid, q, tv in zip(payouts.rep_ids, payouts.quota, payouts.target_variable,
                                     strict=True) if q <= 0 < tv]
    if zero:
        notes.append(f"{len(zero)} rep(s) with on-target variable pay but no quota earn no "
                     f"commission: {', '.join(zero[:10])}")
    run = CompRun(scenario, payouts, terms, sales, seed, replications, source, notes)
    if design is not None:
        budget, band = design
        run.design = design_plan(scenario, terms, sales, budget, band)
    return run


def pay_figures(scenario: Scenario, result: SimulationResult, quotas: Mapping[str, float],
                sales: Sales | None = None, ctx: QuotaContext | None = None) -> dict:
    """What these horizon quotas (currency per rep) do to pay on the simulated sales
    ``result``: expected cost of sales (pay / bookings, a fraction), the expected share of reps
    at on-target pay (a fraction), the Gini of the expected pay ratio across reps and the
    territory share of its spread (both unitless; see
    :mod:`salesplan.optimizer.compensation.summary`), then total pay (currency), the share at
    quota and the rep share. No new simulation (``sales`` and ``ctx`` as in
    :func:`scenario_payouts`)."""
    comp = scenario.compensation
    ctx = ctx or QuotaContext(scenario)
    payouts, _, _ = scenario_payouts(scenario, quotas, result, sales, ctx)
    s = pay_summary(payouts, comp.budget if comp else None)
    eq = _equity(scenario, payouts, ctx)
    return {"cost_of_sales": s["cost_of_sales"]["mean"],
            "share_at_on_target_pay": s["share_at_on_target_pay"]["mean"],
            "gini_pay_ratio": eq["gini_pay_ratio"],
            "territory_share": eq["territory_share"],
            "total_pay": s["total_pay"]["mean"],
            "pay_ratio_sd": eq["pay_ratio_sd"],
            "share_at_quota": s["share_at_quota"]["mean"],
            "rep_share": eq["rep_share"]}


def plan_rep_quotas(scenario: Scenario, quotas: pd.DataFrame) -> dict[str, float]:
    """Horizon quota per rep (currency) of a quota plan's ``quotas`` frame (rows summed per
    rep; a rep without rows has quota 0)."""
    per_rep = quotas.groupby("rep")["quota"].sum() if len(quotas) else pd.Series(dtype=float)
    return {r.id: float(per_rep.get(r.id, 0.0)) for r in scenario.reps}


def comp_by_quotas(scenario: Scenario, result: SimulationResult,
                   quotas_by_method: Mapping[str, Mapping[str, float]]) -> pd.DataFrame:
    """:func:`pay_figures` of each method's quotas on the same simulated sales (one row per
    method, indexed by ``method``). The sales and the quota context are built once."""
    sales, ctx = sales_from_result(result), QuotaContext(scenario)
    rows = [{"method": name, **pay_figures(scenario, result, quotas, sales, ctx)}
            for name, quotas in quotas_by_method.items()]
    return pd.DataFrame(rows).set_index("method")


def comp_by_method(scenario: Scenario, result: SimulationResult,
                   methods: Sequence[str] | None = None) -> pd.DataFrame:
    """Cost of sales, share at on-target pay and pay equity of every quota method on the same
    simulated sales (one row per method; quotas under the default bounds, no over-assignment)."""
    quotas = {name: horizon_quotas(scenario, name, result.rep_bookings())[0]
              for name in methods or method_names()}
    return comp_by_quotas(scenario, result, quotas)
