"""Headcount planning: the fewest hires (which regions, from which month) such that
P(company hits target) >= p, and an honest answer when hiring does not get there.

Every evaluation simulates a candidate plan with the same seed, so replication ``i`` of every
plan shares its random numbers (common random numbers) and the difference between two plans,
replication by replication, is a paired sample. The search decides on those paired differences
and their intervals (:func:`salesplan.stats.paired_difference`), never on two separate estimates.

Search
------
1. **Ascent.** From no hires, each step tries one more hire in each allowed region, every hire
   starting in the earliest allowed month (``start_month``). A candidate's *lift* is its paired
   difference against the current plan, both in P(hit) (per replication: 1 if it hits and the
   current plan does not, -1 for the reverse, 0 otherwise) and in company bookings, each with its
   t-based 95% interval. The lift is *significantly positive* when the lower end of the
   **bookings** lift's interval is above zero. The bookings lift decides because it uses every
   replication; P(hit) moves in steps of 1/replications and one hire often moves only a few
   replications across the target, so its interval rarely excludes zero even for a hire that
   helps. Among the candidates whose lift is significantly positive the step takes the one with
   the largest P(hit) lift (ties: the larger bookings lift, then the region order). Every step is
   a point of the frontier, with P(hit), its Wilson interval, and both lifts with their intervals.
2. **Stop.** The ascent stops at the first plan with P(hit) >= ``p`` (*reached*); or when no
   candidate's lift is significantly positive (*no significant lift*: the best candidate is still
   recorded on the frontier, marked not accepted, so the reader sees why); or at ``max_hires``.
3. **Trim** (reached only). Remove one hire at a time while the smaller plan still reaches ``p``
   (the removal that keeps the highest P(hit) first). This undoes a step that proved unnecessary.
4. **Start month**, by the cost measure ``cost``:

   - ``"hires"`` (default): a plan costs its number of hires. A later start is never cheaper, so
     every hire starts in the earliest allowed month: an earlier hire has longer to ramp.
   - ``"payroll"``: a plan costs its hires' planned payroll over the horizon: each hire's annual
     cost x (days from its start date to the horizon end) / 365.25, attrition ignored. The
     fewest-hires plan found in the earliest month is then tried with every later month, in
     order, as one common start month for all its hires. The plan moves to a later month only
     while every month up to it still reaches ``p`` and its payroll is strictly lower: hires with
     no cost stay in the earliest month, and a month that fails ``p`` ends the scan, so a later
     month that scores higher than an earlier failing one is never chosen. A note flags a chosen
     later month whose hires book no less than from the earliest month (paired bookings
     difference not significantly negative): the model may be rewarding something other than
     the hire, such as the hand-over before its start date.

   The number of hires always comes first: the cost measure only orders plans with as many hires.
5. **Not reached.** The answer is the best plan found: the accepted frontier point with the
   highest P(hit) (ties: fewer hires). :attr:`HeadcountPlan.reached` is False and
   :meth:`HeadcountPlan.unreachable_error` is the error ("not reachable with these levers: best
   P(hit) X at N hires") that the CLI exits 2 with, after writing the plan and the frontier.
6. **Verification.** The answer is simulated again with a fresh seed (``seed + 1``); its P(hit)
   and Wilson interval are reported beside the search estimate.

Guarantees
----------
- Every hire the ascent takes had a paired bookings lift whose 95% interval lies above zero, on
  the search seed; the answer is a point of the ascent or a trimmed one. A plan that does not
  reach ``p`` is never presented as reaching it: ``reached`` is False and the verdict says so.
- No hire starts later than the earliest allowed month unless that is strictly cheaper by the
  cost measure and every month in between also reaches ``p``.

What is assumed, not guaranteed
-------------------------------
- *Earlier is no worse*: with ``cost="hires"`` the search runs in the earliest month only. That
  gives the fewest hires if a hire starting earlier books at least as much as the same hire
  starting later (a metamorphic relation of the simulator). Later months are not simulated, so a
  model artefact that makes late hires look better cannot choose the month.
- *The stop is myopic*: it looks one hire ahead. If one hire does nothing but two together would
  (a threshold effect), the search stops before them.
- *Fewest hires*: the ascent is greedy. It finds the true minimum when the plan's bookings gain
  is a sum of one gain per region, each with diminishing returns, and P(hit) rises with that gain
  (then the largest-lift hire is part of a cheapest plan); the trim step checks the answer
  locally. Otherwise the answer is the fewest hires *found*.
- *Selection*: the accepted step's lift is the largest of up to one candidate per region, so its
  interval is optimistic. With R candidate regions that truly add nothing, the chance that one of
  them looks significantly positive is up to about R x 2.5% (one-sided, per candidate).
- *Monte Carlo error*: the decision uses the estimate from the replications of ``evaluate``; its
  Wilson interval is reported, and the fresh-seed verification shows whether ``p`` holds out of
  sample. If it falls short by more than the Monte Carlo error, raise the replications.
- *Start months* (payroll only): one common start month for all hires of the plan.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from salesplan.errors import SalesplanError
from salesplan.scenarios import Scenario
from salesplan.scenarios.levers import Hire, apply_levers
from salesplan.stats import Estimate, Proportion, estimate, paired_difference, proportion

from ..formatting import money_short
from .outcome import Outcome

__all__ = ["COSTS", "FrontierPoint", "HeadcountError", "HeadcountPlan", "Lift",
           "StartMonthPoint", "UnreachableTargetError", "plan_headcount",
           "write_headcount"]

Evaluate = Callable[[Scenario, int], Outcome]
"""Simulate a scenario with a seed and return its outcome (injected by the what-if runner)."""

Cost = Literal["hires", "payroll"]
COSTS: tuple[str, ...] = ("hires", "payroll")
"""The cost measures that order plans with as many hires (see the module notes)."""

STOP_REASONS = {
    "reached": "the plan reaches p",
    "no_significant_lift": "no next hire's paired bookings lift was significantly positive",
    "max_hires": "the search reached max_hires",
}


class HeadcountError(SalesplanError):
    """The headcount search cannot run (no target, no regions to hire in, bad options)."""


class UnreachableTargetError(HeadcountError):
    """The required P(hit) is out of reach with these levers; the message names the best plan
    found (its plan and frontier are in :class:`HeadcountPlan`)."""


Hires = dict[str, int]


@dataclass(frozen=True)
class Evaluation:
    """One plan simulated with one seed: per replication, hit or not and company bookings."""

    hires: Hires
    start_month: int
    seed: int
    hit: np.ndarray        # [N] bool
    bookings: np.ndarray   # [N] currency
    payroll: float         # the hires' planned payroll over the horizon (currency)

    @property
    def total_hires(self) -> int:
        return sum(self.hires.values())

    @property
    def p_hit(self) -> Proportion:
        return proportion(self.hit)

    @property
    def bookings_estimate(self) -> Estimate:
        return estimate(self.bookings)


@dataclass(frozen=True)
class Lift:
    """A plan minus the plan before it, replication by replication (same seed): P(hit) in
    probability points, bookings in currency, each a mean with its t-based 95% interval."""

    p_hit: Estimate
    bookings: Estimate

    @classmethod
    def between(cls, new: Evaluation, old: Evaluation) -> Lift:
        return cls(paired_difference(new.hit.astype(float), old.hit.astype(float)),
                   paired_difference(new.bookings, old.bookings))

    @property
    def significant(self) -> bool:
        """The bookings lift's 95% interval lies above zero (NaN intervals are not)."""
        return bool(self.bookings.ci95[0] > 0)

    def rank(self) -> tuple[float, float]:
        return (self.p_hit.mean, self.bookings.mean)


