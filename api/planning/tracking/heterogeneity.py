"""What the pooled closing model does not see: reps that convert better or worse than the
pool, and arrivals that swing from month to month. Both are estimated from the history before
the cut only.

**Rep win ratio** (empirical Bayes). Over deals closed in the trailing
``WIN_RATE_WINDOW_DAYS`` days, rep ``r`` won ``k_r`` of ``n_r``; the pooled share is ``p``.
The between-rep variance of the true shares is the method-of-moments
``tau2 = max(var(k/n) - mean(p (1 - p) / n), 0)`` over reps with at least 10 closes; a rep's
share is shrunk toward ``p`` with weight ``w = tau2 / (tau2 + p (1 - p) / n_r)``, its posterior
standard deviation ``sqrt(w p (1 - p) / n_r)``. The landing multiplies the won probability of
the rep's open and new deals by ``(shrunk share + sd z) / p`` (``z`` standard normal per rep
and replication; at least 0.05).

**Arrival swings** (a gamma-Poisson-like frailty). Created deals per rep and calendar month over
the last ``SWING_MONTHS`` full months before the cut (not before the export's left truncation)
vary more than Poisson noise. Monthly totals ``T_m`` give the swing common to all reps,
``s2c = log(1 + max(var(T) - mean(T), 0) / mean(T)^2)``; the rest, each rep's own,
``s2w = log(1 + max(sum((N - E)^2 - E), 0) / sum(E^2))`` with ``E_rm = share_r T_m``. The
landing multiplies each replication's arrival rates by ``exp(zc sqrt(s2c) - s2c / 2)`` (one
per replication) and ``exp(zw sqrt(s2w) - s2w / 2)`` (one per rep and replication): mean one.
Fewer than 3 months: not estimated (0, noted).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .standing import WIN_RATE_WINDOW_DAYS
from .state import AsOfState

__all__ = ["SWING_MONTHS", "Heterogeneity", "heterogeneity"]

SWING_MONTHS = 6
MIN_CLOSES = 10


@dataclass
class Heterogeneity:
    """Per arrival unit: ``win_ratio`` (posterior mean share / pooled share) and
    ``win_ratio_sd``; ``arrival_common_log_var``, ``arrival_own_log_var``; ``facts`` and
    ``notes`` for the summary."""

    win_ratio: np.ndarray
    win_ratio_sd: np.ndarray
    arrival_common_log_var: float
    arrival_own_log_var: float
    facts: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def heterogeneity(state: AsOfState, units: list[str]) -> Heterogeneity:
    """The estimates of the module docstring for the arrival ``units`` (reps, "")."""
    ratio, sd, tau2, pooled = _win_ratios(state, units)
    s2c, s2w, months = _swings(state, units)
    h = Heterogeneity(ratio, sd, s2c, s2w)
    h.facts = {"rep_win_share_between_sd": math.sqrt(tau2), "pooled_win_share": pooled,
               "arrival_swing_common_log_sd": math.sqrt(s2c),
               "arrival_swing_own_log_sd": math.sqrt(s2w), "arrival_swing_months": months}
    if months < 3:
        h.notes.append(f"arrival swings not estimated: {months} full month(s) of arrivals "
                       "before the cut (3 needed)")
    return h


def _win_ratios(state: AsOfState, units: list[str]) -> tuple[np.ndarray, np.ndarray, float,
                                                               float]:
    d = state.deals
    start = state.cut - pd.Timedelta(days=WIN_RATE_WINDOW_DAYS)
    closed = d[d["outcome"].isin(["won", "lost"]) & d["close_date"].ge(start)]
    if closed.empty:
        return np.ones(len(units)), np.zeros(len(units)), 0.0, math.nan
    p = float(closed["outcome"].eq("won").mean())
    g = closed.groupby("rep")["outcome"].agg(k=lambda s: int(s.eq("won").sum()), n="size")
    g = g.reindex(units, fill_value=0)
    ok = (g["n"] >= MIN_CLOSES) & (g.index != "")
    tau2 = 0.0
    if ok.sum() >= 3 and 0 < p < 1:
        share = g.loc[ok, "k"] / g.loc[ok, "n"]
        tau2 = max(float(share.var(ddof=1) - (p * (1 - p) / g.loc[ok, "n"]).mean()), 0.0)
    ratio, sd = np.ones(len(units)), np.zeros(len(units))
    if tau2 <= 0 or not 0 < p < 1:
        return ratio, sd, tau2, p
    for i, (u, row) in enumerate(g.iterrows()):
        if u == "" or row["n"] == 0:
            continue
        v = p * (1 - p) / row["n"]
        w = tau2 / (tau2 + v)
        ratio[i] = (p + w * (row["k"] / row["n"] - p)) / p
        sd[i] = math.sqrt(w * v) / p
    return ratio, sd, tau2, p


def _swings(state: AsOfState, units: list[str]) -> tuple[float, float, int]:
    d = state.deals
    last = state.cut.to_period("M") - 1          # the last full month before the cut
    first = last - (SWING_MONTHS - 1)
    trunc = d.attrs.get("truncation_date")
    if trunc is not None:
        t = pd.Timestamp(trunc).to_period("M")
        first = max(first, t if pd.Timestamp(trunc).day == 1 else t + 1)
    if first > last:
        return 0.0, 0.0, 0
    months = pd.period_range(first, last, freq="M")
    m = d["created_date"].dt.to_period("M")
    sel = d[m.between(first, last)]
    n = (sel.assign(month=m[sel.index]).groupby(["rep", "month"]).size()
         .unstack(fill_value=0).reindex(index=units, columns=months, fill_value=0)
         .to_numpy(float))
    if len(months) < 3 or n.sum() == 0:
        return 0.0, 0.0, len(months)
    total = n.sum(axis=0)
    mean = total.mean()
    s2c = math.log1p(max(float(total.var(ddof=1) - mean), 0.0) / mean ** 2)
    e = n.sum(axis=1, keepdims=True) / n.sum() * total[None, :]
    s2w = math.log1p(max(float(((n - e) ** 2 - e).sum()), 0.0) / float((e ** 2).sum()))
    return s2c, s2w, len(months)
