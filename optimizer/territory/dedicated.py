"""Dedicated territories for accounts too large for any band (key-account territories).

An account whose value on a banded metric is above the upper band of every eligible rep,
``v_ia > (1 + tau_a) mu_aj`` for all eligible j, makes every hard band infeasible: whichever
rep gets it is out of band (Los Angeles County is 1.28 x the mean potential of 40 reps, so no
plan holds a ±5% potential band). Planners solve this with a key-account territory: one rep
serves that account alone, and the other reps are balanced among themselves.

With ``AlignmentOptions(dedicate_oversized=True)`` :func:`dedicate_oversized` does exactly
that before the model is built, one account at a time, largest first:

1. an account is *oversized* when it exceeds the upper band of every eligible rep on some
   band (targets recomputed after each dedication: the pool mean falls as large accounts
   leave it, so a second account can become oversized);
2. its rep is its owner when the account is locked, or in re-align mode when the owner is
   eligible; otherwise the eligible rep with the least cost ``d_ij + lambda [j != o(i)]``
   (the model's cost per unit of distance weight). A rep qualifies only if it is not already
   dedicated, owns no other locked account, and every other account it could serve has
   another eligible rep;
3. the account becomes eligible for that rep only and the rep for that account only. The pair
   is then a pool of its own (:mod:`.balance`): the rep's band targets are 0 (no band applies
   to it), and the other reps' targets are the means of what is left.

Assumption: a dedicated rep serves that one account and nothing else. Dedicated reps are left
out of the balance statistics (max/min, CV), and the notes say so with the account's size
against the mean of all reps. Capacity, when given, still applies to dedicated reps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .balance import Pools, metric_values, pools_of, targets

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
                       shares: dict[str, float]) -> tuple[np.ndarray, Pools,
                                                          list[Dedication], list[str]]:
    """Dedicated territories for oversized accounts (module doc). Returns the eligibility
    (a copy when changed), the pools, the dedications and notes (accounts that are oversized
    but for which no rep qualifies)."""
    p = problem
    pools = pools_of(p, eligible, shares)
    bands = [(b.metric, metric_values(p, b.metric), b.tolerance) for b in options.balance]
    if not bands:
        return eligible, pools, [], []
    dist = np.where(np.isfinite(p.distance), p.distance, np.inf)
    lam = options.disruption_weight
    locked = np.asarray(p.locked, dtype=bool)
    locked_owner = np.where(locked, owner, -1)
    out: list[Dedication] = []
    stuck: dict[int, str] = {}
    changed = False
    while True:
        found = _largest_oversized(bands, eligible, pools, set(stuck))
        if found is None:
            break
        i, metric, ratio = found
        j = _pick_rep(i, eligible, owner, locked, locked_owner, dist, lam,
                      options.mode == "realign", {d.rep for d in out})
        if j is None:
            stuck[i] = metric
            continue
        if not changed:
            eligible = eligible.copy()
            changed = True
        eligible[i, :] = False
        eligible[:, j] = False
        eligible[i, j] = True
        out.append(Dedication(i, j, metric, ratio))
        pools = pools_of(p, eligible, shares)
    names = list(pools.names)
    for d in out:
        names[pools.rep_pool[d.rep]] = f"dedicated to {p.account_ids[d.account]}"
    pools = Pools(pools.rep_pool, pools.account_pool, names, pools.rep_share)
    notes = [f"account {p.account_ids[i]} exceeds the upper {metric} band of every eligible "
             "rep, but no rep can be dedicated to it (each is dedicated already, owns another "
             "locked account, or is the only rep of another account)"
             for i, metric in stuck.items()]
    return eligible, pools, out, notes


def _largest_oversized(bands, eligible: np.ndarray, pools: Pools, skip: set[int]
                       ) -> tuple[int, str, float] | None:
    """The account with the largest excess over the upper band of its best eligible rep,
    with the band's metric and the account's value / that rep's band centre."""
    best: tuple[float, int, str, float] | None = None
    ok = pools.account_pool >= 0
    for metric, values, tau in bands:
        mu = targets(values, pools)
        upper = np.where(mu > 0, (1 + tau) * mu, np.inf)
        reach = np.where(eligible, upper[None, :], -np.inf).max(axis=1)
        centre = np.where(eligible, mu[None, :], -np.inf).max(axis=1)
        excess = np.where(ok & np.isfinite(reach) & (reach > 0),
                          values / np.where(reach > 0, reach, 1.0), 0.0)
        excess[list(skip)] = 0.0
        i = int(np.argmax(excess))
        if excess[i] > 1 + 1e-9 and (best is None or excess[i] > best[0]):
            best = (float(excess[i]), i, metric, float(values[i] / centre[i]))
    return None if best is None else best[1:]


def _pick_rep(i: int, eligible: np.ndarray, owner: np.ndarray, locked: np.ndarray,
              locked_owner: np.ndarray, dist: np.ndarray, lam: float, realign: bool,
              taken: set[int]) -> int | None:
    """The rep to serve account i alone (module doc, step 2), or None."""
    reps = np.flatnonzero(eligible[i])
    if locked[i]:
        reps = reps[reps == owner[i]]
    sole = eligible.sum(axis=1) == 1

    def qualifies(j: int) -> bool:
        if j in taken:
            return False
        others = np.flatnonzero(eligible[:, j])
        others = others[others != i]
        return not (locked_owner[others] == j).any() and not sole[others].any()

    if realign and owner[i] >= 0 and owner[i] in reps and qualifies(int(owner[i])):
        return int(owner[i])
    cost = dist[i, reps] + lam * (reps != owner[i])
    for j in reps[np.argsort(cost, kind="stable")].tolist():
        if qualifies(j):
            return j
    return None
