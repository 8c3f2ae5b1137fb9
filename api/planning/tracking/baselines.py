"""The two baselines a sales team would use, beside the simulation in every output, and how
each becomes a probability.

- **Run rate**: won to date plus the entity's won amount per working day over the trailing
  ``RUNRATE_WINDOW_DAYS`` days before the cut (not before the export's left-truncation date),
  times the working days left in the period.
- **Weighted pipeline**: won to date, plus each open deal's value times its stage's win rate
  (:mod:`.standing`), plus a run rate for deals not yet created: over the same trailing window,
  each won deal ``j`` (amount ``a_j``, created-to-won age ``g_j`` days) stands for a deal that
  could be created on any of the ``max(0, D - g_j)`` days left in the period (``D``) and still
  close in it, so the new-deal term is ``sum_j a_j max(0, D - g_j) / window days``. An open
  deal may close after the period: the weighted pipeline does not say when, which is how such
  tools count it.

**As probabilities.** A baseline gives a point landing ``L = won to date + m``. Its spread is
taken as the sampling noise of a compound Poisson sum: ``m / mu`` deals of the entity's won
amounts (mean ``mu``, mean square ``s2``), so ``sd = sqrt(m s2 / mu)``; the landing is normal
with that spread above the won to date: ``P(hit) = 1 - Phi((target - L) / sd)`` (1 when the
won to date already reaches the target) and
``P10, P90 = L -/+ 1.2816 sd`` (the low end not below won to date). With ``m = 0``, ``P(hit)``
is 1 or 0. This is the most generous reading of a point forecast that knows nothing of the
model's error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .periods import Period, working_days
from .state import AsOfState

__all__ = ["RUNRATE_WINDOW_DAYS", "baseline_probability", "new_deal_runrate", "runrate"]

RUNRATE_WINDOW_DAYS = 91
Z90 = 1.2815515655446004


def _window(state: AsOfState) -> tuple[pd.Timestamp, pd.DataFrame]:
    d = state.deals
    start = state.cut - pd.Timedelta(days=RUNRATE_WINDOW_DAYS)
    trunc = d.attrs.get("truncation_date")
    if trunc is not None and start < trunc:
        start = pd.Timestamp(trunc)
    won = d[d["outcome"].eq("won") & d["close_date"].ge(start) & d["close_date"].lt(state.cut)]
    return start, won


def remaining_days(state: AsOfState, period: Period) -> tuple[int, int]:
    """Working days and calendar days from the cut (or the period start) to the period end."""
    first = max(state.cut, period.start)
    return working_days(first, period.end), max(int((period.end - first).days) + 1, 0)


def runrate(state: AsOfState, mask: np.ndarray, period: Period) -> float:
    """Expected further wins (currency) by the run rate (module docstring)."""
    start, won = _window(state)
    won = won[mask[won["cell"].to_numpy()]]
    per_day = won["amount"].sum() / max(working_days(start, state.cut - pd.Timedelta(days=1)),
                                        1)
    return float(per_day * remaining_days(state, period)[0])


def new_deal_runrate(state: AsOfState, mask: np.ndarray, period: Period) -> float:
    """Expected further wins (currency) from deals not yet created (module docstring)."""
    start, won = _window(state)
    won = won[mask[won["cell"].to_numpy()]]
    _, left = remaining_days(state, period)
    age = (won["close_date"] - won["created_date"]).dt.days.fillna(np.inf).to_numpy()
    span = max(int((state.cut - start).days), 1)
    return float((won["amount"].fillna(0).to_numpy() * np.maximum(left - age, 0)).sum() / span)


def baseline_probability(done: float, extra: float, target: float, amounts: np.ndarray
                         ) -> tuple[float, float, float]:
    """(P10, P90, P(hit)) of a baseline landing ``done + extra`` read as a compound Poisson
    sum of ``amounts``-sized deals (module docstring)."""
    point = done + extra
    a = amounts[amounts > 0]
    if extra <= 0 or a.size == 0:
        return point, point, float(point >= target)
    sd = float(np.sqrt(extra * np.mean(a ** 2) / np.mean(a)))
    # no landing below the won to date: a target already reached is hit
    p_hit = 1.0 if done >= target else float(stats.norm.sf((target - point) / sd))
    return max(point - Z90 * sd, done), point + Z90 * sd, p_hit
