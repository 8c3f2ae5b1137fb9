"""Territory alignment: accounts to reps, balanced, compact, with few moves, at scale.

Start with :func:`align` (a scenario) or :func:`solve_alignment` (plain arrays in an
:class:`AlignmentProblem`); options in :class:`AlignmentOptions`; the result is an
:class:`AlignmentResult`. :func:`tradeoff` sweeps the disruption weight (or the move cap) and
returns the Pareto points. See ``docs/territory.md``.
"""

from .alignment import align, solve_alignment
from .distance import TravelTable, haversine_km, travel_table
from .errors import AlignmentError, InfeasibleInputError, InfeasiblePlanError, NoSolutionError
from .heuristics import greedy_lpt, measure_plan, nearest_rep
from .options import METRICS, AlignmentOptions, BalanceBand, parse_balance
from .problem import AlignmentProblem
from .result import AlignmentMetrics, AlignmentResult
from .solver import SolveOutcome, SolverSpec, available_solvers
from .tradeoff import pareto_mask, tradeoff

__all__ = [
    "METRICS",
    "AlignmentError",
    "AlignmentMetrics",
    "AlignmentOptions",
    "AlignmentProblem",
    "AlignmentResult",
    "BalanceBand",
    "InfeasibleInputError",
    "InfeasiblePlanError",
    "NoSolutionError",
    "SolveOutcome",
    "SolverSpec",
    "TravelTable",
    "align",
    "available_solvers",
    "greedy_lpt",
    "haversine_km",
    "measure_plan",
    "nearest_rep",
    "pareto_mask",
    "parse_balance",
    "solve_alignment",
    "tradeoff",
    "travel_table",
]
