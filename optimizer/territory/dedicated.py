"""Dedicated territories for accounts too large for any band (key-account territories).

An account whose value on a banded metric is above the upper band of every eligible rep,
``v_ia > (1 + tau_a) mu_aj`` for all eligible j, makes every hard band infeasible: whichever
rep gets it is out of band (Los Angeles County is 1.28 x the mean potential of 40 reps, so no
plan holds a ±5% potential band). Planners solve this with a key-account territory: one rep
serves that account alone, and the other reps are balanced among themselves.

With ``AlignmentOptions(dedicate_oversized=True)`` :func:`dedicate_oversized` does exactly
that before the model is built, one account at a time, largest first:

1. an account is *oversized* when it exceeds the upper band of every eligible rep on a
   workload or potential band (an account-count band never makes one: a single account is
   one account); targets are recomputed after each dedication, since the pool mean falls as
   large accounts leave it and a second account can become oversized. The most constrained
   oversized account goes first (fewest qualifying reps), then the largest;
2. a rep qualifies if it is not already dedicated, owns no other locked account, is not the
   only eligible rep of another account, and has the capacity for the account's workload. The
   rep is the owner when the account is locked, or in re-align mode when the owner qualifies;
   otherwise a qualifying rep with no other eligible account (it would be idle), else the one
   with the least cost ``d_ij + lambda [j != o(i)]`` (the model's cost per unit of distance
   weight);
3. the account becomes eligible for that rep only and the rep for that account only. The pair
   is then a pool of its own (:mod:`.balance`): the rep's band targets are 0 (no band applies
   to it), and the other reps' targets are the means of what is left.

Assumption: a dedicated rep serves that one account and nothing else. Dedicated reps are left
out of the balance statistics (max/min, CV), and the notes say so with the account's size
against the mean of its reps. Capacity, when given, still applies to dedicated reps. The option
works in soft mode too (an oversized account would otherwise pay the penalty on every plan).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .balance import Pools, best_upper_band, metric_values, pool_names, pools_of, targets
from .repair import COUNT_METRIC

__all__ = ["Dedication", "dedicate_oversized"]


@dataclass(frozen=True)
class Dedication:
    """Account ``account`` (row) served alone by rep ``rep`` (column): it exceeded the upper
    ``metric`` band of every eligible rep by ``ratio`` = value / band centre before it left
    the pool (e.g. 1.28 for an account of 1.28 x the mean)."""

    account: int
    rep: int
    metric: str
    ratio: float


def dedicate_oversized(problem, options, eligible: np.ndarray, owner: np.ndarray,
                       shares: dict[str, float], capacity: np.ndarray
                       ) -> tuple[np.ndarray, Pools, list[Dedication], list[str]]:
    """Dedicated territories for oversized accounts (module doc). ``capacity`` is each rep's
    maximum workload (hours/yr, inf: none). Returns the eligibility (a copy when changed), the
    pools, the dedications and notes (accounts that are oversized but for which no rep
    qualifies)."""
    p = problem
    pools = pools_of(p, eligible, shares)
    bands = [(b.metric, metric_values(p, b.metric), b.tolerance) for b in options.balance
             if b.metric != COUNT_METRIC]
    if not bands:
        return eligible, pools, [], []
    dist = np.where(np.isfinite(p.distance), p.distance, np.inf)
    ctx = _Context(eligible, owner, np.asarray(p.locked, dtype=bool), dist,
                   options.disruption_weight, options.mode == "realign",
                   np.asarray(p.workload, dtype=float), capacity)
    out: list[Dedication] = []
    stuck: dict[int, str] = {}
    changed = False
    while True:
        over = _oversized(bands, ctx.eligible, pools, set(stuck))
        if not over:
            break
        taken = {d.rep for d in out}
        sole = ctx.eligible.sum(axis=1) == 1  # accounts with one eligible rep left
        options_of = {i: ctx.reps_for(i, taken, sole) for i, *_ in over}
        for i, metric, *_ in over:
            if not options_of[i]:
                stuck[i] = metric
        live = [o for o in over if options_of[o[0]]]
        if not live:
            continue
        # the most constrained account first (fewest qualifying reps), then the largest
        i, metric, ratio, _ = min(live, key=lambda o: (len(options_of[o[0]]), -o[3]))
        j = options_of[i][0]
        if not changed:
            ctx.eligible = ctx.eligible.copy()
            changed = True
        ctx.eligible[i, :] = False
        ctx.eligible[:, j] = False
        ctx.eligible[i, j] = True
        out.append(Dedication(i, j, metric, ratio))
        pools = pools_of(p, ctx.eligible, shares)
    dedicated_pools = {int(pools.rep_pool[d.rep]) for d in out}
    names = pool_names(p, np.where(np.isin(pools.rep_pool, list(dedicated_pools)), -1,
                                   pools.rep_pool), len(pools.names))
    for d in out:
        names[pools.rep_pool[d.rep]] = f"dedicated to {p.account_ids[d.account]}"
    pools = Pools(pools.rep_pool, pools.account_pool, names, pools.rep_share)
    notes = [f"account {p.account_ids[i]} exceeds the upper {metric} band of every eligible "
             "rep, but no rep can be dedicated to it (each is dedicated already, owns another "
             "locked account, is the only rep of another account, or has too little capacity)"
             for i, metric in stuck.items()]
    return ctx.eligible, pools, out, notes


def _oversized(bands, eligible: np.ndarray, pools: Pools, skip: set[int]
               ) -> list[tuple[int, str, float, float]]:
    """Accounts above the upper band of every eligible rep, each once (its largest excess):
    (account, metric, value / its best rep's band centre, value / that rep's upper limit)."""
    found: dict[int, tuple[int, str, float, float]] = {}
    ok = pools.account_pool >= 0
    for metric, values, tau in bands:
        mu = targets(values, pools)
        reach = best_upper_band(eligible, mu, tau)
        centre = np.where(eligible, mu[None, :], -np.inf).max(axis=1)
        excess = np.where(ok & np.isfinite(reach) & (reach > 0),
                          values / np.where(reach > 0, reach, 1.0), 0.0)
        for i in np.flatnonzero(excess > 1 + 1e-9).tolist():
            if i in skip:
                continue
            if i not in found or excess[i] > found[i][3]:
                found[i] = (i, metric, float(values[i] / centre[i]), float(excess[i]))
    return list(found.values())


@dataclass
class _Context:
    """What the choice of a dedicated rep looks at (module doc, step 2)."""

    eligible: np.ndarray
    owner: np.ndarray
    locked: np.ndarray
    dist: np.ndarray
    lam: float
    realign: bool
    workload: np.ndarray
    capacity: np.ndarray

    def reps_for(self, i: int, taken: set[int], sole: np.ndarray) -> list[int]:
        """Reps that can serve account i alone, best first: the owner when the account is
        locked (only it) or in re-align mode; then reps with no other eligible account (else
        idle); then by cost ``d_ij + lambda [j != o(i)]``. ``sole``: accounts with a single
        eligible rep."""
        e = self.eligible
        reps = np.flatnonzero(e[i])
        if self.locked[i]:
            reps = reps[reps == self.owner[i]]
        locked_owner = np.where(self.locked, self.owner, -1)

        def qualifies(j: int) -> bool:
            if j in taken or self.workload[i] > self.capacity[j] + 1e-9:
                return False
            others = np.flatnonzero(e[:, j])
            others = others[others != i]
            return not (locked_owner[others] == j).any() and not sole[others].any()

        ok = [j for j in reps.tolist() if qualifies(j)]
        exclusive = {j for j in ok if e[:, j].sum() == 1}
        cost = {j: self.dist[i, j] + self.lam * (j != self.owner[i]) for j in ok}
        first = self.owner[i] if self.realign and self.owner[i] in cost else -1
        return sorted(ok, key=lambda j: (j != first, j not in exclusive, cost[j], j))
