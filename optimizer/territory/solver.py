"""The injected solver: HiGHS (through highspy) by default, CBC selectable.

The model (:mod:`.formulation`) never names a solver; :class:`SolverSpec` makes one with a time
limit (seconds) and a relative gap, runs it and reads the status honestly. PuLP reports
``"Optimal"`` when a time limit stopped the solve, so the outcome is read from
``prob.sol_status`` (1 optimal, 2 integer feasible, 0 none, -1 infeasible, -2 unbounded), and
with no solution the variable values (possibly relaxation values) are never used.

Besides the time limit, HiGHS can be given limits on work done (``highs_options``, e.g. a MIP
node limit): a solve stopped by one ends the same way on any machine, however loaded.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, replace
from typing import Any

import pulp

__all__ = ["SolveOutcome", "SolverSpec", "available_solvers"]

_PULP_NAMES = {"highs": "HiGHS", "cbc": "PULP_CBC_CMD"}


def available_solvers() -> list[str]:
    """Our solver names ("highs", "cbc") that PuLP can run on this machine."""
    have = set(pulp.listSolvers(onlyAvailable=True))
    return [name for name, pulp_name in _PULP_NAMES.items() if pulp_name in have]


@dataclass(frozen=True)
class SolveOutcome:
    """What one solve gave: ``state`` is ``"optimal"``, ``"feasible"`` (a solution, not proven
    optimal), ``"infeasible"``, ``"unbounded"`` or ``"none"`` (stopped without a solution).
    ``bound`` is the solver's proven lower bound when it reports one (HiGHS MIP dual bound; the
    objective itself for a solved LP), else None. ``seconds`` is wall time of the solve."""

    state: str
    objective: float | None
    bound: float | None
    seconds: float

    @property
    def has_solution(self) -> bool:
        return self.state in ("optimal", "feasible")


@dataclass(frozen=True)
class SolverSpec:
    """Which solver and how: ``name`` ``"highs"`` or ``"cbc"``, ``time_limit`` in seconds,
    ``gap`` the relative MIP gap at which to stop, ``threads`` (None: solver default), ``msg``
    to show the solver log.

    ``highs_options``: more HiGHS options as (name, value) pairs, set on every HiGHS solve,
    e.g. ``(("mip_max_nodes", 0),)``: a MIP stopped by a node, leaf or solution limit reads as
    one stopped by the time limit (a plan if it found one, else none). Limits on work done
    make an outcome independent of the machine's speed, which a time limit cannot. HiGHS only.

    To change how a solve runs (a test, an experiment), subclass and override :meth:`solve`
    or :meth:`solve_once`, and pass the instance as ``AlignmentOptions.solver``."""

    name: str = "highs"
    time_limit: float = 120.0
    gap: float = 0.005
    threads: int | None = None
    msg: bool = False
    highs_options: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        from .errors import InfeasibleInputError

        if self.name not in _PULP_NAMES:
            raise InfeasibleInputError(
                [f"unknown solver {self.name!r} (known: {', '.join(_PULP_NAMES)})"],
                "invalid solver option")
        if self.highs_options and self.name != "highs":
            raise InfeasibleInputError(
                [f"highs_options are HiGHS options; the solver is {self.name!r}"],
                "invalid solver option")

    @property
    def direct_highs(self) -> bool:
        """HiGHS with :meth:`solve` and :meth:`solve_once` as they are here: a path that
        drives highspy itself (column generation, :mod:`.colgen`) may run. A subclass that
        changes how solves run (a test, an experiment) keeps every LP on its own methods."""
        return (self.name == "highs" and type(self).solve is SolverSpec.solve
                and type(self).solve_once is SolverSpec.solve_once)

    def make(self, mip: bool = True, time_limit: float | None = None,
             warm_start: bool = False, interior: bool = False) -> pulp.LpSolver:
        """A PuLP solver object for one solve. ``warm_start`` passes the variables' current
        values as a MIP start (HiGHS through highspy, CBC through its own option);
        ``interior`` makes HiGHS solve an LP by its interior-point method (then crossover)."""
        limit = max(1.0, float(time_limit if time_limit is not None else self.time_limit))
        if self.name == "highs":
            cls = _WarmHiGHS if warm_start else _HiGHS
            extra = {**dict(self.highs_options), **({"solver": "ipm"} if interior else {})}
            return cls(mip=mip, msg=self.msg, timeLimit=limit, gapRel=self.gap,
                       threads=self.threads, **extra)
        with warnings.catch_warnings():
            # PuLP 3.x flags its bundled CBC as deprecated for 4.0; it is what ships today
            warnings.simplefilter("ignore", DeprecationWarning)
            return pulp.PULP_CBC_CMD(mip=mip, msg=self.msg, timeLimit=limit, gapRel=self.gap,
                                     threads=self.threads, warmStart=warm_start)

    def solve(self, prob: pulp.LpProblem, mip: bool = True,
              time_limit: float | None = None, warm_start: bool = False) -> SolveOutcome:
        """Solve ``prob`` (relaxed when ``mip`` is False) and read the status honestly.

        HiGHS's dual simplex can stop on an LP with no status at all ("ratio test failed due
        to excessive dual values"; measured on a 101,890-column pool of the 50k instance,
        after 4 s of a 136 s limit). An LP that ends so, with at least half its time left, is
        solved again once by the interior-point method (which proved that LP infeasible in
        4 s); the outcome's ``seconds`` cover both solves."""
        out = self.solve_once(prob, mip, time_limit, warm_start, interior=False)
        limit = time_limit if time_limit is not None else self.time_limit
        if self.name == "highs" and not mip and out.state == "none" \
                and out.seconds < 0.5 * limit:
            again = self.solve_once(prob, mip, limit - out.seconds, warm_start, interior=True)
            return replace(again, seconds=out.seconds + again.seconds)
        return out

    def solve_once(self, prob: pulp.LpProblem, mip: bool, time_limit: float | None,
                   warm_start: bool, *, interior: bool = False) -> SolveOutcome:
        """One solve of ``prob``, with no retry (``interior``: HiGHS's interior-point method
        for an LP), its status read honestly."""
        solver = self.make(mip=mip, time_limit=time_limit, warm_start=warm_start,
                           interior=interior)
        start = time.perf_counter()
        try:
            prob.solve(solver)
        except pulp.PulpSolverError:
            # CBC raises when it stops without writing a solution file
            return SolveOutcome("none", None, None, time.perf_counter() - start)
        seconds = time.perf_counter() - start
        sol = prob.sol_status
        if sol == pulp.constants.LpSolutionInfeasible or prob.status == -1:
            return SolveOutcome("infeasible", None, None, seconds)
        if sol == pulp.constants.LpSolutionUnbounded:
            return SolveOutcome("unbounded", None, None, seconds)
        if sol not in (pulp.constants.LpSolutionOptimal, pulp.constants.LpSolutionIntegerFeasible):
            return SolveOutcome("none", None, None, seconds)
        objective = float(pulp.value(prob.objective) or 0.0)
        state = "optimal" if sol == pulp.constants.LpSolutionOptimal else "feasible"
        bound = None
        if state == "optimal" and not mip:
            bound = objective
        elif self.name == "highs":
            bound = _highs_bound(prob, objective)
        if bound is None and state == "optimal":
            # CBC reports no dual bound; "optimal" certifies the relative gap it was given
            bound = objective - self.gap * abs(objective)
        return SolveOutcome(state, objective, bound, seconds)


