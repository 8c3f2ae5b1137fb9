"""P(attainment) spread per quota method on ``midmarket.yaml``, and what the fair method costs.

Run: ``.venv/bin/python -m salesplan.benchmarks.quota_fairness [--replications 200] [--workers 2]``

Two independent Monte Carlo runs of the simulator (seeds 1 and 2): quotas are set on the first
(the fair method reads its draws; every method gets the same draws and the same options:
over-assignment 1.1, rounding to 1,000, default bounds), and P(attainment) is measured both on
those draws (in-sample) and on the second run (held out, the honest figure: the fair quotas are
not fitted to it). The fair method's cost is one simulation plus the allocation; the issue's goal
is at most 1.5x one Monte Carlo run of the same scenario.

This benchmark imports the simulator (an application-level script may; ``optimizer`` does not).
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from salesplan.benchmarks.machine import machine_line
from salesplan.optimizer.quotas import allocate_quotas, attainment, method_names
from salesplan.scenarios import load_scenario
from salesplan.scenarios.examples import EXAMPLES

EXAMPLE = EXAMPLES / "midmarket.yaml"


def main(argv: list[str] | None = None) -> int:
    from salesplan.simulator import simulate

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replications", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--over-assign", type=float, default=1.1)
    args = ap.parse_args(argv)
    print(machine_line())
    sc = load_scenario(EXAMPLE)
    t = time.perf_counter()
    fit = simulate(sc, args.replications, seed=1, workers=args.workers)
    t_sim = time.perf_counter() - t
    held = simulate(sc, args.replications, seed=2, workers=args.workers)
    cols = list(fit.rep_ids)
    draws = pd.DataFrame(fit.rep_bookings(), columns=cols)
    fresh = pd.DataFrame(held.rep_bookings(), columns=cols)
    print(f"scenario: {sc.name}, {len(sc.reps)} reps, target {sc.targets.company:,.0f}, "
          f"over-assignment {args.over_assign}; {args.replications} replications per run; "
          f"one Monte Carlo run {t_sim:.1f} s ({args.workers} workers)")
    rows = []
    t_fair = None
    for name in method_names():
        t = time.perf_counter()
        plan = allocate_quotas(sc, name, samples=draws, over_assign=args.over_assign,
                               rounding=1000)
        secs = time.perf_counter() - t
        if name == "fair":
            t_fair = secs
        p = attainment(plan.reps["quota"].astype(float), fresh)["p_attain"]
        share = (fresh.to_numpy() >= plan.reps["quota"].to_numpy(dtype=float)).mean(axis=1)
        rows.append({
            "method": name,
            "spread_in": plan.summary["p_attain_spread"],
            "spread_held": float(p.max() - p.min()),
            "std_held": float(p.std(ddof=0)),
            "share_attaining_held": float(share.mean()),
            "gini_q/p": plan.summary["quota_potential_gini"],
            "corr_size": plan.summary["attainment_size_corr"],
            "alloc_s": secs,
        })
    table = pd.DataFrame(rows).set_index("method")
    with pd.option_context("display.width", 140, "display.float_format", "{:.3f}".format):
        print(table.to_string())
    ratio = (t_sim + (t_fair or 0.0)) / t_sim
    print(f"fair = one simulation ({t_sim:.1f} s) + allocation ({t_fair:.3f} s) = {ratio:.3f}x "
          f"one Monte Carlo run (goal <= 1.5x): {'met' if ratio <= 1.5 else 'NOT met'}")
    print("baseline for the spread: the potential method (quotas by territory potential share)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
