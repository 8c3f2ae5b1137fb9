"""The reps' desk: each rep (a seat) is a c-server first-come-first-served queue.

A rep works at most ``capacity`` deals at once; further leads wait for first contact in the rep's
queue. The queue is run by the Lindley recursion for multi-server FCFS queues: per rep a heap of
``capacity`` "slot free at" times; a lead routed at time t starts at
``max(t, earliest free slot)`` and holds that slot until its deal closes (won or lost), which is
known when it starts (see :mod:`salesplan.simulator.stages`). So no completion events are needed,
and the rep's load at time t (deals open or queued) is the number of its deals ending after t, kept
in a second heap. That heap is filled lazily, when the rep's load is asked for (least-loaded
routing, reassignment): a deal that has ended by then never enters it, which saves a push and a pop
for most deals (territory-owner routing asks only when the owner cannot take the lead).

A seat's occupant has a productivity (an odds multiplier at every stage) and ramps linearly from
:data:`~salesplan.simulator.plan.RAMP_START` of it to full over the ramp (days after the hire date).
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from .plan import RAMP_START, Plan

__all__ = ["Desk"]


class Desk:
    """Mutable state of all reps in one replication (times in days)."""

    def __init__(self, plan: Plan, end_of: list[float]):
        n = plan.n_reps
        self.plan = plan
        self.active = [False] * n
        self.slots: list[list[float]] = [[] for _ in range(n)]
        # ends[r]: heap of the end times of rep r's deals merged so far (deals[r][:merged[r]])
        # that were open at the last load query; end_of: every deal's end time (the engine's)
        self.ends: list[list[float]] = [[] for _ in range(n)]
        self.deals: list[list[int]] = [[] for _ in range(n)]
        self.merged = [0] * n
        self.end_of = end_of
        self.ramp_from = [0.0] * n
        self.ramp_end = [-math.inf] * n
        self.log_prod = list(plan.rep_log_productivity)
        self.active_days = [0.0] * n   # days seated inside the horizon
        self.seated_since = [math.nan] * n
        self.departures = [0] * n
        self.hires = [0] * n
        self.busy_before = [0.0] * n   # slot-days of reassigned deals before they moved
        self.version = 0               # bumped on every roster change (candidate cache key)

    def hire(self, r: int, t: float, ramp_days: float) -> None:
        self.active[r] = True
        self.slots[r] = [t] * self.plan.rep_capacity[r]
        self.ends[r] = []
        self.deals[r] = []
        self.merged[r] = 0
        self.ramp_from[r] = t
        self.ramp_end[r] = t + ramp_days if ramp_days > 0 else -math.inf
        self.seated_since[r] = t
        self.hires[r] += 1
        self.version += 1

    def leave(self, r: int, t: float) -> None:
        self.active[r] = False
        self.active_days[r] += _overlap(self.seated_since[r], t, self.plan.horizon_days)
        self.seated_since[r] = math.nan
        self.departures[r] += 1
        self.version += 1

    def close_books(self, horizon: float) -> None:
        """Count seated time up to the horizon end for reps still seated."""
        for r in range(self.plan.n_reps):
            if self.active[r]:
                self.active_days[r] += _overlap(self.seated_since[r], horizon, horizon)

    def log_ramp(self, r: int, t: float) -> float:
        """log of the ramp factor of rep ``r`` at time ``t`` (0 when ramped)."""
        if t >= self.ramp_end[r]:
            return 0.0
        frac = (t - self.ramp_from[r]) / (self.ramp_end[r] - self.ramp_from[r])
        return math.log(RAMP_START + (1.0 - RAMP_START) * max(frac, 0.0))

    def load(self, r: int, t: float) -> int:
        """Deals of rep ``r`` open or queued at time ``t`` (queries come in time order)."""
        h = self.ends[r]
        mine = self.deals[r]
        if self.merged[r] < len(mine):
            end_of = self.end_of
            for i in mine[self.merged[r]:]:
                e = end_of[i]
                if e > t:
                    heapq.heappush(h, e)
            self.merged[r] = len(mine)
        while h and h[0] <= t:
            heapq.heappop(h)
        return len(h)

    def open_at(self, r: int, t: float, end: np.ndarray) -> int:
        """Deals of rep ``r`` ending at or after ``t`` (the live state at the horizon end), without
        touching the heap; ``end`` is ``end_of`` as an array (the unmerged deals can be many)."""
        unmerged = end[self.deals[r][self.merged[r]:]]
        return sum(1 for e in self.ends[r] if e >= t) + int(np.count_nonzero(unmerged >= t))


def _overlap(a: float, b: float, horizon: float) -> float:
    return max(0.0, min(b, horizon) - max(a, 0.0))
