"""Polish: lower the cost of a plan that already holds every hard band.

:func:`improve` applies cost-improving shifts and swaps that keep every band
(:mod:`.repair`); :func:`polish` re-solves the accounts nearest to territory boundaries as a
MILP started from the plan and keeps the result only when it is cheaper and still holds.
:func:`neighbours` picks those boundary accounts; fix-and-resolve (:mod:`.fix`) frees the same
kind of accounts around the reps it repairs.

Costs are in the model's units (weighted distance units); times are
:func:`time.perf_counter` instants in seconds.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from .checks import holds
from .formulation import ModelSpec, assignment_of, build_model
from .relay import relay_improve
from .repair import improve_shifts, improve_swaps
from .state import SolveTask, seconds_left

__all__ = ["POLISH_ABOVE_GAP", "improve", "neighbours", "polish"]

POLISH_ABOVE_GAP = 0.01
"""Polish only plans more than this relative gap above the LP bound."""
_POLISH_PER_REP = 15
"""Boundary accounts per rep re-optimised when polishing a repaired plan."""
_IMPROVE_SECONDS = 60.0
"""At most this long for the improving shifts and swaps."""

log = logging.getLogger(__name__)


def improve(task: SolveTask, assign: np.ndarray, until: float | None = None, *,
            relays: bool = True) -> tuple[np.ndarray, int]:
    """Shifts, swaps, shifts again, then (``relays``) relays (:mod:`.relay`), each
    band-preserving and cost-improving, for at most a minute within the task's deadline (and
    ``until``, a :func:`time.perf_counter` instant, when given). Returns (plan, moves made).

    Relays pay on a plan rounded from the LP (few, each scored over one rep's in and out
    shifts); on a greedy plan they are many and slow (10k x 100: 500-570 per pool, 5 s each
    pool), so the constructive plan (:mod:`.incumbent`) goes without."""
    limit = min(task.deadline, time.perf_counter() + _IMPROVE_SECONDS)
    if until is not None:
        limit = min(limit, until)
    rows = np.arange(task.n_accounts)
    start = float(task.spec.cost[rows, assign].sum())
    total = 0
    for step in (improve_shifts, improve_swaps, improve_shifts):
        assign, k = step(task.spec, task.pi, task.pj, assign, deadline=limit)
        total += k
    mid = float(task.spec.cost[rows, assign].sum())
    made = 0
    if relays:
        assign, made = relay_improve(task.spec, task.pi, task.pj, assign, deadline=limit)
    log.info("improve: %d shifts and swaps (cost %.1f -> %.1f), then %d relays (-> %.1f)",
             total, start, mid, made, float(task.spec.cost[rows, assign].sum()))
    return assign, total + made


def polish(task: SolveTask, assign: np.ndarray, notes: list[str]) -> np.ndarray:
    """Improve a band-feasible plan: re-solve the accounts nearest to territory boundaries
    as a MILP (hard bands) started from the plan; keep the result only if it is cheaper (the
    note says by how much). Needs 3 s left; uses at most 30% of the time left."""
    spec, n = task.spec, task.n_accounts
    rows = np.arange(n)
    current = float(spec.cost[rows, assign].sum())
    left = seconds_left(task.deadline)
    if left < 3.0:
        return assign
    touched = np.ones(len(spec.rep_ids), dtype=bool)
    free = neighbours(spec, task.pi, task.pj, assign, touched, _POLISH_PER_REP)
    fixed = np.where(free, -1, assign)
    sub = build_model(spec, task.pi, task.pj, fixed=fixed, name="territory_polish")
    sub.set_start(assign)
    res = task.solver.solve(sub.prob, mip=True,
                            time_limit=min(left - 1.0, max(3.0, left * 0.3)), warm_start=True)
    if not res.has_solution:
        return assign
    trial = assignment_of(sub.values(), sub.pair_i, sub.pair_j, n, base=fixed)
    cost = float(spec.cost[rows, trial].sum())
    log.info("polish: %d free accounts, %.1f s, cost %.1f -> %.1f", int(free.sum()),
             res.seconds, current, cost)
    if cost < current - 1e-9 and holds(spec, trial):
        notes.append(f"polished {int(free.sum())} boundary accounts with a MILP: "
                     f"cost {current:,.1f} -> {cost:,.1f}")
        return trial
    return assign


def neighbours(spec: ModelSpec, pi: np.ndarray, pj: np.ndarray, assign: np.ndarray,
               touched: np.ndarray, per_rep: int) -> np.ndarray:
    """Accounts of ``touched`` reps (bool mask) that are cheapest to move to another touched
    rep: ``per_rep`` of them per rep (plus every account with a candidate among touched reps
    when fewer exist). Locked accounts are never picked. Returns a bool mask over accounts."""
    n = len(spec.account_ids)
    cur = assign[pi]
    ok = touched[cur] & touched[pj] & (pj != cur)
    ii, jj = pi[ok], pj[ok]
    delta = spec.cost[ii, jj] - spec.cost[ii, assign[ii]]
    best = np.full(n, np.inf)
    np.minimum.at(best, ii, delta)
    cand = np.flatnonzero(np.isfinite(best) & ~spec.locked)
    if cand.size == 0:
        return np.zeros(n, dtype=bool)
    order = np.lexsort((best[cand], assign[cand]))
    cand = cand[order]
    reps = assign[cand]
    first = np.r_[True, reps[1:] != reps[:-1]]
    group_start = np.maximum.accumulate(np.where(first, np.arange(cand.size), 0))
    rank = np.arange(cand.size) - group_start
    out = np.zeros(n, dtype=bool)
    out[cand[rank < per_rep]] = True
    return out
