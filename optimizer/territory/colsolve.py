"""The LP path by column generation: one attempt of the candidate search (:mod:`.search`)
with the LP relaxation over *every* eligible pair (:mod:`.colgen`) instead of the LP over the
k nearest candidates widened by elastic LPs (:mod:`.elastic_pairs`).

1. A constructive plan over every eligible pair (greedy LPT, repaired into the bands and
   improved: :func:`.incumbent.constructive_plan`) is the incumbent when it holds, and its
   pairs join the start columns, with the attempt's candidates (the k nearest, the rep
   reach) and the incumbent's pairs. (On geo-33k's South pool the greedy over all 1.9 million
   eligible pairs held both ±5% bands in 0.2 s; over the 8 nearest it cannot.)
2. Column generation to the LP over every eligible pair, for at most ``LP_SHARE`` of the
   time left (its bound: the LP value when priced out, else the Lagrangian bound).
3. The same model with bands tightened by fix-and-resolve's share (``fix._FIX_TIGHTEN``),
   solved warm from the last basis, then priced again, for at most ``TIGHT_SHARE`` of the
   time left: the LP that is rounded.
4. A dive (:mod:`.dive`, unless ``dive`` is off) from that LP: its fractional accounts
   fixed a batch at a time, largest first, the LP re-solved after each, for at most
   ``DIVE_SHARE`` of the time left; fix-and-resolve rounds the dive's last LP, whose accounts
   left fractional are the smaller ones.
5. Fix-and-resolve (:mod:`.fix`) over every pair the model holds (the candidates of step 1
   and every priced pair, sorted by account then distance), with the LPs re-rounded
   (:mod:`.reround`) solved on the same HiGHS object over those pairs (no pricing: the pairs
   of the plan must stay the task's). After a dive the re-roundings are dives too, from LPs
   with *less* of each tolerance held back (``DIVE_REROUND_SHARES``): a dive leaves little
   to repair, so the real bands' room is worth more than the slack a tighter LP keeps.

Returns None, so the search goes the elastic way, when the LP over every eligible pair still
needs elastic slack (no choice of pairs holds the bands: the search's own path diagnoses it)
or no LP solved in the time.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace

import numpy as np

from .candidates import candidate_pairs
from .colgen import ColumnLP, allowed_pairs
from .dive import dive
from .fix import _FIX_TIGHTEN, FixAndResolve
from .incumbent import CONSTRUCT_SHARE, SearchMemory, constructive_plan
from .solve import solve_candidates
from .solver import SolveOutcome
from .state import Outcome, SolveTask

__all__ = ["DIVE_REROUND_SHARES", "DIVE_SHARE", "ColumnModel", "column_attempt"]

log = logging.getLogger(__name__)

LP_SHARE = 0.35
"""Share of the attempt's time left that column generation may use for the LP itself."""
TIGHT_SHARE = 0.15
"""Share of the time left after it for the tightened LP (priced again)."""
DIVE_SHARE = 0.6
"""Share of the time left after the tightened LP that the first dive may use (geo-33k's South
pool, 12,336 accounts: 54 batches in 55 s, of 166 s for the pool)."""
DIVE_REROUND_SHARES = (0.025, 0.0125)
"""Shares of each tolerance held back in the dives re-rounded after the first (at
``fix._FIX_TIGHTEN``, 5%). Measured on geo-33k's pools after repair and improvement: Northeast
0.29% above the bound from the 5% dive, 0.24% from 2.5%, 0.35% from 10%; Midwest 0.14%,
0.10%, 0.26%. The real bands (0) left a band the repair could not hold (Northeast)."""
CONSTRUCT_ALL_SECONDS = 2.0
"""Budget of the constructive plan over every eligible pair (its improving moves get at least
``incumbent.IMPROVE_SECONDS`` more): a floor in case the LP path finds nothing. (With 20 s,
geo-33k's South pool spent 14 s improving a plan 21% above the one the LP path then found.)"""


