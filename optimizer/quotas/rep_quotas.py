"""Region -> rep: the second level of the cascade.

Each region's reps carry ``target x over_assign`` between them (the totals apportioned so that
they add up to ``round(over_assign x company target)`` exactly). Within a region:

- the ideal is the method's, at the region's rep total (with ramp relief, :mod:`.methods`);
- rep pins are fixed; floors, caps, change limits, ramp relief, the peer band (each rep within
  0.5x-2x of its region's mean quota by default) and the sum of a rep's pinned cells bound the
  rest (:mod:`.bounds`); :mod:`.diagnosis` names any that cannot hold;
- the lexicographic min-max model (:mod:`.allocation`) moves the free reps as little as
  possible from their ideal;
- quotas are rounded to the rounding unit with the exact region total (:mod:`.rounding`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .allocation import AllocationLevel, SolveInfo, solve_allocation
from .bounds import RepBoundsInput, peer_quotas, rep_bounds
from .context import QuotaContext
from .diagnosis import diagnose
from .errors import Conflict, InfeasibleQuotaError
from .pins import Pin, pinned_values
from .region_targets import RegionTargets
from .request import QuotaRequest
from .rounding import apportion, round_group

__all__ = ["RepQuotas", "allocate_reps"]


@dataclass(frozen=True)
class RepQuotas:
    """The rep level of a plan.

    ``total``: the total quota, ``round(over_assign x company target)`` (whole currency
    units). ``rep_total``: region -> what its reps carry (int64 currency; sums to ``total``).
    ``ideal``: rep -> the method's ideal (currency, after ramp relief). ``bounds``: rep -> the
    binding bounds (``lo``/``hi`` currency, with kinds and labels; see :func:`.bounds.rep_bounds`).
    ``pinned``: rep -> the planner's pinned quota (NaN: free); ``pin_where``: rep -> how messages
    name it. ``quota``: rep -> the final quota (int64 currency). ``holders``: region -> the rep
    carrying the region's rounding remainder (None: no remainder). ``solve``: how the
    allocation was solved.
    """

    total: int
    rep_total: pd.Series
    ideal: pd.Series
    bounds: pd.DataFrame
    pinned: pd.Series
    pin_where: dict[str, str]
    quota: pd.Series
    holders: dict[str, str | None]
    solve: SolveInfo


def _members(ctx: QuotaContext, region: str) -> list[str]:
    """The reps of ``region``, in scenario order."""
    region_of = ctx.rep_region
    return region_of.index[region_of == region].tolist()


def _ideal_quotas(ctx: QuotaContext, request: QuotaRequest, rep_total: pd.Series) -> pd.Series:
    """Rep -> the method's ideal at its region's rep total (currency; 0 in empty regions)."""
    ideal = pd.Series(0.0, index=ctx.rep_ids)
    for g in ctx.scenario.region_ids:
        members = _members(ctx, g)
        if members:
            ideal[members] = request.ideal(ctx, members, float(rep_total[g])).to_numpy()
    return ideal


def _cell_pin_sums(pins: Sequence[Pin]) -> dict[str, float]:
    """Rep -> the sum of its pinned cells (currency)."""
    sums: dict[str, float] = {}
    for p in pins:
        sums[p.id] = sums.get(p.id, 0.0) + p.value
    return sums


def _rep_level(ctx: QuotaContext, request: QuotaRequest, regions: RegionTargets,
               rep_total: pd.Series, pins: Mapping[str, Sequence[Pin]]) -> AllocationLevel:
    """The rep level as the allocation model sees it: reps in regions, each region's total its
    rep total, bounded and pinned."""
    rep_ids = ctx.rep_ids
    ideal = _ideal_quotas(ctx, request, rep_total)
    peer = (peer_quotas(ctx, rep_total.to_dict(), ramp=request.bounds.ramp_relief)
            if request.bounds.peer_band else None)
    if peer is not None and peer.isna().any():
        idle = peer.index[peer.isna()].tolist()
        ctx.note(f"peer band: no rep of region(s) {', '.join(sorted(set(ctx.rep_region[idle])))}"
                 " is in seat during the horizon; the band does not apply there")
    bounds = rep_bounds(ctx, request.bounds, RepBoundsInput(
        ideal, _cell_pin_sums(pins["cell"]), frozenset(p.id for p in pins["rep"]), peer,
        request.rounding))
    fixed, where = pinned_values(rep_ids, pins["rep"], "rep")
    group_text = {
        g: (
            f"region {g} (rep total {rep_total[g]:,} = target {regions.target[g]:,} "
            f"x over-assignment {request.over_assign:g})"
        )
        for g in ctx.scenario.region_ids
    }
    return AllocationLevel(
        level="rep",
        ideal=ideal,
        group=ctx.rep_region,
        totals={g: float(rep_total[g]) for g in ctx.scenario.region_ids},
        group_text=group_text,
        bounds=bounds,
        fixed=fixed,
        pin_where=where,
    )


def _round_quotas(ctx: QuotaContext, level: AllocationLevel, x: pd.Series, rep_total: pd.Series,
                  unit: int) -> tuple[pd.Series, dict[str, str | None]]:
    """Each region's solved quotas ``x`` rounded to ``unit`` with its exact rep total; returns
    rep -> quota (int64) and region -> remainder holder. Raises with every region's conflicts."""
    b, fixed = level.bounds, level.fixed
    quota = pd.Series(0, index=ctx.rep_ids, dtype=np.int64)
    holders: dict[str, str | None] = {}
    conflicts: list[Conflict] = []
    for g in ctx.scenario.region_ids:
        members = _members(ctx, g)
        if not members:
            continue
        qg, holders[g], confl = round_group(
            x[members], int(rep_total[g]), unit=unit, lo=b["lo"][members],
            hi=b["hi"][members], fixed=fixed[members], group=f"region {g}",
        )
        conflicts += confl
        quota[members] = qg.to_numpy()
    if conflicts:
        raise InfeasibleQuotaError(conflicts)
    return quota, holders