def signed_money(v: float, currency: str) -> str:
    """A difference of money, signed, for narrow tables (``+$18.9k``, ``-$313``)."""
    return ("+" if v > 0 else "") + money_short(v, currency)


def _pts(v: float) -> str:
    """A difference of probabilities in percentage points, signed (``+2.5``)."""
    return f"{100 * v:+.1f}"


def _ci(pair: tuple[float, float]) -> list[float | None]:
    return [None if math.isnan(v) else v for v in pair]


@dataclass
class FrontierPoint:
    """One step of the ascent: the plan, its P(hit) and bookings, and its lift over the previous
    accepted step (None for the first point, no hires). ``accepted`` is False for the candidate
    the search rejected because its lift was not significantly positive."""

    step: int
    hires: Hires
    start_month: int
    added: str | None
    p_hit: float
    p_hit_ci95: tuple[float, float]
    bookings_mean: float
    bookings_ci95: tuple[float, float]
    payroll: float
    lift: Lift | None
    accepted: bool = True

    @classmethod
    def of(cls, step: int, ev: Evaluation, added: str | None, lift: Lift | None,
           accepted: bool = True) -> FrontierPoint:
        p, b = ev.p_hit, ev.bookings_estimate
        return cls(step, dict(ev.hires), ev.start_month, added, p.p, p.ci95, b.mean, b.ci95,
                   ev.payroll, lift, accepted)

    @property
    def total_hires(self) -> int:
        return sum(self.hires.values())

    def as_dict(self) -> dict:
        lift = self.lift
        return {"step": self.step, "total_hires": self.total_hires, "hires": dict(self.hires),
                "added": self.added, "start_month": self.start_month, "p_hit": self.p_hit,
                "p_hit_ci95": _ci(self.p_hit_ci95), "bookings_mean": self.bookings_mean,
                "bookings_ci95": _ci(self.bookings_ci95), "payroll": self.payroll,
                "p_hit_lift": lift.p_hit.mean if lift else None,
                "p_hit_lift_ci95": _ci(lift.p_hit.ci95) if lift else None,
                "bookings_lift": lift.bookings.mean if lift else None,
                "bookings_lift_ci95": _ci(lift.bookings.ci95) if lift else None,
                "significant": lift.significant if lift else None, "accepted": self.accepted}

    def row(self, regions: Sequence[str]) -> dict:
        """One flat row of ``frontier.csv`` (intervals as ``_lo``/``_hi`` columns)."""
        nan = math.nan
        lift = self.lift
        return {"step": self.step, "total_hires": self.total_hires,
                **{f"hires_{r}": self.hires.get(r, 0) for r in regions},
                "added": self.added or "", "start_month": self.start_month,
                "p_hit": self.p_hit, "p_hit_ci95_lo": self.p_hit_ci95[0],
                "p_hit_ci95_hi": self.p_hit_ci95[1], "bookings_mean": self.bookings_mean,
                "bookings_ci95_lo": self.bookings_ci95[0],
                "bookings_ci95_hi": self.bookings_ci95[1], "payroll": self.payroll,
                "p_hit_lift": lift.p_hit.mean if lift else nan,
                "p_hit_lift_ci95_lo": lift.p_hit.ci95[0] if lift else nan,
                "p_hit_lift_ci95_hi": lift.p_hit.ci95[1] if lift else nan,
                "bookings_lift": lift.bookings.mean if lift else nan,
                "bookings_lift_ci95_lo": lift.bookings.ci95[0] if lift else nan,
                "bookings_lift_ci95_hi": lift.bookings.ci95[1] if lift else nan,
                "accepted": self.accepted}


