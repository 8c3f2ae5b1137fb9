"""Win rates by lead source and segment, shrunk towards the pooled rate, as odds multipliers
that reproduce each group's rate in simulation beside the reps' productivity.

**Resolved cohorts.** A closed win rate is biased towards wins where losses take longer than
wins (recent losers are still open), and more so for a group that rarely wins. So the rates
count the deals created long enough before the cut for their outcome to be known (the 99%
quantile of the closed cycle times), every one of them (a deal still open by then is not won,
as the stalled share says), and the closed deals only when too few are that old.

**Targets.** In each dimension (``source``, ``segment``) with more than one group,
group ``g`` with ``n_g`` such deals of which ``k_g`` won has the shrunk rate
``(s r + k_g) / (s + n_g)``: ``r`` is the pooled rate ``K / N`` (deal-weighted, not the plain
mean of the groups' rates) and ``s`` the prior strength of a beta-binomial fitted
over the dimension's groups by maximum marginal likelihood (complete pooling when the groups
do not differ detectably). A small group stays near the pooled rate; a large one keeps its own.

**Multipliers.** The simulator adds ``log m`` to a new lead's log-odds for its source, its
segment and its rep at once. The reps' multipliers are their ``productivity`` (:mod:`.reps`:
each rep's rate against the pooled rate, so a region's rate comes through its reps), and they
also act on the open pipeline's deals, which carry no source; so they are held fixed, and the
source and segment multipliers are fitted given them (backfitting between the two): in turn,
``x_g = log m_g`` solves ``sum_{i in g} expit(logit r + o_i + x_g) = n_g x target_g`` over the
group's deals, ``o_i`` the deal's rep's and other dimension's log multipliers. A source sold
only by one region's reps therefore does not get the region's effect twice. With the stage's
conversion equal to ``r``, each group's simulated win rate is its target (over the data's mix
of the other dimensions); the stage's conversion is the censoring-aware estimate and the
multipliers act on its odds. A source's multiplier is its ``conversion_multiplier``, a
segment's an override of the stage's conversion. One-stage (flat) funnels only: in a history
export's funnel a multiplier would act at every stage (the rates are reported, not applied).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special

from .dimensions import ALL
from .estimators import beta_binomial_prior

__all__ = ["DIMENSIONS", "MULTIPLIER_BOUNDS", "GroupRates", "group_rates", "shrunk_rates"]

DIMENSIONS = ("source", "segment")
MULTIPLIER_BOUNDS = (1e-3, 1e3)
"""Odds multipliers are kept within these bounds (a group that never or always won)."""
ROUNDS = 20
RESOLVED_QUANTILE = 0.99
MIN_RESOLVED = 50


@dataclass
class GroupRates:
    """``tables``: per dimension, one row per group (group, deals, won, raw_rate, rate: the
    shrunk target, multiplier); ``pooled``: the pooled rate; ``strength``: the prior
    strength per dimension; ``applied``: whether the source and segment multipliers enter the
    scenario; ``notes``."""

    tables: dict[str, pd.DataFrame]
    pooled: float
    strength: dict[str, float]
    applied: bool
    notes: list[str] = field(default_factory=list)
    which: str = ""

    def multipliers(self, dimension: str) -> dict[str, float]:
        """Group -> odds multiplier (empty when the dimension has one group)."""
        t = self.tables.get(dimension)
        return {} if t is None else dict(zip(t["group"], t["multiplier"], strict=True))

    def to_dict(self) -> dict[str, Any]:
        rows = []
        for dim, t in self.tables.items():
            rows += [{"dimension": dim, **r} for r in t.to_dict(orient="records")]
        return {"pooled_rate": self.pooled, "prior_strength": self.strength,
                "applied": self.applied, "groups": rows, "deals_counted": self.which,
                "method": "beta-binomial shrinkage towards the pooled rate; odds "
                          "multipliers of source and segment fitted jointly, given the reps' "
                          "productivity, to reproduce each group's shrunk rate"}


def shrunk_rates(n: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Each group's rate shrunk towards the pooled rate ``K / N`` (module docstring); the
    pooled rate and the prior strength ``s``."""
    r = float(k.sum() / max(n.sum(), 1))
    a, b, _ = beta_binomial_prior(n, k)
    s = float(a + b)
    return (s * r + k) / (s + n), r, s


def _solve(base: np.ndarray, target: float) -> float:
    """``x`` with ``sum expit(base + x) = target`` (``0 < target < len(base)``)."""
    def f(x: float) -> float:
        return float(special.expit(base + x).sum() - target)
    lo, hi = math.log(MULTIPLIER_BOUNDS[0]), math.log(MULTIPLIER_BOUNDS[1])
    if f(lo) >= 0:
        return lo
    if f(hi) <= 0:
        return hi
    return float(optimize.brentq(f, lo, hi, xtol=1e-10))


