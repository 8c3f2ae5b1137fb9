# ruff: noqa: N806  (single capitals follow the model notation: S stages, H horizon)
"""The simulator's model written the obvious SimPy way: the speed baseline and a statistical
cross-check of :mod:`simulator` (same model semantics, independent code).

One process per lead source (arrivals by thinning), one process per lead (a
``simpy.Resource(capacity)`` request per rep, a timeout per stage, a conversion draw at the end
of each stage), one process per seat (hire, attrition, backfill). A departing rep interrupts its
lead processes: deals in progress are reassigned to the least-loaded eligible rep of the region
(keeping the remaining time in their stage) or lost, per policy; queued leads are routed again.
As in :mod:`simulator`, the rep term (productivity x ramp) is fixed at first contact and the
first stage's advance probability is multiplied by ``2 ** (-wait / half_life)``.

Supports what ``midmarket.yaml`` uses: ``territory_owner`` routing, warm-up, no initial
pipeline table. Randomness: one generator per replication, from ``SeedSequence(seed)``.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate

import numpy as np
import simpy

from salesplan.scenarios.calendar import DAYS_PER_YEAR, source_rate_per_day
from salesplan.scenarios.distributions import Empirical, Exponential, Fixed, Gamma, Lognormal
from salesplan.scenarios.model import Scenario
from salesplan.simulator.plan import DAYS_PER_MONTH, RAMP_START, compile_plan

__all__ = ["run_baseline"]


def _draw(dist, rng: np.random.Generator) -> float:
    """One draw, with numpy's scalar samplers (same parameterisation as the scenario)."""
    if isinstance(dist, Fixed):
        return dist.value
    if isinstance(dist, Exponential):
        return rng.exponential(dist.mean)
    if isinstance(dist, Gamma):
        k = 1.0 / dist.cv**2
        return rng.gamma(k, dist.mean / k)
    if isinstance(dist, Lognormal):
        return rng.lognormal(dist.mu, dist.sigma)
    if isinstance(dist, Empirical):
        return float(dist.sample(rng, 1)[0])
    raise TypeError(dist)


def _pick(cum: list[float], rng: np.random.Generator) -> int:
    return min(bisect_right(cum, rng.random() * cum[-1]), len(cum) - 1)


class _Seat:
    """One rep seat: its SimPy resource while a rep holds it (None when vacant), the ramp of
    the current holder (days: started at ``ramp_from``, full productivity from ``ramp_end``),
    and its lead processes by lead id (``working``: those past the queue)."""

    def __init__(self, index: int):
        self.index = index
        self.res: simpy.Resource | None = None
        self.ramp_from = 0.0
        self.ramp_end = -math.inf
        self.procs: dict[int, simpy.Process] = {}
        self.working: set[int] = set()

    def load(self) -> int:
        return len(self.res.users) + len(self.res.queue) if self.res is not None else 0


@dataclass
class _Lead:
    """One lead on its way through the funnel. ``region``, ``segment``, ``product`` and
    ``grade`` are indices of the compiled plan; times are simulation days. ``x`` is the rep
    term (log productivity plus ramp), fixed at first contact (None before); ``wait`` the days
    from arrival to first contact; ``stage`` the current stage; ``stage_end`` when it ends;
    ``remaining`` the days left in it after a reassignment (None: draw a fresh duration)."""

    lid: int
    t_arr: float
    region: int
    segment: int
    product: int
    grade: int
    x: float | None = None
    wait: float = 0.0
    stage: int = 0
    stage_end: float = 0.0
    remaining: float | None = None


@dataclass(frozen=True)
class _Source:
    """One lead source's arrival process: ``base`` the monthly rate (leads/day) per month
    edge of the plan, ``growth`` the continuous growth rate (per day), ``lam_max`` the thinning
    bound (leads/day); ``region``/``segment`` indices; ``product_cum`` the cumulative product
    mix; ``cell`` the (accounts, weights) of its region and segment, ``account_cum`` their
    cumulative weights (None without accounts)."""

    base: np.ndarray
    growth: float
    lam_max: float
    region: int
    segment: int
    product_cum: list[float]
    cell: tuple | None
    account_cum: list[float] | None