@dataclass(frozen=True)
class StartMonthPoint:
    """The plan's hires tried with one common start month (payroll cost only)."""

    start_month: int
    p_hit: float
    p_hit_ci95: tuple[float, float]
    payroll: float
    reaches: bool

    def as_dict(self) -> dict:
        return {"start_month": self.start_month, "p_hit": self.p_hit,
                "p_hit_ci95": _ci(self.p_hit_ci95), "payroll": self.payroll,
                "reaches": self.reaches}


@dataclass
class HeadcountPlan:
    """The answer: hires per region and their start month (the best plan found when ``p`` is
    out of reach), the frontier, the start months tried and the fresh-seed verification."""

    p_required: float
    reached: bool
    stop_reason: str
    cost: str
    hires: Hires
    start_month: int
    p_hit: float
    p_hit_ci95: tuple[float, float]
    bookings_mean: float
    payroll: float
    verified_p_hit: float
    verified_ci95: tuple[float, float]
    seed: int
    verify_seed: int
    replications: int
    regions: list[str]
    currency: str = "USD"
    frontier: list[FrontierPoint] = field(default_factory=list)
    start_months: list[StartMonthPoint] = field(default_factory=list)
    evaluations: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def total_hires(self) -> int:
        return sum(self.hires.values())

    def as_dict(self) -> dict:
        return {"p_required": self.p_required, "reached": self.reached,
                "stop_reason": self.stop_reason, "verdict": self.verdict(), "cost": self.cost,
                "hires": dict(self.hires), "total_hires": self.total_hires,
                "start_month": self.start_month, "p_hit": self.p_hit,
                "p_hit_ci95": _ci(self.p_hit_ci95), "bookings_mean": self.bookings_mean,
                "payroll": self.payroll, "verified_p_hit": self.verified_p_hit,
                "verified_ci95": _ci(self.verified_ci95), "seed": self.seed,
                "verify_seed": self.verify_seed, "replications": self.replications,
                "evaluations": self.evaluations, "notes": list(self.notes),
                "frontier": [pt.as_dict() for pt in self.frontier],
                "start_months": [m.as_dict() for m in self.start_months]}

    def frontier_table(self) -> pd.DataFrame:
        """One row per frontier point (columns documented in docs/whatif.md)."""
        return pd.DataFrame([pt.row(self.regions) for pt in self.frontier])

    def _why_stopped(self) -> str:
        last = self.frontier[-1] if self.frontier else None
        money = lambda v: signed_money(v, self.currency)  # noqa: E731
        if self.stop_reason == "no_significant_lift" and last is not None and last.lift:
            b, ph = last.lift.bookings, last.lift.p_hit
            return (f"the best next hire ({last.added}) has a paired lift that is not "
                    f"significantly positive: bookings {money(b.mean)} [{money(b.ci95[0])}, "
                    f"{money(b.ci95[1])}], P(hit) {_pts(ph.mean)} [{_pts(ph.ci95[0])}, "
                    f"{_pts(ph.ci95[1])}] points")
        if self.stop_reason == "max_hires":
            tried = max((pt.total_hires for pt in self.frontier), default=0)
            return f"the search stopped at max_hires = {tried}; each hire up to it still helped"
        return STOP_REASONS.get(self.stop_reason, self.stop_reason)

    def verdict(self) -> str:
        """One line for a planner: the plan, or why ``p`` is out of reach."""
        n = self.total_hires
        where = ", ".join(f"{r}: {k}" for r, k in self.hires.items()) or "none"
        lo, hi = self.p_hit_ci95
        if self.reached:
            return (f"{n} hire{'' if n == 1 else 's'} ({where}) from month {self.start_month}: "
                    f"P(hit) {self.p_hit:.1%} [{lo:.1%}, {hi:.1%}] >= p = {self.p_required:.0%}")
        which = f" ({where} from month {self.start_month})" if n else ""
        return (f"p = {self.p_required:.0%} is not reachable with these levers: best P(hit) "
                f"{self.p_hit:.1%} [{lo:.1%}, {hi:.1%}] at {n} hire{'' if n == 1 else 's'}"
                f"{which}; {self._why_stopped()}")

    def unreachable_error(self) -> UnreachableTargetError:
        """The user error for a plan that does not reach ``p`` (raise it after writing files)."""
        return UnreachableTargetError(self.verdict())


