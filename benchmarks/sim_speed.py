"""Simulator speed: the obvious SimPy model (baseline) vs :mod:`simulator`, on midmarket.yaml.

Run: ``.venv/bin/python -m benchmarks.sim_speed`` (options: ``--baseline-reps``,
``--ours-reps``, ``--big-reps``, ``--workers``, ``--seed``). Prints, in one run: replications
per second of each engine on one core, the ratio, our rate with ``--workers`` processes on
``--big-reps`` replications (wall time and rate per core), and the mean won deals of each engine
with its standard error and the z-score of their difference (|z| < 3: they agree).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
from pathlib import Path

import numpy as np

from benchmarks.sim_baseline import run_baseline
from scenarios import load_scenario
from simulator.runner import simulate

MIDMARKET = Path(__file__).resolve().parents[1] / "scenarios" / "examples" / "midmarket.yaml"


def _mean_se(x: np.ndarray) -> tuple[float, float]:
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline-reps", type=int, default=20)
    ap.add_argument("--ours-reps", type=int, default=100)
    ap.add_argument("--big-reps", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=2027)
    ap.add_argument("--scenario", type=Path, default=MIDMARKET)
    a = ap.parse_args(argv)
    sc = load_scenario(a.scenario)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, load average {os.getloadavg()[0]:.2f}")
    print(f"scenario: {sc.name} ({len(sc.reps)} reps, {len(sc.lead_sources)} sources, "
          f"warm-up {sc.policies.warmup_months} months, routing {sc.policies.routing})")

    t = time.perf_counter()
    base = [run_baseline(sc, a.seed, r) for r in range(a.baseline_reps)]
    t_base = time.perf_counter() - t
    won_b = np.array([b["won"] for b in base], dtype=float)

    t = time.perf_counter()
    ours = simulate(sc, a.ours_reps, seed=a.seed, workers=1, keep_deals=0)
    t_ours = time.perf_counter() - t
    won_o = ours.total_won().astype(float)

    t = time.perf_counter()
    big = simulate(sc, a.big_reps, seed=a.seed, workers=a.workers, keep_deals=0)
    t_big = time.perf_counter() - t
    won_big = big.total_won().astype(float)

    rate_b, rate_o = a.baseline_reps / t_base, a.ours_reps / t_ours
    rate_big = a.big_reps / t_big
    rows = [
        ("baseline SimPy (1 process)", a.baseline_reps, t_base, rate_b, rate_b, won_b),
        ("simulator, workers=1", a.ours_reps, t_ours, rate_o, rate_o, won_o),
        (f"simulator, workers={a.workers}", a.big_reps, t_big, rate_big,
         rate_big / a.workers, won_big),
    ]
    print(f"{'engine':32} {'reps':>6} {'wall s':>8} {'reps/s':>8} {'reps/s/core':>12} "
          f"{'won deals (mean ± SE)':>24}")
    for name, n, wall, rate, per_core, won in rows:
        m, se = _mean_se(won)
        print(f"{name:32} {n:6d} {wall:8.2f} {rate:8.3f} {per_core:12.3f} "
              f"{m:14.1f} ± {se:6.1f}")
    print(f"speed-up per core (workers=1 vs baseline): {rate_o / rate_b:.1f}x")
    print(f"speed-up per core (workers={a.workers} vs baseline): "
          f"{rate_big / a.workers / rate_b:.1f}x")
    print(f"{a.big_reps} replications with workers={a.workers}: {t_big:.1f} s wall")
    mb, sb = _mean_se(won_b)
    mo, so = _mean_se(won_big)
    z = (mo - mb) / math.hypot(sb, so)
    print(f"won deals: baseline {mb:.1f} ± {sb:.1f}, simulator {mo:.1f} ± {so:.1f}, "
          f"z = {z:+.2f} ({'agree' if abs(z) < 3 else 'DISAGREE'} at 3 SE)")
    mb2, sb2 = _mean_se(np.array([b["bookings"] for b in base]))
    mo2, so2 = _mean_se(big.total_bookings())
    print(f"bookings: baseline {mb2:,.0f} ± {sb2:,.0f}, simulator {mo2:,.0f} ± {so2:,.0f}, "
          f"z = {(mo2 - mb2) / math.hypot(sb2, so2):+.2f}")


if __name__ == "__main__":
    main()
