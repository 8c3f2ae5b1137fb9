"""The result tables of a quota plan: per rep (fairness and "why this quota"), per region, and
the plan summary (JSON-ready). The per-rep columns and the plan-level measures are documented in
:mod:`.fairness`; the region and summary fields in :class:`.plan.QuotaPlan`.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd

from .context import QuotaContext
from .fairness import attainment, plan_measures
from .region_targets import RegionTargets
from .rep_quotas import RepQuotas
from .request import QuotaRequest

__all__ = ["WhyThisQuota", "plan_summary", "region_table", "rep_table"]


class WhyThisQuota:
    """Explains each rep's quota: the constraint that set it (``binding``: ``pin``, a bound's
    kind, ``absorbs``, ``ramp_relief`` or ``ideal``) and a sentence saying why (``why``).

    A bound is said to bind when the ideal lies beyond it (by more than half a unit) and the
    quota sits at it (within one rounding unit); a quota moved by at least one rounding unit
    otherwise absorbs other reps' pins or bounds.
    """

    def __init__(self, ctx: QuotaContext, request: QuotaRequest, reps: RepQuotas):
        self.method = request.method
        self.ramp_relief = request.bounds.ramp_relief
        self.unit = request.rounding
        self.tol = max(self.unit, 1)
        self.rep_total = reps.rep_total
        self.holders = reps.holders
        self.where = reps.pin_where
        self.bounds = reps.bounds.to_dict(orient="index")
        self.quota, self.ideal = reps.quota.to_dict(), reps.ideal.to_dict()
        self.region = ctx.rep_region.reindex(ctx.rep_ids).to_dict()
        self.ramp = ctx.ramp_factor.reindex(ctx.rep_ids).to_dict()
        self.pinned = reps.pinned.to_dict()

    def binding(self, rep: str) -> tuple[str, str | None]:
        """The binding constraint's kind and the clause that says how it moved the ideal
        (None: nothing to add)."""
        q, ide = float(self.quota[rep]), float(self.ideal[rep])
        b = self.bounds[rep]
        lo, hi = float(b["lo"]), float(b["hi"])
        if pd.notna(self.pinned[rep]):
            return "pin", None
        if lo > 0 and ide < lo - 0.5 and q <= lo + self.tol:
            return str(b["lo_kind"]), f"raised to its {b['lo_label']}"
        if math.isfinite(hi) and ide > hi + 0.5 and q >= hi - self.tol:
            return str(b["hi_kind"]), f"held to its {b['hi_label']}"
        if abs(q - ide) >= self.tol:
            g = self.region[rep]
            return "absorbs", f"moved {q - ide:+,.0f} to absorb other pins or bounds in {g}"
        if self.ramp_relief and self.ramp[rep] < 1:
            return "ramp_relief", None
        return "ideal", None

    def explain(self, rep: str) -> tuple[str, str]:
        """``(binding, why)`` for one rep."""
        g = self.region[rep]
        kind, clause = self.binding(rep)
        if kind == "pin":
            parts = [f"pinned by the planner ({self.where[rep]})"]
        else:
            ide = float(self.ideal[rep])
            parts = [f"{self.method.describe()}: ideal {ide:,.0f} of region {g}'s rep total "
                     f"{self.rep_total[g]:,}"]
            if self.ramp_relief and self.ramp[rep] < 1 and not self.method.accounts_for_ramp:
                parts.append(f"ramp relief x{self.ramp[rep]:.2f}")
            if clause is not None:
                parts.append(clause)
            if self.unit > 1:
                parts.append(f"rounded to {self.unit:,}")
        if self.holders.get(g) == rep:
            q = float(self.quota[rep])
            parts.append(f"carries {g}'s rounding remainder {int(q % self.unit):,}")
        return kind, "; ".join(parts)


def rep_table(ctx: QuotaContext, request: QuotaRequest, reps: RepQuotas) -> pd.DataFrame:
    """Per rep (index ``rep``, scenario order): the columns of :mod:`.fairness`, then
    ``lower_bound``, ``upper_bound`` (currency) and ``pinned``."""
    rep_ids = ctx.rep_ids
    quota = reps.quota
    pot = ctx.potential.reindex(rep_ids)
    qf = quota.astype(float)
    att = attainment(qf, ctx.samples)
    last = ctx.last_quota.reindex(rep_ids)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(pot > 0, qf / pot.where(pot > 0, 1.0), np.nan)
        change = np.where(last > 0, qf / last.where(last > 0, 1.0) - 1.0, np.nan)
    why = WhyThisQuota(ctx, request, reps)
    binding, text = [], []
    for r in rep_ids:
        kind, sentence = why.explain(r)
        binding.append(kind)
        text.append(sentence)
    total_pot = float(pot.sum())
    return pd.DataFrame(
        {
            "region": ctx.rep_region.reindex(rep_ids),
            "method": request.method.name,
            "quota": quota.astype(np.int64),
            "ideal": reps.ideal.round(2),
            "last_quota": last,
            "change_vs_last": change,
            "potential": pot,
            "potential_share": pot / total_pot if total_pot > 0 else np.nan,
            "quota_share": qf / qf.sum() if qf.sum() > 0 else np.nan,
            "quota_potential": rho,
            "ramp_factor": ctx.ramp_factor.reindex(rep_ids),
            "capacity_factor": ctx.capacity_factor.reindex(rep_ids),
            "expected_bookings": att["expected_bookings"],
            "expected_attainment": att["expected_attainment"],
            "p_attain": att["p_attain"],
            "p_attain_lo": att["p_attain_lo"],
            "p_attain_hi": att["p_attain_hi"],
            "binding": binding,
            "why": text,
            "lower_bound": reps.bounds["lo"].reindex(rep_ids),
            "upper_bound": reps.bounds["hi"].reindex(rep_ids),
            "pinned": reps.pinned.notna(),
        },
        index=pd.Index(rep_ids, name="rep"),
    )


def region_table(regions: RegionTargets, reps: RepQuotas) -> pd.DataFrame:
    """Per region (index ``region``): ``ideal_target``, ``target``, ``rep_total`` (currency),
    ``pinned`` and the number of ``reps``."""
    return pd.DataFrame(
        {
            "ideal_target": regions.ideal,
            "target": regions.target,
            "rep_total": reps.rep_total,
            "pinned": regions.pinned.notna(),
            "reps": regions.reps,
        },
        index=pd.Index(regions.target.index.tolist(), name="region"),
    )


def plan_summary(ctx: QuotaContext, request: QuotaRequest, regions: RegionTargets,
                 reps: RepQuotas, *, rep_frame: pd.DataFrame, n_pins: int) -> dict[str, Any]:
    """The plan-level figures: the request, the sizes, the fairness measures of
    :func:`.fairness.plan_measures` over ``rep_frame`` (:func:`rep_table`), and the solve of
    each level. ``n_pins``: the number of pins of every level."""
    scenario = ctx.scenario
    summary: dict[str, Any] = {
        "method": request.method.name,
        "method_label": request.method.describe(),
        "scenario": scenario.name,
        "currency": scenario.horizon.currency,
        "target": regions.company,
        "total_quota": reps.total,
        "over_assign": request.over_assign,
        "rounding": request.rounding,
        "by": list(request.dims),
        "region_split": regions.split,
        "reps": len(ctx.rep_ids),
        "regions": len(scenario.region_ids),
        "pins": n_pins,
    }
    summary.update(plan_measures(rep_frame, reps.quota.astype(float), ctx.samples))
    summary["worst_deviation"] = reps.solve.worst_deviation
    summary["total_deviation"] = reps.solve.total_deviation
    summary["solve"] = {"region": asdict(regions.solve), "rep": asdict(reps.solve)}
    return summary
