"""Baseline territory designs, for comparison with the MILP: nearest rep and greedy LPT.

Both respect eligibility (region, segment skill, ``max_distance``) and locks, and both return an
:class:`AlignmentResult` measured exactly as the MILP's plans are (balance against the same pool
targets, potential-weighted distance, moves against the previous owners), so a benchmark can put
them side by side. Neither has a lower bound: ``bound`` and ``gap`` are None.

- :func:`nearest_rep`: every account to its nearest eligible rep. The most compact plan there is
  and the usual "before" picture; balance is whatever geography gives.
- :func:`greedy_lpt`: the greedy longest-processing-time rule of the ``b2b-territory-optimization``
  peer (PyPI), restricted to eligible reps: accounts in decreasing order of the balance metric,
  each to the eligible rep with the smallest load relative to its band target. Balanced, blind
  to distance.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from .balance import metric_values, targets
from .diagnosis import no_rep_problems
from .errors import InfeasibleInputError
from .options import METRICS, AlignmentOptions
from .preparation import Prepared, prepare
from .problem import AlignmentProblem
from .result import AlignmentResult
from .state import Outcome
from .tables import RunInfo, build_result

__all__ = ["greedy_lpt", "measure_plan", "nearest_rep"]


def _check(problem: AlignmentProblem, opts: AlignmentOptions, eligible: np.ndarray) -> None:
    problems = no_rep_problems(problem, eligible, opts.max_distance)
    if problems:
        raise InfeasibleInputError(problems, "no rep can take these accounts")


def _finish(problem: AlignmentProblem, prep: Prepared, assign: np.ndarray, name: str,
            start: float) -> AlignmentResult:
    """The heuristic plan ``assign`` measured as the MILP's (no bound, no candidates)."""
    objective = float(prep.spec.cost[np.arange(problem.n_accounts), assign].sum())
    outcome = Outcome("feasible", assign=assign, objective=objective, bound=None,
                      solver_optimal=False, strategy=name)
    run = RunInfo(time.perf_counter() - start, "none (heuristic)", None, "none (heuristic)",
                  (f"{name}: a heuristic plan (no lower bound)",))
    return build_result(problem, prep, outcome, run)


def _locked_first(problem: AlignmentProblem, prep: Prepared) -> np.ndarray:
    assign = np.full(problem.n_accounts, -1, dtype=np.int64)
    lock = np.asarray(problem.locked, dtype=bool) & (prep.owner >= 0)
    assign[lock] = prep.owner[lock]
    return assign


def measure_plan(problem: AlignmentProblem, assign: np.ndarray | list[str],
                 options: AlignmentOptions | None = None, name: str = "given plan"
                 ) -> AlignmentResult:
    """Measure a given plan (rep column or rep id per account; every account assigned) exactly
    as :func:`solve_alignment` measures its own: balance, weighted distance, moves. A given
    plan is measured against the plain pools, every rep included: ``dedicate_oversized`` is
    a planning decision, ignored here (the plan may not give those reps one account each)."""
    opts = replace(options or AlignmentOptions(mode="carve"), dedicate_oversized=False)
    start = time.perf_counter()
    prep = prepare(problem, opts)
    col = np.asarray(assign)
    if col.dtype.kind not in "iu":
        index = {r: j for j, r in enumerate(problem.rep_ids)}
        missing = sorted({str(r) for r in col if r not in index})
        if missing:
            raise InfeasibleInputError([f"plan names reps not in the problem: "
                                        f"{', '.join(missing[:5])}"], "cannot measure the plan")
        col = np.array([index[r] for r in col], dtype=np.int64)
    if col.shape != (problem.n_accounts,) or (col < 0).any() or (col >= problem.n_reps).any():
        raise InfeasibleInputError(["the plan must give one rep to every account"],
                                   "cannot measure the plan")
    return _finish(problem, prep, col, name, start)


def nearest_rep(problem: AlignmentProblem, options: AlignmentOptions | None = None
                ) -> AlignmentResult:
    """Each unlocked account to its nearest eligible rep (ties: scenario order)."""
    opts = options or AlignmentOptions(mode="carve")
    start = time.perf_counter()
    prep = prepare(problem, opts)
    _check(problem, opts, prep.eligible)
    assign = _locked_first(problem, prep)
    free = assign < 0
    dist = np.where(prep.eligible, problem.distance, np.inf)
    assign[free] = np.argmin(dist[free], axis=1)
    return _finish(problem, prep, assign, "nearest rep", start)


def greedy_lpt(problem: AlignmentProblem, options: AlignmentOptions | None = None,
               metric: str = "potential") -> AlignmentResult:
    """Greedy longest-processing-time on ``metric`` (one of :data:`METRICS`): largest account
    first, each to the eligible rep whose load / band target is smallest (ties: scenario order).
    Band targets are the pool targets the MILP balances to."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    opts = options or AlignmentOptions(mode="carve")
    start = time.perf_counter()
    prep = prepare(problem, opts)
    _check(problem, opts, prep.eligible)
    values = metric_values(problem, metric)
    mu = targets(values, prep.pools)
    mu = np.where(mu > 0, mu, 1.0)
    assign = _locked_first(problem, prep)
    load = np.bincount(assign[assign >= 0], weights=values[assign >= 0],
                       minlength=problem.n_reps).astype(float)
    for i in np.argsort(-values, kind="stable"):
        if assign[i] >= 0:
            continue
        cand = np.flatnonzero(prep.eligible[i])
        j = cand[np.argmin(load[cand] / mu[cand])]
        assign[i] = j
        load[j] += values[i]
    return _finish(problem, prep, assign, f"greedy LPT on {metric}", start)
