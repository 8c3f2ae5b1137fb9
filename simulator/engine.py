# ruff: noqa: N806  (single capitals follow the model notation: S stages, H horizon...)
"""One replication: a SimPy discrete-event model of leads, reps and stages.

SimPy is the clock for the events that change the system's structure:

- **arrival batches**: one event per day that has arrivals; it routes that day's leads in time
  order (each keeps its own arrival time);
- **rep lifecycle**: one process per seat: planned hire on its start date, attrition departure
  (monthly hazard, converted to a daily rate; a departure takes effect at the start of a day),
  the empty seat for the backfill lag, then a new hire who ramps. Lifecycle events of a day come
  before that day's arrival batch (they are scheduled with SimPy's URGENT priority);
- **month-end snapshots** of the seated headcount.

Deal progress needs no events: when a deal gets a rep slot its exit stage and service time are
known (:mod:`salesplan.simulator.stages`), and the rep's queue is the Lindley recursion of
:mod:`salesplan.simulator.reps`. A departure at time T undoes what it must: the rep's deals still
open at T are reassigned (policy ``reassign``: to the least-loaded eligible rep of the region,
keeping their stage path and remaining time, queued FCFS behind that rep's work; lost at T if nobody
is eligible) or lost at T at the stage they are in (policy ``lose``); leads still waiting in its
queue are routed again at T, with their wait (and decay) counted from their arrival.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_right
from dataclasses import dataclass, field

import numpy as np
import simpy

from .leads import LeadBatch, sample_leads
from .plan import DAYS_PER_MONTH, Plan
from .reps import Desk
from .routing import Lead, RoutingError, RoutingState, RoutingStrategy
from .stages import exit_stage, stage_tables
from .streams import Streams

__all__ = ["DealTable", "run_engine"]

UNROUTED = -1


@dataclass
class DealTable:
    """Raw per-deal state at the end of a replication (arrays of length n; initial-pipeline
    deals first, then leads in arrival order). Times in days since horizon start."""

    leads: LeadBatch
    n_initial: int
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


def _initial_leads(plan: Plan, streams: Streams) -> tuple[LeadBatch, list[int]]:
    """The scenario's initial pipeline as a lead batch (created at -age_days), with stages."""
    sc = plan.scenario
    deals = sc.initial_pipeline
    S = plan.n_stages
    n = len(deals)
    seg_ix = {s: i for i, s in enumerate(plan.segment_ids)}
    prod_ix = {p: i for i, p in enumerate(plan.product_ids)}
    rep_ix = {r: i for i, r in enumerate(plan.rep_ids)}
    stage_ix = {s: i for i, s in enumerate(plan.stage_names)}
    u = streams.rng("conversion", "initial_pipeline").random((n, S))
    dur_rng = streams.rng("durations", "initial_pipeline")
    val_rng = streams.rng("values", "initial_pipeline")
    durations = np.empty((n, S))
    value = np.empty(n)
    seg = np.empty(n, dtype=np.int64)
    prod = np.empty(n, dtype=np.int64)
    for i, d in enumerate(deals):
        owner = sc.reps[rep_ix[d.owner]]
        sid = d.segment or (owner.segments[0] if owner.segments else plan.segment_ids[0])
        pid = d.product or plan.product_ids[0]
        seg[i], prod[i] = seg_ix[sid], prod_ix[pid]
        entered = 0.0  # the deal resumes at its stage at the horizon start
        for k, st in enumerate(sc.stages):
            dists = st.durations_for(sid, pid)
            q = int(plan.quarter_month(np.array([entered]))[0]) if len(dists) > 1 else 0
            durations[i, k] = dists[q].sample(dur_rng, 1)[0]
            if k >= stage_ix[d.stage]:
                entered += durations[i, k]
        value[i] = (d.value if d.value is not None
                    else sc.product_index[pid].deal_size_for(sid).sample(val_rng, 1)[0])
    owners = np.array([rep_ix[d.owner] for d in deals], dtype=np.int64)
    batch = LeadBatch(
        arrival=np.array([-d.age_days for d in deals], dtype=float),
        source=np.full(n, -1, dtype=np.int64),
        region=plan.rep_region[owners] if n else np.zeros(0, dtype=np.int64),
        segment=seg, product=prod,
        grade=np.zeros(n, dtype=np.int64),
        account=np.array([plan.account_ids.index(d.account) if d.account else -1
                          for d in deals], dtype=np.int64),
        uniforms=u, durations=durations, value=value,
    )
    batch.extra_owner = owners  # type: ignore[attr-defined]
    return batch, [stage_ix[d.stage] for d in deals]