def _peer_hints(request: QuotaRequest, conflicts: Sequence[Conflict]) -> list[str]:
    """The hint to give when a conflict names the peer band (a default, not the planner's)."""
    band = request.bounds.peer_band
    text = " ".join(str(c) for c in conflicts)
    if band is None or ("peer floor" not in text and "peer cap" not in text):
        return []
    return [f"the peer band (each rep within {band[0]:g}x-{band[1]:g}x of its region's mean "
            "quota) is a default guardrail: widen it (Bounds(peer_band=(0.25, 4.0)); salesplan "
            "quotas --peer-band 0.25,4) or switch it off (peer_band=None; --peer-band none)"]


def allocate_reps(ctx: QuotaContext, request: QuotaRequest, regions: RegionTargets,
                  pins: Mapping[str, Sequence[Pin]]) -> RepQuotas:
    """Rep quotas summing to each region's rep total, holding the rep pins (``pins``: by level,
    as :func:`.pins.pins_by_level` gives them; cell pins set a floor on their rep's quota);
    raises :class:`InfeasibleQuotaError` naming every pin, bound or rounding that cannot hold."""
    over_assign = request.over_assign
    total = round(over_assign * regions.company)
    rep_total = pd.Series(
        apportion(over_assign * regions.target.to_numpy(dtype=float), total),
        index=ctx.scenario.region_ids,
    )
    level = _rep_level(ctx, request, regions, rep_total, pins)
    conflicts = diagnose(level)
    if conflicts:
        raise InfeasibleQuotaError(conflicts, _peer_hints(request, conflicts))
    x, info = solve_allocation(level, request.solver)
    quota, holders = _round_quotas(ctx, level, x, rep_total, request.rounding)
    return RepQuotas(total, rep_total, level.ideal, level.bounds, level.fixed, level.pin_where,
                     quota, holders, info)
