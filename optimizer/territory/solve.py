"""One solve over a set of candidate pairs: the LP relaxation, then the exact MILP or
fix-and-resolve (:mod:`.fix`).

The LP relaxation's optimum is the lower bound reported with every plan; an LP stopped early
bounds nothing and gives no plan. The status is read honestly (:mod:`.solver`).
:func:`trial_solver` gives the post-solve diagnosis (:func:`.diagnosis.explain_infeasible`)
its short re-solves.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from .candidates import candidate_pairs
from .fix import FixAndResolve
from .formulation import BuiltModel, assignment_of, build_model
from .options import AlignmentOptions
from .preparation import Prepared
from .problem import AlignmentProblem
from .solver import SolveOutcome, SolverSpec
from .state import Outcome, SolveTask, seconds_left

__all__ = ["solve_candidates", "trial_solver"]

log = logging.getLogger(__name__)


def solve_candidates(task: SolveTask, strategy: str, *,
                     pre: tuple[BuiltModel, SolveOutcome] | None = None,
                     widenable: bool = False,
                     fix: type[FixAndResolve] = FixAndResolve) -> Outcome:
    """The LP relaxation, then the exact MILP (``strategy`` ``"exact"``) or fix-and-resolve
    (``"fix"``, run by the class ``fix``). ``pre``: an LP relaxation already solved over
    these pairs (its model and outcome). ``widenable``: the candidates can still be widened,
    so fix-and-resolve gives up after half the time left (``integer_failed``) instead of
    solving the whole model."""
    t0 = time.perf_counter()
    if pre is not None:
        model, lp = pre
        lp_seconds = lp.seconds
    else:
        task.progress(0.15, f"building the model ({task.pi.size:,} candidate pairs)")
        model = build_model(task.spec, task.pi, task.pj)
        task.progress(0.25, "solving the LP relaxation")
        log.info("model built: %d pairs in %.1f s", task.pi.size, time.perf_counter() - t0)
        lp = task.solver.solve(model.prob, mip=False, time_limit=seconds_left(task.deadline))
        log.info("LP relaxation: %s, objective %s, %.1f s", lp.state, lp.objective, lp.seconds)
        lp_seconds = time.perf_counter() - t0
    if lp.state == "infeasible":
        return Outcome("infeasible", strategy=strategy)
    if lp.state != "optimal":
        # an LP stopped by the time limit bounds nothing, and its point is no relaxation
        # optimum to round (measured: HiGHS stopped a 50k-pool LP with "feasible" and every
        # value 0)
        return Outcome("none", strategy=strategy)
    if strategy == "exact":
        task.progress(0.4, "solving the MILP")
        return _exact(task, model, lp.objective)
    task.progress(0.4, "rounding and repairing the LP solution (fix-and-resolve)")
    outcome = fix(task, model, lp.objective, widenable=widenable).run()
    outcome.lp_seconds = lp_seconds
    return outcome


def _exact(task: SolveTask, model: BuiltModel, bound: float) -> Outcome:
    """The whole model as one MILP with the time left; ``bound`` is the LP's optimum."""
    mip = task.solver.solve(model.prob, mip=True, time_limit=seconds_left(task.deadline))
    if mip.state == "infeasible":
        return Outcome("infeasible", strategy="exact")
    if not mip.has_solution:
        return Outcome("none", bound=bound, strategy="exact")
    if mip.bound is not None:
        bound = max(bound, mip.bound)
    assign = assignment_of(model.values(), model.pair_i, model.pair_j, task.n_accounts)
    return Outcome(mip.state, assign, mip.objective, min(bound, mip.objective),
                   mip.state == "optimal", "exact")


def trial_solver(problem: AlignmentProblem, prep: Prepared, opts: AlignmentOptions,
                 solver: SolverSpec, fix: type[FixAndResolve] = FixAndResolve
                 ) -> Callable[[frozenset[str], bool], tuple[str, dict[str, float]]]:
    """A ``try_solve(drop, soft)`` for the post-solve diagnosis: a short solve (5-30 s, a
    quarter of the time limit) over every eligible pair without the constraint families
    ``drop`` (soft bands with ``soft``), returning (state, worst deviation from the target by
    metric, as a signed fraction)."""
    pi, pj = candidate_pairs(problem.distance, prep.eligible, prep.owner, problem.locked, None)
    limit = max(5.0, min(30.0, opts.time_limit / 4))

    def run(drop: frozenset[str], soft: bool) -> tuple[str, dict[str, float]]:
        spec = replace(prep.spec, drop=drop, soft=soft or prep.spec.soft)
        if pi.size <= opts.exact_max_pairs:
            model = build_model(spec, pi, pj, name="territory_diagnosis")
            res = solver.solve(model.prob, mip=True, time_limit=limit)
            state = res.state
            assign = (assignment_of(model.values(), model.pair_i, model.pair_j,
                                    problem.n_accounts) if res.has_solution else None)
        else:
            task = SolveTask(spec, pi, pj, solver, time.perf_counter() + limit)
            out = solve_candidates(task, "fix", fix=fix)
            state, assign = out.state, out.assign
        return state, _worst_deviation(problem, prep, assign)

    return run


def _worst_deviation(problem: AlignmentProblem, prep: Prepared, assign: np.ndarray | None
                     ) -> dict[str, float]:
    """Per band metric, the rep deviation load / target - 1 of largest size (none without a
    plan)."""
    worst: dict[str, float] = {}
    if assign is None:
        return worst
    for band in prep.bands:
        load = np.bincount(assign, weights=band.values, minlength=problem.n_reps)
        ok = band.mu > 0
        dev = load[ok] / band.mu[ok] - 1
        worst[band.metric] = float(dev[np.argmax(np.abs(dev))])
    return worst
