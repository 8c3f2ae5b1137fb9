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

__all__ = ["WhyThisQuota", "binding_notes", "plan_summary", "region_table", "rep_table"]

_NOT_BOUNDS = ("ideal", "absorbs", "pin")
THIN_TERRITORY = 0.1
"""A territory under this share of its region's mean potential is noted as thin."""


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
        self.accounts = ctx.account_count.to_dict()
        self.has_accounts = bool(ctx.scenario.accounts)

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
            if self.has_accounts and self.accounts[rep] == 0:
                parts.append("owns no accounts (territory potential 0)")
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


def _ids_text(ids: list[str], limit: int = 6) -> str:
    return ", ".join(ids[:limit]) + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def binding_notes(ctx: QuotaContext, request: QuotaRequest, rep_frame: pd.DataFrame) -> None:
    """Note every bound that binds, by kind (``peer cap on 3 reps (R-01, R-17, R-31)``), how
    many reps absorb what they moved, the reps that own no accounts and, under the peer band,
    the reps with thin territories."""
    kinds = rep_frame["binding"]
    parts = []
    for kind in dict.fromkeys(k for k in kinds if k not in _NOT_BOUNDS):
        ids = kinds.index[kinds == kind].tolist()
        parts.append(f"{kind.replace('_', ' ')} on {len(ids)} rep{'s' if len(ids) > 1 else ''} "
                     f"({_ids_text(ids)})")
    if parts:
        absorbing = int((kinds == "absorbs").sum())
        tail = (f"; {absorbing} other rep{'s' if absorbing > 1 else ''} absorb what they move"
                if absorbing else "")
        band = request.bounds.peer_band
        band_text = (f" (peer band {band[0]:g}x-{band[1]:g}x of the region's mean quota)"
                     if band and kinds.isin(["peer_floor", "peer_cap"]).any() else "")
        ctx.note(f"bounds that bind{band_text}: {'; '.join(parts)}{tail}")
    if ctx.scenario.accounts:
        empty = ctx.account_count.index[ctx.account_count == 0].tolist()
        if empty:
            ctx.note(f"{len(empty)} rep(s) own no accounts ({_ids_text(empty)}): their "
                     f"territory potential is 0, so their quota comes from the method's other "
                     "parts and the peer band, not from a territory")
        _note_thin_territories(ctx, request)


def _note_thin_territories(ctx: QuotaContext, request: QuotaRequest) -> None:
    """Note the reps whose territory potential is under a tenth of their region's mean: under
    the peer band their quota stays near their peers' although their territory cannot carry it
    (a territory problem: re-align)."""
    if request.bounds.peer_band is None:
        return
    pot = ctx.potential.reindex(ctx.rep_ids)
    mean = pot.groupby(ctx.rep_region.reindex(ctx.rep_ids)).transform("mean")
    thin = pot.index[(pot > 0) & (pot < THIN_TERRITORY * mean)].tolist()
    if thin:
        shown = [f"{r} {pot[r] / mean[r]:.1%}" for r in thin[:6]]
        ctx.note(f"{len(thin)} rep(s) have territories under {THIN_TERRITORY:.0%} of their "
                 f"region's mean potential ({', '.join(shown)}{' ...' if len(thin) > 6 else ''}"
                 "): the peer band keeps their quota near their peers', which their territory "
                 "may not carry; consider re-aligning territories (salesplan align)")


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


def _band_json(band: tuple[float, float] | None) -> list[float | None] | None:
    """The peer band as JSON: ``[low, high]``, ``high`` null when unbounded; None when off."""
    if band is None:
        return None
    return [band[0], band[1] if math.isfinite(band[1]) else None]


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
        "peer_band": _band_json(request.bounds.peer_band),
        "binding": {str(k): int(n) for k, n in rep_frame["binding"].value_counts().items()},
    }
    summary.update(plan_measures(rep_frame, reps.quota.astype(float), ctx.samples))
    summary["worst_deviation"] = reps.solve.worst_deviation
    summary["total_deviation"] = reps.solve.total_deviation
    summary["solve"] = {"region": asdict(regions.solve), "rep": asdict(reps.solve)}
    return summary
