"""Quota allocation speed: 2,000 reps x 5 products x 12 months, beside the naive baseline.

Run: ``.venv/bin/python -m salesplan.benchmarks.quota_speed`` (goal: allocation under 10 s on 2
cores).

The scenario is synthetic and seeded: 20 regions x 100 reps, 3 segments, 5 products, 10 accounts
per rep with lognormal potential, 60 lead sources, a 12-month seasonality, last quotas for the
change bounds and 5% new hires in ramp. Timed, each the best of ``--repeat`` runs:

- baseline: the unconstrained proportional split a spreadsheet does (``T x P_r / sum P`` then rep
  x product x segment x month by share, no rounding, no constraints, no checks);
- potential: :func:`allocate_quotas` with over-assignment 1.1, min/max change -10%/+25%, floor,
  ramp relief, 10 rep pins, 1 region pin, 3 cell pins, rounding to 1,000, reconcile;
- fair: the same with 1,000 simulated replications per rep (synthetic lognormal draws here; the
  simulator's own cost is measured in the simulator benchmark).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np

from salesplan.benchmarks.machine import machine_line
from salesplan.optimizer.quotas import Bounds, Pin, allocate_quotas
from salesplan.scenarios.model import Scenario

N_REGIONS, REPS_PER_REGION, ACCOUNTS_PER_REP = 20, 100, 10
PRODUCTS = ["p1", "p2", "p3", "p4", "p5"]
SEGMENTS = ["SMB", "MidMarket", "Enterprise"]


def build_scenario(seed: int = 7) -> Scenario:
    rng = np.random.default_rng(seed)
    regions = [f"G{g:02d}" for g in range(N_REGIONS)]
    reps, accounts = [], []
    for g, region in enumerate(regions):
        for k in range(REPS_PER_REGION):
            rid = f"R{g:02d}-{k:03d}"
            new = rng.random() < 0.05
            rep = {"id": rid, "region": region, "capacity": 40,
                   "attrition_monthly": 0.01,
                   "last_quota": None if new else float(round(rng.lognormal(13.0, 0.4), -3)),
                   "last_bookings": None if new else float(round(rng.lognormal(12.9, 0.5)))}
            if new:
                rep["start_date"] = dt.date(2027, 1 + int(rng.integers(0, 6)), 1).isoformat()
                rep["ramp_months"] = 4.0
            reps.append(rep)
            for a in range(ACCOUNTS_PER_REP):
                accounts.append({"id": f"A-{rid}-{a}", "region": region,
                                 "segment": SEGMENTS[int(rng.integers(0, 3))],
                                 "lat": 40.0, "lon": -90.0,
                                 "potential": float(round(rng.lognormal(10.5, 1.0))),
                                 "owner": rid})
    sources = [{"id": f"S-{region}-{seg}", "region": region, "segment": seg,
                "leads_per_month": float(rng.uniform(20, 80)),
                "product_mix": {p: float(w) for p, w in zip(PRODUCTS, rng.dirichlet(np.ones(5)),
                                                              strict=True)}}
               for region in regions for seg in SEGMENTS]
    # region shares follow last period's quotas, the company target is their sum: the change
    # bounds then bind on the reps whose potential share differs from their history
    last = np.array([sum(r["last_quota"] or 0.0 for r in reps if r["region"] == g)
                     for g in regions])
    shares = last / last.sum()
    shares[-1] = 1.0 - shares[:-1].sum()
    company = float(round(last.sum(), -3))
    doc = {
        "name": "bench-2000",
        "horizon": {"start": "2027-01-01", "months": 12, "currency": "USD"},
        "regions": [{"id": g} for g in regions],
        "segments": [{"id": s} for s in SEGMENTS],
        "products": [{"id": p, "category": "A" if i < 3 else "B", "list_price": 1000.0 * (i + 1)}
                     for i, p in enumerate(PRODUCTS)],
        "stages": [{"name": "lead", "conversion": 0.5,
                    "duration": {"dist": "exponential", "mean": 5}}],
        "lead_sources": sources,
        "reps": reps,
        "accounts": accounts,
        "targets": {"company": company,
                    "by_region": {g: float(s) for g, s in zip(regions, shares, strict=True)},
                    "seasonality": [0.8, 0.9, 1.1, 0.9, 1.0, 1.1, 0.8, 0.8, 1.1, 1.0, 1.1, 1.3]},
    }
    return Scenario.model_validate(doc)


def baseline(sc: Scenario) -> int:
    """The unconstrained proportional split (no rounding, pins, bounds or checks)."""
    reps = [r.id for r in sc.reps]
    pos = {r: i for i, r in enumerate(reps)}
    pot = np.zeros(len(reps))
    seg = np.zeros((len(reps), len(sc.segments)))
    sidx = {s: i for i, s in enumerate(sc.segment_ids)}
    for a in sc.accounts:
        pot[pos[a.owner]] += a.potential
        seg[pos[a.owner], sidx[a.segment]] += a.potential
    quota = sc.targets.company * 1.1 * pot / pot.sum()
    seg = seg / seg.sum(axis=1, keepdims=True)
    prod = np.full(len(sc.products), 1.0 / len(sc.products))
    season = np.asarray(sc.targets.seasonality) / sum(sc.targets.seasonality)
    cells = quota[:, None, None, None] * seg[:, :, None, None] * prod[None, None, :, None] \
        * season[None, None, None, :]
    return int(cells.size)


def pins_for(sc: Scenario) -> list[Pin]:
    ids = [r.id for r in sc.reps if r.start_date is None]
    pins = [Pin("rep", ids[i * 150], float(round(sc.rep_index[ids[i * 150]].last_quota or 0)))
            for i in range(10)]
    g = sc.regions[3].id
    pins.append(Pin("region", g, float(round(sc.targets.company * sc.targets.by_region[g] * 1.02,
                                             -3))))
    pins += [Pin("cell", ids[7], 20_000.0, product="p2", segment=s, period="2027-03")
             for s in SEGMENTS]
    return pins


def samples_for(sc: Scenario, replications: int, seed: int = 11) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mean = np.array([r.last_bookings or 300_000.0 for r in sc.reps]) * 1.1
    cv = rng.uniform(0.15, 0.6, len(mean))
    sig = np.sqrt(np.log1p(cv**2))
    mu = np.log(mean) - sig**2 / 2
    return np.exp(mu + sig * rng.standard_normal((replications, len(mean))))


def _best(fn, repeat: int) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--replications", type=int, default=1000)
    args = ap.parse_args(argv)
    print(machine_line())
    t = time.perf_counter()
    sc = build_scenario()
    print(f"scenario: {len(sc.reps):,} reps, {len(sc.regions)} regions, {len(sc.products)} "
          f"products, {len(sc.segments)} segments, 12 months, {len(sc.accounts):,} accounts "
          f"(built and validated in {time.perf_counter() - t:.2f} s, not timed below)")
    bounds = Bounds(min_change=-0.10, max_change=0.25, floor=50_000)
    pins = pins_for(sc)
    samples = samples_for(sc, args.replications)
    by = ("product", "segment", "month")
    t_base, ncells = _best(lambda: baseline(sc), args.repeat)
    t_pot, plan = _best(lambda: allocate_quotas(sc, "potential", over_assign=1.1, pins=pins,
                                                bounds=bounds, by=by, rounding=1000),
                        args.repeat)
    t_fair, fplan = _best(lambda: allocate_quotas(sc, "fair", samples=samples, over_assign=1.1,
                                                  pins=pins, bounds=bounds, by=by,
                                                  rounding=1000), args.repeat)
    print(f"{'run':<44}{'seconds':>9}{'cells':>10}  notes")
    print(f"{'baseline: proportional split, no constraints':<44}{t_base:>9.3f}{ncells:>10,}  "
          "no rounding, pins, bounds or checks")
    for name, secs, p in (("potential + bounds, pins, rounding, reconcile", t_pot, plan),
                          ("fair (1,000 draws/rep) + the same", t_fair, fplan)):
        s = p.summary["solve"]["rep"]  # type: ignore[union-attr]
        print(f"{name:<44}{secs:>9.3f}{len(p.quotas):>10,}  "  # type: ignore[union-attr]
              f"rep LP {s['variables']:,} vars x {s['constraints']:,} rows in "
              f"{s['seconds']:.2f} s ({s['status']}), worst deviation "
              f"{s['worst_deviation']:.3f}, reconciled")
    for name, p in (("potential", plan), ("fair", fplan)):
        counts = p.reps["binding"].value_counts()  # type: ignore[union-attr]
        print(f"{name}: reps by binding constraint: "
              + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print(f"goal: < 10 s for 2,000 reps x 5 products x 12 months -> "
          f"{'met' if max(t_pot, t_fair) < 10 else 'NOT met'} "
          f"({max(t_pot, t_fair) / max(t_base, 1e-9):.0f}x the baseline)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
