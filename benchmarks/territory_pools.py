"""Territory: each balance pool solved on its own beside one model over every pool.

The synthetic instances of ``territory_bench`` have 4 regions, each a balance pool, and carve
mode has no move cap, so the model is block-diagonal by pool (``optimizer/territory/
decompose.py``): the split solve has the same optimum and LP bound as the whole one, from four
models a quarter of the size. This benchmark runs both, with the same options and time limit,
and prints status, time, objective, LP bound and gap side by side.

Bands: ``default`` is ``territory_bench``'s (±5% workload, ±5% potential); ``peer`` is
``territory_match_peer``'s tight setting that matches the greedy peer's balance (±3.5%
workload, ±0.025% potential, ±1% accounts).

    .venv/bin/python -m salesplan.benchmarks.territory_pools [--sizes 10k,50k] [--bands
    default|peer]
        [--time-limit 280] [--candidates 8] [--only split|whole]
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from salesplan.benchmarks.territory_instances import synthetic_instance
from salesplan.optimizer import AlignmentError, AlignmentOptions, BalanceBand, solve_alignment

SIZES = {"1k": (1_000, 10), "10k": (10_000, 100), "50k": (50_000, 400)}
BANDS = {
    "default": (BalanceBand("workload", 0.05), BalanceBand("potential", 0.05)),
    "peer": (BalanceBand("workload", 0.035), BalanceBand("potential", 0.00025),
             BalanceBand("accounts", 0.01)),
}


def run(name: str, problem, opts: AlignmentOptions, label: str) -> dict:
    t0 = time.perf_counter()
    try:
        res = solve_alignment(problem, opts)
    except AlignmentError as exc:
        return {"instance": name, "solve": label, "status": exc.status,
                "seconds": time.perf_counter() - t0, "why": exc.reasons[0][:90]}
    m = res.metrics
    worst = max((abs(res.territories[f"{b.metric}_dev"]).max() for b in opts.balance),
                default=0.0)
    return {"instance": name, "solve": label, "status": m.status,
            "seconds": time.perf_counter() - t0, "objective": m.objective, "bound": m.bound,
            "gap": m.gap, "strategy": m.strategy, "worst_dev": worst,
            "candidates": m.candidates}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10k,50k")
    ap.add_argument("--bands", choices=sorted(BANDS), default="default")
    ap.add_argument("--time-limit", type=float, default=280.0)
    ap.add_argument("--candidates", type=int, default=8)
    ap.add_argument("--only", choices=("split", "whole"), default=None)
    args = ap.parse_args(argv)
    bands = BANDS[args.bands]
    print("bands: " + ", ".join(f"{b.metric} ±{b.tolerance:.3%}" for b in bands)
          + f"; {args.candidates} candidates, time limit {args.time_limit:g} s, carve, HiGHS")
    rows = []
    for size in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        n, m = SIZES[size]
        p = synthetic_instance(n, m, seed=7)
        name = f"synthetic {size} x {m}"
        for label, split in (("whole model", False), ("pools apart", True)):
            if args.only and (args.only == "split") != split:
                continue
            opts = AlignmentOptions(mode="carve", balance=bands, candidates=args.candidates,
                                    time_limit=args.time_limit, split_pools=split)
            rows.append(run(name, p, opts, label))
            r = rows[-1]
            print(f"  [{name}] {label}: {r['status']} in {r['seconds']:.1f} s", flush=True)
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 20)
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:,.6g}"))
    return 0


if __name__ == "__main__":
    main()
