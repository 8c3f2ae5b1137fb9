"""Territory alignment benchmark: our optimiser beside the greedy peer and beside CBC.

Run: ``.venv/bin/python -m salesplan.benchmarks.territory_bench`` (all sizes) or
``.venv/bin/python -m salesplan.benchmarks.territory_bench --sizes 1k,10k --no-cbc``.

Instances (``benchmarks/territory_instances.py``): the 3,109 lower-48 US counties as accounts
(potential proportional to population) with 40 reps at the 40 largest counties, and synthetic
instances of 1k x 10, 10k x 100 and 50k x 400 (4 regions, lognormal potential). Every plan is
scored by the same evaluator: balance (max/min over the pool mean and CV, per metric), weighted
distance (sum of normalised potential weight x km), moves against the current (nearest-rep)
owners, gap to our LP bound, and wall time. Speed is printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
from dataclasses import replace

import numpy as np
import pandas as pd

from salesplan.benchmarks.territory_geo import GEO_INSTANCES, fingerprint, geo_instance, shape
from salesplan.benchmarks.territory_instances import counties_instance, synthetic_instance
from salesplan.benchmarks.territory_peer import PEER, greedy_peer
from salesplan.optimizer import (
    AlignmentError,
    AlignmentOptions,
    BalanceBand,
    available_solvers,
    solve_alignment,
)
from salesplan.optimizer.territory.alignment import prepare
from salesplan.optimizer.territory.balance import balance_stats, metric_values, targets

SIZES = {"1k": (1_000, 10), "10k": (10_000, 100), "50k": (50_000, 400)}


def peak_memory_mb() -> float:
    """This process's peak resident memory so far (MB; ``getrusage`` ``ru_maxrss``, KB on
    Linux). It never falls, so a figure per instance needs one instance per process."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def evaluate(problem, opts, assign: np.ndarray) -> dict:
    # dedicated territories change the pools: measure every plan against the plain ones
    prep = prepare(problem, replace(opts, dedicate_oversized=False))
    rows = np.arange(problem.n_accounts)
    d = problem.distance[rows, assign]
    owner = prep.owner
    out = {"weighted_distance": float((prep.weight * d).sum()),
           "moves": int(((owner >= 0) & (assign != owner)).sum())}
    for metric in ("workload", "potential"):
        v = metric_values(problem, metric)
        mu = targets(v, prep.pools)
        st = balance_stats(np.bincount(assign, weights=v, minlength=problem.n_reps), mu)
        out[f"{metric}_max/min"] = st["max_over_mean"] / st["min_over_mean"] \
            if st["min_over_mean"] > 0 else np.inf
        out[f"{metric}_cv"] = st["cv"]
    return out


def run_ours(name, problem, opts, label):
    start = time.perf_counter()
    try:
        res = solve_alignment(problem, opts)
    except AlignmentError as exc:
        secs = time.perf_counter() - start
        print(f"  [{name}] {label}: {exc.status} after {secs:.1f} s: {exc.reasons[0][:150]}")
        return {"instance": name, "method": label, "status": exc.status, "seconds": secs,
                "peak_mb": peak_memory_mb()}
    secs = time.perf_counter() - start
    rep_index = {r: j for j, r in enumerate(problem.rep_ids)}
    assign = np.array([rep_index[r] for r in res.assignment["rep"]])
    row = {"instance": name, "method": label, "status": res.status, "seconds": secs,
           "gap_to_lp": res.metrics.gap, "bound": res.metrics.bound,
           "peak_mb": peak_memory_mb(), **evaluate(problem, opts, assign)}
    for note in res.notes:
        if "widened" in note or "were among too few" in note or "diagnos" in note:
            print(f"  [{name}] {label}: note: {note}")
    return row


def run_peer(name, problem, opts, bound):
    prep = prepare(problem, opts)
    start = time.perf_counter()
    assign = greedy_peer(problem, prep.weight)
    secs = time.perf_counter() - start
    ev = evaluate(problem, opts, assign)
    gap = (ev["weighted_distance"] - bound) / ev["weighted_distance"] if bound else np.nan
    return {"instance": name, "method": "greedy LPT peer", "status": "heuristic",
            "seconds": secs, "gap_to_lp": gap, **ev}


def bench(name, problem, opts, solvers, cbc_limit):
    rows = [run_ours(name, problem, opts, "ours (HiGHS)")]
    bound = rows[0].get("bound")
    if "cbc" in solvers:
        rows.append(run_ours(name, problem, replace(opts, solver="cbc",
                                                    time_limit=cbc_limit), "ours (CBC)"))
    rows.append(run_peer(name, problem, opts, bound))
    return rows


