"""Company -> region: the first level of the cascade.

The company target (rounded to the currency unit) is shared among the regions:

- the ideal region targets come from ``targets.by_region`` (``region_split="targets"``) or from
  the roll-up of the method's company-wide ideal (``"method"``: the reps' ideal at the
  over-assigned total, divided by the over-assignment; the default for ``fair`` and when the
  scenario gives no region shares);
- region pins are fixed and the other regions absorb the difference; a region without reps can
  take no target (:mod:`.allocation`, checked first by :mod:`.diagnosis`);
- the targets are rounded to the rounding unit with the exact company total (:mod:`.rounding`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .allocation import AllocationLevel, SolveInfo, solve_allocation
from .context import QuotaContext
from .diagnosis import diagnose
from .errors import InfeasibleQuotaError, QuotaError
from .pins import Pin, pinned_values
from .request import QuotaRequest
from .rounding import round_group

__all__ = ["RegionTargets", "allocate_regions", "company_target", "region_split"]


@dataclass(frozen=True)
class RegionTargets:
    """The region level of a plan.

    ``company``: the company target (whole currency units). ``split``: where the ideal came from
    (``"targets"`` or ``"method"``). ``ideal``: region -> ideal target (currency, unrounded).
    ``target``: region -> target (int64 currency; multiples of the rounding unit but for one
    region). ``pinned``: region -> the planner's pinned target (NaN: free). ``reps``: region ->
    number of reps. ``solve``: how the allocation was solved.
    """

    company: int
    split: str
    ideal: pd.Series
    target: pd.Series
    pinned: pd.Series
    reps: pd.Series
    solve: SolveInfo


def company_target(ctx: QuotaContext) -> int:
    """``targets.company`` rounded to the currency unit (noted when that changes it)."""
    targets = ctx.scenario.targets
    assert targets is not None  # checked by QuotaRequest.build
    total = round(targets.company)
    if total != targets.company:
        ctx.note(f"company target {targets.company:,.2f} rounded to {total:,}")
    return total


def region_split(request: QuotaRequest, ctx: QuotaContext) -> str:
    """``"targets"`` or ``"method"``: as asked, else the method's default; a method that
    prefers ``targets`` falls back to ``method`` when the scenario gives no region shares."""
    targets = ctx.scenario.targets
    by_region = targets.by_region if targets is not None else None
    split = request.region_split or request.method.region_split
    if split not in ("targets", "method"):
        raise QuotaError(f"region_split must be 'targets' or 'method', got {split!r}")
    if split == "targets" and not by_region:
        if request.region_split == "targets":
            raise QuotaError("region_split='targets' needs targets.by_region in the scenario")
        split = "method"
    return split


def _ideal_targets(ctx: QuotaContext, request: QuotaRequest, split: str,
                   company: int) -> pd.Series:
    """Region -> ideal target (currency) by ``split`` (see the module docstring)."""
    regions = ctx.scenario.region_ids
    if split == "targets":
        by_region = ctx.scenario.targets.by_region  # type: ignore[union-attr]
        return pd.Series({g: company * by_region.get(g, 0.0) for g in regions})  # type: ignore[union-attr]
    # the roll-up of the reps' ideal at the over-assigned total, per unit of over-assignment
    # (the same for proportional methods; for fair the quantile level depends on the total)
    over_assign = request.over_assign
    ideal_all = request.ideal(ctx, ctx.rep_ids, float(over_assign * company)) / over_assign
    return ideal_all.groupby(ctx.rep_region).sum().reindex(regions, fill_value=0.0)


def _region_bounds(n_reps: pd.Series) -> pd.DataFrame:
    """Region bounds (columns as :class:`.allocation.AllocationLevel` reads them): none, but a
    region without reps (``n_reps``: region -> number of reps) takes nothing."""
    return pd.DataFrame(
        {
            "lo": 0.0,
            "lo_kind": "",
            "lo_label": "",
            "hi": np.where(n_reps > 0, np.inf, 0.0),
            "hi_kind": np.where(n_reps > 0, "", "no_reps"),
            "hi_label": np.where(n_reps > 0, "", "no reps in the region"),
        },
        index=n_reps.index.tolist(),
    )


def allocate_regions(ctx: QuotaContext, request: QuotaRequest,
                     pins: Sequence[Pin]) -> RegionTargets:
    """Region targets summing to the company target, holding the region ``pins``; raises
    :class:`InfeasibleQuotaError` naming every pin or rounding that cannot hold."""
    company = company_target(ctx)
    regions = ctx.scenario.region_ids
    split = region_split(request, ctx)
    n_reps = ctx.rep_region.value_counts().reindex(regions, fill_value=0)
    ideal = _ideal_targets(ctx, request, split, company)
    ctx.note(f"region targets from "
             f"{'targets.by_region' if split == 'targets' else request.method.name}")
    bounds = _region_bounds(n_reps)
    fixed, where = pinned_values(regions, pins, "region")
    level = AllocationLevel(
        level="region",
        ideal=ideal,
        group=pd.Series("company", index=regions),
        totals={"company": float(company)},
        group_text={"company": f"company target {company:,}"},
        bounds=bounds,
        fixed=fixed,
        pin_where=where,
    )
    conflicts = diagnose(level)
    if conflicts:
        raise InfeasibleQuotaError(conflicts)
    x, info = solve_allocation(level, request.solver)
    target, _, conflicts = round_group(
        x, company, unit=request.rounding, lo=bounds["lo"], hi=bounds["hi"], fixed=fixed,
        group="region targets",
    )
    if conflicts:
        raise InfeasibleQuotaError(conflicts)
    return RegionTargets(company, split, ideal, target, fixed, n_reps, info)
