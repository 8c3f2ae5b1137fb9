# ruff: noqa: N806  (single capitals follow the model notation: S stages, H horizon...)
"""One replication: a SimPy discrete-event model of leads, reps and stages.

SimPy is the clock for the events that change the system's structure:

- **arrival batches** (:meth:`PipelineModel.arrivals`): one event per day that has arrivals; it
  routes that day's leads and handles the reps' sourcing candidates
  (:mod:`salesplan.simulator.sourcing`) in time order (each keeps its own time);
- **rep lifecycle** (:mod:`salesplan.simulator.lifecycle`): one process per seat: planned hire
  on its start date, attrition departure, the empty seat for the backfill lag, then a new hire
  who ramps. Lifecycle events of a day come before that day's arrival batch
  (:mod:`salesplan.simulator.clock`);
- **month-end snapshots** of the seated headcount.

Deal progress needs no events: when a deal gets a rep slot its exit stage and service time are
known (:mod:`salesplan.simulator.stages`), and the rep's queue is the Lindley recursion of
:mod:`salesplan.simulator.reps`. Routing asks the strategy for one of the eligible reps
(:mod:`salesplan.simulator.routing`); when the lead's owner takes it at once and ramped, the
outcome was computed in advance (:mod:`salesplan.simulator.owner_outcome`).
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_right
from dataclasses import dataclass, field

import numpy as np
import simpy

from .deals import UNROUTED, DealState
from .initial_pipeline import initial_pipeline
from .leads import LeadBatch, sample_leads
from .lifecycle import seat
from .owner_outcome import owner_outcome
from .plan import Plan
from .reps import Desk
from .routing import Lead, RoutingError, RoutingState, RoutingStrategy, least_loaded
from .sourcing import acceptance, sample_sourced
from .stages import exit_stage, stage_tables
from .streams import Streams

__all__ = ["DealTable", "PipelineModel", "run_engine"]


@dataclass
class DealTable:
    """Raw per-deal state at the end of a replication (arrays of length n; initial-pipeline
    deals first, then leads in arrival order). Times in days since horizon start."""

    leads: LeadBatch
    n_initial: int
    n_leads: int             # initial deals and leads; rep-sourced deals after them
    entry: np.ndarray        # the stage each deal entered the funnel at (0 for leads)
    sourcing_blocked: np.ndarray  # per rep: sourcing candidates blocked by full capacity
    rep: np.ndarray          # final rep index, -1: unrouted (no eligible rep)
    start: np.ndarray        # first contact (slot start) on the first rep
    exit: np.ndarray         # stages passed (S: won)
    end: np.ndarray          # close date (won or lost); > horizon: still open
    flag: np.ndarray         # 0, 1 reassigned on a departure, 2 lost on a departure
    cum: np.ndarray          # [n, S+1] cumulative durations (relative to first contact)
    desk: Desk
    open_live: np.ndarray    # per rep: deals open or queued at the horizon end (live state)
    headcount: np.ndarray    # seated reps at each horizon month end
    busy: np.ndarray         # per rep: slot-days worked inside the horizon
    extra: dict = field(default_factory=dict)


def _day_bounds(arrival: np.ndarray, offset: int) -> dict[float, tuple[int, int]]:
    """Day -> (first, last + 1) index (plus ``offset``) of the sorted times on that day."""
    if not arrival.size:
        return {}
    day_of = np.floor(arrival)
    first = np.flatnonzero(np.r_[True, day_of[1:] != day_of[:-1]])
    ends = [*first[1:].tolist(), arrival.size]
    return {d: (offset + a, offset + b)
            for d, a, b in zip(day_of[first].tolist(), first.tolist(), ends, strict=True)}


def run_engine(plan: Plan, streams: Streams, strategy: RoutingStrategy) -> DealTable:
    """Simulate one replication from the warm-up start (or day 0) to the horizon end."""
    return PipelineModel(plan, streams, strategy).run()


class PipelineModel:
    """The state of one replication and the events that change it (times in days)."""

    def __init__(self, plan: Plan, streams: Streams, strategy: RoutingStrategy):
        self.plan, self.streams, self.strategy = plan, streams, strategy
        init = initial_pipeline(plan, streams)
        self.n0 = n0 = len(init)
        leads = sample_leads(plan, streams)
        leads = init.leads.concat(leads) if n0 else leads
        self.n_leads = len(leads)  # initial deals, then leads; sourcing candidates after them
        self.sourced = sample_sourced(plan, streams)
        if self.sourced is not None:
            leads = leads.concat(self.sourced.leads)
        self.leads = leads
        self._cand_t = self.sourced.leads.arrival.tolist() if self.sourced is not None else []
        self.entry = np.zeros(len(leads), dtype=np.int64)  # the stage each deal enters at
        self.entry[:n0] = init.stage
        self.tabs = tabs = stage_tables(plan, leads)
        # initial deals resume at their stage: shift their cumulative durations so cum[k0] = 0
        for i, k0 in enumerate(init.stage):
            tabs.cum[i] -= tabs.cum[i, k0]
        if self.sourced is not None:  # sourced deals likewise start at the entry stage
            k0 = plan.sourcing.entry
            self.entry[self.n_leads:] = k0
            tabs.cum[self.n_leads:] -= tabs.cum[self.n_leads:, k0][:, None]
        self.fast = owner_outcome(plan, leads, tabs, init.owner)
        self.deals = DealState(len(leads), n0, self.fast, strategy.owner_first,
                               leads.arrival.tolist(), self.n_leads, plan.n_reps)
        self.desk = Desk(plan, self.deals.end)
        self.state = RoutingState(plan.scenario.reps, self.desk.load,
                                  streams.rng("routing", "state"))
        self._groups = {(ri, gi): [r for r in range(plan.n_reps) if plan.rep_region[r] == ri
                                   and plan.rep_serves[r, gi]]
                        for ri in range(len(plan.region_ids))
                        for gi in range(len(plan.segment_ids))}
        self._cache: dict[tuple[int, int], tuple[int, ...]] = {}
        self._cache_version = -1
        # names a Lead carries; index -1 (initial pipeline, no account) is the last item, -2
        # (a rep-sourced deal, should one ever be routed) the one before it
        self._src_names = [*(s.id for s in plan.scenario.lead_sources), "rep_sourced", ""]
        self._acc_names = [*plan.account_ids, None]
        self.env = simpy.Environment(initial_time=plan.t0)
        self.headcount = np.zeros(len(plan.months))

    # ---- routing ------------------------------------------------------------------------------
    def candidates(self, ri: int, gi: int) -> tuple[int, ...]:
        """Seated reps of region ``ri`` serving segment ``gi``, in scenario order (cached until
        the roster changes)."""
        if self._cache_version != self.desk.version:
            self._cache.clear()
            self._cache_version = self.desk.version
        c = self._cache.get((ri, gi))
        if c is None:
            active = self.desk.active
            c = tuple(r for r in self._groups[(ri, gi)] if active[r])
            self._cache[(ri, gi)] = c
        return c

    def least_loaded(self, i: int, t: float) -> int:
        """The eligible rep for deal ``i`` with the fewest deals open or queued at ``t`` (ties:
        scenario order), or UNROUTED: who takes over a deal whose rep is gone."""
        cands = self.candidates(self.leads.region.item(i), self.leads.segment.item(i))
        if not cands:
            return UNROUTED
        load = self.desk.load
        return least_loaded(cands, lambda c: load(c, t))

    def route(self, i: int, t: float) -> int:
        """The rep lead ``i`` goes to at time ``t``: its eligible seated owner under an
        owner-first strategy, else the strategy's choice among the candidates (UNROUTED if none).
        """
        o = self.fast.owner[i]
        if self.strategy.owner_first and o >= 0 and self.desk.active[o]:
            return o
        plan, leads = self.plan, self.leads
        ri, gi = leads.region.item(i), leads.segment.item(i)
        cands = self.candidates(ri, gi)
        if not cands:
            return UNROUTED
        self.state.time = t
        lead = Lead(i, leads.arrival.item(i), self._src_names[leads.source.item(i)],
                    plan.region_ids[ri], plan.segment_ids[gi],
                    plan.product_ids[leads.product.item(i)],
                    plan.grade_ids[leads.grade.item(i)] if i >= self.n0 else "",
                    self._acc_names[leads.account.item(i)], o if o >= 0 else None)
        r = self.strategy.choose(lead, cands, self.state)
        if r not in cands:
            raise RoutingError(
                f"routing strategy {self.strategy!r} chose rep {r!r}, not one of the eligible "
                f"reps {[plan.rep_ids[c] for c in cands]}")
        return r

    def _overflow(self, i: int, o: int, t: float, s: float) -> int:
        """Owner ``o`` could first contact lead ``i`` (arrived at ``t``) only at ``s``, later than
        the overflow wait allows: the eligible colleague who can contact it soonest, if sooner
        (ties: scenario order), else ``o``."""
        slots = self.desk.slots
        best, best_s = o, s
        for c in self.candidates(self.leads.region.item(i), self.leads.segment.item(i)):
            cs = max(slots[c][0], t)
            if cs < best_s:
                best, best_s = c, cs
        return best

    # ---- a deal takes a slot ------------------------------------------------------------------
    def start_deal(self, i: int, r: int, t: float) -> None:
        """General path: lead i takes a slot of rep r, routed at time t (>= its arrival)."""
        desk, tabs, d = self.desk, self.tabs, self.deals
        sl = desk.slots[r]
        s = sl[0]
        if s < t:
            s = t
        x = desk.log_prod[r]
        if s < desk.ramp_end[r]:
            x += desk.log_ramp(r, s)
        if i < self.n0 or i >= self.n_leads:  # resumes at its stage, no response decay
            ex = self._resumed_exit(i, x)
            service = float(tabs.cum[i, min(ex + 1, self.plan.n_stages)])
        else:
            ex = exit_stage(tabs.a0.item(i), tabs.u0.item(i), tabs.run_max[i].tolist(), x,
                            s - d.arrival[i], self.plan.half_life)
            S = self.plan.n_stages
            service = tabs.cum.item(i, ex + 1 if ex < S else S)
        e = s + service
        heapq.heapreplace(sl, e)
        desk.deals[r].append(i)
        d.rep[i], d.start[i], d.exit[i], d.end[i] = r, s, ex, e

    def _resumed_exit(self, i: int, x: float) -> int:
        """Stages an initial-pipeline or sourced deal passes from the stage it enters at, with
        rep term x (no lead grade: no grade multiplier)."""
        plan, leads = self.plan, self.leads
        S = plan.n_stages
        ex = int(self.entry[i])
        m = leads.uniforms[i]
        while ex < S:
            z = float(plan.conv_logit[ex, leads.segment[i], leads.product[i]]) + x
            p = 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
            if m[ex] >= p:
                break
            ex += 1
        return ex

    # ---- processes ----------------------------------------------------------------------------
    def initial_pipeline(self):
        """The open deals start at once with their owner (else the least-loaded eligible rep;
        unrouted if none)."""
        now = self.env.now
        for i in range(self.n0):
            o = int(self.fast.owner_raw[i])
            if self.desk.active[o]:
                self.start_deal(i, o, now)
                continue
            r = self.least_loaded(i, now)
            if r != UNROUTED:
                self.start_deal(i, r, now)
        yield from ()

    def arrivals(self):
        """One event per day with arrivals (leads, and reps' sourcing candidates); each is
        handled at its own time, in time order, so the order of a day's leads and sourced deals
        never depends on when other processes created their events."""
        env = self.env
        leads = _day_bounds(self.leads.arrival[self.n0:self.n_leads], self.n0)
        src = self.sourced
        cands = _day_bounds(src.leads.arrival, 0) if src is not None else {}
        for day in sorted(leads.keys() | cands.keys()):
            if day > env.now:
                yield env.timeout(day - env.now)
            lb, cb = leads.get(day), cands.get(day)
            if cb is None:
                self._route_batch(*lb)
            else:
                self._merged_day(lb or (0, 0), cb)

    def _merged_day(self, lb: tuple[int, int], cb: tuple[int, int]) -> None:
        """A day with sourcing candidates: leads ``lb`` and candidates ``cb`` in time order (a
        lead first on a tie); the leads between two candidates are routed as one batch."""
        i, end = lb
        arr, cand_t = self.deals.arrival, self._cand_t
        for c in range(*cb):
            j = bisect_right(arr, cand_t[c], i, end)
            if j > i:
                self._route_batch(i, j)
                i = j
            self._source(self.n_leads + c, c)
        if i < end:
            self._route_batch(i, end)

    def _route_batch(self, lo: int, hi: int) -> None:
        """Route leads ``lo..hi-1`` (one day's batch). Hot loop: everything it reads is bound to
        a local first."""
        d, desk, fast = self.deals, self.desk, self.fast
        arr_, fast_owner_, active_, slots_, ramp_end_ = (
            d.arrival, d.fast_owner, desk.active, desk.slots, desk.ramp_end)
        w_crit_, cum1_, def_service_ = fast.wait_limit, fast.first_stage_days, fast.service
        heapreplace_, deals_of_, start_of_, exit_of_, end_of_ = (
            heapq.heapreplace, desk.deals, d.start, d.exit, d.end)
        rep_of, route, start_deal = d.rep, self.route, self.start_deal
        overflow = self.plan.overflow_wait
        for i in range(lo, hi):
            o = fast_owner_[i]
            if o >= 0 and active_[o]:
                # fast path: the owner takes it (what TerritoryOwner.choose returns);
                # rep_of[i] and exit_of[i] already hold the owner and the default exit
                t = arr_[i]
                sl = slots_[o]
                s = sl[0]
                if s < t:
                    s = t
                elif s - t > overflow and (r := self._overflow(i, o, t, s)) != o:
                    start_deal(i, r, t)
                    continue
                if s >= ramp_end_[o]:
                    if s - t < w_crit_[i]:
                        e = s + def_service_[i]
                    else:  # waited too long: lost at the first stage
                        exit_of_[i] = 0
                        e = s + cum1_[i]
                    heapreplace_(sl, e)
                    deals_of_[o].append(i)
                    start_of_[i] = s
                    end_of_[i] = e
                else:
                    start_deal(i, o, t)
            else:
                r = route(i, arr_[i])
                if r != UNROUTED:
                    start_deal(i, r, arr_[i])
                else:
                    rep_of[i], exit_of_[i] = UNROUTED, 0

    def _source(self, i: int, c: int) -> None:
        """Sourcing candidate ``c`` (deal ``i``): accepted, thinned, or blocked by capacity."""
        src, desk, plan = self.sourced, self.desk, self.plan
        r, t = int(src.rep[c]), float(src.leads.arrival[c])
        if not desk.active[r]:
            return
        ramp = math.exp(desk.log_ramp(r, t)) if t < desk.ramp_end[r] else 1.0
        if src.accept[c] >= acceptance(plan.sourcing.rate[r], ramp, float(src.market[c])):
            return
        if desk.slots[r][0] > t:
            self.deals.blocked[r] += t >= 0
            return
        self.start_deal(i, r, t)
        self.deals.sourced.append(i)

    def snapshots(self):
        """Seated headcount at each horizon month end (the last one after the run)."""
        plan, env = self.plan, self.env
        for m, e in enumerate(plan.edges[plan.warmup_months + 1:-1]):
            yield env.timeout(e - env.now)
            self.headcount[m] = sum(self.desk.active)

    # ---- the run ------------------------------------------------------------------------------
    def run(self) -> DealTable:
        """Run to the horizon end and return the deals' final state."""
        plan, env = self.plan, self.env
        for r in range(plan.n_reps):
            env.process(seat(self, r))
        env.process(self.initial_pipeline())
        env.process(self.arrivals())
        env.process(self.snapshots())
        env.run(until=plan.horizon_days)
        self.headcount[-1] = sum(self.desk.active)
        self.desk.close_books(plan.horizon_days)
        return self.deals.table(self)
