"""The metamorphic relations on midmarket, and the headcount curve: what each lever does to
bookings, on common random numbers, beside the base (issue #18).

Run: ``.venv/bin/python -m salesplan.benchmarks.metamorphic [--replications 100] [--seed 3]``.

Part 1, the relations: each row is a pair of runs (a variant against its reference, same seed),
the paired difference of company bookings with its 95% interval, the direction the relation
requires, and whether it holds (the interval does not lie entirely on the wrong side; exact
relations must be exactly zero). The hire rows also split the difference into the new reps' own
bookings and the change of the existing reps (the hand-over), and check that nothing changed in
the months before the hire starts.

Part 2, the curve: 0, 1, 2, 4, 8, 16 hires in the weakest region (West) from month 1, with the
region's sourced deals and its reps' utilisation: bookings rise with headcount until the
region's sourcing market and its inbound leads are covered, then flatten.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from salesplan.scenarios import load_scenario
from salesplan.scenarios.examples import EXAMPLES
from salesplan.scenarios.levers import (
    Conversion,
    DealSize,
    Departure,
    Hire,
    LeadVolume,
    Target,
    apply_levers,
)
from salesplan.simulator import simulate
from salesplan.stats import paired_difference


def _row(name: str, v, ref, want: str) -> dict:
    d = paired_difference(v.total_bookings(), ref.total_bookings())
    lo, hi = d.ci95
    if want == "= 0":
        ok = bool(np.all(v.total_bookings() == ref.total_bookings()))
    elif want == ">= 0":
        ok = hi >= 0
    else:
        ok = lo <= 0
    return {"relation": name, "mean": d.mean, "lo": lo, "hi": hi, "want": want, "ok": ok}


def relations(sc, n: int, seed: int) -> list[dict]:
    """Every relation on ``sc`` (a list of table rows)."""
    def run(*levers):
        return simulate(apply_levers(sc, list(levers), "v").scenario if levers else sc, n, seed,
                        workers=2, keep_deals=0)

    base = run()
    region = "West"
    apr, dec = run(Hire(region=region, count=3, start_month=4)), run(
        Hire(region=region, count=3, start_month=12))
    rows = [
        _row("identical variant (lead volume x1)", run(LeadVolume(factor=1.0)), base, "= 0"),
        _row("zero hires", run(Hire(region=region, count=0)), base, "= 0"),
        _row("leads +20%", run(LeadVolume(factor=1.2)), base, ">= 0"),
        _row("proposal conversion +10%", run(Conversion(stage="proposal", factor=1.1)), base,
             ">= 0"),
        _row("deal value +10%", run(DealSize(factor=1.1)), base, ">= 0"),
        _row("3 hires in April vs in December", apr, dec, ">= 0"),
        _row("3 hires in December vs none", dec, base, ">= 0"),
        _row("top rep leaves in June (backfill)", run(Departure(top=1, month=6)), base, "<= 0"),
        _row("top rep leaves in June (no backfill)", run(Departure(top=1, month=6,
                                                                   backfill=False)), base,
             "<= 0"),
        _row("target +15% (bookings)", run(Target(factor=1.15)), base, "= 0"),
    ]
    n_base = len(sc.reps)
    for label, v, month in (("April", apr, 4), ("December", dec, 12)):
        own = v.rep_bookings()[:, n_base:].sum(axis=1).mean()
        others = (v.rep_bookings()[:, :n_base].sum(axis=1) - base.total_bookings()).mean()
        same = np.array_equal(v.stack("bookings")[:, :n_base, : month - 1],
                              base.stack("bookings")[:, :, : month - 1])
        rows.append({"relation": f"3 hires from {label}: own bookings / hand-over effect",
                     "mean": own, "lo": others, "hi": np.nan, "want": "before: same",
                     "ok": same})
    return rows


def curve(sc, n: int, seed: int, counts=(0, 1, 2, 4, 8, 16)) -> list[dict]:
    """Bookings, the region's sourced deals and utilisation against hires in West."""
    out, base = [], None
    for k in counts:
        v = simulate(apply_levers(sc, [Hire(region="West", count=k)], "v").scenario, n, seed,
                     workers=2, keep_deals=0)
        reps = v.reps[v.reps.region == "West"]
        tb = v.total_bookings()
        base = tb if base is None else base
        d = paired_difference(tb, base)
        out.append({"hires": k, "bookings": tb.mean(), "lift": d.mean, "lift_lo": d.ci95[0],
                    "lift_hi": d.ci95[1], "west_sourced": reps.sourced_deals.sum(),
                    "west_blocked": reps.sourcing_blocked.sum(),
                    "west_utilisation": reps.utilisation.mean()})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replications", type=int, default=100)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--no-curve", action="store_true", help="skip part 2")
    args = ap.parse_args(argv)
    sc = load_scenario(EXAMPLES / "midmarket.yaml")
    start = time.perf_counter()
    print(f"midmarket, {args.replications} replications, seed {args.seed}, common random numbers")
    print(f"{'relation':52s} {'mean diff':>12s} {'95% CI':>27s} {'needs':>7s}  holds")
    for r in relations(sc, args.replications, args.seed):
        if r["want"] == "before: same":
            print(f"{r['relation']:52s} {r['mean']:>12,.0f} {r['lo']:>12,.0f} (hand-over)   "
                  f"months before the start identical: {r['ok']}")
            continue
        print(f"{r['relation']:52s} {r['mean']:>12,.0f} [{r['lo']:>11,.0f}, {r['hi']:>11,.0f}] "
              f"{r['want']:>7s}  {'yes' if r['ok'] else 'NO'}")
    if not args.no_curve:
        print("\nhires in West from month 1 (paired lift over none; West's reps' sourcing, "
              "utilisation)")
        print(f"{'hires':>5s} {'bookings':>13s} {'lift':>11s} {'95% CI':>25s} {'sourced':>8s} "
              f"{'blocked':>8s} {'util':>5s}")
        for r in curve(sc, args.replications, args.seed):
            print(f"{r['hires']:>5d} {r['bookings']:>13,.0f} {r['lift']:>11,.0f} "
                  f"[{r['lift_lo']:>10,.0f}, {r['lift_hi']:>10,.0f}] {r['west_sourced']:>8.0f} "
                  f"{r['west_blocked']:>8.0f} {r['west_utilisation']:>5.2f}")
    print(f"\n{time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