def _concat(a: LeadBatch, b: LeadBatch) -> LeadBatch:
    return LeadBatch(*[np.concatenate([getattr(a, f), getattr(b, f)])
                       for f in ("arrival", "source", "region", "segment", "product", "grade",
                                 "account", "uniforms", "durations", "value")])


def run_engine(plan: Plan, streams: Streams, strategy: RoutingStrategy) -> DealTable:
    """Simulate one replication from the warm-up start (or day 0) to the horizon end."""
    S = plan.n_stages
    H = plan.horizon_days
    t0 = plan.t0
    hl = plan.half_life
    sc = plan.scenario

    init, init_stage = _initial_leads(plan, streams)
    n0 = len(init)
    leads = _concat(init, sample_leads(plan, streams)) if n0 else sample_leads(plan, streams)
    N = len(leads)
    tabs = stage_tables(plan, leads)
    # initial deals resume at their stage: shift their cumulative durations so cum[k0] = 0
    for i, k0 in enumerate(init_stage):
        tabs.cum[i] -= tabs.cum[i, k0]

    arr = leads.arrival.tolist()
    owner_np = np.where(leads.account >= 0, plan.account_owner[np.maximum(leads.account, 0)]
                        if plan.account_owner.size else -1, -1)
    if n0:
        owner_np[:n0] = init.extra_owner  # type: ignore[attr-defined]
    # an owner is statically eligible if in the lead's region and serving its segment
    ok = owner_np >= 0
    safe = np.maximum(owner_np, 0)
    ok &= plan.rep_region[safe] == leads.region
    ok &= plan.rep_serves[safe, leads.segment]
    owner_l = np.where(ok, owner_np, -1).tolist()
    a0, u0, run_max, cum = tabs.a0, tabs.u0, tabs.run_max, tabs.cum

    # default outcome with the owner, ramped and without waiting (vectorised)
    lp = np.asarray([*plan.rep_log_productivity, 0.0])[np.where(ok, owner_np, -1)]
    with np.errstate(over="ignore", invalid="ignore"):
        p0_np = 1.0 / (1.0 + np.exp(-(tabs.a0 + lp)))
        passed0 = tabs.u0 < p0_np
        by_stage = tabs.run_max.T  # [S - 1, n]: contiguous rows
        later = (by_stage < lp).sum(axis=0)  # running max: a prefix passes
    def_exit = np.where(passed0, 1 + later, 0)
    def_service = tabs.cum[np.arange(N), np.minimum(def_exit + 1, S)].tolist()
    fast_owner = owner_l if strategy.owner_first else [UNROUTED] * N

    # Per-deal state. rep_of and exit_of start as the fast path leaves them (the owner, the
    # default exit), so that path writes only what it must; every other path writes all four.
    rep_of = [UNROUTED] * n0 + fast_owner[n0:]
    start_of = [math.nan] * N
    exit_of = [0] * n0 + def_exit[n0:].tolist()
    end_of = [math.inf] * N
    flag_of: dict[int, int] = {}  # 1: reassigned on a departure, 2: lost on a departure

    desk = Desk(plan, end_of)
    active = desk.active
    slots, deals_of = desk.slots, desk.deals
    ramp_end, log_prod = desk.ramp_end, desk.log_prod
    moved_start: dict[int, float] = {}  # start on the current rep of reassigned deals
    busy_before = [0.0] * plan.n_reps   # slot-days of reassigned deals before they moved
    reps = sc.reps
    n_reps = plan.n_reps
    groups = {(ri, gi): [r for r in range(n_reps) if plan.rep_region[r] == ri
                         and plan.rep_serves[r, gi]]
              for ri in range(len(plan.region_ids)) for gi in range(len(plan.segment_ids))}
    cache: dict[tuple[int, int], tuple[int, ...]] = {}
    cache_version = [-1]
    state = RoutingState(reps, desk.load, streams.rng("routing", "state"))
    owner_first = strategy.owner_first
    heapreplace = heapq.heapreplace
    # names a Lead carries; index -1 (initial pipeline source, no account) maps to the last item
    src_names = [*(s.id for s in sc.lead_sources), ""]
    acc_names = [*plan.account_ids, None]
    region_of, segment_of = leads.region, leads.segment

    def candidates(ri: int, gi: int) -> tuple[int, ...]:
        if cache_version[0] != desk.version:
            cache.clear()
            cache_version[0] = desk.version
        c = cache.get((ri, gi))
        if c is None:
            c = tuple(r for r in groups[(ri, gi)] if active[r])
            cache[(ri, gi)] = c
        return c

    def route(i: int, t: float) -> int:
        o = owner_l[i]
        if owner_first and o >= 0 and active[o]:
            return o
        ri, gi = region_of.item(i), segment_of.item(i)
        cands = candidates(ri, gi)
        if not cands:
            return UNROUTED
        state.time = t
        lead = Lead(i, arr[i], src_names[leads.source.item(i)], plan.region_ids[ri],
                    plan.segment_ids[gi], plan.product_ids[leads.product.item(i)],
                    plan.grade_ids[leads.grade.item(i)] if i >= n0 else "",
                    acc_names[leads.account.item(i)], o if o >= 0 else None)
        r = strategy.choose(lead, cands, state)
        if r not in cands:
            raise RoutingError(
                f"routing strategy {strategy!r} chose rep {r!r}, not one of the eligible reps "
                f"{[plan.rep_ids[c] for c in cands]}")
        return r

    def start_deal(i: int, r: int, t: float) -> None:
        """General path: lead i takes a slot of rep r, routed at time t (>= its arrival)."""
        sl = slots[r]
        s = sl[0]
        if s < t:
            s = t
        x = log_prod[r]
        if s < ramp_end[r]:
            x += desk.log_ramp(r, s)
        if i < n0:  # initial pipeline: resumes at its stage, no response decay
            k0 = init_stage[i]
            ex = k0
            m = leads.uniforms[i]
            while ex < S:
                z = plan_a(i, ex) + x
                p = 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
                if m[ex] >= p:
                    break
                ex += 1
            service = float(cum[i, min(ex + 1, S)])
        else:
            ex = exit_stage(a0.item(i), u0.item(i), run_max[i].tolist(), x, s - arr[i], hl)
            service = cum.item(i, ex + 1 if ex < S else S)
        e = s + service
        heapreplace(sl, e)
        deals_of[r].append(i)
        rep_of[i], start_of[i], exit_of[i], end_of[i] = r, s, ex, e

    conv_logit = plan.conv_logit

    def plan_a(i: int, k: int) -> float:
        """Stage k log-odds of initial-pipeline deal i (no grade: its grade is unknown)."""
        return float(conv_logit[k, segment_of[i], leads.product[i]])

    def move_deal(i: int, r: int, t: float) -> None:
        """Reassign deal i (open at t) to rep r: same path, remaining time, FCFS at r."""
        sl = slots[r]
        s = sl[0]
        if s < t:
            s = t
        e = s + (end_of[i] - t)
        heapreplace(sl, e)
        deals_of[r].append(i)
        rep_of[i], end_of[i], flag_of[i] = r, e, 1
        moved_start[i] = s

    def lose_deal(i: int, t: float) -> None:
        k = bisect_right(cum[i], t - start_of[i]) - 1
        exit_of[i] = min(max(k, 0), S - 1)
        end_of[i] = t
        flag_of[i] = 2

    def depart(r: int, t: float) -> None:
        desk.leave(r, t)
        mine = deals_of[r]
        still = [i for i in mine if end_of[i] > t]
        deals_of[r] = [i for i in mine if end_of[i] <= t]
        desk.merged[r] = len(deals_of[r])  # ended deals: not open at any later query
        slots[r], desk.ends[r] = [], []
        working = [i for i in still if start_of[i] <= t]
        queued = [i for i in still if start_of[i] > t]
        state.time = t
        for i in working:
            if plan.open_deals_policy == "reassign":
                cands = candidates(region_of.item(i), segment_of.item(i))
                if cands:
                    busy_before[r] += max(0.0, min(t, H) - max(moved_start.get(i, start_of[i]),
                                                               0.0))
                    best = min(cands, key=lambda c: (desk.load(c, t), c))
                    move_deal(i, best, t)
                    continue
            lose_deal(i, t)
        for i in queued:
            rep_of[i] = UNROUTED
            r2 = route(i, t)
            if r2 != UNROUTED:
                start_deal(i, r2, t)
            else:
                start_of[i], end_of[i] = math.nan, math.inf

    env = simpy.Environment(initial_time=t0)
    att_lag = plan.backfill_lag_days

    def at(delay: float) -> simpy.Event:
        """A lifecycle timeout: URGENT, so it precedes the same day's arrival batch."""
        ev = simpy.Event(env)
        ev._ok, ev._value = True, None  # a triggered event, as simpy.Timeout makes it
        env.schedule(ev, simpy.events.URGENT, delay)
        return ev

    def seat(r: int):
        start = plan.rep_start[r]
        if start >= H:
            return
        if start > env.now:
            yield at(start - env.now)
        desk.hire(r, env.now, plan.rep_ramp_days[r])
        rate = plan.rep_hazard_per_day[r]
        if rate <= 0:
            return
        rng = streams.rng("attrition", plan.rep_ids[r])
        while True:
            begin = max(env.now, 0.0)  # no attrition during the warm-up
            leave_at = begin + math.ceil(rng.exponential(1.0 / rate))
            if leave_at >= H:
                return
            yield at(leave_at - env.now)
            depart(r, env.now)
            if not plan.backfill:
                return
            if att_lag > 0:
                if env.now + att_lag >= H:
                    return
                yield at(att_lag)
            ramp = (plan.backfill_ramp_days if plan.backfill_ramp_days is not None
                    else reps[r].ramp_months * DAYS_PER_MONTH)
            desk.hire(r, env.now, ramp)

    def initial_pipeline():
        for i in range(n0):
            o = int(owner_np[i])
            if active[o]:
                start_deal(i, o, env.now)
                continue
            cands = candidates(region_of.item(i), segment_of.item(i))
            if cands:
                start_deal(i, min(cands, key=lambda c: (desk.load(c, env.now), c)), env.now)
        yield from ()

    # leads are sorted by arrival: a day's batch starts where the day changes
    day_of = np.floor(leads.arrival[n0:])
    first = np.flatnonzero(np.r_[True, day_of[1:] != day_of[:-1]]) if n0 < N else []
    days = day_of[first].tolist()
    bounds = [*(np.asarray(first, dtype=np.int64) + n0).tolist(), N]
    dk = math.log(2.0) / hl if hl is not None else 0.0
    # decay makes the owner's first stage fail iff the wait reaches w_crit (days); inf when
    # the first stage fails anyway (default exit 0) or nothing decays
    with np.errstate(divide="ignore", invalid="ignore"):
        w_crit = np.log(p0_np / tabs.u0) / dk if dk else np.full(N, np.inf)
    w_crit[def_exit == 0] = np.inf
    w_crit_l = w_crit.tolist()
    cum1 = tabs.cum[:, 1].tolist()

    def arrivals():
        # hot loop: bind everything it reads to fast locals
        arr_, fast_owner_, active_, slots_, ramp_end_ = arr, fast_owner, active, slots, ramp_end
        w_crit_, cum1_, def_service_ = w_crit_l, cum1, def_service
        heapreplace_, deals_of_, start_of_, exit_of_, end_of_ = (
            heapreplace, deals_of, start_of, exit_of, end_of)
        for b, day in enumerate(days):
            if day > env.now:
                yield env.timeout(day - env.now)
            for i in range(bounds[b], bounds[b + 1]):
                o = fast_owner_[i]
                if o >= 0 and active_[o]:
                    # fast path: the owner takes it (what TerritoryOwner.choose returns);
                    # rep_of[i] and exit_of[i] already hold the owner and the default exit
                    t = arr_[i]
                    sl = slots_[o]
                    s = sl[0]
                    if s < t:
                        s = t
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

    headcount = np.zeros(len(plan.months))

    def snapshots():
        for m, e in enumerate(plan.edges[plan.warmup_months + 1:-1]):
            yield env.timeout(e - env.now)
            headcount[m] = sum(active)

    for r in range(n_reps):
        env.process(seat(r))
    env.process(initial_pipeline())
    env.process(arrivals())
    env.process(snapshots())
    env.run(until=H)
    headcount[-1] = sum(active)
    desk.close_books(H)

    # fromiter: faster than np.array for long lists of Python scalars, same values
    rep_np = np.fromiter(rep_of, np.int64, N)
    end_np = np.fromiter(end_of, float, N)
    open_live = np.zeros(n_reps, dtype=np.int64)
    for r in range(n_reps):
        if active[r]:
            open_live[r] = desk.open_at(r, H, end_np)
    start_np = np.fromiter(start_of, float, N)
    flag_np = np.zeros(N, dtype=np.int8)
    flag_np[list(flag_of)] = list(flag_of.values())
    fstart = start_np
    if moved_start:
        fstart = start_np.copy()
        fstart[list(moved_start)] = list(moved_start.values())
    routed = rep_np >= 0
    worked = np.clip(np.minimum(end_np, H) - np.maximum(fstart, 0.0), 0.0, None)[routed]
    busy = np.bincount(rep_np[routed], weights=worked, minlength=n_reps) + busy_before
    return DealTable(busy=busy,
        leads=leads, n_initial=n0,
        rep=rep_np, start=start_np,
        exit=np.fromiter(exit_of, np.int64, N), end=end_np,
        flag=flag_np, cum=tabs.cum, desk=desk,
        open_live=open_live, headcount=headcount,
    )