@dataclass(eq=False)
class ColumnModel:
    """Stands in for a :class:`~.formulation.BuiltModel` in fix-and-resolve: the LP's pair
    values over ``pair_i``/``pair_j``. ``elastic`` True, so that a last-resort whole MILP
    builds its own PuLP model; no PuLP slacks (hard bands)."""

    pair_i: np.ndarray
    pair_j: np.ndarray
    lp_values: np.ndarray
    elastic: bool = True
    slack: dict = field(default_factory=dict)
    prob: None = None

    def values(self) -> np.ndarray:
        return self.lp_values


def column_attempt(task: SolveTask, distance: np.ndarray, eligible: np.ndarray,
                   memory: SearchMemory, notes: list[str], *, fix: type[FixAndResolve],
                   widenable: bool, construct: bool = True, diving: bool = True
                   ) -> tuple[Outcome, SolveTask] | None:
    """Steps 1-5 of the module doc for ``task`` (its pairs are the start candidates;
    ``distance`` and ``eligible`` n x m). Returns the outcome and the task it ran on (its
    pairs), or None (module doc); notes say what was done. ``construct`` False: no
    constructive plan (step 1; ``SearchPolicy.construct``); ``diving`` False: no dives
    (step 4; ``SearchPolicy.dive``)."""
    spec, n = task.spec, task.n_accounts
    allowed = allowed_pairs(spec, eligible)
    if not allowed.any(axis=1).all():
        return None
    dist = np.where(allowed, distance, np.inf)
    if construct:
        _construct_all(task, distance, eligible, memory, fix)
    si, sj = [task.pi], [task.pj]
    if memory.assign is not None:
        si.append(np.arange(n))
        sj.append(memory.assign)
    t0 = time.perf_counter()
    cg = ColumnLP(spec, allowed, np.concatenate(si), np.concatenate(sj))
    r0 = cg.solve(t0 + LP_SHARE * max(0.0, task.deadline - t0))
    if r0.state == "failed" or not r0.holds:
        log.info("column generation: %s, slack %.4f: the elastic path takes over", r0.state,
                 r0.slack)
        return None
    dropped = cg.back_to_last_optimum()
    if dropped:
        log.info("column generation: the last round stopped; its %d pairs dropped, back to "
                 "the last optimal basis", dropped)
    lp_seconds = time.perf_counter() - t0
    values0 = cg.values()
    notes.append(_lp_note(r0, cg.pi.size, int(allowed.sum()), lp_seconds))
    t1 = time.perf_counter()
    cg.set_share(_FIX_TIGHTEN)
    r1 = cg.solve(t1 + TIGHT_SHARE * max(0.0, task.deadline - t1), warm=True)
    tight_seconds = time.perf_counter() - t1
    log.info("column generation, bands tightened by %.0f%%: %s in %.1f s, %d pairs",
             100 * _FIX_TIGHTEN, r1.state, tight_seconds, cg.pi.size)
    bound = float(r0.bound)
    if r0.state != "optimal" and r1.state != "failed":
        # the real LP was not priced out: the tightened LP's duals may bound it closer
        tight_bound = cg.lagrangian_bound(share=0.0)
        log.info("Lagrangian bound of the real bands from the tightened LP's duals: %.1f "
                 "(from the real LP's: %.1f)", tight_bound, bound)
        if tight_bound > bound:
            notes.append(f"the duals of the LP with tightened bands give a higher Lagrangian "
                         f"bound over every eligible pair: {tight_bound:,.1f} (the real "
                         f"LP's, stopped before pricing out: {bound:,.1f})")
            bound = min(tight_bound, float(r0.objective))
    order = np.lexsort((dist[cg.pi, cg.pj], cg.pi))
    pi, pj = cg.pi[order], cg.pj[order]
    size = pi.size
    tight = cg.values()[order] if r1.state != "failed" else None
    dived = diving and tight is not None and r1.holds
    if dived:
        tight, dive_seconds = _dived(cg, task.deadline, order, notes, _FIX_TIGHTEN)
        tight_seconds += dive_seconds
    cache = {0.0: (_padded(values0, size)[order], lp_seconds),
             _FIX_TIGHTEN: (tight, tight_seconds)}

    def relaxation(share: float) -> tuple[np.ndarray | None, float]:
        if share in cache:
            return cache[share]
        s0 = time.perf_counter()
        cg.set_share(share)
        res = cg.solve(task.deadline, price=False, warm=True)
        values = cg.values()[:size][order] if res.state != "failed" else None
        if dived and values is not None and res.holds:
            values, _ = _dived(cg, task.deadline, order, notes, share)
        cache[share] = (values, time.perf_counter() - s0)
        return cache[share]

    ctask = replace(task, pi=pi, pj=pj, relaxation=relaxation,
                    reround_shares=DIVE_REROUND_SHARES if dived else None)
    model = ColumnModel(pi, pj, cache[0.0][0])
    lp = SolveOutcome("optimal", bound, bound, lp_seconds)
    outcome = solve_candidates(ctask, "fix", pre=(model, lp), widenable=widenable, fix=fix)
    outcome.lp_seconds = lp_seconds + tight_seconds
    return outcome, ctask


