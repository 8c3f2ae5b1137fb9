"""Benchmark: the improving moves after a rounding, old (reference) and new side by side.

The territory search improves every plan it rounds from the LP with ``improve_shifts``,
``improve_swaps``, ``improve_shifts`` again and ``relay_improve`` (:func:`.polish.improve`);
on the real-shape geo-33k their seconds decided how many re-roundings fit in a pool's share of
the five minutes (issue #24). This benchmark builds one region pool of a real-shape instance
(:mod:`.territory_geo`) the way the solver does, with a plan the code produces
deterministically: the LP relaxation over the pool's candidate pairs (the 48 nearest reps per
account plus the rep-side pairs reaching 3x each target), with every band tightened by 20% of
its tolerance as the first re-rounding does, rounded to each account's largest pair and
repaired into the bands by band repair. (Over fewer candidates the LP is infeasible in the
metro-dense South, and its rounding, 20% below the real plans' cost, cannot be repaired into
the bands: at 24 candidates the repair stops with a band missed and no move improves it; the
solver then widens the candidates or prices in more pairs by column generation.)
``--start greedy`` starts from the constructive path's greedy LPT instead. From that plan it
runs the chain twice, with the verbatim old functions (:mod:`.improve_reference`) and with the
current ones, and prints the seconds and moves of each step beside each other, and whether the
plans are equal (they must be: the exit status is 1 otherwise).

A greedy plan needs many more moves than an LP rounding (the solver runs the chain without
relays on it; here they are kept), so from it the old relays take minutes even on the
Northeast pool.

Run: ``python -m salesplan.benchmarks.improve_bench --instance geo-33k --pool South``.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np

from salesplan.benchmarks import improve_reference as reference
from salesplan.benchmarks.territory_geo import geo_instance
from salesplan.optimizer import AlignmentOptions, BalanceBand
from salesplan.optimizer.territory.candidates import candidate_pairs, ensure_reach
from salesplan.optimizer.territory.checks import holds
from salesplan.optimizer.territory.decompose import pool_parts, restrict
from salesplan.optimizer.territory.formulation import assignment_of, build_model
from salesplan.optimizer.territory.incumbent import greedy_over_pairs
from salesplan.optimizer.territory.preparation import prepare
from salesplan.optimizer.territory.relay import relay_improve
from salesplan.optimizer.territory.repair import improve_shifts, improve_swaps, repair_bands
from salesplan.optimizer.territory.reround import tightened
from salesplan.optimizer.territory.solver import SolverSpec

__all__ = ["main", "pool_case"]

CHAIN = (
    ("shifts", reference.improve_shifts, improve_shifts),
    ("swaps", reference.improve_swaps, improve_swaps),
    ("shifts", reference.improve_shifts, improve_shifts),
    ("relays", reference.relay_improve, relay_improve),
)
"""The steps of :func:`.polish.improve`, in its order: (name, old, new)."""


def pool_case(instance: str, pool: str, start: str = "lp", tolerance: float = 0.05,
              k: int = 48, reach: float = 3.0):
    """(spec, pi, pj, plan, note) of one region ``pool`` of the real-shape ``instance`` in
    carve mode with workload and potential bands of +-``tolerance``: candidate pairs as the
    first candidate round (the ``k`` nearest reps, plus rep-side pairs reaching 3x each
    target), and a plan over them, band-repaired when it misses a band: ``start`` "lp", the
    LP relaxation over the pairs (bands elastic, as fix-and-resolve's repair models; HiGHS,
    one thread, so the same plan every run) rounded to each account's largest pair; or
    "greedy", the constructive path's greedy LPT."""
    problem = geo_instance(instance)
    opts = AlignmentOptions(mode="carve", balance=(BalanceBand("workload", tolerance),
                                                   BalanceBand("potential", tolerance)))
    prep = prepare(problem, opts)
    parts = {p.name: p for p in pool_parts(prep) or []}
    pool = pool if pool in parts else f"region {pool}"
    if pool not in parts:
        raise SystemExit(f"--pool: {pool!r} is not a pool of {instance}; "
                         f"expected one of {sorted(parts)}")
    sub, sub_prep = restrict(problem, prep, parts[pool])
    pi, pj = candidate_pairs(sub.distance, sub_prep.eligible, sub_prep.owner, sub.locked, k)
    needs = [(b.values, b.mu) for b in sub_prep.bands]
    pi, pj, _ = ensure_reach(pi, pj, sub.distance, sub_prep.eligible, needs, factor=reach,
                             always=True)
    spec = sub_prep.spec
    if start == "greedy":
        plan = greedy_over_pairs(spec, pi, pj)
        note = "greedy LPT"
    else:
        # bands tightened by 20% of their tolerance, as the first re-rounding (.reround);
        # elastic, so the LP has a solution over the nearest candidates too
        model = build_model(tightened(spec, 0.2), pi, pj, elastic=True, name="improve_bench")
        res = SolverSpec(threads=1).solve(model.prob, mip=False, time_limit=600.0)
        if not res.has_solution:
            raise SystemExit(f"the LP relaxation of pool {pool} did not solve ({res.state})")
        plan = assignment_of(model.values(), model.pair_i, model.pair_j, len(spec.account_ids))
        note = (f"LP relaxation (bands tightened 20%, elastic; {res.seconds:.0f} s) rounded to "
                "each account's largest pair")
    if not holds(spec, plan):
        plan, steps = repair_bands(spec, pi, pj, plan, math.inf)
        note += f" + {steps} band-repair steps"
    note += ", holds every band" if holds(spec, plan) else ", misses a band"
    return spec, pi, pj, plan, note


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instance", default="geo-33k")
    ap.add_argument("--pool", default="Northeast")
    ap.add_argument("--start", choices=("lp", "greedy"), default="lp")
    ap.add_argument("--k", type=int, default=48, help="nearest candidate reps per account")
    args = ap.parse_args(argv)
    spec, pi, pj, plan, note = pool_case(args.instance, args.pool, args.start, k=args.k)
    rows = np.arange(plan.size)
    print(f"{args.instance} pool {args.pool}: {plan.size} accounts x {len(spec.rep_ids)} reps, "
          f"{pi.size} candidate pairs; start: {note}, cost {spec.cost[rows, plan].sum():,.1f}")
    old_plan = new_plan = plan
    old_total = new_total = 0.0
    same = True
    print(f"{'step':8s} {'old s':>9s} {'new s':>9s} {'speed-up':>9s} {'moves':>7s}  equal")
    for name, old, new in CHAIN:
        t0 = time.perf_counter()
        old_plan, old_moves = old(spec, pi, pj, old_plan, math.inf)
        t1 = time.perf_counter()
        new_plan, new_moves = new(spec, pi, pj, new_plan, math.inf)
        t2 = time.perf_counter()
        equal = old_moves == new_moves and np.array_equal(old_plan, new_plan)
        same &= equal
        old_total += t1 - t0
        new_total += t2 - t1
        print(f"{name:8s} {t1 - t0:9.2f} {t2 - t1:9.2f} {(t1 - t0) / max(t2 - t1, 1e-9):8.1f}x "
              f"{new_moves:7d}  {'yes' if equal else f'NO (old {old_moves} moves)'}")
    print(f"{'total':8s} {old_total:9.2f} {new_total:9.2f} "
          f"{old_total / max(new_total, 1e-9):8.1f}x; final cost "
          f"{spec.cost[rows, new_plan].sum():,.1f}, plans {'equal' if same else 'DIFFER'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