# ---- the search ---------------------------------------------------------------------------------

@dataclass
class _Search:
    """Evaluates plans (hires per region, one start month) with a seed, once each."""

    base: Scenario
    evaluate: Evaluate
    seed: int
    regions: list[str]
    ramp_months: float | None
    progress: Callable[[str], None] | None
    cache: dict[tuple, Evaluation] = field(default_factory=dict)
    steps: Callable[[float, str], None] | None = None
    """Hears ``(fraction, message)`` after each plan evaluated: see :meth:`_fraction`."""
    p: float = 1.0
    max_hires: int = 0
    done: float = 0.0

    def __call__(self, hires: Hires, month: int, seed: int | None = None) -> Evaluation:
        s = self.seed if seed is None else seed
        hires = {r: n for r, n in hires.items() if n > 0}
        key = (tuple(sorted(hires.items())), month, s)
        if key not in self.cache:
            sc = self._scenario(hires, month)
            out = self.evaluate(sc, s)
            hit = out.hit()
            assert hit is not None  # the target is checked before the search
            ev = Evaluation(hires, month, s, np.asarray(hit, dtype=bool),
                            np.asarray(out.bookings, dtype=float), self._payroll(sc))
            self.cache[key] = ev
            message = f"hires {hires or 'none'} from month {month}: P(hit) {ev.p_hit.p:.1%}"
            if self.progress:
                self.progress(message)
            if self.steps:
                self.steps(self._fraction(ev), f"{len(self.cache)} plans evaluated; {message}")
        return self.cache[key]

    def _fraction(self, ev: Evaluation) -> float:
        """How far the search has come, for a progress bar: the ascent ends when P(hit)
        reaches p or the hires reach ``max_hires``, so the larger of P(hit) / p and hires /
        max_hires of every plan so far, times 0.9 (trimming, the payroll scan and the
        fresh-seed check follow). Never goes back."""
        near = max(ev.p_hit.p / self.p if self.p > 0 else 1.0,
                   ev.total_hires / self.max_hires if self.max_hires > 0 else 1.0)
        self.done = max(self.done, 0.9 * min(near, 1.0))
        return self.done

    def _scenario(self, hires: Hires, month: int) -> Scenario:
        levers = [Hire(region=r, count=n, start_month=month, ramp_months=self.ramp_months)
                  for r in self.regions if (n := hires.get(r, 0)) > 0]
        return apply_levers(self.base, levers, "headcount").scenario if levers else self.base

    def _payroll(self, sc: Scenario) -> float:
        """Planned payroll of the reps the plan added, from their start dates to the horizon's
        end (currency; attrition ignored)."""
        old = {r.id for r in self.base.reps}
        end = self.base.horizon.end
        return float(sum(r.cost_annual * max((end - r.start_date).days, 0) / 365.25
                         for r in sc.reps if r.id not in old and r.start_date is not None))


