"""The rep lifecycle: a seat is filled on its start date, its occupant may leave (attrition,
or a planned end date), the seat stays empty for the backfill lag, then a new hire starts and
ramps.

Attrition is a monthly hazard converted to a daily rate; a departure takes effect at the start
of a day (the time to leave is rounded up to whole days), and there is no attrition during the
warm-up. A planned end date (``Rep.end_date``) is the first occupant's departure unless attrition
comes first; the seat is then refilled if ``Rep.backfill_on_end`` (default: the attrition
policy's ``backfill``) says so.

A departure at time T undoes what it must (:func:`depart`): the rep's deals still open at T are
reassigned (policy ``reassign``: to the least-loaded eligible rep of the region, keeping
their stage path and remaining time, queued FCFS behind that rep's work; lost at T if nobody is
eligible) or lost at T at the stage they are in (policy ``lose``); leads still waiting in its
queue are routed again at T, with their wait (and decay) counted from their arrival.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_right
from typing import TYPE_CHECKING

from .clock import lifecycle_timeout
from .deals import LOST_ON_DEPARTURE, REASSIGNED, UNROUTED
from .plan import DAYS_PER_MONTH

if TYPE_CHECKING:
    from .engine import PipelineModel

__all__ = ["depart", "seat"]


def seat(model: PipelineModel, r: int):
    """The SimPy process of seat ``r``: hire, departures (attrition, and the first occupant's
    planned end date) and backfills."""
    plan, env, desk = model.plan, model.env, model.desk
    start, H = plan.rep_start[r], plan.horizon_days  # noqa: N806
    if start >= H:
        return
    if start > env.now:
        yield lifecycle_timeout(env, start - env.now)
    desk.hire(r, env.now, plan.rep_ramp_days[r])
    rate = plan.rep_hazard_per_day[r]
    end = plan.rep_end[r]
    rng = model.streams.rng("attrition", plan.rep_ids[r]) if rate > 0 else None
    while True:
        leave_at = math.inf
        if rng is not None:
            begin = max(env.now, 0.0)  # no attrition during the warm-up
            leave_at = begin + math.ceil(rng.exponential(1.0 / rate))
        planned = end < leave_at
        leave_at = min(leave_at, end)
        if leave_at >= H:
            return
        yield lifecycle_timeout(env, leave_at - env.now)
        depart(model, r, env.now)
        end = math.inf  # only the first occupant has a planned end
        refill = plan.rep_backfill_on_end[r] if planned else plan.backfill
        if not refill:
            return
        if not (yield from _backfill(model, r)):
            return


def _backfill(model: PipelineModel, r: int):
    """The empty seat for the backfill lag, then a new hire who ramps; False when the lag runs
    past the horizon end."""
    plan, env = model.plan, model.env
    lag = plan.backfill_lag_days
    if lag > 0:
        if env.now + lag >= plan.horizon_days:
            return False
        yield lifecycle_timeout(env, lag)
    ramp = (plan.backfill_ramp_days if plan.backfill_ramp_days is not None
            else plan.scenario.reps[r].ramp_months * DAYS_PER_MONTH)
    model.desk.hire(r, env.now, ramp)
    return True


def depart(model: PipelineModel, r: int, t: float) -> None:
    """Rep ``r`` leaves at ``t``: its open deals are reassigned or lost, its queue re-routed."""
    desk, d = model.desk, model.deals
    desk.leave(r, t)
    mine = desk.deals[r]
    still = [i for i in mine if d.end[i] > t]
    desk.deals[r] = [i for i in mine if d.end[i] <= t]
    desk.merged[r] = len(desk.deals[r])  # ended deals: not open at any later query
    desk.slots[r], desk.ends[r] = [], []
    working = [i for i in still if d.start[i] <= t]
    queued = [i for i in still if d.start[i] > t]
    model.state.time = t
    for i in working:
        if model.plan.open_deals_policy == "reassign":
            best = model.least_loaded(i, t)
            if best != UNROUTED:
                desk.busy_before[r] += max(0.0, min(t, model.plan.horizon_days)
                                           - max(d.moved_start.get(i, d.start[i]), 0.0))
                _move_deal(model, i, best, t)
                continue
        _lose_deal(model, i, t)
    for i in queued:
        d.rep[i] = UNROUTED
        r2 = model.route(i, t)
        if r2 != UNROUTED:
            model.start_deal(i, r2, t)
        else:
            d.start[i], d.end[i] = math.nan, math.inf


def _move_deal(model: PipelineModel, i: int, r: int, t: float) -> None:
    """Reassign deal i (open at t) to rep r: same path, remaining time, FCFS at r."""
    desk, d = model.desk, model.deals
    sl = desk.slots[r]
    s = sl[0]
    if s < t:
        s = t
    e = s + (d.end[i] - t)
    heapq.heapreplace(sl, e)
    desk.deals[r].append(i)
    d.rep[i], d.end[i], d.flag[i] = r, e, REASSIGNED
    d.moved_start[i] = s


def _lose_deal(model: PipelineModel, i: int, t: float) -> None:
    """Deal i is lost at t, at the stage it is in."""
    d, S = model.deals, model.plan.n_stages  # noqa: N806
    k = bisect_right(model.tabs.cum[i], t - d.start[i]) - 1
    d.exit[i] = min(max(k, 0), S - 1)
    d.end[i] = t
    d.flag[i] = LOST_ON_DEPARTURE
