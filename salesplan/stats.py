"""Monte Carlo summaries with honest uncertainty: the one statistics module of salesplan.

Every summary of replicated output goes through here (the simulator's result summary, the what-if
runner, its reports, the strategy benchmarks), so a mean always carries a t-based interval and a
probability always the Wilson score interval, whoever reports it.

All intervals are two-sided 95% unless stated. Replications are independent; a *paired* interval
uses replications that share their random numbers (common random numbers) across two scenarios,
which is why its width is usually far smaller than the unpaired (Welch) interval on the same data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["Estimate", "Proportion", "describe", "estimate", "paired_difference", "proportion",
           "unpaired_difference", "wilson_interval"]

Z95 = 1.959963984540054
"""Two-sided 95% normal quantile."""


@dataclass(frozen=True)
class Estimate:
    """Mean of a replicated quantity with a t-based 95% CI of the mean, and quantiles across
    replications (P10/P50/P90 describe the spread of outcomes, not the uncertainty of the mean)."""

    mean: float
    ci95: tuple[float, float]
    sd: float
    n: int
    p10: float
    p50: float
    p90: float

    @property
    def half_width(self) -> float:
        return (self.ci95[1] - self.ci95[0]) / 2

    @property
    def se(self) -> float:
        """Standard error of the mean (NaN with fewer than 2 replications)."""
        return self.sd / math.sqrt(self.n) if self.n > 1 else math.nan

    def as_dict(self) -> dict:
        return {"mean": self.mean, "ci95": list(self.ci95), "sd": self.sd, "n": self.n,
                "p10": self.p10, "p50": self.p50, "p90": self.p90}


def _t_ci(mean: float, sd: float, n: int) -> tuple[float, float]:
    if n < 2 or not math.isfinite(sd):
        return (math.nan, math.nan)
    h = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return (mean - h, mean + h)


def estimate(values: np.ndarray) -> Estimate:
    """Summary of one value per replication."""
    x = np.asarray(values, dtype=float)
    n = x.size
    mean = float(x.mean()) if n else math.nan
    sd = float(x.std(ddof=1)) if n > 1 else math.nan
    p10, p50, p90 = (np.quantile(x, [0.1, 0.5, 0.9]).tolist() if n else [math.nan] * 3)
    return Estimate(mean, _t_ci(mean, sd, n), sd, n, p10, p50, p90)


@dataclass(frozen=True)
class Proportion:
    """An estimated probability with its Wilson 95% interval."""

    p: float
    ci95: tuple[float, float]
    n: int

    def as_dict(self) -> dict:
        return {"p": self.p, "ci95": list(self.ci95), "n": self.n}


def wilson_interval(p: float, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``p`` observed in ``n`` trials: unlike the Wald
    interval it stays inside [0, 1] and does not collapse to a point at p = 0 or 1."""
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def proportion(hits: np.ndarray) -> Proportion:
    """P(event) from one boolean per replication, with the Wilson score interval."""
    h = np.asarray(hits, dtype=bool)
    n = h.size
    if n == 0:
        return Proportion(math.nan, (math.nan, math.nan), 0)
    p = float(h.mean())
    return Proportion(p, wilson_interval(p, n), n)


def describe(values: np.ndarray) -> dict:
    """:func:`estimate` as a JSON-ready dict: mean, ci95 ([lo, hi], None with fewer than 2
    replications), sd, se (None likewise), p10, p50, p90."""
    e = estimate(values)
    ok = e.n > 1
    return {"mean": e.mean, "ci95": list(e.ci95) if ok else None, "sd": e.sd,
            "se": e.se if ok else None, "p10": e.p10, "p50": e.p50, "p90": e.p90}


def paired_difference(variant: np.ndarray, base: np.ndarray) -> Estimate:
    """Mean of variant - base over paired replications (same seeds), t-based 95% CI."""
    v, b = np.asarray(variant, dtype=float), np.asarray(base, dtype=float)
    if v.shape != b.shape:
        raise ValueError(f"paired samples must have the same shape, got {v.shape} and {b.shape}")
    return estimate(v - b)


def unpaired_difference(variant: np.ndarray, base: np.ndarray) -> tuple[float, tuple[float, float]]:
    """Mean difference with the Welch 95% CI, ignoring the pairing (for comparison)."""
    v, b = np.asarray(variant, dtype=float), np.asarray(base, dtype=float)
    diff = float(v.mean() - b.mean())
    sv, sb = v.var(ddof=1) / v.size, b.var(ddof=1) / b.size
    se = math.sqrt(sv + sb)
    if se == 0:
        return diff, (diff, diff)
    dof = (sv + sb) ** 2 / (sv**2 / (v.size - 1) + sb**2 / (b.size - 1))
    h = float(stats.t.ppf(0.975, dof)) * se
    return diff, (diff - h, diff + h)