def _best_next(search: _Search, current: Evaluation, month: int
               ) -> tuple[Evaluation, str, Lift, bool] | None:
    """The next hire: the largest P(hit) lift (then bookings lift, then region order) among the
    candidates whose lift is significantly positive; if none is, the best candidate overall,
    flagged not significant. None without candidate regions."""
    best = None
    for k, region in enumerate(search.regions):
        ev = search(current.hires | {region: current.hires.get(region, 0) + 1}, month)
        lift = Lift.between(ev, current)
        key = (lift.significant, *lift.rank(), -k)
        if best is None or key > best[0]:
            best = (key, ev, region, lift)
    if best is None:
        return None
    return best[1], best[2], best[3], best[3].significant


def _ascend(search: _Search, p: float, month: int, max_hires: int
            ) -> tuple[list[FrontierPoint], str]:
    """Add one hire at a time until ``p`` is reached, no next hire's lift is significantly
    positive, or ``max_hires``; returns the frontier and the stop reason."""
    current = search({}, month)
    frontier = [FrontierPoint.of(0, current, None, None)]
    while current.p_hit.p < p:
        if current.total_hires >= max_hires:
            return frontier, "max_hires"
        nxt = _best_next(search, current, month)
        if nxt is None:
            return frontier, "no_significant_lift"
        ev, region, lift, significant = nxt
        frontier.append(FrontierPoint.of(len(frontier), ev, region, lift, significant))
        if not significant:
            return frontier, "no_significant_lift"
        current = ev
    return frontier, "reached"


