"""Territory alignment: assign every account to exactly one eligible rep.

Entry points: :func:`align` (a scenario) and :func:`solve_alignment` (an
:class:`~.problem.AlignmentProblem` of plain arrays). The model is in :mod:`.formulation`
(formulation written out there, with sources); the solver is injected through
:class:`~.solver.SolverSpec`.

The steps, each in the module named after it:

1. :mod:`.preparation`: eligibility, pools, band targets, capacities, costs; then
   :func:`.diagnosis.check_input` rejects an impossible input before any solve.
2. :mod:`.pool_search` / :mod:`.search`: each balance pool on its own when nothing ties them
   (:mod:`.decompose`); over the k nearest candidate reps, widened when they make the model
   infeasible or hide the plan (:mod:`.elastic_pairs` adds only missing pairs first).
3. :mod:`.solve`: the LP relaxation (its objective is the lower bound reported with every
   plan), then ``exact`` (the MILP over the candidates; time limit, relative gap) or ``fix``
   (:mod:`.fix`: keep the LP's integral assignments, repair the bands (:mod:`.repair`,
   :mod:`.exchange`), resolve the rest as small MILPs, :mod:`.polish` the plan).
   :mod:`.checks` says whether a plan holds every band.
4. :mod:`.tables`: the status read honestly, the gap to the bound, the frames.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pandas as pd

from salesplan.scenarios.model import Scenario

from .decompose import pool_parts
from .diagnosis import check_input
from .errors import InfeasibleInputError
from .options import AlignmentOptions
from .pool_search import search_pools
from .preparation import Prepared, prepare
from .problem import AlignmentProblem
from .result import AlignmentResult
from .search import SearchContext, SearchPolicy, search
from .state import Phases
from .tables import RunInfo, build_result

__all__ = ["Prepared", "SearchPolicy", "align", "prepare", "solve_alignment"]


def align(scenario: Scenario, options: AlignmentOptions | None = None,
          travel: pd.DataFrame | None = None) -> AlignmentResult:
    """Align the accounts of ``scenario`` to its reps (see :func:`solve_alignment`).

    ``travel`` is an optional travel table (account, rep, distance|minutes) as a frame.
    """
    return solve_alignment(AlignmentProblem.from_scenario(scenario, travel), options)


def solve_alignment(problem: AlignmentProblem, options: AlignmentOptions | None = None, *,
                    policy: SearchPolicy | None = None,
                    progress: Callable[[float, str], None] | None = None) -> AlignmentResult:
    """Solve the alignment of ``problem`` under ``options``; see the module doc for the
    strategy. Raises :class:`InfeasibleInputError` (diagnosed before solving),
    :class:`InfeasiblePlanError` (proven infeasible; says what to relax) or
    :class:`NoSolutionError` (no plan within the time limit).

    ``policy``: how the candidate search widens and which fix-and-resolve it runs (default:
    :class:`~.search.SearchPolicy`, the measured settings); for experiments and tests.

    ``progress(fraction, message)`` hears the phases (preparing, candidates, the LP relaxation,
    the MILP or rounding and repair, the improvement rounds, each pool); reports only."""
    opts = options or AlignmentOptions()
    phases = Phases(progress)
    start = time.perf_counter()
    phases(0.0, "preparing the model (distances, eligibility, bands)")
    prep = prepare(problem, opts)
    phases(0.03, "checking the input")
    problems = check_input(problem, opts, prep)
    if problems:
        raise InfeasibleInputError(problems)
    solver = opts.solver_spec()
    ctx = SearchContext(solver, start, start + opts.time_limit, policy or SearchPolicy(),
                        phases.part(0.05, 0.95))
    parts = pool_parts(prep) if opts.split_pools else None
    if parts is None:
        found = search(problem, prep, opts, ctx)
    else:
        found = search_pools(problem, prep, opts, ctx, parts)
    seconds = time.perf_counter() - start
    run = RunInfo(seconds, solver.name, found.candidates, found.scope,
                  (*prep.notes, *found.notes))
    phases(0.97, "building the result tables")
    return build_result(problem, prep, found.outcome, run)
