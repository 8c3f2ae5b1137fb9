"""Levers on the sales team: hires, attrition, capacity."""

from __future__ import annotations

import math
from collections import Counter
from statistics import median
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field, model_validator

from .base import LeverContext, LeverError, LeverModel, add_months

if TYPE_CHECKING:
    from ..model import Account, Rep, Scenario

__all__ = ["Attrition", "Capacity", "Hire"]


class Hire(LeverModel):
    """Hire ``count`` reps in ``region`` starting in horizon month ``start_month`` (1-based).

    New hires ramp linearly to full productivity over ``ramp_months`` (the region's typical rep
    settings are copied for capacity, productivity, attrition and cost unless given). Each hire
    takes over unlocked accounts it can serve from the region's reps with the most potential
    per head, nearest to the hire's home first, until it holds the region's average potential
    per rep. The home is the potential-weighted centre of the accounts of the region's most
    loaded rep. This is a quick, deterministic hand-over, not an optimised carve: add a
    ``realign`` lever to the same variant for that.
    """

    lever: Literal["hire"] = "hire"
    region: str
    count: int = Field(ge=1, le=1000)
    start_month: int = Field(default=1, ge=1, le=120)
    ramp_months: float | None = Field(default=None, ge=0, le=36)
    capacity: int | None = Field(default=None, ge=1)
    cost_annual: float | None = Field(default=None, ge=0)

    references: ClassVar[dict[str, str]] = {"region": "region", "start_month": "month"}

    def apply(self, sc: Scenario, ctx: LeverContext) -> Scenario:
        region_reps = [r for r in sc.reps if r.region == self.region]
        if not region_reps:
            raise LeverError(f"{ctx.where}.region: region {self.region!r} has no reps to copy "
                             "settings from")
        accounts, reps = list(sc.accounts), list(sc.reps)
        for k in range(self.count):
            new, taken = self._hire_one(sc, k, reps, accounts, region_reps, ctx.variant)
            ctx.notes.append(f"{ctx.where}: hired {new.id} in {self.region} from "
                             f"{new.start_date.isoformat()} (ramp {new.ramp_months:g} months), "
                             f"handed {taken:,.0f} of potential")
        return sc.model_copy(update={"reps": reps, "accounts": accounts})

    def _new_rep(self, sc: Scenario, k: int, rid: str, region_reps: list[Rep],
                 skills: tuple[str, ...], home: tuple[float | None, float | None]) -> Rep:
        """Hire number ``k`` with the region's typical settings (medians; the most common role
        and segment skills)."""
        from ..model import Rep

        typical_ramp = median(r.ramp_months for r in region_reps)
        return Rep(
            id=rid, name=f"new hire {k + 1} ({self.region})", region=self.region,
            role=Counter(r.role for r in region_reps).most_common(1)[0][0],
            segments=list(skills),
            capacity=self.capacity or int(median(r.capacity for r in region_reps)),
            productivity=median(r.productivity for r in region_reps),
            start_date=add_months(sc.horizon.start, self.start_month - 1),
            ramp_months=(self.ramp_months if self.ramp_months is not None
                         else max(typical_ramp, 3.0)),
            attrition_monthly=median(r.attrition_monthly for r in region_reps),
            cost_annual=(self.cost_annual if self.cost_annual is not None
                         else median(r.cost_annual for r in region_reps)),
            lat=home[0], lon=home[1],
        )

    def _hire_one(self, sc: Scenario, k: int, reps: list[Rep], accounts: list[Account],
                  region_reps: list[Rep], variant: str) -> tuple[Rep, float]:
        """Add hire ``k`` to ``reps`` and hand it accounts (in place); returns the hire and the
        potential handed over."""
        taken_ids = {r.id for r in reps}
        n = k + 1
        while (rid := f"{variant}-hire-{self.region}-{n}") in taken_ids:
            n += 1
        skills = Counter(tuple(r.segments) for r in region_reps).most_common(1)[0][0]
        owned: dict[str, list[Account]] = {r.id: [] for r in reps}
        for a in accounts:
            if a.owner in owned and a.region == self.region:
                owned[a.owner].append(a)
        pot = {rid_: sum(a.potential for a in accs) for rid_, accs in owned.items()}
        in_region = [r for r in reps if r.region == self.region]
        peers = [r for r in in_region if tuple(r.segments) == skills] or in_region
        donor = max(peers, key=lambda r: (pot[r.id], r.id))
        new = self._new_rep(sc, k, rid, region_reps, skills, _home(owned[donor.id], donor))
        reps.append(new)
        share = sum(pot[r.id] for r in peers) / (len(peers) + 1)
        return new, _hand_over(new, peers, owned, pot, share, accounts)


