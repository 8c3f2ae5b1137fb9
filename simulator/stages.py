# ruff: noqa: N806  (single capitals follow the model notation: S stages, H horizon...)
"""Stage conversion: when a deal gets its slot, its whole path through the funnel is known.

At stage k a deal advances iff ``U_k < sigmoid(logit(p_k) + log(grade multiplier) +
log(rep productivity x ramp factor))``, where ``U_k`` is the lead's pre-drawn uniform for that
stage and ``p_k`` the stage's conversion for the lead's segment and product (overrides resolved).
At the first stage the advance probability is further multiplied by ``2 ** (-wait / half_life)``
(lead-response decay; ``wait`` is days from arrival to first contact). The ramp factor is taken at
first contact and held for the deal's life (a deal started by a ramping rep keeps the factor of
that day). A deal lost at stage k spends the durations of stages 0..k; a won deal those of all
stages: its *service time*.

In log-odds terms, stage k >= 1 is passed iff ``m_k = logit(U_k) - logit(p_k) - log(grade)`` is
below the rep term ``x``; passing stages 1..j needs ``max(m_1..m_j) < x``, so the number of later
stages passed is a bisection in the running maximum of ``m`` (precomputed per lead).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass

import numpy as np

from .leads import LeadBatch
from .plan import Plan

__all__ = ["StageTables", "first_stage_probability", "stage_tables"]


@dataclass
class StageTables:
    """Per-lead tables (numpy; the engine turns the few columns its hot path reads into
    Python lists, whose element access is faster). The 2-D tables are transposed views of
    [stage, lead] arrays, so a stage's column is contiguous."""

    a0: np.ndarray            # logit(p_0) + log(grade): first stage log-odds before the rep
    u0: np.ndarray            # first-stage uniform
    run_max: np.ndarray       # [n, S - 1] running max of m_k over stages 1..S-1
    cum: np.ndarray           # [n, S + 1] cumulative stage durations (cum[:, 0] = 0)

    def row_max(self, i: int) -> np.ndarray:
        return self.run_max[i]


def stage_tables(plan: Plan, leads: LeadBatch) -> StageTables:
    # Stage by stage over all leads ([S, n] arrays), so every operation runs along contiguous
    # rows; the running max and the cumulative sum are one ufunc call per stage (numpy's
    # accumulate along the short axis is ~5x slower), with the same operations per lead.
    S, n = plan.n_stages, len(leads)
    u = np.ascontiguousarray(leads.uniforms.T)
    a = plan.conv_logit[:, leads.segment, leads.product] + plan.grade_log_mult[leads.grade]
    if plan.source_log_mult.any():  # lead sources' odds multipliers (none on other deals)
        src = leads.source
        a = a + np.where(src >= 0, plan.source_log_mult[np.maximum(src, 0)], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.log(u[1:])
        m -= np.log1p(-u[1:])
        m -= a[1:]
    run_max = m  # in place: row k becomes max(m_1..m_k)
    for k in range(1, S - 1):
        np.maximum(run_max[k - 1], m[k], out=run_max[k])
    d = leads.durations.T
    cum = np.empty((S + 1, n))
    cum[0] = 0.0
    if S:
        cum[1] = d[0]
    for k in range(1, S):
        np.add(cum[k], d[k], out=cum[k + 1])
    return StageTables(a[0], u[0], run_max.T, cum.T)


def first_stage_probability(a0: float, x: float) -> float:
    """sigmoid(a0 + x), safe for infinite and large arguments."""
    z = a0 + x
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def exit_stage(a0: float, u0: float, run_max: np.ndarray, x: float, wait: float,
               half_life: float | None) -> int:
    """Stages passed (``S`` = won; ``k < S``: lost at stage k); ``run_max`` is the lead's row."""
    p = first_stage_probability(a0, x)
    if half_life is not None and wait > 0:
        p *= 2.0 ** (-wait / half_life)
    if u0 >= p:
        return 0
    return 1 + bisect_left(run_max, x)
