"""Band checks of a plan: which reps are out of a hard band or over capacity, by how much, and
whether a plan keeps every hard constraint (bands, capacities, move caps).

A plan is ``assign``, the rep column of each account; ``spec`` is the model's
:class:`~.formulation.ModelSpec`. Band violations are fractions of the rep's target mu_j.
"""

from __future__ import annotations

import numpy as np

from .formulation import ModelSpec
from .repair import MoveBudget

__all__ = ["BAND_TOLERANCE", "holds", "violated_reps", "violation_score", "worst_violation"]

BAND_TOLERANCE = 1e-6
"""A band holds within this fraction of the rep's target. The band rows are scaled by the
target (:mod:`.formulation`), and HiGHS holds rows to its primal feasibility tolerance, 1e-7:
a plan from a fix-and-resolve MILP can sit 1e-7 of the target outside a band. With an
acceptance check of 1e-9 such a plan was rejected ("1 reps violated (worst 0.0000)", issue
#24) and the search went on for minutes; 1e-6 of the target (1 USD on 1 million) is below
anything a planner reads."""


def worst_violation(spec: ModelSpec, assign: np.ndarray) -> float:
    """Largest band violation as a fraction of the rep's target (0: every band held)."""
    m = len(spec.rep_ids)
    worst = 0.0
    for band in spec.bands:
        load = np.bincount(assign, weights=band.values, minlength=m)
        ok = band.mu > 0
        dev = np.abs(load[ok] / band.mu[ok] - 1) - band.tolerance
        if dev.size:
            worst = max(worst, float(dev.max()))
    return worst


def violated_reps(spec: ModelSpec, assign: np.ndarray) -> np.ndarray:
    """Reps outside a hard band (by more than :data:`BAND_TOLERANCE` of the target) or over
    capacity, as a bool mask."""
    m = len(spec.rep_ids)
    bad = np.zeros(m, dtype=bool)
    for band in spec.bands:
        load = np.bincount(assign, weights=band.values, minlength=m)
        tol = BAND_TOLERANCE * np.maximum(band.mu, 1.0)
        pos = band.mu > 0
        bad |= pos & ((load > (1 + band.tolerance) * band.mu + tol)
                      | (load < (1 - band.tolerance) * band.mu - tol))
    work = np.bincount(assign, weights=spec.workload, minlength=m)
    bad |= work > spec.capacity + 1e-6
    return bad


def violation_score(spec: ModelSpec, assign: np.ndarray) -> float:
    """How far a plan is from holding its bands, for comparing fix-and-resolve rounds: 10 per
    rep out of band or capacity, plus the largest band violation (fraction of the target)."""
    return worst_violation(spec, assign) + 10.0 * float(violated_reps(spec, assign).sum())


def holds(spec: ModelSpec, assign: np.ndarray) -> bool:
    """Every hard band, capacity and move cap holds."""
    return not violated_reps(spec, assign).any() and MoveBudget(spec, assign).within()
