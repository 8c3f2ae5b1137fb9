"""Equal chance of attainment: every rep gets the same probability of reaching quota.

With simulated horizon bookings ``B_r`` (replications x reps), choose one quantile level ``tau``
and set ``Q_r = F_r^{-1}(tau)`` (each rep's empirical ``tau``-quantile, linear interpolation
between order statistics, as ``numpy.quantile(..., method="linear")``) so that
``sum_r Q_r = total``. Every rep then has ``P(B_r >= Q_r) = 1 - tau`` up to Monte Carlo error.

The sum of the quantiles is non-decreasing in ``tau`` and linear between the grid points
``k / (n - 1)`` (the same for every rep), so ``tau`` is found exactly: the sums of the k-th order
statistics bracket the total, and one linear interpolation hits it to rounding error.

If the total lies outside the simulated range (below the sum of every rep's worst draw or above
the sum of the best), no quantile level reaches it; the normal approximation
``Q_r = mu_r + z sigma_r`` with ``z = (total - sum mu) / sum sigma`` is used instead and the
plan notes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import QuotaError

__all__ = ["as_samples", "equal_chance_quotas", "normal_fair_quotas"]


def as_samples(samples: object, rep_ids: Sequence[str]) -> pd.DataFrame:
    """Simulated horizon bookings as a (replications x reps) frame with rep-id columns.

    Accepts: a wide ``DataFrame`` (one column per rep id, one row per replication); a long
    ``DataFrame`` with columns ``replication``, ``rep`` and ``bookings``; a mapping
    rep id -> array of draws; or a 2-D array whose columns follow ``rep_ids`` (scenario order).
    Values are currency over the horizon. Reps missing from the samples are reported.
    """
    if isinstance(samples, pd.DataFrame):
        cols = set(map(str, samples.columns))
        if {"replication", "rep", "bookings"} <= cols:
            frame = samples.pivot_table(index="replication", columns="rep", values="bookings",
                                        aggfunc="sum", fill_value=0.0)
        else:
            frame = samples.copy()
        frame.columns = [str(c) for c in frame.columns]
    elif isinstance(samples, Mapping):
        frame = pd.DataFrame({str(k): np.asarray(v, dtype=float) for k, v in samples.items()})
    else:
        arr = np.asarray(samples, dtype=float)
        if arr.ndim != 2 or arr.shape[1] != len(rep_ids):
            raise QuotaError(f"samples must be a (replications x reps) array with "
                             f"{len(rep_ids)} columns, got shape {arr.shape}")
        frame = pd.DataFrame(arr, columns=list(rep_ids))
    missing = [r for r in rep_ids if r not in frame.columns]
    if missing:
        shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
        raise QuotaError(f"simulated bookings are missing for {len(missing)} rep(s): {shown}")
    frame = frame[list(rep_ids)].astype(float)
    if len(frame) < 2:
        raise QuotaError(f"need at least 2 replications of simulated bookings, got {len(frame)}")
    if not np.isfinite(frame.to_numpy()).all():
        raise QuotaError("simulated bookings contain missing or infinite values")
    return frame


def normal_fair_quotas(mu: np.ndarray, sigma: np.ndarray, total: float) -> np.ndarray:
    """The normal-approximation equal-chance quotas ``mu + z sigma``, ``z`` making them sum to
    ``total`` (with no spread at all: an equal increment on the means)."""
    mu = np.asarray(mu, dtype=float)
    sigma = np.asarray(sigma, dtype=float)
    if sigma.sum() <= 0:
        return mu + (total - mu.sum()) / mu.size
    z = (total - mu.sum()) / sigma.sum()
    return mu + z * sigma


def equal_chance_quotas(draws: np.ndarray, total: float) -> tuple[np.ndarray, float | None]:
    """Quotas at one common quantile level summing to ``total`` exactly (floating point).

    ``draws`` is (replications x reps). Returns ``(quotas, tau)``; ``tau`` is None when the total
    is outside the simulated range and the normal approximation was used.
    """
    x = np.sort(np.asarray(draws, dtype=float), axis=0)
    n = x.shape[0]
    sums = x.sum(axis=1)
    if total < sums[0] or total > sums[-1]:
        return normal_fair_quotas(x.mean(axis=0), x.std(axis=0, ddof=1), total), None
    k = int(np.searchsorted(sums, total, side="left"))
    if k == 0:
        return x[0].copy(), 0.0
    lo, hi = sums[k - 1], sums[k]
    theta = 0.0 if hi <= lo else (total - lo) / (hi - lo)
    q = x[k - 1] + theta * (x[k] - x[k - 1])
    tau = (k - 1 + theta) / (n - 1)
    return q, float(tau)
