"""Territory: a lower bound on the distance of any plan at least as balanced as the peer.

The goal "equal or better balance than the greedy peer with at least 30% less weighted
distance" can be out of reach for every plan. This script proves it when it is: it solves the
LP relaxation of

    min   sum_{i,j eligible} w_i d_ij x_ij                      (weighted distance, km)
    s.t.  sum_j x_ij = 1                                        every account i
          L_aj / mu_aj <= U_a                                   every rep j, metric a
          L_aj / mu_aj >= U_a / rho_a                           (max/min <= rho_a)
          L_aj = sum_i v_ia x_ij,  0 <= x_ij <= 1,  U_a >= 0

with rho_a the peer's measured max/min of metric a (potential, workload, accounts), over every
eligible pair (no candidate restriction). Every plan whose max/min is at most the peer's on
every metric is feasible here, so the LP optimum is a lower bound on its weighted distance (the
CV figures only shrink that set further). If the bound is above 70% of the peer's weighted
distance, no plan both matches the peer's balance and travels 30% less.

    .venv/bin/python -m salesplan.benchmarks.territory_peer_bound [--sizes 1k,10k]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pulp

from salesplan.benchmarks.territory_instances import counties_instance, synthetic_instance
from salesplan.benchmarks.territory_peer import PEER, greedy_peer
from salesplan.optimizer import AlignmentOptions, measure_plan
from salesplan.optimizer.territory.alignment import prepare
from salesplan.optimizer.territory.balance import metric_values, targets
from salesplan.optimizer.territory.solver import SolverSpec

SIZES = {"1k": (1_000, 10), "10k": (10_000, 100), "counties": (None, 40)}
METRICS = ("potential", "workload", "accounts")


def balance_bound(problem, rho: dict[str, float], time_limit: float = 600.0
                  ) -> tuple[str, float | None, float]:
    """(LP status, bound on weighted distance or None, seconds) of the model in the module
    doc, for max/min limits ``rho`` per metric."""
    opts = AlignmentOptions(mode="carve", balance=())
    prep = prepare(problem, opts)
    ii, jj = np.nonzero(prep.eligible)
    dist = np.where(np.isfinite(problem.distance), problem.distance, 0.0)
    prob = pulp.LpProblem("peer_balance_bound", pulp.LpMinimize)
    x = [pulp.LpVariable(f"x_{i}_{j}", 0, 1) for i, j in zip(ii.tolist(), jj.tolist(),
                                                             strict=True)]
    prob.setObjective(pulp.LpAffineExpression(
        zip(x, (prep.weight[ii] * dist[ii, jj]).tolist(), strict=True)))
    for i in range(problem.n_accounts):
        idx = np.flatnonzero(ii == i)
        prob.addConstraint(pulp.lpSum(x[t] for t in idx) == 1, f"assign_{i}")
    m = problem.n_reps
    by_rep = [np.flatnonzero(jj == j) for j in range(m)]
    for metric, r in rho.items():
        v = metric_values(problem, metric)
        mu = targets(v, prep.pools)
        u = pulp.LpVariable(f"U_{metric}", 0)
        for j in range(m):
            if mu[j] <= 0:
                continue
            load = pulp.LpAffineExpression(
                [(x[t], float(v[ii[t]] / mu[j])) for t in by_rep[j].tolist()])
            prob.addConstraint(load - u <= 0, f"max_{metric}_{j}")
            prob.addConstraint(load - u / r >= 0, f"min_{metric}_{j}")
    res = SolverSpec(name="highs", time_limit=time_limit).solve(prob, mip=False,
                                                                time_limit=time_limit)
    return res.state, res.objective if res.state == "optimal" else None, res.seconds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1k")
    args = ap.parse_args(argv)
    print(f"peer: {PEER}; LP over every eligible pair, max/min of every metric <= the peer's")
    for size in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        n, m = SIZES[size]
        p = counties_instance(reps=m) if n is None else synthetic_instance(n, m, seed=7)
        plain = AlignmentOptions(mode="carve", balance=())
        weight = prepare(p, plain).weight
        peer = measure_plan(p, greedy_peer(p, weight), plain, name="greedy LPT peer")
        rho = {a: peer.metrics.balance[a]["max_over_mean"] / peer.metrics.balance[a][
            "min_over_mean"] for a in METRICS}
        t0 = time.perf_counter()
        state, bound, secs = balance_bound(p, rho)
        d = peer.metrics.weighted_distance
        limits = ", ".join(f"{a} {r:.5f}" for a, r in rho.items())
        if bound is None:
            print(f"{size} x {m}: LP {state} in {secs:.1f} s (max/min limits: {limits})")
            continue
        print(f"{size} x {m}: peer weighted distance {d:,.0f}; max/min limits {limits}")
        print(f"  lower bound for any plan at least as balanced: {bound:,.0f} "
              f"({bound / d - 1:+.1%} vs the peer; LP {secs:.1f} s, "
              f"{time.perf_counter() - t0:.1f} s with the build)")
        print(f"  30% less distance than the peer {'is' if bound <= 0.7 * d else 'is NOT'} "
              "possible at that balance")
    return 0


if __name__ == "__main__":
    main()
