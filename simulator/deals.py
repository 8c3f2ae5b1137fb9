"""Every deal's state during one replication, and the table it leaves at the end.

A deal is a lead that got (or waits for) a rep slot. The engine writes four facts per deal as it
routes, starts, moves and closes deals (Python lists: the hot path reads and writes single
elements): the rep working it, its first contact, the stages it passes and its close date.
Times in days since the horizon start; a close date after the horizon end means still open.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .owner_outcome import OwnerOutcome

if TYPE_CHECKING:
    from .engine import DealTable, PipelineModel

__all__ = ["LOST_ON_DEPARTURE", "REASSIGNED", "UNROUTED", "DealState"]

UNROUTED = -1
"""Rep index of a lead no eligible rep could take."""
REASSIGNED, LOST_ON_DEPARTURE = 1, 2
"""Flags of deals whose rep left while they were open."""


class DealState:
    """Per-deal lists (index = lead index). ``rep`` and ``exit`` start as the owner's fast path
    leaves them (the owner, the default exit) so that path writes only what it must; every other
    path writes all four."""

    def __init__(self, n: int, n_initial: int, fast: OwnerOutcome, owner_first: bool,
                 arrival: list[float], n_leads: int, n_reps: int):
        fast_owner = fast.owner if owner_first else [UNROUTED] * n
        fast_owner = fast_owner[:n_leads] + [UNROUTED] * (n - n_leads)
        self.fast_owner = fast_owner          # the owner the fast path may use, else -1
        self.arrival = arrival                # days since the horizon start
        self.rep = [UNROUTED] * n_initial + fast_owner[n_initial:]
        self.start = [math.nan] * n           # first contact on the current rep
        self.exit = [0] * n_initial + fast.exit[n_initial:].tolist()
        self.end = [math.inf] * n             # close date
        self.flag: dict[int, int] = {}        # REASSIGNED or LOST_ON_DEPARTURE
        self.moved_start: dict[int, float] = {}  # start on the current rep of reassigned deals
        self.n_leads = n_leads                # deals after it are sourcing candidates
        self.sourced: list[int] = []          # the candidates that became deals, in time order
        self.blocked = [0] * n_reps           # per rep: candidates blocked by full capacity

    def table(self, model: PipelineModel) -> DealTable:
        """The final state as arrays, with each rep's open deals at the horizon end and its
        slot-days worked inside the horizon."""
        from .engine import DealTable

        plan, desk = model.plan, model.desk
        keep = self._kept()
        N, H = keep.size, plan.horizon_days  # noqa: N806
        end_all = np.asarray(self.end, dtype=float)  # by deal index, as the desk keeps them
        rep_np = np.asarray(self.rep, dtype=np.int64)[keep]
        end_np, start_np = end_all[keep], np.asarray(self.start, dtype=float)[keep]
        open_live = np.zeros(plan.n_reps, dtype=np.int64)
        for r in range(plan.n_reps):
            if desk.active[r]:
                open_live[r] = desk.open_at(r, H, end_all)
        pos = np.full(len(self.rep), -1, dtype=np.int64)
        pos[keep] = np.arange(N)  # deal index -> row of the table
        flag_np = np.zeros(N, dtype=np.int8)
        flag_np[pos[list(self.flag)]] = list(self.flag.values())
        fstart = start_np
        if self.moved_start:
            fstart = start_np.copy()
            fstart[pos[list(self.moved_start)]] = list(self.moved_start.values())
        routed = rep_np >= 0
        worked = np.clip(np.minimum(end_np, H) - np.maximum(fstart, 0.0), 0.0, None)[routed]
        busy = (np.bincount(rep_np[routed], weights=worked, minlength=plan.n_reps)
                + desk.busy_before)
        leads = model.leads if len(self.rep) == N else model.leads.take(keep)
        return DealTable(busy=busy, leads=leads, n_initial=model.n0, n_leads=self.n_leads,
                         entry=model.entry[keep], sourcing_blocked=np.array(self.blocked),
                         rep=rep_np, start=start_np,
                         exit=np.asarray(self.exit, dtype=np.int64)[keep],
                         end=end_np, flag=flag_np, cum=model.tabs.cum[keep], desk=desk,
                         open_live=open_live, headcount=model.headcount)

    def _kept(self) -> np.ndarray:
        """The deals of the table: every initial deal and lead, and the sourcing candidates that
        became deals (in time order)."""
        return np.concatenate([np.arange(self.n_leads, dtype=np.int64),
                               np.asarray(self.sourced, dtype=np.int64)])
