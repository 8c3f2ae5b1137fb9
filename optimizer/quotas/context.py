"""What the methods read: per-rep measures derived once from a scenario.

:class:`QuotaContext` holds the scenario, the optional simulated bookings and a territory
alignment, and computes (once, cached) every per-rep measure a method needs:

- ``potential``: territory potential, the sum of ``Account.potential`` (currency/year) of the
  accounts the rep owns (the given ``alignment`` if any, else ``Account.owner``);
- ``segment_potential``: the same split by segment (reps x segments); ``account_count``: the
  number of accounts each rep owns (same ownership);
- ``ramp_profile``: expected productivity of the rep in each horizon month, in [0, 1], from
  ``start_date`` (0 before it) and a linear ramp from 0 to 1 over ``ramp_months`` (month-averaged);
- ``capacity_profile``: the seat's expected productivity per month after ramp, vacancy and
  attrition: the rep stays with probability ``(1 - attrition_monthly) ** t``; when the rep leaves
  and the policy backfills, the seat is vacant ``backfill_lag_months`` and the new hire ramps over
  ``backfill_ramp_months`` (default: the rep's ``ramp_months``); the new hire's own attrition
  is ignored (second order);
- ``ramp_factor`` / ``capacity_factor``: the mean of those profiles over the horizon (effective
  selling months / horizon months);
- ``pipeline``: open pipeline value x win probability from the deal's stage (the product of the
  remaining stage conversions; a deal without a value counts at its product's mean deal size);
- ``last_bookings`` / ``last_quota``: from the rep table (NaN where not given).

Methods record what they had to assume with :meth:`QuotaContext.note` ("nothing silent").
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from salesplan.scenarios.model import Scenario

__all__ = ["QuotaContext", "months_between"]

_STEPS = 24  # sub-steps per month for the ramp and attrition integrals


def months_between(start: dt.date, d: dt.date) -> float:
    """Months (fractional) from ``start`` (a first of month) to date ``d``."""
    whole = (d.year - start.year) * 12 + (d.month - start.month)
    first = dt.date(d.year, d.month, 1)
    nxt = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return whole + (d - first).days / (nxt - first).days


def _ramp(t: np.ndarray, start: float, ramp: float) -> np.ndarray:
    """Productivity at times ``t`` (months) of a rep starting at ``start`` ramping over ``ramp``."""
    if ramp <= 0:
        return (t >= start).astype(float)
    return np.clip((t - start) / ramp, 0.0, 1.0)


@dataclass
class QuotaContext:
    """A scenario plus the inputs a method may read; measures are computed on first use.

    ``samples`` is a (replications x reps) frame of simulated horizon bookings (currency),
    columns named by rep id (see :func:`salesplan.optimizer.quotas.fair.as_samples`), or None.
    ``alignment`` maps account id -> rep id (a territory alignment); None uses account owners.
    """

    scenario: Scenario
    samples: pd.DataFrame | None = None
    alignment: Mapping[str, str] | None = None
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        """Record an assumption or a degradation (shown in the plan's notes and summary)."""
        if text not in self.notes:
            self.notes.append(text)

    # ---- identities ----
    @cached_property
    def rep_ids(self) -> list[str]:
        return [r.id for r in self.scenario.reps]

    @cached_property
    def rep_region(self) -> pd.Series:
        return pd.Series({r.id: r.region for r in self.scenario.reps}, name="region")

    @property
    def months(self) -> int:
        return self.scenario.horizon.months

    # ---- territory ----
    @cached_property
    def segment_potential(self) -> pd.DataFrame:
        """Potential (currency/year) by rep (rows, every rep) and segment (columns)."""
        sc = self.scenario
        owners = dict(self.alignment) if self.alignment is not None else None
        rpos = {r: i for i, r in enumerate(self.rep_ids)}
        spos = {s: j for j, s in enumerate(sc.segment_ids)}
        values = np.zeros((len(rpos), len(spos)))
        for a in sc.accounts:
            owner = owners.get(a.id) if owners is not None else a.owner
            if owner is None or owner not in rpos or a.segment not in spos:
                continue
            values[rpos[owner], spos[a.segment]] += a.potential
        table = pd.DataFrame(values, index=self.rep_ids, columns=sc.segment_ids)
        return table

    @cached_property
    def potential(self) -> pd.Series:
        return self.segment_potential.sum(axis=1).rename("potential")

    @cached_property
    def account_count(self) -> pd.Series:
        """Accounts per rep (every rep; the ``alignment`` if given, else ``Account.owner``)."""
        owners = dict(self.alignment) if self.alignment is not None else None
        counts = pd.Series(0, index=self.rep_ids, name="accounts", dtype=np.int64)
        for a in self.scenario.accounts:
            owner = owners.get(a.id) if owners is not None else a.owner
            if owner in counts.index:
                counts[owner] += 1
        return counts

    # ---- history ----
    @cached_property
    def last_bookings(self) -> pd.Series:
        return pd.Series({r.id: (np.nan if r.last_bookings is None else r.last_bookings)
                          for r in self.scenario.reps}, dtype=float, name="last_bookings")

    @cached_property
    def last_quota(self) -> pd.Series:
        return pd.Series({r.id: (np.nan if r.last_quota is None else r.last_quota)
                          for r in self.scenario.reps}, dtype=float, name="last_quota")

    # ---- time: ramp and capacity ----
    def _start_offset(self, start_date: dt.date | None) -> float:
        if start_date is None:
            return -math.inf
        return months_between(self.scenario.horizon.start, start_date)

    @cached_property
    def _grid(self) -> np.ndarray:
        return (np.arange(self.months * _STEPS) + 0.5) / _STEPS

    @cached_property
    def ramp_profile(self) -> pd.DataFrame:
        """Expected productivity (0..1) per rep (rows) and horizon month (columns 0..M-1)."""
        t = self._grid
        out = {}
        for r in self.scenario.reps:
            p = _ramp(t, self._start_offset(r.start_date), r.ramp_months)
            out[r.id] = p.reshape(self.months, _STEPS).mean(axis=1)
        return pd.DataFrame.from_dict(out, orient="index")

    @cached_property
    def seated_profile(self) -> pd.DataFrame:
        """Share of each horizon month (columns) the rep (rows) is planned to be seated: from
        ``start_date`` (None: before the horizon) to ``end_date`` (None: after it); random
        attrition is not counted."""
        t = self._grid
        out = {}
        for r in self.scenario.reps:
            s = self._start_offset(r.start_date)
            e = self._start_offset(r.end_date) if r.end_date is not None else math.inf
            out[r.id] = ((t >= s) & (t < e)).reshape(self.months, _STEPS).mean(axis=1)
        return pd.DataFrame.from_dict(out, orient="index")

    @cached_property
    def capacity_profile(self) -> pd.DataFrame:
        """Expected seat productivity per rep and month after ramp, vacancy and attrition."""
        t = self._grid
        pol = self.scenario.policies.attrition
        cache: dict[tuple, np.ndarray] = {}
        out = {}
        for r in self.scenario.reps:
            s = self._start_offset(r.start_date)
            e = self._start_offset(r.end_date) if r.end_date is not None else math.inf
            back_ramp = (pol.backfill_ramp_months if pol.backfill_ramp_months is not None
                         else r.ramp_months)
            refill = pol.backfill if r.backfill_on_end is None else r.backfill_on_end
            key = (s, e, refill, r.ramp_months, r.attrition_monthly, pol.backfill,
                   pol.backfill_lag_months, back_ramp)
            if key not in cache:
                prod = self._seat_profile(t, s, e, r.ramp_months, r.attrition_monthly,
                                          back_ramp, refill)
                cache[key] = prod.reshape(self.months, _STEPS).mean(axis=1)
            out[r.id] = cache[key]
        return pd.DataFrame.from_dict(out, orient="index")

    def _seat_profile(self, t: np.ndarray, s: float, e: float, ramp: float, h: float,
                      back_ramp: float, refill: bool) -> np.ndarray:
        """Expected productivity of one seat on the grid ``t`` (months): its first occupant from
        ``s`` (ramping), leaving by attrition (monthly hazard ``h``) or at its planned end ``e``,
        and the backfills after the policy's lag (ramping over ``back_ramp``)."""
        pol = self.scenario.policies.attrition
        dt_step = 1.0 / _STEPS
        own = _ramp(t, s, ramp)
        served = np.clip(t - max(s, 0.0), 0.0, None) if math.isfinite(s) else t
        survive = (1.0 - h) ** served
        prod = own * survive * (t < e)
        if pol.backfill and h > 0:
            # departures in each sub-step before the planned end (mass), then a new hire after
            # the lag, averaged over the departure's position within its sub-step
            edges = np.concatenate([[0.0], t + dt_step / 2])
            served_e = (np.clip(edges - max(s, 0.0), 0.0, None) if math.isfinite(s) else edges)
            mass = -np.diff((1.0 - h) ** served_e) * (edges[1:] > s) * (edges[1:] <= e)
            offs = (np.arange(8) + 0.5) / 8 * dt_step - dt_step / 2
            since = (t - t[0])[:, None] + offs[None, :]
            lagged = _ramp(since, pol.backfill_lag_months, back_ramp).mean(axis=1)
            prod = prod + np.convolve(mass, lagged)[: t.size]
        if math.isfinite(e) and refill:  # still seated at the planned end: refilled after lag
            stay = (1.0 - h) ** max(e - max(s, 0.0), 0.0)
            prod = prod + stay * _ramp(t, e + pol.backfill_lag_months, back_ramp)
        return prod

    @cached_property
    def ramp_factor(self) -> pd.Series:
        return self.ramp_profile.mean(axis=1).rename("ramp_factor")

    @cached_property
    def capacity_factor(self) -> pd.Series:
        return self.capacity_profile.mean(axis=1).rename("capacity_factor")

    # ---- pipeline ----
    @cached_property
    def win_probability(self) -> dict[str, float]:
        """Probability that a deal now in a stage is won (product of the remaining conversions;
        stage overrides are not applied here)."""
        probs: dict[str, float] = {}
        acc = 1.0
        for st in reversed(self.scenario.stages):
            acc *= st.conversion
            probs[st.name] = acc
        return probs

    @cached_property
    def pipeline(self) -> pd.Series:
        sc = self.scenario
        out = pd.Series(0.0, index=self.rep_ids, name="pipeline")
        missing = 0
        for d in sc.initial_pipeline:
            if d.owner not in out.index:
                continue
            value = d.value
            if value is None:
                missing += 1
                if d.product is not None and d.product in sc.product_index:
                    value = sc.product_index[d.product].deal_size_for(d.segment).mean_value
                else:
                    value = float(np.mean([p.deal_size_for(d.segment).mean_value
                                           for p in sc.products]))
            out[d.owner] += value * self.win_probability.get(d.stage, 0.0)
        if missing:
            self.note(f"pipeline: {missing} open deal(s) without a value counted at their "
                      "product's mean deal size")
        return out