def resolved_deals(deals: pd.DataFrame, cut: pd.Timestamp) -> tuple[pd.DataFrame, str]:
    """The deals whose outcome is known (module docstring, *resolved cohorts*): those created
    at least the :data:`RESOLVED_QUANTILE` quantile of the closed cycle times before ``cut``,
    every one counted (a deal still open then never closes: not won). Too few of them (fewer
    than :data:`MIN_RESOLVED` or a third of the closed deals): the closed deals. With the
    sentence that says which."""
    closed = deals[deals["outcome"].isin(["won", "lost"])]
    cycle = (closed["close_date"] - closed["created_date"]).dt.days.dropna()
    if len(cycle) >= 2:
        age = math.ceil(float(np.quantile(cycle, RESOLVED_QUANTILE)))
        old = deals[deals["created_date"] < cut - pd.Timedelta(days=age)]
        if len(old) >= max(MIN_RESOLVED, len(closed) / 3):
            return old, (f"the deals created {age} days or more before the cut (the "
                         f"{RESOLVED_QUANTILE:.0%} quantile of the closed cycle times: their "
                         "outcomes are known; one still open is not won)")
    return closed, ("the closed deals (too few deals are old enough for their outcome to be "
                    "known: recent losses still open are missing, a bias towards wins)")


def group_rates(deals: pd.DataFrame, *, flat: bool, cut: pd.Timestamp,
                rep_multipliers: dict[str, float] | None = None) -> GroupRates | None:
    """The group rates of ``deals`` (columns ``outcome``, ``created_date``, ``close_date``,
    ``source``, ``segment``, ``owner``; ``all`` / NaN: unknown) known at ``cut``, over the
    deals whose outcome is known (:func:`resolved_deals`), given the reps' multipliers
    ``rep_multipliers`` (owner -> productivity; a rep not in it: 1). None when there is one
    source and one segment, fewer than 2 deals count, or the pooled rate is 0 or 1."""
    closed, which = resolved_deals(deals, cut)
    won = closed["outcome"].eq("won").to_numpy(dtype=float)
    if len(closed) < 2 or won.sum() in (0, len(closed)):
        return None
    keys = {"source": closed["source"].fillna(ALL).astype(str).to_numpy(),
            "segment": closed["segment"].fillna(ALL).astype(str).to_numpy()}
    reps = rep_multipliers or {}
    rep_offset = np.log(closed["owner"].map(reps).fillna(1.0).to_numpy(dtype=float))
    tables: dict[str, pd.DataFrame] = {}
    strength: dict[str, float] = {}
    index: dict[str, np.ndarray] = {}
    r = float(won.mean())
    for dim in DIMENSIONS:
        key = keys[dim]
        known = key != ""
        groups, inv = np.unique(key[known], return_inverse=True)
        if groups.size < 2:
            continue
        n = np.bincount(inv).astype(float)
        k = np.bincount(inv, weights=won[known])
        target, _, s = shrunk_rates(n, k)
        strength[dim] = s
        tables[dim] = pd.DataFrame({"group": groups, "deals": n.astype(int),
                                    "won": k.astype(int), "raw_rate": k / n, "rate": target,
                                    "multiplier": 1.0})
        full = np.full(len(closed), -1)
        full[np.flatnonzero(known)] = inv
        index[dim] = full
    if not tables:
        return None
    x = {dim: np.zeros(len(t)) for dim, t in tables.items()}
    logit_r = math.log(r / (1 - r))
    for _ in range(ROUNDS):
        change = 0.0
        for dim, t in tables.items():
            idx = index[dim]
            other = rep_offset.copy()
            for d2 in tables:
                if d2 != dim:
                    other += np.where(index[d2] >= 0, x[d2][np.maximum(index[d2], 0)], 0.0)
            for g in range(len(t)):
                sel = idx == g
                new = _solve(logit_r + other[sel], float(t.at[g, "rate"] * sel.sum()))
                change = max(change, abs(new - x[dim][g]))
                x[dim][g] = new
        if change < 1e-8:
            break
    notes = []
    for dim, t in tables.items():
        t["multiplier"] = np.exp(x[dim])
        at_bound = t["multiplier"].le(MULTIPLIER_BOUNDS[0] * 1.0001) | t["multiplier"].ge(
            MULTIPLIER_BOUNDS[1] * 0.9999)
        if at_bound.any():
            notes.append(f"win rate by {dim}: {', '.join(t.loc[at_bound, 'group'])} at the "
                         f"multiplier bounds {MULTIPLIER_BOUNDS} (clipped)")
    shown = list(tables)
    if shown:
        notes.append("win rates by " + " and ".join(shown) + f" over {which}, shrunk towards "
                     f"the pooled rate {r:.3f} as odds multipliers fitted given the reps' "
                     "productivity"
                     + ("" if flat else "; reported, not applied (a multi-stage funnel: a "
                        "multiplier would act at every stage)"))
    return GroupRates(tables, r, strength, applied=flat, notes=notes, which=which)
