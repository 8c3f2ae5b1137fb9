"""Territory: our optimiser with bands as tight as the greedy peer's balance, beside the peer.

The greedy LPT peer balances potential almost exactly (max/min about 1.001) and ignores distance.
This benchmark asks whether we can match or beat its balance on the metrics we band and still
travel much less: bands of ±0.05% on potential and ±3.5% on workload (defaults), carve mode,
HiGHS, on the synthetic 1k x 10 and 10k x 100 instances of ``territory_bench``. The peer's plan
is measured by :func:`optimizer.measure_plan`, exactly as ours is.

    .venv/bin/python -m benchmarks.territory_match_peer [--potential 0.0005] [--workload 0.035]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from benchmarks.territory_instances import synthetic_instance
from benchmarks.territory_peer import PEER, greedy_peer
from optimizer import AlignmentOptions, BalanceBand, measure_plan, solve_alignment
from optimizer.territory.errors import AlignmentError

SIZES = {"1k": (1_000, 10), "10k": (10_000, 100)}


def _row(name: str, method: str, seconds: float, res, status: str) -> dict:
    m = res.metrics
    row = {"instance": name, "method": method, "status": status, "seconds": seconds,
           "weighted_distance": m.weighted_distance}
    for metric, b in m.balance.items():
        row[f"{metric}_max/min"] = b["max_over_mean"] / b["min_over_mean"]
        row[f"{metric}_cv"] = b["cv"]
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1k,10k")
    ap.add_argument("--potential", type=float, default=0.0005)
    ap.add_argument("--workload", type=float, default=0.035)
    ap.add_argument("--time-limit", type=float, default=120.0)
    args = ap.parse_args(argv)
    print(f"bands: potential ±{args.potential:.2%}, workload ±{args.workload:.1%}; peer: {PEER}")
    opts = AlignmentOptions(mode="carve", time_limit=args.time_limit,
                            balance=(BalanceBand("workload", args.workload),
                                     BalanceBand("potential", args.potential)))
    rows = []
    for size in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        n, m = SIZES[size]
        p = synthetic_instance(n, m, seed=7)
        name = f"synthetic {size} x {m}"
        t0 = time.perf_counter()
        try:
            ours = solve_alignment(p, opts)
            rows.append(_row(name, "ours (HiGHS)", time.perf_counter() - t0, ours,
                             ours.metrics.status))
        except AlignmentError as exc:
            rows.append({"instance": name, "method": "ours (HiGHS)",
                         "status": str(exc).splitlines()[0],
                         "seconds": time.perf_counter() - t0})
        t0 = time.perf_counter()
        weight = np.maximum(p.potential / p.potential.mean(), 0.01)
        peer = measure_plan(p, greedy_peer(p, weight), opts, name="greedy LPT peer")
        rows.append(_row(name, "greedy LPT peer", time.perf_counter() - t0, peer, "heuristic"))
    df = pd.DataFrame(rows)
    peer_d = df[df["method"] == "greedy LPT peer"].set_index("instance")["weighted_distance"]
    df["distance_vs_peer"] = df["weighted_distance"] / df["instance"].map(peer_d) - 1
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 20)
    print(df.to_string(index=False, float_format=lambda v: f"{v:,.4f}"))
    return 0


if __name__ == "__main__":
    main()