class _HiGHS(pulp.HiGHS):
    """PuLP's highspy interface, reading also a stop by a node, leaf or solution limit
    (HiGHS's ``kSolutionLimit``, which PuLP does not map) the way PuLP reads a stop by the
    time limit: integer feasible with a solution, else no solution."""

    def findSolutionValues(self, lp):  # noqa: N802 - PuLP's name
        import highspy

        try:
            return super().findSolutionValues(lp)
        except KeyError:
            # PuLP has read the values; only its status table lacks the limit
            if lp.solverModel.getModelStatus() != highspy.HighsModelStatus.kSolutionLimit:
                raise
        if lp.solverModel.getObjectiveValue() == float("inf"):
            return pulp.constants.LpStatusNotSolved, pulp.constants.LpSolutionNoSolutionFound
        return pulp.constants.LpStatusOptimal, pulp.constants.LpSolutionIntegerFeasible


class _WarmHiGHS(_HiGHS):
    """PuLP's highspy interface plus a MIP start from the variables' current values."""

    def actualSolve(self, lp, callback=None):  # noqa: N802 - PuLP's name
        import highspy

        self.createAndConfigureSolver(lp)
        self.buildSolverModel(lp)
        start = highspy.HighsSolution()
        start.col_value = [float(v.varValue or 0.0) for v in lp.variables()]
        start.value_valid = True
        lp.solverModel.setSolution(start)
        self.callSolver(lp)
        status, sol_status = self.findSolutionValues(lp)
        for var in lp.variables():
            var.modified = False
        for constraint in lp._constraints.values():
            constraint.modifier = False
        lp.assignStatus(status, sol_status)
        return status


def _highs_bound(prob: pulp.LpProblem, objective: float) -> float | None:
    """The MIP dual bound HiGHS proved, with the model's objective constant added back."""
    model = getattr(prob, "solverModel", None)
    if model is None:
        return None
    try:
        info = model.getInfo()
        bound = float(info.mip_dual_bound)
        raw_obj = float(model.getObjectiveValue())
    except Exception:  # pragma: no cover - depends on highspy version
        return None
    if not abs(bound) < 1e300:
        return None
    # HiGHS' objective excludes PuLP's constant term; shift the bound the same way
    return bound + (objective - raw_obj)
