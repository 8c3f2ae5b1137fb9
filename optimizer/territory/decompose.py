"""Pool decomposition: solve the balance pools of an alignment one at a time.

A pool is a connected component of the account-rep eligibility graph (:mod:`.balance`): its
accounts can go only to its reps, and its reps' band centres come from its own totals. Every
row of the model (:mod:`.formulation`) then involves the variables of one pool only, except the
move caps of re-align mode (``max_moves``, ``max_moved_potential``), which sum over every
account. Without them the model is block-diagonal,

    min  sum_g  sum_{(i,j) in P_g} c_ij x_ij     s.t. the rows of pool g read only x of P_g,

so a plan is optimal exactly when each pool's part is optimal for that pool, and the LP bound
of the whole is the sum of the pools' LP bounds. Solving the pools apart gives the same optimum
from models a fraction of the size; LP and MILP effort grows faster than linearly with the
model, so the sum of the parts is cheaper than the whole (measured in ``benchmarks/RESULTS.md``,
territory "Update 5").

The restricted pieces keep the whole problem's cost matrix, distance weights and penalty units
(``soft_unit``, ``elastic_unit``), so each pool's objective is exactly its share of the whole
objective, soft band penalties included.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .balance import Pools

__all__ = ["PoolPart", "pool_parts", "restrict"]


@dataclass(frozen=True, eq=False)
class PoolPart:
    """One pool: its name, and the rows (accounts) and columns (reps) it holds."""

    name: str
    accounts: np.ndarray
    reps: np.ndarray


def pool_parts(prep) -> list[PoolPart] | None:
    """The pools to solve one at a time, or None when the model must be solved whole: a move
    cap couples every account, or fewer than two pools have accounts. Pools with reps but no
    account (idle reps) are left out: their reps get empty territories either way."""
    spec = prep.spec
    if spec.max_moves is not None or spec.max_moved_potential is not None:
        return None
    pools = prep.pools
    parts = []
    for g, name in enumerate(pools.names):
        accounts = np.flatnonzero(pools.account_pool == g)
        if accounts.size:
            parts.append(PoolPart(name, accounts, pools.reps_of(g)))
    return parts if len(parts) >= 2 else None


def restrict(problem, prep, part: PoolPart):
    """``(problem, prep)`` restricted to one pool: the same arrays sliced to the pool's rows
    and columns, owners re-indexed among its reps (an owner outside the pool is -1 there, as
    in :meth:`AlignmentProblem.owner_index`)."""
    a, r = part.accounts, part.reps
    column = np.full(problem.n_reps + 1, -1, dtype=np.int64)  # index -1 (no owner) stays -1
    column[r] = np.arange(r.size)
    owner = column[prep.owner[a]]
    spec = prep.spec
    bands = tuple(replace(b, values=b.values[a], mu=b.mu[r]) for b in prep.bands)
    sub_spec = replace(
        spec, account_ids=[spec.account_ids[i] for i in a],
        rep_ids=[spec.rep_ids[j] for j in r], cost=spec.cost[np.ix_(a, r)], owner=owner,
        has_owner=spec.has_owner[a], locked=spec.locked[a], potential=spec.potential[a],
        workload=spec.workload[a], bands=bands, capacity=spec.capacity[r])
    pools = Pools(np.zeros(r.size, dtype=np.int64), np.zeros(a.size, dtype=np.int64),
                  [part.name], prep.pools.rep_share[r])
    row = np.full(problem.n_accounts, -1, dtype=np.int64)
    row[a] = np.arange(a.size)
    dedicated = tuple(replace(d, account=int(row[d.account]), rep=int(column[d.rep]))
                      for d in prep.dedicated if column[d.rep] >= 0)
    sub_prep = replace(prep, eligible=prep.eligible[np.ix_(a, r)], owner=owner, pools=pools,
                       bands=bands, capacity=prep.capacity[r], weight=prep.weight[a],
                       spec=sub_spec, notes=[], dedicated=dedicated)
    return problem.subset(a, r), sub_prep
