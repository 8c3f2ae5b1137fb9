"""Quotas in the application layer: simulate, then allocate.

The quota engine (:mod:`salesplan.optimizer.quotas`) never imports the simulator; this module
composes the two. Every quota run simulates the scenario first (``replications`` x ``seed``), so
that each plan reports every rep's expected attainment and P(attainment >= 100%), and the ``fair``
method can set quotas of equal probability of attainment from the same draws.

The default method everywhere (``DEFAULT_METHOD``, ``blended``: capacity 50%, history 25%,
potential 25%) runs under the default bounds: ramp relief and the peer band (each rep within
0.5x-2x of its region's mean quota), so no rep gets an absurd quota (see ``docs/quotas.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field

import pandas as pd

from salesplan.optimizer.quotas import (
    DEFAULT_METHOD,
    Bounds,
    QuotaPlan,
    allocate_quotas,
    compare_methods,
)
from salesplan.scenarios import Scenario
from salesplan.simulator import SimulationResult, simulate

__all__ = ["QuotaRun", "compare_on", "horizon_quotas", "rep_quotas", "run_quota_comparison",
           "run_quotas", "simulate_for_quotas"]


def horizon_quotas(sc: Scenario, method: str, samples: object = None,
                   over_assign: float = 1.0) -> tuple[dict[str, float], list[str]]:
    """Horizon quota per rep (currency) from ``method``, and the quota engine's notes.
    ``samples`` are simulated bookings per rep (anything
    :func:`salesplan.optimizer.quotas.as_samples` takes); ``fair`` needs them, the other methods
    ignore them for the numbers."""
    plan = allocate_quotas(sc, method, samples=samples, over_assign=over_assign, by=(),
                           rounding=1000)
    per_rep = plan.quotas.groupby("rep")["quota"].sum()
    notes = [str(n) for n in plan.summary.get("notes") or []]
    return {rep: float(q) for rep, q in per_rep.items()}, notes


def rep_quotas(sc: Scenario, method: str, result: SimulationResult,
               over_assign: float = 1.0) -> dict[str, float]:
    """Horizon quota per rep (currency) from ``method``, using ``result`` as the simulated
    bookings (what ``fair`` needs; the other methods ignore them for the numbers)."""
    return horizon_quotas(sc, method, result.rep_bookings(), over_assign)[0]


@dataclass
class QuotaRun:
    """A quota plan with the simulation it was measured against (``result``: the simulated
    sales, kept so pay can be measured on the same draws)."""

    plan: QuotaPlan
    seed: int
    replications: int
    result: SimulationResult | None = field(default=None, repr=False)

    @property
    def quotas(self) -> pd.DataFrame:
        return self.plan.quotas

    @property
    def reps(self) -> pd.DataFrame:
        return self.plan.reps

    @property
    def summary(self) -> dict:
        return self.plan.summary | {"seed": self.seed, "replications": self.replications}


def simulate_for_quotas(sc: Scenario, replications: int, seed: int, workers: int | None,
                        progress: Callable[[int, int], None] | None = None,
                        executor: Executor | None = None) -> SimulationResult:
    """The simulation every quota run measures its plans against (no deal records kept);
    ``executor``: where the replications go (default: ``workers`` local processes)."""
    return simulate(sc, replications, seed, workers=workers, executor=executor, keep_deals=0,
                    progress=progress)


def run_quotas(scenario: Scenario, method: str = DEFAULT_METHOD, replications: int = 200,
               seed: int = 0, workers: int | None = None, over_assign: float = 1.0,
               pins: object = None, by: Sequence[str] | str | None = ("product", "segment",
                                                                       "month"),
               rounding: int = 1000, bounds: Bounds | None = None,
               progress: Callable[[int, int], None] | None = None,
               executor: Executor | None = None) -> QuotaRun:
    """Simulate ``scenario`` and allocate its target with ``method`` (see the module notes);
    ``bounds`` None means the default :class:`Bounds` (ramp relief and the peer band);
    ``executor``: where the replications go (see :func:`simulate_for_quotas`)."""
    result = simulate_for_quotas(scenario, replications, seed, workers, progress, executor)
    plan = allocate_quotas(scenario, method, samples=result.rep_bookings(),
                           over_assign=over_assign, pins=pins, by=by, rounding=rounding,
                           bounds=bounds)
    return QuotaRun(plan, seed, replications, result)


def run_quota_comparison(scenario: Scenario, replications: int = 200, seed: int = 0,
                         workers: int | None = None, over_assign: float = 1.0,
                         methods: Sequence[str] | None = None,
                         progress: Callable[[int, int], None] | None = None,
                         bounds: Bounds | None = None,
                         ) -> tuple[pd.DataFrame, dict[str, QuotaPlan]]:
    """Every method side by side on the same simulated draws (one summary row per method),
    under the same ``bounds`` (None: the defaults)."""
    result = simulate_for_quotas(scenario, replications, seed, workers, progress)
    return compare_on(scenario, result, over_assign, methods, bounds)


def compare_on(scenario: Scenario, result: SimulationResult, over_assign: float = 1.0,
               methods: Sequence[str] | None = None, bounds: Bounds | None = None,
               ) -> tuple[pd.DataFrame, dict[str, QuotaPlan]]:
    """Every method side by side on the simulated draws ``result`` (one summary row per
    method), under the same ``bounds`` (None: the defaults)."""
    return compare_methods(scenario, result.rep_bookings(), methods, over_assign=over_assign,
                           by=(), rounding=1000, bounds=bounds)