def _home(accounts: list[Account], donor: Rep) -> tuple[float | None, float | None]:
    """The potential-weighted centre of ``accounts`` (the donor's home without potential)."""
    total_w = sum(a.potential for a in accounts)
    if accounts and total_w > 0:
        return (sum(a.lat * a.potential for a in accounts) / total_w,
                sum(a.lon * a.potential for a in accounts) / total_w)
    return donor.lat, donor.lon


def _hand_over(new: Rep, peers: list[Rep], owned: dict[str, list[Account]],
               pot: dict[str, float], share: float, accounts: list[Account]) -> float:
    """Move accounts to ``new`` from the heaviest peer territories, nearest to its home first,
    never taking a donor below the new average ``share``; returns the potential moved."""
    idx = {a.id: i for i, a in enumerate(accounts)}
    lat, lon = new.lat, new.lon
    taken = 0.0
    for d in sorted(peers, key=lambda r: (-pot[r.id], r.id)):
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
    return taken


class Attrition(LeverModel):
    """Change the monthly attrition hazard of every rep (or a region's): a factor or a new rate."""

    lever: Literal["attrition"] = "attrition"
    factor: float | None = Field(default=None, ge=0)
    monthly_rate: float | None = Field(default=None, ge=0, lt=1)
    region: str | None = None

    references: ClassVar[dict[str, str]] = {"region": "region"}

    @model_validator(mode="after")
    def _one_of(self) -> Attrition:
        if (self.factor is None) == (self.monthly_rate is None):
            raise ValueError("give exactly one of factor or monthly_rate")
        return self

    def apply(self, sc: Scenario, ctx: LeverContext) -> Scenario:
        reps = []
        for r in sc.reps:
            if self.region is not None and r.region != self.region:
                reps.append(r)
                continue
            rate = self.monthly_rate if self.monthly_rate is not None else (
                r.attrition_monthly * self.factor)  # type: ignore[operator]
            if rate >= 1.0:
                ctx.notes.append(f"{ctx.where}: rep {r.id} attrition {rate:g} clipped to 0.99")
                rate = 0.99
            reps.append(r.model_copy(update={"attrition_monthly": rate}))
        return sc.model_copy(update={"reps": reps})


class Capacity(LeverModel):
    """Multiply every rep's capacity (maximum concurrent open deals); at least 1 is kept."""

    lever: Literal["capacity"] = "capacity"
    factor: float = Field(gt=0)
    region: str | None = None

    references: ClassVar[dict[str, str]] = {"region": "region"}

    def apply(self, sc: Scenario, ctx: LeverContext) -> Scenario:
        reps = []
        for r in sc.reps:
            if self.region is not None and r.region != self.region:
                reps.append(r)
                continue
            exact = r.capacity * self.factor
            cap = max(1, math.floor(exact + 0.5))
            if cap != exact:
                ctx.notes.append(f"{ctx.where}: rep {r.id} capacity {exact:g} rounded to {cap}")
            reps.append(r.model_copy(update={"capacity": cap}))
        return sc.model_copy(update={"reps": reps})
