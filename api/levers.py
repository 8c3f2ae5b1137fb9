"""Applying what-if levers to a scenario.

A variant is the base scenario with its levers applied in order. Every lever returns a new frozen
scenario; nothing is changed in place. Whatever a lever clips or rounds (a conversion pushed past
1, a fractional capacity) is reported in :attr:`AppliedVariant.notes`: nothing is silent.

Levers that are not scenario data (``quota_method``, ``realign``) are returned as run options for
the what-if runner, which calls the optimiser for them.

Hires (``hire``) get the region's typical settings (median capacity, productivity, attrition and
cost of its current reps, and its most common segment-skill set) and a territory: each hire takes
over unlocked accounts it can serve from the region's reps with the most potential per head,
nearest to the hire's home first, until it holds the region's average potential per rep. The home
is the potential-weighted centre of the accounts of the region's most loaded rep. This is a quick,
deterministic hand-over, not an optimised carve: add a ``realign`` lever to the same variant for
that. Until a hire's start date its accounts' leads go to the simulator's fallback routing.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field
from statistics import median

from salesplan.scenarios import Scenario
from salesplan.scenarios.errors import SalesplanError
from salesplan.scenarios.levers import (
    Attrition,
    Capacity,
    Conversion,
    CycleTime,
    DealSize,
    Hire,
    LeadVolume,
    Lever,
    QuotaMethod,
    Realign,
    ResponseHalfLife,
    Routing,
    Target,
    Variant,
)
from salesplan.scenarios.model import Account, Rep, Stage

__all__ = ["AppliedVariant", "LeverError", "apply_levers", "apply_variant"]


class LeverError(SalesplanError):
    """A lever cannot be applied to this scenario (named by variant and field)."""


@dataclass(frozen=True)
class AppliedVariant:
    """A variant ready to run: its scenario, what was clipped or rounded, and run options."""

    name: str
    scenario: Scenario
    notes: list[str] = field(default_factory=list)
    quota_method: QuotaMethod | None = None
    realign: Realign | None = None


def _add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    return dt.date(d.year + y, m + 1, 1)


def _scale_stage(stage: Stage, conv: float | None, dur: float | None, notes: list[str],
                 where: str) -> Stage:
    def conv_of(p: float, label: str) -> float:
        q = p * conv  # type: ignore[operator]
        if q > 1.0:
            notes.append(f"{where}: {label} conversion {p:g} x {conv:g} = {q:g} clipped to 1")
            return 1.0
        return q

    update: dict = {}
    if conv is not None:
        update["conversion"] = conv_of(stage.conversion, f"stage {stage.name!r}")
    if dur is not None:
        update["duration"] = stage.duration.scaled(dur)
        if stage.duration_by_quarter_month is not None:
            update["duration_by_quarter_month"] = [d.scaled(dur)
                                                   for d in stage.duration_by_quarter_month]
    overrides = []
    for o in stage.overrides:
        ou: dict = {}
        if conv is not None and o.conversion is not None:
            ou["conversion"] = conv_of(o.conversion, f"stage {stage.name!r} override")
        if dur is not None and o.duration is not None:
            ou["duration"] = o.duration.scaled(dur)
        overrides.append(o.model_copy(update=ou))
    update["overrides"] = overrides
    return stage.model_copy(update=update)


def _hire(sc: Scenario, lv: Hire, where: str, notes: list[str], variant: str) -> Scenario:
    region_reps = [r for r in sc.reps if r.region == lv.region]
    if not region_reps:
        raise LeverError(f"{where}.region: region {lv.region!r} has no reps to copy settings from")
    start = _add_months(sc.horizon.start, lv.start_month - 1)
    skills = Counter(tuple(r.segments) for r in region_reps).most_common(1)[0][0]
    typical_ramp = median(r.ramp_months for r in region_reps)
    ramp = lv.ramp_months if lv.ramp_months is not None else max(typical_ramp, 3.0)
    accounts = list(sc.accounts)
    reps = list(sc.reps)
    idx = {a.id: i for i, a in enumerate(accounts)}
    for k in range(lv.count):
        taken_ids = {r.id for r in reps}
        n = k + 1
        while (rid := f"{variant}-hire-{lv.region}-{n}") in taken_ids:
            n += 1
        owned: dict[str, list[Account]] = {r.id: [] for r in reps}
        for a in accounts:
            if a.owner in owned and a.region == lv.region:
                owned[a.owner].append(a)
        pot = {rid_: sum(a.potential for a in accs) for rid_, accs in owned.items()}
        in_region = [r for r in reps if r.region == lv.region]
        peers = [r for r in in_region if tuple(r.segments) == skills] or in_region
        donor = max(peers, key=lambda r: (pot[r.id], r.id))
        donor_accs = owned[donor.id]
        total_w = sum(a.potential for a in donor_accs)
        if donor_accs and total_w > 0:
            lat = sum(a.lat * a.potential for a in donor_accs) / total_w
            lon = sum(a.lon * a.potential for a in donor_accs) / total_w
        else:
            lat, lon = donor.lat, donor.lon
        new = Rep(
            id=rid, name=f"new hire {k + 1} ({lv.region})", region=lv.region,
            role=Counter(r.role for r in region_reps).most_common(1)[0][0],
            segments=list(skills),
            capacity=lv.capacity or int(median(r.capacity for r in region_reps)),
            productivity=median(r.productivity for r in region_reps),
            start_date=start, ramp_months=ramp,
            attrition_monthly=median(r.attrition_monthly for r in region_reps),
            cost_annual=(lv.cost_annual if lv.cost_annual is not None
                         else median(r.cost_annual for r in region_reps)),
            lat=lat, lon=lon,
        )
        reps.append(new)
        share = sum(pot[r.id] for r in peers) / (len(peers) + 1)
        # hand over accounts from the heaviest peer territories, nearest to the new home first,
        # never taking a donor below the new average
        taken = 0.0
        donors = sorted(peers, key=lambda r: (-pot[r.id], r.id))
        for d in donors:
            if taken >= share:
                break
            cands = [a for a in owned[d.id] if not a.locked and new.serves(a.segment)]
            cands.sort(key=lambda a: ((a.lat - lat) ** 2 + (a.lon - lon) ** 2, a.id))
            for a in cands:
                if taken >= share:
                    break
                if pot[d.id] - a.potential < share:
                    continue
                accounts[idx[a.id]] = a.model_copy(update={"owner": new.id})
                taken += a.potential
                pot[d.id] -= a.potential
        notes.append(f"{where}: hired {new.id} in {lv.region} from {start.isoformat()} "
                     f"(ramp {ramp:g} months), handed {taken:,.0f} of potential")
    return sc.model_copy(update={"reps": reps, "accounts": accounts})


def apply_levers(sc: Scenario, levers: list[Lever], variant: str = "variant") -> AppliedVariant:
    """Apply ``levers`` in order to ``sc`` and return the variant ready to run."""
    notes: list[str] = []
    quota: QuotaMethod | None = None
    realign: Realign | None = None
    for j, lv in enumerate(levers):
        where = f"variants[{variant}].levers[{j}]"
        if isinstance(lv, Hire):
            sc = _hire(sc, lv, where, notes, variant)
        elif isinstance(lv, Attrition):
            reps = []
            for r in sc.reps:
                if lv.region is not None and r.region != lv.region:
                    reps.append(r)
                    continue
                rate = lv.monthly_rate if lv.monthly_rate is not None else (
                    r.attrition_monthly * lv.factor)  # type: ignore[operator]
                if rate >= 1.0:
                    notes.append(f"{where}: rep {r.id} attrition {rate:g} clipped to 0.99")
                    rate = 0.99
                reps.append(r.model_copy(update={"attrition_monthly": rate}))
            sc = sc.model_copy(update={"reps": reps})
        elif isinstance(lv, Conversion | CycleTime):
            if lv.stage != "all" and lv.stage not in sc.stage_names:
                raise LeverError(f"{where}.stage: {lv.stage!r} is not a defined stage "
                                 f"(defined: {', '.join(sc.stage_names)}, or 'all')")
            conv = lv.factor if isinstance(lv, Conversion) else None
            dur = lv.factor if isinstance(lv, CycleTime) else None
            stages = [_scale_stage(s, conv, dur, notes, where)
                      if lv.stage in ("all", s.name) else s for s in sc.stages]
            sc = sc.model_copy(update={"stages": stages})
        elif isinstance(lv, LeadVolume):
            sources = [s.model_copy(update={"leads_per_month": s.leads_per_month * lv.factor})
                       if (lv.source in (None, s.id) and lv.region in (None, s.region)) else s
                       for s in sc.lead_sources]
            sc = sc.model_copy(update={"lead_sources": sources})
        elif isinstance(lv, DealSize):
            products = []
            for p in sc.products:
                if lv.product not in (None, p.id):
                    products.append(p)
                    continue
                products.append(p.model_copy(update={
                    "list_price": p.list_price * lv.factor if p.list_price else p.list_price,
                    "deal_size": p.deal_size.scaled(lv.factor) if p.deal_size else None,
                    "deal_size_by_segment": {k: d.scaled(lv.factor)
                                             for k, d in p.deal_size_by_segment.items()},
                }))
            sc = sc.model_copy(update={"products": products})
        elif isinstance(lv, Target):
            if sc.targets is None:
                raise LeverError(f"{where}: the scenario has no target to change")
            company = lv.amount if lv.amount is not None else round(
                sc.targets.company * lv.factor, 2)
            sc = sc.model_copy(update={"targets": sc.targets.model_copy(
                update={"company": company})})
        elif isinstance(lv, Routing):
            sc = sc.model_copy(update={"policies": sc.policies.model_copy(
                update={"routing": lv.strategy})})
        elif isinstance(lv, ResponseHalfLife):
            sc = sc.model_copy(update={"policies": sc.policies.model_copy(
                update={"response_half_life_days": lv.days})})
        elif isinstance(lv, Capacity):
            reps = []
            for r in sc.reps:
                if lv.region is not None and r.region != lv.region:
                    reps.append(r)
                    continue
                exact = r.capacity * lv.factor
                cap = max(1, math.floor(exact + 0.5))
                if cap != exact:
                    notes.append(f"{where}: rep {r.id} capacity {exact:g} rounded to {cap}")
                reps.append(r.model_copy(update={"capacity": cap}))
            sc = sc.model_copy(update={"reps": reps})
        elif isinstance(lv, QuotaMethod):
            quota = lv
        elif isinstance(lv, Realign):
            realign = lv
        else:  # pragma: no cover - the Lever union is closed
            raise LeverError(f"{where}: unknown lever {lv!r}")
    # re-validate the whole scenario: a lever must never produce an invalid one
    sc = Scenario.model_validate(sc.model_dump())
    return AppliedVariant(variant, sc, notes, quota, realign)


def apply_variant(sc: Scenario, variant: Variant | str) -> AppliedVariant:
    """Apply a named variant of ``sc`` (or a :class:`Variant` object)."""
    if isinstance(variant, str):
        try:
            variant = sc.variant(variant)
        except KeyError as exc:
            raise LeverError(str(exc.args[0])) from None
    return apply_levers(sc, list(variant.levers), variant.name)