def _trim(search: _Search, hires: Hires, month: int, p: float) -> tuple[Hires, list[str]]:
    """Remove hires one at a time while the smaller plan still reaches ``p``."""
    notes = []
    while True:
        smaller = [(search(hires | {r: n - 1}, month), r) for r, n in hires.items() if n > 0]
        ok = [(ev.p_hit.p, -search.regions.index(r), ev, r) for ev, r in smaller
              if ev.p_hit.p >= p]
        if not ok:
            return hires, notes
        _, _, ev, region = max(ok, key=lambda t: t[:2])
        notes.append(f"trimmed a hire in {region}: {ev.total_hires} hires still reach "
                     f"p (P(hit) {ev.p_hit.p:.1%})")
        hires = dict(ev.hires)


def _scan_start_months(search: _Search, hires: Hires, earliest: int, p: float
                       ) -> tuple[int, list[StartMonthPoint], list[str]]:
    """Payroll cost: the latest common start month such that every month from ``earliest`` to
    it reaches ``p``, taken only where its payroll is strictly lower."""
    first = chosen = search(hires, earliest)
    scan = [StartMonthPoint(earliest, first.p_hit.p, first.p_hit.ci95, first.payroll, True)]
    for month in range(earliest + 1, search.base.horizon.months + 1):
        ev = search(hires, month)
        reaches = ev.p_hit.p >= p
        scan.append(StartMonthPoint(month, ev.p_hit.p, ev.p_hit.ci95, ev.payroll, reaches))
        if not reaches:
            break
        if ev.payroll < chosen.payroll:
            chosen = ev
    notes = []
    later = Lift.between(chosen, first).bookings
    if chosen is not first and later.ci95[1] >= 0:
        m = lambda v: signed_money(v, search.base.horizon.currency)  # noqa: E731
        notes.append(f"the hires book no less from month {chosen.start_month} than from month "
                     f"{earliest} (paired bookings difference {m(later.mean)} "
                     f"[{m(later.ci95[0])}, {m(later.ci95[1])}]): a later hire has less time "
                     "to ramp and should book less; a model that credits it anyway may be "
                     "rewarding the hand-over before the start date, not the hire")
    return chosen.start_month, scan, notes


def _check(sc: Scenario, p: float, start_month: int, max_hires: int, cost: str,
           regions: Sequence[str] | None) -> list[str]:
    """Validate the options; returns the regions to hire in."""
    if sc.targets is None:
        raise HeadcountError("the scenario has no target: P(hit target) is undefined")
    if not 0 < p < 1:
        raise HeadcountError(f"p must be in (0, 1), got {p:g}")
    if not 1 <= start_month <= sc.horizon.months:
        raise HeadcountError(f"start month must be within the horizon (1..{sc.horizon.months}),"
                             f" got {start_month}")
    if max_hires < 0:
        raise HeadcountError(f"max_hires must be >= 0, got {max_hires}")
    if cost not in COSTS:
        raise HeadcountError(f"cost must be one of {', '.join(COSTS)}, got {cost!r}")
    chosen = list(dict.fromkeys(regions)) if regions else list(sc.region_ids)
    unknown = [r for r in chosen if r not in sc.region_ids]
    if unknown:
        raise HeadcountError(f"unknown region(s) {', '.join(unknown)} "
                             f"(defined: {', '.join(sc.region_ids)})")
    empty = [r for r in chosen if not any(rep.region == r for rep in sc.reps)]
    if empty:
        raise HeadcountError(f"region(s) {', '.join(empty)} have no reps to copy hire settings "
                             "from")
    return chosen


