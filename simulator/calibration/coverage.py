"""How well the backtest's simulated distributions cover what happened: the PIT value of one
actual, and the Monte Carlo error of the interval coverage (:func:`coverage_monte_carlo`: the
resampling units, parameter draws or replications, resampled with replacement)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["MC_RESAMPLES", "coverage_monte_carlo", "pit"]

MC_RESAMPLES = 200


def pit(sims: np.ndarray, actual: float) -> float:
    """The simulated CDF at ``actual`` (mid-rank for ties): a well calibrated forecast gives
    uniform PIT values."""
    return float((np.sum(sims < actual) + 0.5 * np.sum(sims == actual)) / sims.size)


def coverage_monte_carlo(sims: np.ndarray, actual: np.ndarray, unit: np.ndarray,
                         rng: np.random.Generator, resamples: int = MC_RESAMPLES,
                         groups: np.ndarray | None = None) -> dict[str, Any]:
    """How much the interval coverage owes to the Monte Carlo error of the simulated
    quantiles. ``sims``: replications x cells; ``actual``: per cell; ``unit``: per replication,
    the resampling unit (its parameter draw: replications of one draw share its parameters,
    so they are resampled together); ``groups``: per cell, the measure it belongs to (default:
    one group, ``"all"``). The units are resampled with replacement ``resamples`` times, the
    same picks for every cell; each time the P10/P25/P75/P90 of every cell are recomputed.

    Returns ``ranges[group]["coverage_80"]`` and ``["coverage_50"]``: the 5th and 95th
    percentiles over the resamples of the share of the group's cells inside the interval
    (lower and higher order statistics, so each end is a coverage that occurred), plus
    ``"pooled"`` over every cell when there are several groups; per cell ``in_80_share`` and
    ``in_50_share``, the share of resamples that put the actual inside (near 0.5: the cell sits
    at an interval edge, and at this many replications the Monte Carlo error, not a real miss,
    may decide its side); ``units``. With fewer than 2 units there is nothing to resample: the
    ranges are None and the shares NaN."""
    sims = np.asarray(sims, dtype=float)
    actual = np.asarray(actual, dtype=float)
    groups = np.full(actual.size, "all", dtype=object) if groups is None else np.asarray(groups)
    names = list(dict.fromkeys(groups.tolist()))
    if len(names) > 1:
        names.append("pooled")
    units, inverse = np.unique(np.asarray(unit), return_inverse=True)
    if units.size < 2:
        nan = np.full(actual.size, np.nan)
        return {"ranges": {g: {"coverage_80": None, "coverage_50": None} for g in names},
                "in_80_share": nan, "in_50_share": nan.copy(), "units": int(units.size)}
    in80, in50 = _resampled_inside(sims, actual, inverse, units.size, rng, resamples)
    ranges = {}
    for g in names:
        cols = np.ones(actual.size, dtype=bool) if g == "pooled" else groups == g
        ranges[g] = {"coverage_80": _spread(in80, cols), "coverage_50": _spread(in50, cols)}
    return {"ranges": ranges, "in_80_share": in80.mean(axis=0),
            "in_50_share": in50.mean(axis=0), "units": int(units.size)}


def _resampled_inside(sims: np.ndarray, actual: np.ndarray, inverse: np.ndarray,
                      n_units: int, rng: np.random.Generator, resamples: int
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Per resample (rows) and cell (columns): whether the actual is inside the resample's
    P10-P90 and P25-P75 intervals (``inverse``: each replication's unit index)."""
    rows = [np.flatnonzero(inverse == i) for i in range(n_units)]
    in80 = np.zeros((resamples, actual.size), dtype=bool)
    in50 = np.zeros_like(in80)
    for b in range(resamples):
        pick = rng.integers(0, n_units, n_units)
        x = sims[np.concatenate([rows[i] for i in pick])]
        q10, q25, q75, q90 = np.percentile(x, [10, 25, 75, 90], axis=0)
        in80[b] = (q10 <= actual) & (actual <= q90)
        in50[b] = (q25 <= actual) & (actual <= q75)
    return in80, in50


def _spread(inside: np.ndarray, cols: np.ndarray) -> list[float]:
    """The 5th (lower) and 95th (higher order statistic) percentiles over the resamples of the
    share of the cells ``cols`` inside."""
    cov = inside[:, cols].mean(axis=1)
    return [float(np.percentile(cov, 5, method="lower")),
            float(np.percentile(cov, 95, method="higher"))]