def _construct_all(task: SolveTask, distance: np.ndarray, eligible: np.ndarray,
                   memory: SearchMemory, fix: type[FixAndResolve]) -> None:
    """Step 1: the constructive plan over every eligible pair as the incumbent (when it
    holds and is cheaper), within the constructive plan's budget."""
    spec = task.spec
    ai, aj = candidate_pairs(distance, eligible, spec.owner, spec.locked, None)
    key = -int(ai.size)  # tried sizes of all-pair tasks apart from candidate ones
    if key in memory.tried:
        return
    memory.tried.add(key)
    now = time.perf_counter()
    until = now + min(CONSTRUCT_ALL_SECONDS, CONSTRUCT_SHARE * max(0.0, task.deadline - now))
    plan = constructive_plan(replace(task, pi=ai, pj=aj), fix, until, memory)
    if plan is not None:
        obj = float(spec.cost[np.arange(plan.size), plan].sum())
        memory.offer(plan, obj, f"greedy LPT over every eligible pair ({ai.size} pairs), "
                                "repaired into the bands")


def _dived(cg: ColumnLP, deadline: float, order: np.ndarray, notes: list[str], share: float
           ) -> tuple[np.ndarray, float]:
    """Dive (:mod:`.dive`) from the LP ``cg`` last solved (bands tightened by ``share``)
    for at most ``DIVE_SHARE`` of the time left to ``deadline`` (the task's): its last values
    in the task's pair ``order`` and the seconds taken."""
    now = time.perf_counter()
    res = dive(cg, now + DIVE_SHARE * max(0.0, deadline - now))
    if res is None:
        return cg.values()[order], 0.0
    notes.append(f"dived from the LP with bands tightened by {share:.1%} of their tolerance: "
                 f"{res.fixed:,} fractional accounts fixed, largest first, in {res.batches} "
                 f"batches ({res.solves} LP solves, {res.seconds:.0f} s); {res.fractional} "
                 "accounts left to round")
    return res.values[order], res.seconds


def _padded(values: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros(size)
    out[:values.size] = values
    return out


def _lp_note(res, pairs: int, eligible: int, seconds: float) -> str:
    """What the column generation proved, for the planner."""
    if res.state == "optimal":
        return (f"LP relaxation by column generation: optimal over all {eligible:,} eligible "
                f"pairs with {pairs:,} of them in the model ({res.rounds} rounds, "
                f"{seconds:.0f} s); its value {res.bound:,.1f} is the bound")
    gap = (res.objective - res.bound) / res.objective if res.objective else 0.0
    return (f"LP relaxation by column generation: {pairs:,} of {eligible:,} eligible pairs in "
            f"the model after {res.rounds} rounds ({seconds:.0f} s); the Lagrangian bound over "
            f"every eligible pair, {res.bound:,.1f}, is {gap:.3%} below that LP")
