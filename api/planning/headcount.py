"""Headcount planning: the fewest hires per region so that P(company hits target) >= p.

Search (every evaluation simulates with the same seed, so candidates are compared on common
random numbers and their differences are paired, not noise):

1. **Greedy ascent.** From no hires, add one hire at a time to the region whose extra hire raises
   P(hit) the most (ties: higher mean bookings, then region order), until P(hit) >= p or
   ``max_hires`` is reached. Each point is recorded on the frontier (total hires, hires per
   region, P(hit) with its Wilson interval, mean bookings).
2. **Trim.** At the first plan that reaches p, try removing each region's last hire: if any
   smaller plan still reaches p it replaces the plan (repeat). This guards against a greedy step
   that later proved unnecessary.
3. **Latest start.** Hires start in ``start_month`` (the earliest month the business can have
   them). Then a binary search finds the latest common start month that still reaches p, which
   saves cost (later hires are cheaper and, under the monotonicity below, never raise P(hit)).
4. **Verification.** The final plan is simulated again with a fresh seed (``seed + 1``) and its
   P(hit) and Wilson interval reported beside the search estimate.

Guarantees and assumptions, stated plainly:
- Monotonicity: we assume P(hit) does not fall when a hire is added or starts earlier. With
  capacity-limited reps this holds in expectation (a hire adds capacity and territory); under
  common random numbers it also holds replication by replication in most cases, but routing
  changes can break it in a few. The greedy answer is the fewest hires *found*; it is the true
  minimum when P(hit) is monotone and the best region for the k-th hire is also part of the best
  plan with k+1 hires (true for diminishing, separable returns), which the trim step checks
  locally.
- Monte Carlo error: the decision uses the estimate from ``replications`` draws; its Wilson
  interval is reported, and the fresh-seed verification shows whether p is met out of sample. A
  plan whose verified estimate is below p by more than the Monte Carlo error signals that more
  replications are needed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from salesplan.scenarios import Scenario
from salesplan.scenarios.errors import SalesplanError
from salesplan.scenarios.levers import Hire, apply_levers
from salesplan.stats import proportion

from .outcome import Outcome

__all__ = ["HeadcountError", "HeadcountPlan", "plan_headcount"]

Evaluate = Callable[[Scenario, int], Outcome]
"""Simulate a scenario with a seed and return its outcome (injected by the what-if runner)."""


class HeadcountError(SalesplanError):
    """The headcount search cannot run (no target, no regions to hire in, bad options)."""


@dataclass
class FrontierPoint:
    total_hires: int
    hires: dict[str, int]
    start_month: int
    p_hit: float
    p_hit_ci95: tuple[float, float]
    bookings_mean: float

    def as_dict(self) -> dict:
        return {"total_hires": self.total_hires, "hires": dict(self.hires),
                "start_month": self.start_month, "p_hit": self.p_hit,
                "p_hit_ci95": list(self.p_hit_ci95), "bookings_mean": self.bookings_mean}


@dataclass
class HeadcountPlan:
    """The answer: hires per region and their start month, the frontier and the verification."""

    p_required: float
    reached: bool
    hires: dict[str, int]
    start_month: int
    p_hit: float
    p_hit_ci95: tuple[float, float]
    verified_p_hit: float
    verified_ci95: tuple[float, float]
    seed: int
    verify_seed: int
    replications: int
    frontier: list[FrontierPoint] = field(default_factory=list)
    evaluations: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def total_hires(self) -> int:
        return sum(self.hires.values())

    def as_dict(self) -> dict:
        return {"p_required": self.p_required, "reached": self.reached,
                "hires": dict(self.hires), "total_hires": self.total_hires,
                "start_month": self.start_month, "p_hit": self.p_hit,
                "p_hit_ci95": list(self.p_hit_ci95), "verified_p_hit": self.verified_p_hit,
                "verified_ci95": list(self.verified_ci95), "seed": self.seed,
                "verify_seed": self.verify_seed, "replications": self.replications,
                "evaluations": self.evaluations, "notes": list(self.notes),
                "frontier": [p.as_dict() for p in self.frontier]}


def _with_hires(sc: Scenario, hires: dict[str, int], start_month: int,
                ramp_months: float | None) -> Scenario:
    levers = [Hire(region=r, count=n, start_month=start_month, ramp_months=ramp_months)
              for r, n in hires.items() if n > 0]
    return apply_levers(sc, levers, "headcount").scenario if levers else sc


def plan_headcount(
    sc: Scenario,
    evaluate: Evaluate,
    p: float = 0.8,
    seed: int = 0,
    replications: int = 200,
    regions: Sequence[str] | None = None,
    start_month: int = 1,
    max_hires: int = 20,
    ramp_months: float | None = None,
    progress: Callable[[str], None] | None = None,
) -> HeadcountPlan:
    """Find the fewest hires per region reaching P(hit) >= ``p`` (see the module notes)."""
    if sc.targets is None:
        raise HeadcountError("the scenario has no target: P(hit target) is undefined")
    if not 0 < p < 1:
        raise HeadcountError(f"p must be in (0, 1), got {p:g}")
    if not 1 <= start_month <= sc.horizon.months:
        raise HeadcountError(f"start month must be within the horizon (1..{sc.horizon.months}),"
                             f" got {start_month}")
    regions = list(regions) if regions else list(sc.region_ids)
    unknown = [r for r in regions if r not in sc.region_ids]
    if unknown:
        raise HeadcountError(f"unknown region(s) {', '.join(unknown)} "
                             f"(defined: {', '.join(sc.region_ids)})")
    empty = [r for r in regions if not any(rep.region == r for rep in sc.reps)]
    if empty:
        raise HeadcountError(f"region(s) {', '.join(empty)} have no reps to copy hire settings "
                             "from")
    cache: dict[tuple, tuple[float, tuple[float, float], float]] = {}

    def score(hires: dict[str, int], month: int, s: int = seed) -> tuple:
        key = (tuple(sorted(hires.items())), month, s)
        if key not in cache:
            out = evaluate(_with_hires(sc, hires, month, ramp_months), s)
            prop = proportion(out.hit())
            cache[key] = (prop.p, prop.ci95, float(out.bookings.mean()))
            if progress:
                progress(f"hires {dict(hires)} from month {month}: P(hit) {prop.p:.1%}")
        return cache[key]

    hires = dict.fromkeys(regions, 0)
    frontier: list[FrontierPoint] = []

    def record(h: dict[str, int], month: int) -> tuple:
        ph, ci, mean = score(h, month)
        frontier.append(FrontierPoint(sum(h.values()), dict(h), month, ph, ci, mean))
        return ph, ci, mean

    ph, _, _ = record(hires, start_month)
    while ph < p and sum(hires.values()) < max_hires:
        best = None
        for r in regions:
            cand = hires | {r: hires[r] + 1}
            cp, _, cm = score(cand, start_month)
            key = (cp, cm, -regions.index(r))
            if best is None or key > best[0]:
                best = (key, cand)
        hires = best[1]
        ph, _, _ = record(hires, start_month)
    reached = ph >= p

    if reached:  # trim: can a smaller plan still reach p?
        improved = True
        while improved and sum(hires.values()) > 0:
            improved = False
            for r in regions:
                if hires[r] == 0:
                    continue
                cand = hires | {r: hires[r] - 1}
                if score(cand, start_month)[0] >= p:
                    hires, improved = cand, True
                    break

    month = start_month
    if reached and sum(hires.values()) > 0:  # latest common start month still reaching p
        lo, hi = start_month, sc.horizon.months
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if score(hires, mid)[0] >= p:
                lo = mid
            else:
                hi = mid - 1
        month = lo

    notes = [f"P(hit) fell from {a.p_hit:.1%} to {b.p_hit:.1%} when adding a hire "
             f"({a.total_hires} -> {b.total_hires}): the monotonicity assumption does not hold "
             "here (reps are not capacity-bound, or ramping hires convert less than the reps "
             "they relieve); the plan is the fewest hires found, not a proven minimum"
             for a, b in pairwise(frontier) if b.p_hit < a.p_hit]
    final_p, final_ci, _ = score(hires, month)
    verify_seed = seed + 1
    vp, vci, _ = score(hires, month, verify_seed)
    return HeadcountPlan(
        p_required=p, reached=reached, hires={r: n for r, n in hires.items() if n > 0},
        start_month=month, p_hit=final_p, p_hit_ci95=final_ci, verified_p_hit=vp,
        verified_ci95=vci, seed=seed, verify_seed=verify_seed, replications=replications,
        frontier=frontier, evaluations=len(cache), notes=notes,
    )


def monte_carlo_error(p: float, n: int) -> float:
    """Standard error of an estimated probability ``p`` from ``n`` replications."""
    return math.sqrt(max(p * (1 - p), 1e-12) / n)
