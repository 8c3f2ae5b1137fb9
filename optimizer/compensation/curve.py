"""The commission curve: earned variable pay as a fraction of target variable, by attainment.

For a plan with tiers ``(a_0, r_0), (a_1, r_1), ..., (a_K, r_K)`` (``above`` strictly
increasing, ``a_{K+1} = +inf``), threshold ``t`` and cap ``c`` (a multiple of target variable),
the fraction earned at cumulative attainment ``a >= 0`` is::

    g(a) = sum_k r_k * clip(a - a_k, 0, a_{k+1} - a_k)
    f(a) = 0                  if a < t        (the threshold gates the whole curve)
         = min(g(a), c)       otherwise       (no cap: c = +inf)

So the base commission rate (target variable / quota) times ``r_k`` is paid on the attainment
within tier ``k``; below the first tier's ``above`` nothing is earned. ``f`` is non-decreasing
in ``a`` (rates are non-negative; a decelerator only lowers the slope) and never exceeds ``c``.
"""

from __future__ import annotations

import numpy as np

from salesplan.scenarios.compensation import PayPlan

__all__ = ["commission_fraction"]


def commission_fraction(plan: PayPlan, attainment: np.ndarray) -> np.ndarray:
    """``f(attainment)`` of the module docstring, elementwise (attainment as a fraction)."""
    a = np.asarray(attainment, dtype=float)
    edges = [t.above for t in plan.rates] + [np.inf]
    g = np.zeros_like(a)
    for k, tier in enumerate(plan.rates):
        width = edges[k + 1] - edges[k]
        g += tier.rate * np.clip(a - edges[k], 0.0, width)
    if plan.cap is not None:
        g = np.minimum(g, plan.cap)
    return np.where(a >= plan.threshold, g, 0.0)
