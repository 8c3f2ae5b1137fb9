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

How it widens is set by a :class:`SearchPolicy` (the measured defaults, or another for an
experiment or a test); the solver, the clock and the policy travel in a :class:`SearchContext`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from .candidates import candidate_pairs, ensure_reach
from .diagnosis import explain_infeasible
from .elastic_pairs import add_missing_pairs
from .errors import InfeasiblePlanError, NoSolutionError
from .fix import FixAndResolve
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


def scope_text(k: int | None) -> str:
    """The scope of the bound in words, for k candidates (None: every eligible rep)."""
    return "all eligible pairs" if k is None else f"{k} nearest candidates (+ rep reach)"


def search(problem: AlignmentProblem, prep: Prepared, opts: AlignmentOptions,
           ctx: SearchContext, *, others: int = 0) -> SearchResult:
    """The candidate search of the module doc on one (whole or pool) problem: returns the
    plan found; raises :class:`InfeasiblePlanError` or :class:`NoSolutionError` without one.

    ``others``: the other pools' candidate pairs when this is one pool. ``auto`` counts them
    too, so a pool gets the strategy the whole model would (measured: 10k x 100 in 4 pools of
    20,000 pairs, exact: 281 s to a 0.50% gap; fix on the 80,000-pair whole: 17 s to 0.48%)."""
    max_eligible = int(prep.eligible.sum(axis=1).max()) if problem.n_accounts else 0
    k = opts.candidates if opts.candidates is not None and opts.candidates < max_eligible \
        else None
    state = _Widening(k, ctx.policy.rep_reach[0], max_eligible)
    while True:
        outcome, n_pairs = _attempt(problem, prep, opts, ctx, state, others)
        if outcome.state == "infeasible" and state.k is not None and expired(ctx.deadline):
            state.notes.append("the time limit ended the widening of the candidates")
            outcome = Outcome("none")
            break
        if not _widen(prep, ctx, state, outcome, n_pairs):
            break
    notes = state.notes + outcome.notes
    if state.rep_side_note:
        notes.append(state.rep_side_note)
    if outcome.state == "infeasible":
        raise InfeasiblePlanError(explain_infeasible(
            problem, opts, prep, trial_solver(problem, prep, opts, ctx.solver, ctx.policy.fix)))
    if outcome.state == "none" or outcome.assign is None:
        raise _no_plan_error(prep, opts, state.k, outcome, ctx.start)
    return SearchResult(outcome, state.k, scope_text(state.k), notes)


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
             ctx: SearchContext, state: _Widening, others: int) -> tuple[Outcome, int]:
    """One solve over the current candidates; when they make the model infeasible, once more
    with the missing pairs added. Returns the outcome and the number of pairs."""
    ctx.phases(0.05, "choosing candidates: " + scope_text(state.k))
    pi, pj = _candidates(problem, prep, state)
    strategy = _strategy(opts, pi.size, others)
    widenable = state.k is not None and bool(prep.bands) and not opts.soft_balance
    fix = ctx.policy.fix
    task = SolveTask(prep.spec, pi, pj, ctx.solver, ctx.deadline, ctx.phases)
    outcome = solve_candidates(task, strategy, widenable=widenable, fix=fix)
    if outcome.state == "infeasible" and state.k is not None and prep.bands \
            and not opts.soft_balance and pi.size <= ctx.policy.reach_max_pairs:
        # add only the missing pairs (elastic LP), before widening every account's k
        pi, pj, pre = add_missing_pairs(problem, prep, task, state.k, state.notes)
        # the added pairs can take the model past the exact MILP's size
        strategy = _strategy(opts, pi.size, others)
        if pre is not None:
            task = SolveTask(prep.spec, pi, pj, ctx.solver, ctx.deadline, ctx.phases)
            outcome = solve_candidates(task, strategy, pre=pre if strategy == "fix" else None,
                                       widenable=widenable, fix=fix)
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
                   start: float) -> NoSolutionError:
    """What to change when no plan came in the time, from what the search saw."""
    advice = ["raise the time limit, loosen the gap or the bands, or use soft balance"]
    if k is not None and outcome.bound is None:
        advice.append(f"the LP relaxation did not finish: fewer candidate reps per account "
                      f"than {k} make it smaller")
    elif k is not None and outcome.strategy == "exact":
        advice.append(f"the whole-model MILP over the {k} nearest candidate reps found no "
                      "plan in the time: try strategy fix (LP, rounding and repair), or "
                      "raise the candidate count (candidates=None, --candidates 0: every "
                      "eligible rep)")
    elif k is not None and prep.bands and not opts.soft_balance:
        advice.append(f"the LP relaxation holds the bands but no whole-account plan was "
                      f"found over the {k} nearest candidate reps: tight bands can need "
                      "reps farther away; raise the candidate count (candidates=None, "
                      "--candidates 0: every eligible rep)")
    return NoSolutionError([
        f"the solver stopped after {time.perf_counter() - start:.0f} s without a plan",
        *advice])
