"""Comparisons of an entity with its peers, each with how sure it is: the "why" behind an
early warning.

Peers: a rep's are the other reps of its region (all other reps without regions); a region's,
product's or segment's are the others at its level. Every comparison returns a
:class:`Comparison`: the entity's figure, the peers', their difference with a 95% interval
and ``sure`` (the interval excludes no difference, in the bad direction).

- win rate (won / closed in the trailing year): Newcombe's hybrid score interval of a
  difference of proportions (from the Wilson intervals of :mod:`salesplan.stats`);
- share of open deals past their stage's usual age: the same;
- velocity (days from created to won, trailing year): the Welch interval of the difference of
  mean log days (:func:`salesplan.stats.unpaired_difference`), shown as a ratio of geometric
  means;
- new opportunities per day (trailing 91 days): the ratio of Poisson rates with a log-normal
  interval (``se = sqrt(1/n1 + 1/n2)``, 0.5 added to an empty count);
- weighted coverage: the entity's rank among its peers' (no sampling model: a rank, "sure"
  when below every peer).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from salesplan.stats import Z95, unpaired_difference, wilson_interval

__all__ = ["Comparison", "proportion_gap", "rate_ratio", "velocity_ratio"]


@dataclass(frozen=True)
class Comparison:
    """``measure``: what is compared; ``value``/``peers``: the entity's and its peers' figure;
    ``diff`` and ``ci95``: entity minus peers (a ratio for rates and velocity); ``sure``:
    the interval lies wholly on the bad side; ``n``: the entity's count behind its figure."""

    measure: str
    value: float
    peers: float
    diff: float
    ci95: tuple[float, float]
    sure: bool
    n: int
    interval: str = "95% CI"
    contrast: str = "difference"

    def text(self, fmt: str = "{:.0%}") -> str:
        lo, hi = self.ci95
        how = "sure" if self.sure else "not sure"
        return (f"{self.measure} {fmt.format(self.value)} vs peers {fmt.format(self.peers)} "
                f"({self.contrast} {self.diff:.2f}, {self.interval} {lo:.2f} to {hi:.2f}; {how}; "
                f"n={self.n})")


def proportion_gap(measure: str, k1: int, n1: int, k2: int, n2: int, *, low_is_bad: bool
                   ) -> Comparison | None:
    """Entity ``k1/n1`` against peers ``k2/n2``: Newcombe's hybrid score interval; None
    without data on either side."""
    if n1 == 0 or n2 == 0:
        return None
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(p1, n1)
    l2, u2 = wilson_interval(p2, n2)
    d = p1 - p2
    lo = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    sure = hi < 0 if low_is_bad else lo > 0
    return Comparison(measure, p1, p2, d, (lo, hi), sure, n1)


def rate_ratio(measure: str, n1: int, t1: float, n2: int, t2: float) -> Comparison | None:
    """Poisson rate ``n1/t1`` against ``n2/t2`` (per day): ratio with a log-normal interval;
    bad when low."""
    if t1 <= 0 or t2 <= 0 or n2 == 0:
        return None
    a, b = max(n1, 0.5), n2
    ratio = (a / t1) / (b / t2)
    se = math.sqrt(1 / a + 1 / b)
    lo, hi = ratio * math.exp(-Z95 * se), ratio * math.exp(Z95 * se)
    return Comparison(measure, n1 / t1, n2 / t2, ratio, (lo, hi), hi < 1, n1,
                      contrast="ratio")


def velocity_ratio(days: np.ndarray, peer_days: np.ndarray) -> Comparison | None:
    """Created-to-won days of the entity against its peers': ratio of geometric means with the
    Welch interval of the difference of mean logs; bad when slow (above 1)."""
    a, b = np.log(np.maximum(days, 0.5)), np.log(np.maximum(peer_days, 0.5))
    if a.size < 3 or b.size < 3:
        return None
    d, (lo, hi) = unpaired_difference(a, b)
    return Comparison("days to win (geometric mean)", float(np.exp(a.mean())),
                      float(np.exp(b.mean())), math.exp(d), (math.exp(lo), math.exp(hi)),
                      lo > 0, int(a.size), contrast="ratio")
