"""Balance metrics, balance pools and band targets.

A rep's *load* on a metric is the sum over its accounts: workload (hours/yr), potential
(currency/yr) or the account count. Reps are balanced against the mean of their **pool**: the
connected component of the account-rep eligibility graph. Accounts of a pool can only go to reps
of that pool, so the pool total is fixed and the target of rep j is

    mu_aj = share_j / sum_{k in pool} share_k  x  sum_{i in pool} w_ia

(Enterprise specialists are balanced against each other, not against SMB reps; a region is a
pool unless skills split it). Balance statistics are taken over the ratios L_aj / mu_aj.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["Pools", "balance_stats", "best_upper_band", "metric_values", "pool_names",
           "pools_of", "targets"]


def metric_values(problem, metric: str) -> np.ndarray:
    """Per-account value of a balance metric (hours/yr, currency/yr, or 1 per account)."""
    if metric == "workload":
        return np.asarray(problem.workload, dtype=float)
    if metric == "potential":
        return np.asarray(problem.potential, dtype=float)
    if metric == "accounts":
        return np.ones(problem.n_accounts)
    raise KeyError(metric)


@dataclass(frozen=True, eq=False)
class Pools:
    """``rep_pool[j]`` and ``account_pool[i]`` (-1: an account with no eligible rep) index
    ``names``; ``rep_share`` is each rep's relative share within its pool."""

    rep_pool: np.ndarray
    account_pool: np.ndarray
    names: list[str]
    rep_share: np.ndarray

    def reps_of(self, g: int) -> np.ndarray:
        return np.flatnonzero(self.rep_pool == g)


def pools_of(problem, eligible: np.ndarray, shares: dict[str, float] | None = None) -> Pools:
    """Connected components of the eligibility graph, named in a planner's words."""
    n, m = eligible.shape
    ii, jj = np.nonzero(eligible)
    graph = coo_matrix((np.ones(ii.size), (ii, n + jj)), shape=(n + m, n + m))
    _, labels = connected_components(graph, directed=False)
    rep_label = labels[n:]
    order = {lab: g for g, lab in enumerate(dict.fromkeys(rep_label.tolist()))}
    rep_pool = np.array([order[lab] for lab in rep_label], dtype=np.int64)
    acc_label = labels[:n]
    account_pool = np.array([order.get(lab, -1) for lab in acc_label], dtype=np.int64)
    account_pool[~eligible.any(axis=1)] = -1
    names = pool_names(problem, rep_pool, len(order))
    share = np.array([(shares or {}).get(r, 1.0) for r in problem.rep_ids], dtype=float)
    return Pools(rep_pool, account_pool, names, share)


def pool_names(problem, rep_pool: np.ndarray, count: int) -> list[str]:
    """A planner's name per pool: its reps' regions, and their skills where a region has
    several pools. Reps with ``rep_pool`` -1 are left out (their pools get an empty name)."""
    members = [np.flatnonzero(rep_pool == g) for g in range(count)]
    if problem.rep_region is None:
        return [f"pool of {', '.join(problem.rep_ids[j] for j in reps[:3])}"
                + (" ..." if reps.size > 3 else "") for reps in members]
    regions = [sorted({problem.rep_region[j] for j in reps}) for reps in members]
    pools_per_region: dict[str, int] = {}
    for regs in regions:
        for r in regs:
            pools_per_region[r] = pools_per_region.get(r, 0) + 1
    names: list[str] = []
    for g, reps in enumerate(members):
        regs = regions[g]
        if not regs:
            names.append("")
            continue
        label = f"region{'s' if len(regs) > 1 else ''} {', '.join(regs)}"
        if max(pools_per_region[r] for r in regs) > 1 and problem.rep_segments is not None:
            skills = sorted({s for j in reps for s in problem.rep_segments[j]})
            label += f" ({'/'.join(skills) if skills else 'all segments'})"
        if label in names:
            label += f" #{g + 1}"
        names.append(label)
    return names


def targets(values: np.ndarray, pools: Pools) -> np.ndarray:
    """Band centre mu_j per rep for one metric (same unit as ``values``)."""
    m = pools.rep_pool.size
    mu = np.zeros(m)
    ok = pools.account_pool >= 0
    totals = np.bincount(pools.account_pool[ok], weights=values[ok],
                         minlength=len(pools.names))
    share_sum = np.bincount(pools.rep_pool, weights=pools.rep_share, minlength=len(pools.names))
    for j in range(m):
        g = pools.rep_pool[j]
        mu[j] = totals[g] * pools.rep_share[j] / share_sum[g]
    return mu


def best_upper_band(eligible: np.ndarray, mu: np.ndarray, tolerance: float) -> np.ndarray:
    """Per account, the highest upper band limit ``(1 + tau) mu_j`` among its eligible reps
    (inf when one of them has no target, -inf with no eligible rep): an account above it
    breaks the band of whichever rep gets it."""
    upper = np.where(mu > 0, (1 + tolerance) * mu, np.inf)
    return np.where(eligible, upper[None, :], -np.inf).max(axis=1)


def balance_stats(loads: np.ndarray, mu: np.ndarray) -> dict[str, float]:
    """``max_over_mean``, ``min_over_mean`` and ``cv`` (coefficient of variation) of the ratios
    load / target over reps with a positive target (the ratio is 1 for a perfectly balanced
    rep). NaN when no rep has a positive target."""
    ok = mu > 0
    if not ok.any():
        return {"max_over_mean": float("nan"), "min_over_mean": float("nan"),
                "cv": float("nan")}
    r = loads[ok] / mu[ok]
    return {"max_over_mean": float(r.max()), "min_over_mean": float(r.min()),
            "cv": float(r.std() / r.mean()) if r.mean() > 0 else float("nan")}
