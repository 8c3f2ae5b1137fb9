"""The typed result of an alignment: frames and metrics, never a raw ``LpProblem``.

``assignment`` (one row per account): ``account``, ``rep``, ``previous_owner``, ``moved``
(bool: had an owner and now has another rep), ``locked``, ``distance`` (km or minutes, see
``distance_unit``), ``potential`` (currency/yr), ``workload_hours`` (hours/yr), and ``region`` /
``segment`` when known.

``territories`` (one row per rep): ``rep``, ``region``, ``pool``, ``accounts``, ``potential``,
``workload_hours``, ``capacity_hours`` (NaN: none), ``mean_distance``, ``max_distance``,
``moved_in`` (accounts gained from other owners), and for each metric (workload, potential,
accounts) ``{metric}_target`` (the pool-mean target) and ``{metric}_dev`` (load / target - 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["AlignmentMetrics", "AlignmentResult"]


def status_text(gap: float | None, solver_optimal: bool, time_limited: bool = False) -> str:
    """"optimal" when proven within 0.01%, else "feasible (gap x%)"; a plan returned because
    the time limit ended the search (the best repaired plan found on the way) is
    "feasible (time limit, best repaired plan, gap x%)"."""
    if time_limited:
        return ("feasible (time limit, best repaired plan, "
                + ("gap unknown)" if gap is None else f"gap {gap:.2%})"))
    if gap is not None and gap <= 1e-4 and solver_optimal:
        return "optimal"
    if gap is None:
        return "feasible (gap unknown)"
    return f"feasible (gap {gap:.2%})"


@dataclass(frozen=True)
class AlignmentMetrics:
    """Headline figures. ``objective`` and ``bound`` are in the model's units (weighted distance
    units); ``bound`` is the LP relaxation bound (or the solver's better MIP bound) over
    ``bound_scope`` ("all eligible pairs" or "k nearest candidates"); ``gap`` =
    (objective - bound) / objective. ``weighted_distance`` = sum_i w_i d_i with w normalised to
    mean 1 (distance units); ``total_distance`` = sum_i d_i; ``moves`` and ``moved_potential``
    (currency/yr) count accounts now with a rep other than their previous owner. ``balance``
    maps each metric to ``max_over_mean``, ``min_over_mean`` and ``cv`` of load / target.
    ``time_limited_plan``: the time limit ended the search (of at least one pool) before it had
    a plan of its own, and the plan (of those pools) is the best repaired plan found on the
    way; its gap is honest all the same."""

    status: str
    objective: float
    bound: float | None
    gap: float | None
    bound_scope: str
    solve_seconds: float
    strategy: str
    solver: str
    candidates: int | None
    moves: int
    moved_potential: float
    weighted_distance: float
    total_distance: float
    distance_unit: str
    balance: dict[str, dict[str, float]]
    max_band_violation: dict[str, float] = field(default_factory=dict)
    time_limited_plan: bool = False


@dataclass(frozen=True, eq=False)
class AlignmentResult:
    """An alignment: ``assignment`` and ``territories`` frames (see the module doc), the
    ``metrics``, and ``notes`` saying what was widened, clipped or ignored."""

    assignment: pd.DataFrame
    territories: pd.DataFrame
    metrics: AlignmentMetrics
    notes: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        return self.metrics.status

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary: status, objective, bound, gap, moves, solve_seconds, per-metric
        balance (``max_over_mean``, ``min_over_mean``, ``cv``) and the notes."""
        m = self.metrics

        def clean(v):
            if isinstance(v, float) and not math.isfinite(v):
                return None
            return v

        return {
            "status": m.status,
            "objective": clean(m.objective),
            "bound": clean(m.bound),
            "gap": clean(m.gap),
            "bound_scope": m.bound_scope,
            "moves": m.moves,
            "moved_potential": m.moved_potential,
            "solve_seconds": round(m.solve_seconds, 3),
            "strategy": m.strategy,
            "solver": m.solver,
            "candidates": m.candidates,
            "weighted_distance": m.weighted_distance,
            "total_distance": m.total_distance,
            "distance_unit": m.distance_unit,
            "accounts": len(self.assignment),
            "reps": len(self.territories),
            "balance": {k: {s: clean(v) for s, v in d.items()} for k, d in m.balance.items()},
            "max_band_violation": m.max_band_violation,
            "time_limited_plan": m.time_limited_plan,
            "notes": list(self.notes),
        }
