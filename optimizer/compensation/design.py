
"""Design help: the quota level, accelerator and cap that meet a cost-of-sales budget and a
wanted share of reps at quota.

Simulated sales do not depend on quotas or pay in the model (it has no effort response to pay),
so every candidate plan is evaluated on the **same** simulated sales: the search is exact for
those draws and costs no new simulation. The problem, for share band ``[s_lo, s_hi]`` and budget
``b`` (cost of sales, pay over bookings):

1. **Quota level** ``lambda`` (every quota times ``lambda``): the share of rep-replications at
   quota, ``S(lambda) = mean_{n,r} 1[x_nr >= lambda q_r]``, falls as ``lambda`` rises. If
   ``S(1)`` is inside the band, ``lambda = 1``; otherwise bisection finds ``lambda`` with
   ``S(lambda)`` at the band's middle.
2. **Accelerator and cap**: over the grid ``a`` in ``accelerators`` (the rate paid above 100%
   of quota; the plan's tiers above 100% are scaled so the first of them pays ``a``) and cap
   ``c`` in ``caps`` (None: uncapped), pick

       max a, then max c   subject to   E[pay] / E[bookings] <= b

   (the plan that pays top performers most within the budget). Cost of sales is the ratio of
   expected pay to expected bookings over the replications.

When no grid point meets the budget, the result says so with the cheapest plan's cost and what
base pay alone costs, so the planner knows whether the budget, the pay mix or the on-target
earnings must move.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from salesplan.scenarios.compensation import Compensation
from salesplan.scenarios.model import Scenario

from .payouts import Payouts, PayTerms, Sales, compute_payouts

__all__ = ["PlanDesign", "design_plan"]

ACCELERATORS = (1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0)
CAPS: tuple[float | None, ...] = (None, 3.0, 2.5, 2.0, 1.5)


@dataclass
class PlanDesign:
    """The chosen quota level, accelerator and cap, the grid that was searched (one row per
    candidate with its expected cost of sales and share at on-target pay), and why."""

    feasible: bool
    quota_level: float
    share_at_quota: float
    accelerator: float | None
    cap: float | None
    cost_of_sales: float | None
    grid: pd.DataFrame
    message: str
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"feasible": self.feasible, "quota_level": self.quota_level,
                "share_at_quota": self.share_at_quota, "accelerator": self.accelerator,
                "cap": self.cap, "cost_of_sales": self.cost_of_sales, "message": self.message,
                "notes": list(self.notes)}


def _share_at_quota(pay: Payouts, level: float) -> float:
    """The share of rep-replications at ``level`` x quota."""
    return float(pay.share_at_quota(level).mean())


def _quota_level(pay: Payouts, band: tuple[float, float]) -> float:
    lo, hi = band
    if lo <= _share_at_quota(pay, 1.0) <= hi:
        return 1.0
    goal = 0.5 * (lo + hi)
    a, b = 1e-3, 1e3  # S(a) ~ 1 >= goal >= S(b) ~ 0
    for _ in range(60):
        mid = np.sqrt(a * b)
        if _share_at_quota(pay, mid) >= goal:
            a = mid
        else:
            b = mid
    return float(np.sqrt(a * b))


def design_plan(scenario: Scenario, terms: PayTerms, sales: Sales, cost_of_sales: float,
                share_band: tuple[float, float] = (0.6, 0.7),
                accelerators: Sequence[float] = ACCELERATORS,
                caps: Sequence[float | None] = CAPS) -> PlanDesign:
    """Search the quota level, accelerator and cap (module docstring)."""
    comp = scenario.compensation
    if comp is None:
        raise ValueError(f"scenario {scenario.name!r} has no compensation section")
    if not 0 < cost_of_sales < 10:
        raise ValueError(f"cost of sales budget must be a fraction in (0, 10), got "
                         f"{cost_of_sales!r}")
    lo, hi = share_band
    if not 0 <= lo <= hi <= 1:
        raise ValueError(f"share band must satisfy 0 <= lo <= hi <= 1, got {share_band}")
    base_run = compute_payouts(scenario, terms, sales)
    level = _quota_level(base_run, share_band)
    scaled = PayTerms(terms.rep_ids, terms.plans, terms.quota * level, terms.seated,
                      terms.start_month)
    share = _share_at_quota(base_run, level)
    bookings = float(sales.bookings.sum(axis=1).mean())
    rows = []
    for a in accelerators:
        for c in caps:
            trial = Compensation(plans=[p.with_accelerator(a, c) for p in comp.plans],
                                 spifs=comp.spifs, budget=comp.budget)
            pay = compute_payouts(scenario, scaled, sales, trial)
            rows.append({
                "accelerator": a, "cap": c,
                "cost_of_sales": float(pay.total.sum(axis=1).mean()) / bookings,
                "share_at_on_target_pay": float(pay.share_at_on_target_pay().mean()),
            })
    grid = pd.DataFrame(rows)
    base_cost = float(base_run.base.sum(axis=1).mean()) / bookings
    notes = [] if level == 1.0 else [
        f"quotas scaled by {level:.3f} to bring the share of reps at quota from "
        f"{_share_at_quota(base_run, 1.0):.0%} into "
        f"{lo:.0%}-{hi:.0%} ({share:.0%})"]
    ok = grid[grid["cost_of_sales"] <= cost_of_sales + 1e-12]
    if ok.empty:
        cheapest = grid.loc[grid["cost_of_sales"].idxmin()]
        msg = (f"no accelerator and cap on the grid meets a cost of sales of "
               f"{cost_of_sales:.1%}: the cheapest (accelerator {cheapest['accelerator']:g}, cap "
               f"{_cap_text(cheapest['cap'])}) costs {cheapest['cost_of_sales']:.1%}, of which "
               f"base pay alone is {base_cost:.1%}; raise the budget, lower on-target earnings "
               f"or the variable share, or raise quotas (fewer reps at quota)")
        return PlanDesign(False, level, share, None, None, None, grid, msg, notes)
    cap_rank = ok["cap"].map(lambda c: np.inf if c is None or pd.isna(c) else c)
    best = ok.assign(_cap=cap_rank).sort_values(["accelerator", "_cap"]).iloc[-1]
    cap = None if best["cap"] is None or pd.isna(best["cap"]) else float(best["cap"])
    msg = (f"accelerator {best['accelerator']:g}, cap {_cap_text(cap)} at quota level "
           f"{level:.3f}: expected cost of sales {best['cost_of_sales']:.1%} "
           f"(budget {cost_of_sales:.1%}), {share:.0%} of reps at quota")
    return PlanDesign(True, level, share, float(best["accelerator"]), cap,
                      float(best["cost_of_sales"]), grid, msg, notes)


def _cap_text(cap: object) -> str:
    return "none" if cap is None or (isinstance(cap, float) and np.isnan(cap)) else f"{cap:g}x"