class _Baseline:
    """One replication of the model, SimPy processes as methods sharing this state."""

    def __init__(self, sc: Scenario, seed: int, replication: int):
        self.sc = sc
        self.plan = compile_plan(sc)
        self.rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(replication,)))
        self.env = simpy.Environment(initial_time=self.plan.t0)
        self.seats = [_Seat(r) for r in range(self.plan.n_reps)]
        self.out = {"won": 0, "bookings": 0.0, "leads": 0}
        self.seg_ix = {s: i for i, s in enumerate(self.plan.segment_ids)}
        self.reg_ix = {r: i for i, r in enumerate(self.plan.region_ids)}
        self.grade_cum = list(accumulate(self.plan.grade_share.tolist()))
        self.lead_ids = list(range(10_000_000, 0, -1))

    def run(self) -> dict[str, float]:
        """Start every seat and source process, run to the horizon end, return the counts."""
        for s in self.seats:
            self.env.process(self.seat_proc(s))
        for j in range(len(self.sc.lead_sources)):
            self.env.process(self.source(j))
        self.env.run(until=self.plan.horizon_days)
        return self.out

    # ---- routing ----
    def eligible(self, ri: int, gi: int) -> list[_Seat]:
        plan = self.plan
        return [s for s in self.seats if s.res is not None and plan.rep_region[s.index] == ri
                and plan.rep_serves[s.index, gi]]

    def least_loaded(self, ri: int, gi: int) -> _Seat | None:
        cands = self.eligible(ri, gi)
        return min(cands, key=lambda s: (s.load(), s.index)) if cands else None

    # ---- leads ----
    def _first_contact(self, ld: _Lead, seat: _Seat) -> None:
        """Fix the rep term and the wait at first contact."""
        now = self.env.now
        x = self.plan.rep_log_productivity[seat.index]
        if now < seat.ramp_end:
            frac = (now - seat.ramp_from) / (seat.ramp_end - seat.ramp_from)
            x += math.log(RAMP_START + (1 - RAMP_START) * frac)
        ld.x = x
        ld.wait = now - ld.t_arr

    def _advance_probability(self, ld: _Lead) -> float:
        """The probability that the lead advances past its current stage."""
        plan, stage = self.plan, ld.stage
        z = plan.conv_logit[stage, ld.segment, ld.product] + plan.grade_log_mult[ld.grade] + ld.x
        p = 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))
        if stage == 0 and plan.half_life is not None:
            p *= 2.0 ** (-ld.wait / plan.half_life)
        return p

    def _work(self, ld: _Lead):
        """The stages from the current one until lost or won (a won deal closing inside the
        horizon is counted)."""
        plan, env = self.plan, self.env
        while ld.stage < plan.n_stages:
            dists = plan.duration[ld.stage][ld.segment][ld.product]
            if len(dists) != 1:
                raise NotImplementedError("the baseline has no durations by month of quarter")
            dur = ld.remaining if ld.remaining is not None else _draw(dists[0], self.rng)
            ld.remaining = None
            ld.stage_end = env.now + dur
            yield env.timeout(dur)
            if self.rng.random() >= self._advance_probability(ld):
                break  # lost
            ld.stage += 1
        if ld.stage == plan.n_stages and 0 <= env.now < plan.horizon_days:
            self.out["won"] += 1
            self.out["bookings"] += _draw(plan.deal_size[ld.product][ld.segment], self.rng)

    def lead(self, ld: _Lead, owner: int):
        """A lead's process: queue at its seat, work its stages; re-routed when its rep
        leaves while it queues, reassigned (or lost, per policy) while it is worked."""
        seats = self.seats
        seat = seats[owner] if owner >= 0 and seats[owner].res is not None else \
            self.least_loaded(ld.region, ld.segment)
        while True:
            if seat is None:
                return  # no eligible rep (unrouted), or reassignment impossible (lost)
            seat.procs[ld.lid] = self.env.active_process
            req = seat.res.request()
            try:
                yield req
            except simpy.Interrupt:
                req.cancel()
                seat.procs.pop(ld.lid, None)
                seat = self.least_loaded(ld.region, ld.segment)  # re-route a queued lead
                continue
            seat.working.add(ld.lid)
            if ld.x is None:
                self._first_contact(ld, seat)
            try:
                yield from self._work(ld)
                seat.res.release(req)
                seat.working.discard(ld.lid)
                seat.procs.pop(ld.lid, None)
                return
            except simpy.Interrupt:
                seat.working.discard(ld.lid)
                seat.procs.pop(ld.lid, None)
                if self.plan.open_deals_policy == "lose":
                    return
                ld.remaining = ld.stage_end - self.env.now
                seat = self.least_loaded(ld.region, ld.segment)

    # ---- sources ----
    def _source(self, j: int) -> _Source | None:
        """Lead source ``j`` compiled for thinning; None when it sends no leads."""
        plan, src = self.plan, self.sc.lead_sources[j]
        base = source_rate_per_day(src, self.sc.horizon, before=plan.warmup_months)
        g = math.log1p(src.annual_growth) / DAYS_PER_YEAR
        lam_max = float(base.max()) * max(math.exp(g * plan.t0),
                                          math.exp(g * plan.horizon_days))
        if lam_max <= 0:
            return None
        ri, gi = self.reg_ix[src.region], self.seg_ix[src.segment]
        if src.product_mix:
            pcum = list(accumulate(src.product_mix.get(p, 0.0) for p in plan.product_ids))
        else:
            pcum = list(accumulate([1.0] * len(plan.product_ids)))
        cell = plan.accounts_by_cell.get((ri, gi))
        acum = list(accumulate(cell[1].tolist())) if cell else None
        return _Source(base, g, lam_max, ri, gi, pcum, cell, acum)

    def _new_lead(self, src: _Source, t: float) -> tuple[_Lead, int]:
        """Draw a lead's grade, product and account (its owner, when an eligible rep of the
        source's region; else -1)."""
        plan, rng = self.plan, self.rng
        grade = _pick(self.grade_cum, rng)
        pi = _pick(src.product_cum, rng)
        owner = -1
        if src.cell is not None:
            acc = int(src.cell[0][_pick(src.account_cum, rng)])
            o = int(plan.account_owner[acc])
            if o >= 0 and plan.rep_region[o] == src.region and plan.rep_serves[o, src.segment]:
                owner = o
        ld = _Lead(self.lead_ids.pop(), t, src.region, src.segment, pi, grade)
        return ld, owner

    def source(self, j: int):
        """Arrivals of lead source ``j`` by thinning (rate bound ``lam_max``)."""
        plan, rng, env = self.plan, self.rng, self.env
        src = self._source(j)
        if src is None:
            return
        t = plan.t0
        while True:
            t += rng.exponential(1.0 / src.lam_max)
            if t >= plan.horizon_days:
                return
            m = int(np.searchsorted(plan.edges, t, side="right")) - 1
            if rng.random() * src.lam_max >= src.base[m] * math.exp(src.growth * t):
                continue
            yield env.timeout(t - env.now)
            ld, owner = self._new_lead(src, t)
            if t >= 0:
                self.out["leads"] += 1
            env.process(self.lead(ld, owner))

    # ---- seats ----
    def hire(self, seat: _Seat, ramp_days: float) -> None:
        env = self.env
        seat.res = simpy.Resource(env, capacity=self.plan.rep_capacity[seat.index])
        seat.ramp_from = env.now
        seat.ramp_end = env.now + ramp_days if ramp_days > 0 else -math.inf

    def depart(self, seat: _Seat) -> None:
        """Vacate the seat: interrupt its worked leads, then its queued ones (by lead id)."""
        procs = seat.procs
        working = sorted(i for i in procs if i in seat.working)
        queued = sorted(i for i in procs if i not in seat.working)
        seat.res = None
        for i in working + queued:
            procs[i].interrupt("departed")
        seat.procs = {}
        seat.working = set()

    def seat_proc(self, seat: _Seat):
        """A seat: hired at the rep's start; departures at the rep's hazard (whole days), then
        a backfill after the lag, ramping, when the policy backfills."""
        plan, env, r = self.plan, self.env, seat.index
        H = plan.horizon_days
        start = plan.rep_start[r]
        if start >= H:
            return
        if start > env.now:
            yield env.timeout(start - env.now)
        self.hire(seat, plan.rep_ramp_days[r])
        rate = plan.rep_hazard_per_day[r]
        if rate <= 0:
            return
        while True:
            leave = max(env.now, 0.0) + math.ceil(self.rng.exponential(1.0 / rate))
            if leave >= H:
                return
            yield env.timeout(leave - env.now)
            self.depart(seat)
            if not plan.backfill:
                return
            if plan.backfill_lag_days > 0:
                yield env.timeout(plan.backfill_lag_days)
            ramp = (plan.backfill_ramp_days if plan.backfill_ramp_days is not None
                    else self.sc.reps[r].ramp_months * DAYS_PER_MONTH)
            self.hire(seat, ramp)


def run_baseline(sc: Scenario, seed: int, replication: int) -> dict[str, float]:
    """One replication; returns won deals and bookings (currency) in the horizon, and leads
    created."""
    if sc.initial_pipeline:
        raise NotImplementedError("the baseline does not model an initial pipeline table")
    if sc.policies.routing != "territory_owner":
        raise NotImplementedError("the baseline routes by territory owner only")
    return _Baseline(sc, seed, replication).run()
