"""The candidate search: solve one (whole or pool) problem over its k nearest candidate reps,
widening the candidates until the model has a plan.

1. Candidates: each account may go to its k nearest eligible reps (plus its owner), and each
   rep to its nearest accounts carrying ``reach`` x its band target (:mod:`.candidates`).
2. Solve (:mod:`.solve`): the LP relaxation, then the exact MILP or fix-and-resolve.
3. When the candidates make the model infeasible: add only the missing pairs
   (:mod:`.elastic_pairs`); else widen the rep-side reach, then double k (up to every eligible
   rep), so the candidate restriction never turns a feasible instance into an infeasible one.
   When the LP holds the bands but fix-and-resolve finds no whole-account plan in its share of
   the time, widen k too (tight bands can need far pairs that only the integer plan shows), if
   enough time is left to solve the wider model. Every widening is noted.
4. No plan: a proven infeasibility is diagnosed (:mod:`.diagnosis`); a plan not found in the
   time says what to change.

Each attempt first builds a constructive plan over its candidates (:mod:`.incumbent`: greedy
LPT repaired into the bands), so a plan exists early; a :class:`~.incumbent.SearchMemory`
keeps the best plan, the candidate pairs and the widening state across attempts and across a
pool's retry. When the time limit ends the search without a plan of its own, the incumbent is
returned, flagged, with its honest gap.

How it widens is set by a :class:`SearchPolicy` (the measured defaults, or another for an
experiment or a test); the solver, the clock and the policy travel in a :class:`SearchContext`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace

import numpy as np

from .candidates import candidate_pairs, ensure_reach
from .colsolve import column_attempt
from .diagnosis import explain_infeasible
from .elastic_pairs import add_missing_pairs
from .errors import InfeasiblePlanError, NoSolutionError
from .fix import FixAndResolve, tightened
from .incumbent import (
    CONSTRUCT_SECONDS,
    CONSTRUCT_SHARE,
    FIRST_TRY_SECONDS,
    SearchMemory,
    constructive_plan,
    union_pairs,
)
from .options import AlignmentOptions
from .preparation import Prepared
from .problem import AlignmentProblem
from .solve import solve_candidates, trial_solver
from .solver import SolverSpec
from .state import Outcome, Phases, SolveTask, expired, seconds_left

__all__ = ["SearchContext", "SearchPolicy", "SearchResult", "scope_text", "search"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchPolicy:
    """How the candidate search widens the candidates, and which fix-and-resolve it runs."""

    rep_reach: tuple[float, ...] = (3.0, 6.0, 12.0)
    """Rep-side candidates: each rep's nearest accounts carrying this many times its band
    target (widened in this order when the candidates make the model infeasible, before k is
    doubled)."""
    reach_max_pairs: int = 150_000
    """Above this many candidate pairs, an infeasible restriction doubles k at once (the
    elastic LP that adds only the missing pairs is slow at that size)."""
    widen_time: float = 3.0
    """A widening after a failed whole-account plan needs at least this many times the last
    LP's build and solve time left: the wider model's LP takes longer than the last one
    (measured on a 50k-pool of 12,401 accounts: 22 s at k = 16, 29 s at k = 32 with the LP
    stopped by the limit), and its rounding and repair need time after it."""
    widen_all_pairs: int = 200_000
    """A widening after a failed whole-account plan goes straight to every eligible rep when
    that is at most this many pairs (else k doubles)."""
    fix: type[FixAndResolve] = FixAndResolve
    """The fix-and-resolve class run by the ``fix`` strategy (:mod:`.fix`)."""
    targeted_widening: bool = False
    """The elastic LP adds pairs by the targeted rule (:mod:`.elastic_pairs`), else by the
    doubling rule (measured better on geo-33k's Midwest pool)."""
    tight_elastic: bool = False
    """With the fix strategy, the elastic LP that adds missing pairs holds the bands tightened
    as the rounding LP of fix-and-resolve has them (``fix._FIX_TIGHTEN``). Off by default: on
    geo-33k its South pool still grew to 319,000 pairs, and the Midwest found no plan."""
    column_generation: bool = True
    """With hard bands, the ``fix`` strategy and HiGHS, solve the LP relaxation over every
    eligible pair by column generation (:mod:`.colsolve`) and round from it, instead of the
    LP over the candidates widened by elastic LPs (measured on geo-33k's South pool: the LP
    over all 1.9 million eligible pairs to 0.01% in 25 s with 154,000 pairs in the model;
    the elastic path grew the pool to 359,000 pairs, LPs of 28-45 s each). Off: the elastic
    path, as before."""
    dive: bool = True
    """On the column-generation path, round from a dive (:mod:`.dive`: the LP's fractional
    accounts fixed a batch at a time, largest first, the LP re-solved after each) instead of
    from the tightened LP at once (measured on geo-33k's four carve pools: 0.14-0.48% above
    each pool's bound against 1.32-2.30%). Off: the LP rounded at once, as before."""
    construct: bool = True
    """Build a constructive plan (greedy LPT repaired into the bands) over each attempt's
    candidates as the incumbent (:mod:`.incumbent`); off, the search has only its own plans
    (a test of the no-plan path, an experiment)."""


@dataclass(frozen=True)
class SearchContext:
    """What every (pool) search of one alignment shares: the ``solver``, the ``start`` of the
    alignment and the ``deadline`` of this search (:func:`time.perf_counter` instants,
    seconds), and the ``policy``."""

    solver: SolverSpec
    start: float
    deadline: float
    policy: SearchPolicy = field(default_factory=SearchPolicy)
    phases: Phases = field(default_factory=Phases)
    """Where the search is, for a progress display (reports only)."""


@dataclass
class SearchResult:
    """A plan found: the ``outcome`` (with a plan), the final ``candidates`` k (None: every
    eligible rep), the ``scope`` of the bound in words, and the search's ``notes``."""

    outcome: Outcome
    candidates: int | None
    scope: str
    notes: list[str]


@dataclass
class _Widening:
    """The search's state: ``k`` candidate reps per account (None: every eligible rep), the
    rep-side ``reach`` factor, the notes so far."""

    k: int | None
    reach: float
    max_eligible: int
    notes: list[str] = field(default_factory=list)
    rep_side_note: str | None = None
    columns: bool = False
    """The last attempt's LP was solved by column generation (its bound covers every
    eligible pair)."""

    def scope(self) -> str:
        return COLUMN_SCOPE if self.columns else scope_text(self.k)


COLUMN_SCOPE = "all eligible pairs (LP relaxation by column generation)"
"""The bound's scope when the LP was solved by column generation (:mod:`.colsolve`)."""


def _by_columns(prep: Prepared, opts: AlignmentOptions, ctx: SearchContext,
                strategy: str) -> bool:
    """Column generation applies: policy on, hard bands, fix strategy, HiGHS as it is
    (:attr:`.solver.SolverSpec.direct_highs`)."""
    return (ctx.policy.column_generation and bool(prep.bands) and not opts.soft_balance
            and strategy == "fix" and ctx.solver.direct_highs)


def scope_text(k: int | None) -> str:
    """The scope of the bound in words, for k candidates (None: every eligible rep)."""
    return "all eligible pairs" if k is None else f"{k} nearest candidates (+ rep reach)"


def search(problem: AlignmentProblem, prep: Prepared, opts: AlignmentOptions,
           ctx: SearchContext, *, others: int = 0, memory: SearchMemory | None = None
           ) -> SearchResult:
    """The candidate search of the module doc on one (whole or pool) problem: returns the
    plan found; raises :class:`InfeasiblePlanError` or :class:`NoSolutionError` without one.

    ``others``: the other pools' candidate pairs when this is one pool. ``auto`` counts them
    too, so a pool gets the strategy the whole model would (measured: 10k x 100 in 4 pools of
    20,000 pairs, exact: 281 s to a 0.50% gap; fix on the 80,000-pair whole: 17 s to 0.48%).

    ``memory``: what an earlier search of the same problem left (a pool's retry): its
    candidate pairs, widening state and incumbent are the starting point."""
    memory = memory if memory is not None else SearchMemory()
    max_eligible = int(prep.eligible.sum(axis=1).max()) if problem.n_accounts else 0
    k = opts.candidates if opts.candidates is not None and opts.candidates < max_eligible \
        else None
    state = _Widening(k, ctx.policy.rep_reach[0], max_eligible)
    if memory.reach is not None:  # resume where the last search of this problem stopped
        state.k, state.reach = memory.k, memory.reach
        state.notes.append("resumed from the candidates of the previous attempt "
                           f"({memory.pi.size if memory.pi is not None else 0} pairs)")
    while True:
        outcome, n_pairs = _attempt(problem, prep, opts, ctx, state, others, memory)
        if outcome.state == "infeasible" and state.k is not None and expired(ctx.deadline):
            state.notes.append("the time limit ended the widening of the candidates")
            outcome = Outcome("none")
            break
        if not _widen(prep, ctx, state, outcome, n_pairs):
            break
    notes = state.notes + outcome.notes
    if state.rep_side_note:
        notes.append(state.rep_side_note)
    if memory.assign is not None and (outcome.assign is None
                                      or memory.objective < float(outcome.objective) - 1e-9):
        return _incumbent_result(problem, prep, memory, outcome, notes)
    if outcome.state == "infeasible":
        raise InfeasiblePlanError(explain_infeasible(
            problem, opts, prep, trial_solver(problem, prep, opts, ctx.solver, ctx.policy.fix)))
    if outcome.state == "none" or outcome.assign is None:
        raise _no_plan_error(prep, opts, state.k, outcome, ctx.start, memory)
    return SearchResult(outcome, state.k, state.scope(), notes)


def _incumbent_result(problem: AlignmentProblem, prep: Prepared, memory: SearchMemory,
                      outcome: Outcome, notes: list[str]) -> SearchResult:
    """The incumbent as the search's plan: when the search found none (flagged, with the gap
    to the last finished LP over a superset of its pairs, else to the cheapest-rep bound), or
    when it is cheaper than the search's own plan."""
    if outcome.assign is not None:  # cheaper than the search's plan: same bound and scope
        out = Outcome("feasible", memory.assign, memory.objective,
                      min(outcome.bound, memory.objective) if outcome.bound is not None
                      else None, False, outcome.strategy)
        return SearchResult(out, memory.bound_k, memory.scope(),
                            [*notes, f"the {memory.source} was cheaper than the solver's plan"])
    if memory.bound is not None:
        bound, k, scope = memory.bound, memory.bound_k, memory.scope()
    else:
        cost = np.where(prep.eligible, prep.spec.cost, np.inf)
        bound = float(cost.min(axis=1).sum())
        k, scope = None, ("all eligible pairs (each account at its cheapest eligible rep: "
                          "no LP relaxation finished)")
    bound = min(bound, memory.objective)
    gap = (memory.objective - bound) / memory.objective if memory.objective > 0 else 0.0
    out = Outcome("feasible", memory.assign, memory.objective, bound, False, "fix",
                  incumbent=True)
    return SearchResult(out, k, scope, [
        *notes, f"the time limit ended the search before it had a plan of its own: this is "
        f"the best plan holding every band found on the way ({memory.source}), "
        f"{gap:.2%} above the bound ({scope})"])


def _construct(prep: Prepared, opts: AlignmentOptions, ctx: SearchContext, task: SolveTask,
               memory: SearchMemory, *, cap: float = CONSTRUCT_SECONDS) -> None:
    """A constructive plan over ``task``'s pairs as the incumbent, when there is none yet and
    these pairs were not tried (hard bands only), in at most ``cap`` seconds."""
    if not ctx.policy.construct or memory.assign is not None or not prep.bands \
            or opts.soft_balance \
            or task.pi.size in memory.tried or expired(ctx.deadline):
        return
    memory.tried.add(task.pi.size)
    left = max(0.0, ctx.deadline - time.perf_counter())
    until = time.perf_counter() + min(cap, CONSTRUCT_SHARE * left)
    plan = constructive_plan(task, ctx.policy.fix, until, memory)
    if plan is not None:
        obj = float(task.spec.cost[np.arange(plan.size), plan].sum())
        memory.offer(plan, obj, f"greedy LPT over {task.pi.size} candidate pairs, repaired "
                                "into the bands")


def _candidates(problem: AlignmentProblem, prep: Prepared, state: _Widening
                ) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest candidate reps of each account and, with bands, the rep-side pairs."""
    pi, pj = candidate_pairs(problem.distance, prep.eligible, prep.owner, problem.locked,
                             state.k)
    if state.k is not None and prep.bands:
        # rep side: every rep also gets its nearest accounts carrying `reach` x its target
        needs = [(b.values, b.mu) for b in prep.bands]
        n0 = pi.size
        pi, pj, _ = ensure_reach(pi, pj, problem.distance, prep.eligible, needs,
                                 factor=state.reach, always=True)
        log.info("candidates: %d pairs (k=%d) + %d rep-side pairs (reach %.0fx)", n0, state.k,
                 pi.size - n0, state.reach)
        if pi.size > n0:
            state.rep_side_note = (f"{pi.size - n0} candidate pairs added so that every rep "
                                   f"can reach its nearest accounts carrying {state.reach:g}x "
                                   "its target")
    return pi, pj


def _strategy(opts: AlignmentOptions, n_pairs: int, others: int) -> str:
    """``auto``: exact up to ``exact_max_pairs`` pairs (this problem's and ``others``)."""
    if opts.strategy != "auto":
        return opts.strategy
    return "exact" if n_pairs + others <= opts.exact_max_pairs else "fix"


def _attempt(problem: AlignmentProblem, prep: Prepared, opts: AlignmentOptions,
             ctx: SearchContext, state: _Widening, others: int, memory: SearchMemory
             ) -> tuple[Outcome, int]:
    """One solve over the current candidates (with every pair an earlier attempt had), after
    a constructive plan over them; when they make the model infeasible, once more with the
    missing pairs added. Returns the outcome and the number of pairs."""
    ctx.phases(0.05, "choosing candidates: " + scope_text(state.k))
    state.columns = False
    pi, pj = _candidates(problem, prep, state)
    dist = np.where(prep.eligible, problem.distance, np.inf)
    pi, pj = union_pairs(pi, pj, memory.pi, memory.pj, problem.n_reps, dist)
    memory.pi, memory.pj, memory.k, memory.reach = pi, pj, state.k, state.reach
    strategy = _strategy(opts, pi.size, others)
    widenable = state.k is not None and bool(prep.bands) and not opts.soft_balance
    fix = ctx.policy.fix
    task = SolveTask(prep.spec, pi, pj, ctx.solver, ctx.deadline, ctx.phases)
    if _by_columns(prep, opts, ctx, strategy):
        ctx.phases(0.1, "the LP relaxation by column generation")
        done = column_attempt(task, problem.distance, prep.eligible, memory, state.notes,
                              fix=fix, widenable=widenable,
                              construct=ctx.policy.construct, diving=ctx.policy.dive)
        if done is not None:
            outcome, ctask = done
            memory.pi, memory.pj = ctask.pi, ctask.pj
            state.columns = True
            if outcome.bound is not None:
                memory.bound, memory.bound_k = outcome.bound, None
                memory.bound_scope = COLUMN_SCOPE
                memory.lp_seconds = outcome.lp_seconds
                memory.elastic.clear()
            return outcome, ctask.pi.size
        state.notes.append("the LP relaxation by column generation needs elastic slack over "
                           "every eligible pair or did not solve: candidates widened by "
                           "elastic LPs instead")
    _construct(prep, opts, ctx, task, memory, cap=FIRST_TRY_SECONDS)
    outcome = solve_candidates(task, strategy, widenable=widenable, fix=fix)
    if outcome.state == "infeasible" and state.k is not None and prep.bands \
            and not opts.soft_balance and pi.size <= ctx.policy.reach_max_pairs:
        # add only the missing pairs (elastic LP), before widening every account's k; with
        # bands tightened as fix-and-resolve's rounding LP has them, so that the pairs leave
        # the rounding room (geo-33k, Midwest: pairs enough for the plain bands but not the
        # tightened ones left 29 reps out of band after rounding and repair, through ten
        # fix-and-resolve rounds)
        tight = ctx.policy.tight_elastic and strategy == "fix"
        etask = replace(task, spec=tightened(prep.spec)) if tight else task
        pi, pj, pre = add_missing_pairs(problem, prep, etask, state.k, state.notes,
                                        report=memory.elastic,
                                        targeted=ctx.policy.targeted_widening)
        memory.pi, memory.pj = pi, pj
        # the added pairs can take the model past the exact MILP's size
        strategy = _strategy(opts, pi.size, others)
        if pre is not None:
            task = SolveTask(prep.spec, pi, pj, ctx.solver, ctx.deadline, ctx.phases)
            if not tight:
                memory.bound, memory.bound_k = pre[1].objective, state.k
                memory.bound_scope = None
            _construct(prep, opts, ctx, task, memory)
            outcome = solve_candidates(task, strategy,
                                       pre=pre if strategy == "fix" and not tight else None,
                                       widenable=widenable, fix=fix)
    if outcome.bound is not None:
        memory.bound, memory.bound_k = outcome.bound, state.k
        memory.bound_scope = None
        memory.lp_seconds = outcome.lp_seconds
        memory.elastic.clear()  # the LP holds the bands now: no relaxation misses them
    return outcome, pi.size


def _widen(prep: Prepared, ctx: SearchContext, state: _Widening, outcome: Outcome,
           n_pairs: int) -> bool:
    """Widen the candidates after ``outcome`` (True: try again), or stop (False); the notes
    say which and why."""
    policy, k = ctx.policy, state.k
    if k is None or not (outcome.state == "infeasible" or outcome.integer_failed):
        return False
    if outcome.state == "infeasible" and prep.bands and state.reach < policy.rep_reach[-1] \
            and n_pairs <= policy.reach_max_pairs:
        new_reach = policy.rep_reach[policy.rep_reach.index(state.reach) + 1]
        state.notes.append(f"with each rep's nearest accounts up to {state.reach:g}x its target "
                           f"as candidates the model is infeasible; widened to {new_reach:g}x")
        state.reach = new_reach
        return True
    if outcome.state == "infeasible":
        state.k = k * 2 if k * 2 < state.max_eligible else None
        state.notes.append(f"with {k} candidate reps per account the model is infeasible; "
                           f"widened to {state.k if state.k else 'every eligible rep'}")
        return True
    if seconds_left(ctx.deadline) < policy.widen_time * outcome.lp_seconds:
        state.notes.append(
            f"with {k} candidate reps per account the LP held the bands but no whole-account "
            "plan did in half the time left, and too little time is left to solve a wider "
            f"model (its LP took {outcome.lp_seconds:.0f} s with the current candidates)")
        return False
    if expired(ctx.deadline):
        return False
    # tight bands can need far pairs that only the whole-account plan shows: the LP held the
    # bands, rounding and repair did not (measured: the counties at ±0.003% need every rep as
    # a candidate)
    every = int(prep.eligible.sum())
    state.k = None if k * 2 >= state.max_eligible or every <= policy.widen_all_pairs \
        else k * 2
    state.notes.append(f"with {k} candidate reps per account the LP held the bands but no "
                       "whole-account plan did in half the time left; widened to "
                       f"{state.k if state.k else 'every eligible rep'}")
    return True


def _no_plan_error(prep: Prepared, opts: AlignmentOptions, k: int | None, outcome: Outcome,
                   start: float, memory: SearchMemory | None = None) -> NoSolutionError:
    """What to change when no plan came in the time, from what the search saw: how far the
    best relaxation and the closest whole-account plan were from the bands, and what would
    help, with the numbers."""
    elapsed = time.perf_counter() - start
    memory = memory if memory is not None else SearchMemory()
    lines = [f"the solver stopped after {elapsed:.0f} s without a plan"]
    lines += _distance_to_bands(prep, memory, outcome)
    advice = [f"more time: a time limit of about {max(2 * opts.time_limit, elapsed * 2):.0f} s "
              f"(now {opts.time_limit:.0f} s)"]
    if k is not None and outcome.bound is None and memory.elastic.get("worst", 0.0) <= 0:
        advice.append(f"the LP relaxation did not finish: fewer candidate reps per account "
                      f"than {k} make it smaller")
    elif k is not None and outcome.strategy == "exact":
        advice.append(f"the whole-model MILP over the {k} nearest candidate reps found no "
                      "plan in the time: try strategy fix (LP, rounding and repair), or "
                      "raise the candidate count (candidates=None, --candidates 0: every "
                      "eligible rep)")
    elif k is not None and prep.bands and not opts.soft_balance:
        advice.append(f"more candidates: raise the candidate count to {2 * k} (--candidates "
                      f"{2 * k}; now {k}), or to every eligible rep (candidates=None, "
                      "--candidates 0); tight bands can need reps farther away")
    if prep.bands and not opts.soft_balance:
        wider = _wider_bands(prep, memory)
        if wider:
            advice.append(f"wider bands: {wider}")
        advice.append("soft bands (--soft, soft_balance=True): always a plan, band misses "
                      "priced and reported")
    lines.append("what would help: " + "; ".join(advice))
    return NoSolutionError(lines)


def _distance_to_bands(prep: Prepared, memory: SearchMemory, outcome: Outcome) -> list[str]:
    """How far the best relaxation and the closest whole-account plan were from the bands."""
    out = []
    el = memory.elastic
    if el.get("worst", 0.0) > 0:
        out.append(f"the best LP relaxation (elastic, over {el['pairs']:,} candidate pairs) "
                   f"leaves {el['reps']} reps outside a band, the worst by {el['worst']:.2%} "
                   "of its target")
    elif outcome.bound is not None:
        out.append(f"the LP relaxation over the candidates holds every band (bound "
                   f"{outcome.bound:,.1f}); no whole-account plan did in the time")
    if memory.miss is not None:
        worst, reps, pairs = memory.miss
        out.append(f"the closest whole-account plan (greedy LPT over {pairs:,} candidate pairs, "
                   f"repaired) has {reps} reps outside a band, the worst by {worst:.2%} of "
                   "its target")
    return out


def _wider_bands(prep: Prepared, memory: SearchMemory) -> str:
    """Bands that the closest miss would hold, as a --balance option (empty: none known)."""
    worst = memory.miss[0] if memory.miss else 0.0
    if worst <= 0:
        return ""
    return "--balance " + ",".join(f"{b.metric}={b.tolerance + worst:.3f}"
                                   for b in prep.bands) + " would hold the closest plan found"