def bench_geo(name: str, args, solvers) -> list[dict]:
    """A real-shape instance in each mode of ``args.modes`` with two ±5% bands, beside the
    peer; its recipe, fingerprint and shape printed first."""
    t0 = time.perf_counter()
    p = geo_instance(name)
    print(f"{name}: built in {time.perf_counter() - t0:.1f} s, fingerprint "
          f"{fingerprint(p)[:16]}, recipe {GEO_INSTANCES[name].as_dict()}, shape {shape(p)}, "
          f"load average {os.getloadavg()[0]:.1f}")
    rows = []
    for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
        opts = AlignmentOptions(mode=mode, balance=(BalanceBand("workload", 0.05),
                                                    BalanceBand("potential", 0.05)),
                                time_limit=args.time_limit)
        use = [s for s in solvers if s != "cbc"]
        rows += bench(f"{name} {mode}", p, opts, use, args.cbc_time_limit)
    return rows


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1k,10k,50k")
    ap.add_argument("--no-cbc", action="store_true")
    ap.add_argument("--no-counties", action="store_true")
    ap.add_argument("--time-limit", type=float, default=280.0)
    ap.add_argument("--cbc-time-limit", type=float, default=120.0)
    ap.add_argument("--geo", default="",
                    help="real-shape instances (benchmarks/territory_geo.py), e.g. "
                         "geo-10k,geo-33k; each in carve and re-align mode")
    ap.add_argument("--modes", default="carve,realign", help="modes for --geo")
    args = ap.parse_args(argv)
    solvers = [s for s in available_solvers() if not (args.no_cbc and s == "cbc")]
    print(f"territory benchmark: {platform.processor() or platform.machine()}, "
          f"python {platform.python_version()}, solvers {solvers}; peer: {PEER}")
    rows = []
    if not args.no_counties:
        p = counties_instance(40)
        print("counties: 3,109 lower-48 counties, 40 reps at the 40 largest, potential ~ "
              "population")
        hard = AlignmentOptions(mode="carve", balance=(BalanceBand("potential", 0.05),),
                                time_limit=args.time_limit)
        rows.append(run_ours("counties-40 hard ±5%", p, hard, "ours (HiGHS)"))
        dedicated = AlignmentOptions(mode="carve", balance=(BalanceBand("workload", 0.05),
                                                            BalanceBand("potential", 0.05)),
                                     dedicate_oversized=True, time_limit=args.time_limit)
        rows += bench("counties-40 hard ±5% x2, Los Angeles dedicated", p, dedicated, solvers,
                      args.cbc_time_limit)
        wide = AlignmentOptions(mode="carve", balance=(BalanceBand("potential", 0.30),),
                                candidates=8, time_limit=args.time_limit)
        rows += bench("counties-40 hard ±30%", p, wide, solvers, args.cbc_time_limit)
        soft = AlignmentOptions(mode="carve", balance=(BalanceBand("workload", 0.05),
                                                       BalanceBand("potential", 0.05)),
                                soft_balance=True, soft_penalty=1e5,
                                time_limit=args.time_limit)
        rows += bench("counties-40 soft ±5% x2", p, soft, solvers, args.cbc_time_limit)
        soft_all = AlignmentOptions(mode="carve", balance=soft.balance, soft_balance=True,
                                    soft_penalty=1e5, candidates=None,
                                    time_limit=args.time_limit)
        rows += bench("counties-40 soft ±5% x2, all pairs", p, soft_all, solvers,
                      args.cbc_time_limit)
    for size in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        n, m = SIZES[size]
        t0 = time.perf_counter()
        p = synthetic_instance(n, m, seed=7)
        print(f"synthetic {n:,} x {m}: built in {time.perf_counter() - t0:.1f} s")
        opts = AlignmentOptions(mode="carve", balance=(BalanceBand("workload", 0.05),
                                                       BalanceBand("potential", 0.05)),
                                time_limit=args.time_limit)
        use = solvers if n <= 10_000 else [s for s in solvers if s != "cbc"]
        rows += bench(f"synthetic {size} x {m}", p, opts, use, args.cbc_time_limit)
    for name in [s.strip() for s in args.geo.split(",") if s.strip()]:
        rows += bench_geo(name, args, solvers)
    df = pd.DataFrame(rows)
    peer = df[df["method"] == "greedy LPT peer"].set_index("instance")["weighted_distance"]
    df["distance_vs_peer"] = [
        (r["weighted_distance"] / peer[r["instance"]] - 1)
        if r["instance"] in peer.index and pd.notna(r.get("weighted_distance")) else np.nan
        for _, r in df.iterrows()]
    cols = ["instance", "method", "status", "seconds", "gap_to_lp", "weighted_distance",
            "distance_vs_peer", "moves", "workload_max/min", "workload_cv",
            "potential_max/min", "potential_cv", "peak_mb"]
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 20)
    print(df[[c for c in cols if c in df]].to_string(index=False, float_format=lambda v:
                                                      f"{v:,.3f}"))


if __name__ == "__main__":
    main()
