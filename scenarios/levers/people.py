"""Levers on the sales team: hires, attrition, capacity."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass
from statistics import median
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field, model_validator

from .base import LeverContext, LeverError, LeverModel, add_months

if TYPE_CHECKING:
    from ..model import Account, Rep, Scenario

__all__ = ["Attrition", "Capacity", "Departure", "Hire"]


class Hire(LeverModel):
    """Hire ``count`` reps in ``region`` starting in horizon month ``start_month`` (1-based).

    A hire copies its region's typical rep (median capacity, productivity, attrition and cost,
    the most common role and segment-skill set) unless given, and ramps linearly to full
    productivity over ``ramp_months`` (default: the region's median ramp, at least 3 months).
    From its start date it adds selling capacity, and sources deals at the sourcing policy's
    rate scaled by its ramp.

    **Hand-over.** A hire takes over accounts to relieve the most loaded reps of its region
    (load: expected open deals over capacity, by Little's law, from
    :func:`salesplan.scenarios.expected.expected_by_rep`): from the most loaded rep first, its
    unlocked accounts the hire can serve, nearest to the hire's home first (the
    potential-weighted centre of the most loaded rep's accounts), as long as the donor stays at
    or above the region's mean load per rep once the hire counts, and until the hire carries
    the region's mean flow of leads and sourced deals per rep. The accounts stay with their
    owners, and their leads follow them, until the hire's start date
    (``Account.previous_owner``); the hand-over happens that day. Open deals stay with the rep
    working them. This is a quick, deterministic hand-over, not an optimised carve: add a
    ``realign`` lever to the same variant for that.
    """

    lever: Literal["hire"] = "hire"
    region: str
    count: int = Field(ge=0, le=1000)
    start_month: int = Field(default=1, ge=1, le=120)
    ramp_months: float | None = Field(default=None, ge=0, le=36)
    capacity: int | None = Field(default=None, ge=1)
    cost_annual: float | None = Field(default=None, ge=0)

    references: ClassVar[dict[str, str]] = {"region": "region", "start_month": "month"}
    mechanisms: ClassVar[tuple[str, ...]] = ("capacity", "sourcing", "ramp", "hand-over")

    def apply(self, sc: Scenario, ctx: LeverContext) -> Scenario:
        region_reps = [r for r in sc.reps if r.region == self.region]
        if not region_reps:
            raise LeverError(f"{ctx.where}.region: region {self.region!r} has no reps to copy "
                             "settings from")
        for k in range(self.count):
            sc, note = self._hire_one(sc, k, region_reps, ctx.variant)
            ctx.notes.append(f"{ctx.where}: {note}")
        return sc

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

    def _hire_one(self, sc: Scenario, k: int, region_reps: list[Rep], variant: str
                  ) -> tuple[Scenario, str]:
        """``sc`` with hire ``k`` added and its accounts handed over; the note saying so."""
        taken_ids = {r.id for r in sc.reps}
        n = k + 1
        while (rid := f"{variant}-hire-{self.region}-{n}") in taken_ids:
            n += 1
        skills = Counter(tuple(r.segments) for r in region_reps).most_common(1)[0][0]
        book = _Book.of(sc, self.region, skills)
        first = sc.rep_index[book.donors[0]] if book.donors else book.reps[0]
        home = _home(book.accounts_of(first.id), first)
        new = self._new_rep(sc, k, rid, region_reps, skills, home)
        moves = book.hand_over(new)
        accounts = [a.model_copy(update={"owner": new.id, "previous_owner": moves[a.id]})
                    if a.id in moves else a for a in sc.accounts]
        sc = sc.model_copy(update={"reps": [*sc.reps, new], "accounts": accounts})
        return sc, book.describe(new, moves)


def _home(accounts: list[Account], donor: Rep) -> tuple[float | None, float | None]:
    """The potential-weighted centre of ``accounts`` (the donor's home without potential)."""
    total_w = sum(a.potential for a in accounts)
    if accounts and total_w > 0:
        return (sum(a.lat * a.potential for a in accounts) / total_w,
                sum(a.lon * a.potential for a in accounts) / total_w)
    return donor.lat, donor.lon


@dataclass
class _Book:
    """A region's reps that a hire may relieve (its skill peers, else every rep of the region),
    their accounts and expected loads (open deals over capacity, at full productivity)."""

    scenario: Scenario
    reps: list[Rep]
    donors: list[str]                 # peers with accounts, most loaded first
    load: dict[str, float]            # expected utilisation per peer
    flow: dict[str, float]            # expected leads and sourced deals per month, per peer
    account_flow: dict[str, float]    # expected leads per month of each account

    @classmethod
    def of(cls, sc: Scenario, region: str, skills: tuple[str, ...]) -> _Book:
        from ..expected import account_leads, expected_by_rep

        in_region = [r for r in sc.reps if r.region == region]
        peers = [r for r in in_region if tuple(r.segments) == skills] or in_region
        exp = expected_by_rep(sc)
        load = {r.id: float(exp.at[r.id, "utilisation"]) for r in peers}
        flow = {r.id: float(exp.at[r.id, "leads_per_month"] + exp.at[r.id, "sourced_per_month"])
                for r in peers}
        owners = {a.owner for a in sc.accounts if a.region == region}
        donors = sorted((r.id for r in peers if r.id in owners), key=lambda i: (-load[i], i))
        return cls(sc, peers, donors, load, flow, account_leads(sc))

    def accounts_of(self, rep_id: str) -> list[Account]:
        return [a for a in self.scenario.accounts if a.owner == rep_id]

    def hand_over(self, new: Rep) -> dict[str, str]:
        """Account id -> the rep working it until the hand-over, for the accounts the hire
        takes (see :class:`Hire`)."""
        mean_load = sum(self.load.values()) / (len(self.load) + 1)
        target = sum(self.flow.values()) / (len(self.flow) + 1)
        moves: dict[str, str] = {}
        taken = 0.0
        for d in self.donors:
            per_flow = self.load[d] / self.flow[d] if self.flow[d] > 0 else 0.0
            cands = [a for a in self.accounts_of(d) if not a.locked and new.serves(a.segment)]
            cands.sort(key=lambda a: ((a.lat - new.lat) ** 2 + (a.lon - new.lon) ** 2, a.id))
            for a in cands:
                f = self.account_flow.get(a.id, 0.0)
                if taken >= target or self.load[d] - per_flow * f < mean_load:
                    continue
                moves[a.id] = a.previous_owner or d
                taken += f
                self.load[d] -= per_flow * f
        return moves

    def describe(self, new: Rep, moves: dict[str, str]) -> str:
        """The note: who was hired, from when, and what it takes over from whom."""
        by_donor = Counter(moves.values())
        handed = ", ".join(f"{n} from {d}" for d, n in sorted(by_donor.items()))
        return (f"hired {new.id} in {new.region} from {new.start_date.isoformat()} (ramp "
                f"{new.ramp_months:g} months); on that day it takes over {len(moves)} accounts "
                f"({handed or 'none'}), relieving the most loaded reps")


def _update_reps(sc: Scenario, region: str | None, change) -> Scenario:
    """``sc`` with ``change(rep)`` (the fields to update) applied to every rep of ``region``
    (every rep without one), in scenario order."""
    reps = [r if region is not None and r.region != region else r.model_copy(update=change(r))
            for r in sc.reps]
    return sc.model_copy(update={"reps": reps})


class Attrition(LeverModel):
    """Change the monthly attrition hazard of every rep (or a region's): a factor or a new rate."""

    lever: Literal["attrition"] = "attrition"
    factor: float | None = Field(default=None, ge=0)
    monthly_rate: float | None = Field(default=None, ge=0, lt=1)
    region: str | None = None
    mechanisms: ClassVar[tuple[str, ...]] = ("departures", "ramp")

    references: ClassVar[dict[str, str]] = {"region": "region"}

    @model_validator(mode="after")
    def _one_of(self) -> Attrition:
        if (self.factor is None) == (self.monthly_rate is None):
            raise ValueError("give exactly one of factor or monthly_rate")
        return self

    def apply(self, sc: Scenario, ctx: LeverContext) -> Scenario:
        def change(r: Rep) -> dict:
            rate = self.monthly_rate if self.monthly_rate is not None else (
                r.attrition_monthly * self.factor)  # type: ignore[operator]
            if rate >= 1.0:
                ctx.notes.append(f"{ctx.where}: rep {r.id} attrition {rate:g} clipped to 0.99")
                rate = 0.99
            return {"attrition_monthly": rate}

        return _update_reps(sc, self.region, change)


class Capacity(LeverModel):
    """Multiply every rep's capacity (maximum concurrent open deals); at least 1 is kept."""

    lever: Literal["capacity"] = "capacity"
    factor: float = Field(gt=0)
    region: str | None = None
    mechanisms: ClassVar[tuple[str, ...]] = ("capacity", "queueing")

    references: ClassVar[dict[str, str]] = {"region": "region"}

    def apply(self, sc: Scenario, ctx: LeverContext) -> Scenario:
        def change(r: Rep) -> dict:
            exact = r.capacity * self.factor
            cap = max(1, math.floor(exact + 0.5))
            if cap != exact:
                ctx.notes.append(f"{ctx.where}: rep {r.id} capacity {exact:g} rounded to {cap}")
            return {"capacity": cap}

        return _update_reps(sc, self.region, change)


class Departure(LeverModel):
    """Reps leave on the first day of horizon month ``month``: a named ``rep``, the ``top`` N
    reps by expected bookings (of ``region`` when given), or, with ``region`` alone, every rep
    of the region. "We lose our top rep in June" is ``{lever: departure, top: 1, month: 6}``.

    Each leaving rep gets an ``end_date``: its open deals follow the attrition policy
    (reassigned to the least-loaded eligible rep of the region, or lost), leads of its accounts
    go to the routing's fallback, and its seat is refilled after the policy's backfill lag,
    with a new hire who ramps, when ``backfill`` (default: the attrition policy's) says so.
    "Top" ranks by the static expected bookings of :mod:`salesplan.scenarios.expected` (leads of
    its accounts, conversion with its productivity, deal sizes, its sourcing), among reps seated
    before that month; the chosen reps are named in the notes.
    """

    lever: Literal["departure"] = "departure"
    month: int = Field(ge=1, le=120)
    rep: str | None = None
    top: int | None = Field(default=None, ge=1, le=1000)
    region: str | None = None
    backfill: bool | None = None

    references: ClassVar[dict[str, str]] = {"rep": "rep", "region": "region", "month": "month"}
    mechanisms: ClassVar[tuple[str, ...]] = ("departures", "capacity", "hand-over", "ramp")

    @model_validator(mode="after")
    def _who(self) -> Departure:
        if self.rep is not None and (self.top is not None or self.region is not None):
            raise ValueError("give rep, or top (optionally with region), or region alone")
        if self.rep is None and self.top is None and self.region is None:
            raise ValueError("say who leaves: rep, top (optionally with region), or region")
        return self

    def apply(self, sc: Scenario, ctx: LeverContext) -> Scenario:
        day = add_months(sc.horizon.start, self.month - 1)
        leaving = self._leaving(sc, day, ctx)
        reps = [r.model_copy(update={"end_date": day, "backfill_on_end": self.backfill})
                if r.id in leaving else r for r in sc.reps]
        refill = self.backfill if self.backfill is not None else sc.policies.attrition.backfill
        ctx.notes.append(f"{ctx.where}: {', '.join(leaving)} leave(s) on {day.isoformat()}; "
                         f"open deals {sc.policies.attrition.open_deals}; seat "
                         f"{'refilled after the backfill lag' if refill else 'left empty'}")
        return sc.model_copy(update={"reps": reps})

    def _leaving(self, sc: Scenario, day: dt.date, ctx: LeverContext) -> list[str]:
        """The ids of the reps who leave (seated before ``day``, not leaving earlier)."""
        seated = [r for r in sc.reps if (r.start_date is None or r.start_date < day)
                  and (r.end_date is None or r.end_date > day)
                  and (self.region is None or r.region == self.region)]
        if self.rep is not None:
            if self.rep not in {r.id for r in seated}:
                raise LeverError(f"{ctx.where}.rep: {self.rep!r} is not seated on "
                                 f"{day.isoformat()}, so cannot leave then")
            return [self.rep]
        if not seated:
            raise LeverError(f"{ctx.where}: no rep{' of ' + self.region if self.region else ''}"
                             f" is seated on {day.isoformat()}")
        if self.top is None:
            return [r.id for r in seated]
        from ..expected import expected_by_rep

        booked = expected_by_rep(sc)["bookings_per_year"]
        ranked = sorted(seated, key=lambda r: (-float(booked[r.id]), r.id))
        if self.top > len(ranked):
            ctx.notes.append(f"{ctx.where}: top {self.top} asked, only {len(ranked)} reps "
                             "seated: all leave")
        return [r.id for r in ranked[: self.top]]
