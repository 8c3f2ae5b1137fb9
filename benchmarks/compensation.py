"""What each quota method does to pay on ``midmarket.yaml``: cost of sales, the share of reps at
on-target pay, and pay equity; and the payout engine's speed against a plain loop.

Run: ``.venv/bin/python -m salesplan.benchmarks.compensation [--replications 200] [--workers 2]``

One Monte Carlo run (seed 1) gives the simulated sales; every quota method sets quotas on those
draws (default options and bounds), and the scenario's pay plan is applied to the same sales, so
the methods differ only by their quotas. Equity: the Gini of each rep's expected pay over its
target variable, and the share of the cross-rep variance of that ratio explained by territory
(potential over quota) rather than by the rep (productivity), by the Shapley split (see
``salesplan.optimizer.compensation.summary``).

Speed: the vectorised engine (one pass per rep and payout period over all replications) against
a reference that computes one rep-replication at a time with the formulas written out in Python
scalars (the baseline; it also checks the engine's commission to 1e-6).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from salesplan.benchmarks.machine import machine_line
from salesplan.scenarios import load_scenario
from salesplan.scenarios.examples import EXAMPLES

EXAMPLE = EXAMPLES / "midmarket.yaml"


def _reference_commission(plan, credit: np.ndarray, quota: np.ndarray, tv: np.ndarray) -> float:
    """One rep-replication's commission, period by period, in Python scalars (no draws)."""
    from salesplan.optimizer.compensation import payout_periods

    def f(a: float) -> float:
        if a < plan.threshold:
            return 0.0
        g = 0.0
        for k, t in enumerate(plan.rates):
            upper = plan.rates[k + 1].above if k + 1 < len(plan.rates) else float("inf")
            g += t.rate * min(max(a - t.above, 0.0), upper - t.above)
        return min(g, plan.cap) if plan.cap is not None else g

    total, paid, year = 0.0, 0.0, -1
    for first, last in payout_periods(len(credit), plan.period):
        if first // 12 != year:
            year, paid = first // 12, 0.0
        y0 = year * 12
        q = float(quota[y0:last + 1].sum())
        earned = float(tv[y0:last + 1].sum()) * f(float(credit[y0:last + 1].sum()) / q
                                                  if q > 0 else 0.0)
        c = earned - paid if plan.clawback else max(earned - paid, 0.0)
        total, paid = total + c, paid + c
    return total


def _speed(sc, terms, sales) -> tuple[float, float, float]:
    from salesplan.optimizer.compensation import compute_payouts

    t = time.perf_counter()
    p = compute_payouts(sc, terms, sales)
    fast = time.perf_counter() - t
    tv = terms.target_variable
    t = time.perf_counter()
    worst = 0.0
    credit = sales.bookings_product.sum(axis=2)  # [N, R, M] (weights below)
    for r, plan in enumerate(terms.plans):
        w = (np.array([(plan.product_weights or {}).get(x, 1.0) for x in sc.product_ids])
             if plan.weights_by == "product" else None)
        for n in range(credit.shape[0]):
            x = (sales.bookings_product[n, r].T @ w) if w is not None else credit[n, r]
            ref = _reference_commission(plan, x, terms.quota[r], tv[r])
            worst = max(worst, abs(ref - p.commission[n, r]))
    slow = time.perf_counter() - t
    return fast, slow, worst


def main(argv: list[str] | None = None) -> int:
    from salesplan.api.planning.compensation import comp_by_method, scenario_payouts
    from salesplan.api.planning.quotas import horizon_quotas
    from salesplan.optimizer.quotas import DEFAULT_METHOD
    from salesplan.simulator import simulate

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replications", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    print(machine_line())
    sc = load_scenario(EXAMPLE)
    t = time.perf_counter()
    result = simulate(sc, args.replications, seed=1, workers=args.workers, keep_deals=0)
    t_sim = time.perf_counter() - t
    comp = sc.compensation
    print(f"scenario: {sc.name}, {len(sc.reps)} reps, target {sc.targets.company:,.0f}; pay "
          f"plans: {', '.join(f'{p.role} OTE {p.ote:,.0f} mix {p.mix:.0%}' for p in comp.plans)}"
          f"; budget {comp.budget:,.0f}; {args.replications} replications, seed 1 "
          f"(simulation {t_sim:.1f} s)")
    t = time.perf_counter()
    table = comp_by_method(sc, result)
    print(f"\nquota methods on the same sales ({time.perf_counter() - t:.1f} s for all):")
    print(table.to_string(float_format=lambda v: f"{v:,.3f}"))

    quotas, _ = horizon_quotas(sc, DEFAULT_METHOD, result.rep_bookings())
    _, terms, sales = scenario_payouts(sc, quotas, result)
    fast, slow, worst = _speed(sc, terms, sales)
    n_cells = sales.seated_days.size
    print(f"\npayout engine, {n_cells:,} rep-replications (method {DEFAULT_METHOD}): "
          f"vectorised {fast * 1e3:.1f} ms, scalar reference {slow * 1e3:.0f} ms "
          f"({slow / fast:.0f}x); largest commission difference {worst:.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