def _falling_notes(frontier: list[FrontierPoint]) -> list[str]:
    """A step taken for its bookings lift that lowered P(hit) (the answer stays the best
    P(hit) found; the note says the two measures disagree)."""
    return [f"P(hit) fell from {a.p_hit:.1%} to {b.p_hit:.1%} with the hire in {b.added} "
            f"(step {b.step}) although its bookings lift was significantly positive: it helps "
            "on average but not in the replications near the target"
            for a, b in pairwise(frontier)
            if b.accepted and b.p_hit < a.p_hit]


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
    cost: Cost = "hires",
    steps: Callable[[float, str], None] | None = None,
) -> HeadcountPlan:
    """The fewest hires reaching P(hit) >= ``p``, or the best plan found (see the module notes).

    ``start_month`` is the earliest horizon month (1-based) the business can have hires;
    ``replications`` is recorded (``evaluate`` decides how many it simulates); ``cost`` orders
    plans with as many hires ("hires": earliest start; "payroll": a later start if strictly
    cheaper and every month up to it reaches ``p``). The result's ``reached`` says whether ``p``
    is met; :meth:`HeadcountPlan.unreachable_error` is the error to raise when it is not.
    ``progress(message)`` hears each plan evaluated, ``steps(fraction, message)`` the same with
    how far the search has come (:meth:`_Search._fraction`).
    """
    chosen_regions = _check(sc, p, start_month, max_hires, cost, regions)
    search = _Search(sc, evaluate, seed, chosen_regions, ramp_months, progress, steps=steps,
                     p=p, max_hires=max_hires)
    frontier, stop = _ascend(search, p, start_month, max_hires)
    reached = stop == "reached"
    notes = _falling_notes(frontier)
    month, scan = start_month, []
    if reached:
        hires, trimmed = _trim(search, frontier[-1].hires, start_month, p)
        notes += trimmed
        if cost == "payroll" and hires:
            month, scan, month_notes = _scan_start_months(search, hires, start_month, p)
            notes += month_notes
    else:
        best = max((pt for pt in frontier if pt.accepted),
                   key=lambda pt: (pt.p_hit, -pt.total_hires))
        hires = best.hires
    final = search(hires, month)
    verify_seed = seed + 1
    search.done = max(search.done, 0.95)
    if steps:
        steps(search.done, f"checking the plan with a fresh seed ({verify_seed})")
    check = search(hires, month, verify_seed)
    vp = check.p_hit
    if reached and vp.ci95[1] < p:
        notes.append(f"the fresh-seed check ({vp.p:.1%} [{vp.ci95[0]:.1%}, {vp.ci95[1]:.1%}]) "
                     f"falls short of p = {p:.0%}: raise the replications")
    fp, fb = final.p_hit, final.bookings_estimate
    return HeadcountPlan(
        p_required=p, reached=reached, stop_reason=stop, cost=cost, hires=dict(final.hires),
        start_month=month, p_hit=fp.p, p_hit_ci95=fp.ci95, bookings_mean=fb.mean,
        payroll=final.payroll, verified_p_hit=vp.p, verified_ci95=vp.ci95, seed=seed,
        verify_seed=verify_seed, replications=replications, regions=chosen_regions,
        currency=sc.horizon.currency, frontier=frontier, start_months=scan,
        evaluations=len(search.cache), notes=notes,
    )


def monte_carlo_error(p: float, n: int) -> float:
    """Standard error of an estimated probability ``p`` from ``n`` replications."""
    return math.sqrt(max(p * (1 - p), 1e-12) / n)


def write_headcount(plan: HeadcountPlan, out_dir: Path) -> list[Path]:
    """What ``salesplan plan-headcount`` writes: ``plan.json`` (the plan, its verdict and the
    frontier) and ``frontier.csv`` (one row per step)."""
    import json

    from ..formatting import jsonable

    out_dir.mkdir(parents=True, exist_ok=True)
    files = [out_dir / "plan.json", out_dir / "frontier.csv"]
    files[0].write_text(json.dumps(jsonable(plan.as_dict()), indent=2))
    plan.frontier_table().to_csv(files[1], index=False)
    return files
