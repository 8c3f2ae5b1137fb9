"""Simulator speed: the obvious SimPy model (baseline) vs :mod:`simulator`, on midmarket.yaml.

Run: ``.venv/bin/python -m salesplan.benchmarks.sim_speed`` (options: ``--baseline-reps``,
``--ours-reps``, ``--big-reps``, ``--workers``, ``--seed``). Prints, in one run: replications
per second of each engine on one core, the ratio, our rate with ``--workers`` processes on
``--big-reps`` replications (wall time and rate per core), and the mean won deals of each engine
with its standard error and the z-score of their difference (|z| < 3: they agree).

Wall times depend on what else runs on the machine, so CPU seconds are printed too (for the
worker pool: the workers' CPU time from ``getrusage(RUSAGE_CHILDREN)`` plus this process's).

The baseline models leads, queues, stages, ramp and attrition, not rep-sourced deals or the
overflow of waiting leads: both engines run the scenario with those two switched off
(:func:`comparable`), so they simulate the same model and their won deals must agree.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import resource
import time
from pathlib import Path

import numpy as np

from salesplan.benchmarks.sim_baseline import run_baseline
from salesplan.scenarios import load_scenario
from salesplan.scenarios.examples import EXAMPLES
from salesplan.simulator.runner import simulate

MIDMARKET = EXAMPLES / "midmarket.yaml"


def _cpu() -> float:
    """CPU seconds of this process and of its finished children."""
    return time.process_time() + resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime + \
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime


def _mean_se(x: np.ndarray) -> tuple[float, float]:
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size))


def comparable(sc):
    """``sc`` without what the baseline does not model: rep-sourced deals and overflow."""
    from salesplan.scenarios.model import SourcingPolicy

    return sc.model_copy(update={
        "policies": sc.policies.model_copy(update={"sourcing": SourcingPolicy(),
                                                   "overflow_wait_days": None}),
        "reps": [r.model_copy(update={"sourcing_per_month": None}) for r in sc.reps]})


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline-reps", type=int, default=20)
    ap.add_argument("--ours-reps", type=int, default=100)
    ap.add_argument("--big-reps", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=2027)
    ap.add_argument("--scenario", type=Path, default=MIDMARKET)
    a = ap.parse_args(argv)
    sc = comparable(load_scenario(a.scenario))
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, load average {os.getloadavg()[0]:.2f}")
    print(f"scenario: {sc.name} ({len(sc.reps)} reps, {len(sc.lead_sources)} sources, "
          f"warm-up {sc.policies.warmup_months} months, routing {sc.policies.routing})")

    t, c = time.perf_counter(), _cpu()
    base = [run_baseline(sc, a.seed, r) for r in range(a.baseline_reps)]
    t_base, c_base = time.perf_counter() - t, _cpu() - c
    won_b = np.array([b["won"] for b in base], dtype=float)

    t, c = time.perf_counter(), _cpu()
    ours = simulate(sc, a.ours_reps, seed=a.seed, workers=1, keep_deals=0)
    t_ours, c_ours = time.perf_counter() - t, _cpu() - c
    won_o = ours.total_won().astype(float)

    t, c = time.perf_counter(), _cpu()
    big = simulate(sc, a.big_reps, seed=a.seed, workers=a.workers, keep_deals=0)
    t_big, c_big = time.perf_counter() - t, _cpu() - c
    won_big = big.total_won().astype(float)

    rate_b, rate_o = a.baseline_reps / t_base, a.ours_reps / t_ours
    rate_big = a.big_reps / t_big
    rows = [
        ("baseline SimPy (1 process)", a.baseline_reps, t_base, c_base, rate_b, rate_b, won_b),
        ("simulator, workers=1", a.ours_reps, t_ours, c_ours, rate_o, rate_o, won_o),
        (f"simulator, workers={a.workers}", a.big_reps, t_big, c_big, rate_big,
         rate_big / a.workers, won_big),
    ]
    print(f"{'engine':30} {'reps':>5} {'wall s':>7} {'CPU s':>7} {'reps/s':>7} "
          f"{'reps/s/core':>11} {'reps/CPU s':>10} {'won deals (mean ± SE)':>22}")
    for name, n, wall, cpu, rate, per_core, won in rows:
        m, se = _mean_se(won)
        print(f"{name:30} {n:5d} {wall:7.2f} {cpu:7.2f} {rate:7.3f} {per_core:11.3f} "
              f"{n / cpu:10.3f} {m:12.1f} ± {se:5.1f}")
    print(f"speed-up per core, wall (workers=1 vs baseline): {rate_o / rate_b:.1f}x")
    print(f"speed-up per core, wall (workers={a.workers} vs baseline): "
          f"{rate_big / a.workers / rate_b:.1f}x")
    print(f"speed-up per CPU second (workers=1 vs baseline): "
          f"{(a.ours_reps / c_ours) / (a.baseline_reps / c_base):.1f}x")
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
