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
    def __init__(self, index: int):
        self.index = index
        self.res: simpy.Resource | None = None
        self.ramp_from = 0.0
        self.ramp_end = -math.inf
        self.procs: dict[int, simpy.Process] = {}
        self.working: set[int] = set()

    def load(self) -> int:
        return len(self.res.users) + len(self.res.queue) if self.res is not None else 0


def run_baseline(sc: Scenario, seed: int, replication: int) -> dict[str, float]:
    """One replication; returns won deals and bookings in the horizon, and leads created."""
    if sc.initial_pipeline:
        raise NotImplementedError("the baseline does not model an initial pipeline table")
    if sc.policies.routing != "territory_owner":
        raise NotImplementedError("the baseline routes by territory owner only")
    plan = compile_plan(sc)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(replication,)))
    H, t0, S = plan.horizon_days, plan.t0, plan.n_stages
    hl = plan.half_life
    env = simpy.Environment(initial_time=t0)
    seats = [_Seat(r) for r in range(plan.n_reps)]
    out = {"won": 0, "bookings": 0.0, "leads": 0}
    reps = sc.reps
    seg_ix = {s: i for i, s in enumerate(plan.segment_ids)}
    reg_ix = {r: i for i, r in enumerate(plan.region_ids)}
    grade_cum = list(accumulate(plan.grade_share.tolist()))

    def eligible(ri: int, gi: int) -> list[_Seat]:
        return [s for s in seats if s.res is not None and plan.rep_region[s.index] == ri
                and plan.rep_serves[s.index, gi]]

    def least_loaded(ri: int, gi: int) -> _Seat | None:
        cands = eligible(ri, gi)
        return min(cands, key=lambda s: (s.load(), s.index)) if cands else None

    def lead(lid: int, t_arr: float, ri: int, gi: int, pi: int, grade: int, owner: int):
        seat = seats[owner] if owner >= 0 and seats[owner].res is not None else \
            least_loaded(ri, gi)
        x = None
        wait = 0.0
        stage = 0
        remaining: float | None = None
        while True:
            if seat is None:
                return  # no eligible rep (unrouted), or reassignment impossible (lost)
            seat.procs[lid] = env.active_process
            req = seat.res.request()
            try:
                yield req
            except simpy.Interrupt:
                req.cancel()
                seat.procs.pop(lid, None)
                seat = least_loaded(ri, gi)  # re-route a queued lead
                continue
            seat.working.add(lid)
            if x is None:
                now = env.now
                x = plan.rep_log_productivity[seat.index]
                if now < seat.ramp_end:
                    frac = (now - seat.ramp_from) / (seat.ramp_end - seat.ramp_from)
                    x += math.log(RAMP_START + (1 - RAMP_START) * frac)
                wait = now - t_arr
            try:
                while stage < S:
                    dists = plan.duration[stage][gi][pi]
                    if len(dists) != 1:
                        raise NotImplementedError(
                            "the baseline has no durations by month of quarter")
                    dur = remaining if remaining is not None else _draw(dists[0], rng)
                    remaining = None
                    stage_end = env.now + dur
                    yield env.timeout(dur)
                    z = plan.conv_logit[stage, gi, pi] + plan.grade_log_mult[grade] + x
                    p = 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))
                    if stage == 0 and hl is not None:
                        p *= 2.0 ** (-wait / hl)
                    if rng.random() >= p:
                        break  # lost
                    stage += 1
                if stage == S and 0 <= env.now < H:
                    out["won"] += 1
                    out["bookings"] += _draw(plan.deal_size[pi][gi], rng)
                seat.res.release(req)
                seat.working.discard(lid)
                seat.procs.pop(lid, None)
                return
            except simpy.Interrupt:
                seat.working.discard(lid)
                seat.procs.pop(lid, None)
                if plan.open_deals_policy == "lose":
                    return
                remaining = stage_end - env.now
                seat = least_loaded(ri, gi)

    def source(j: int):
        src = sc.lead_sources[j]
        base = source_rate_per_day(src, sc.horizon, before=plan.warmup_months)
        g = math.log1p(src.annual_growth) / DAYS_PER_YEAR
        lam_max = float(base.max()) * max(math.exp(g * t0), math.exp(g * H))
        if lam_max <= 0:
            return
        ri, gi = reg_ix[src.region], seg_ix[src.segment]
        if src.product_mix:
            pcum = list(accumulate(src.product_mix.get(p, 0.0) for p in plan.product_ids))
        else:
            pcum = list(accumulate([1.0] * len(plan.product_ids)))
        cell = plan.accounts_by_cell.get((ri, gi))
        acum = list(accumulate(cell[1].tolist())) if cell else None
        t = t0
        while True:
            t += rng.exponential(1.0 / lam_max)
            if t >= H:
                return
            m = int(np.searchsorted(plan.edges, t, side="right")) - 1
            if rng.random() * lam_max >= base[m] * math.exp(g * t):
                continue
            yield env.timeout(t - env.now)
            grade = _pick(grade_cum, rng)
            pi = _pick(pcum, rng)
            owner = -1
            if cell is not None:
                acc = int(cell[0][_pick(acum, rng)])
                o = int(plan.account_owner[acc])
                if o >= 0 and plan.rep_region[o] == ri and plan.rep_serves[o, gi]:
                    owner = o
            if t >= 0:
                out["leads"] += 1
            env.process(lead(lead_ids.pop(), t, ri, gi, pi, grade, owner))

    lead_ids = list(range(10_000_000, 0, -1))

    def hire(seat: _Seat, ramp_days: float) -> None:
        seat.res = simpy.Resource(env, capacity=plan.rep_capacity[seat.index])
        seat.ramp_from = env.now
        seat.ramp_end = env.now + ramp_days if ramp_days > 0 else -math.inf

    def depart(seat: _Seat) -> None:
        procs = seat.procs
        working = sorted(i for i in procs if i in seat.working)
        queued = sorted(i for i in procs if i not in seat.working)
        seat.res = None
        for i in working + queued:
            procs[i].interrupt("departed")
        seat.procs = {}
        seat.working = set()

    def seat_proc(seat: _Seat):
        r = seat.index
        start = plan.rep_start[r]
        if start >= H:
            return
        if start > env.now:
            yield env.timeout(start - env.now)
        hire(seat, plan.rep_ramp_days[r])
        rate = plan.rep_hazard_per_day[r]
        if rate <= 0:
            return
        while True:
            leave = max(env.now, 0.0) + math.ceil(rng.exponential(1.0 / rate))
            if leave >= H:
                return
            yield env.timeout(leave - env.now)
            depart(seat)
            if not plan.backfill:
                return
            if plan.backfill_lag_days > 0:
                yield env.timeout(plan.backfill_lag_days)
            ramp = (plan.backfill_ramp_days if plan.backfill_ramp_days is not None
                    else reps[r].ramp_months * DAYS_PER_MONTH)
            hire(seat, ramp)

    for s in seats:
        env.process(seat_proc(s))
    for j in range(len(sc.lead_sources)):
        env.process(source(j))
    env.run(until=H)
    return out
