"""A simulation on a Dask cluster against the local process pool: same seed, same result.

Run: ``.venv/bin/python -m salesplan.benchmarks.dask_simulate`` (options: ``--replications``
200, ``--workers`` 2, ``--seed`` 2027, ``--scheduler tcp://host:8786`` to use an existing
cluster instead of starting a ``LocalCluster``). Needs the ``dask`` extra.

Prints, in one run, for ``midmarket.yaml``: the wall time of ``--replications`` replications
through the simulator's local process pool (``workers`` processes: the baseline, what the CLI
does) and through a Dask cluster's executor (a ``distributed.LocalCluster`` of ``workers``
single-threaded worker processes on loopback, started before the clock starts: the seam the
service uses with ``SALESPLAN_DASK_SCHEDULER``), and a SHA-256 of each result's per-replication
tables (bookings by rep and month, rep outcomes, funnel), which must be equal: replication
``i`` draws from the same streams wherever it runs. Wall times depend on what else runs on the
machine: the load average is printed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import time
from concurrent.futures import Executor

import pandas as pd

from salesplan.scenarios import load_scenario
from salesplan.scenarios.examples import EXAMPLES
from salesplan.simulator import SimulationResult, simulate

MIDMARKET = EXAMPLES / "midmarket.yaml"


def result_hash(result: SimulationResult) -> str:
    """SHA-256 of the per-replication frames (bit-level: any changed draw changes it)."""
    h = hashlib.sha256()
    for frame in (result.bookings, result.reps, result.funnel):
        h.update(pd.util.hash_pandas_object(frame, index=True).values.tobytes())
        h.update(",".join(map(str, frame.columns)).encode())
    return h.hexdigest()


def _timed(sc, replications: int, seed: int, workers: int, executor: Executor | None
           ) -> tuple[float, SimulationResult]:
    start = time.perf_counter()
    res = simulate(sc, replications, seed, workers=workers, executor=executor, keep_deals=0)
    return time.perf_counter() - start, res


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replications", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=2027)
    ap.add_argument("--scheduler", default=None,
                    help="an existing Dask scheduler (default: start a LocalCluster)")
    args = ap.parse_args(argv)
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        print("skipped: needs the dask extra (pip install 'salesplan[dask]')")
        return

    sc = load_scenario(MIDMARKET)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, load average {load:.2f}")
    print(f"scenario: midmarket ({len(sc.reps)} reps), {args.replications} replications, "
          f"seed {args.seed}")

    local_s, local = _timed(sc, args.replications, args.seed, args.workers, None)

    started = time.perf_counter()
    cluster = None
    if args.scheduler:
        client = Client(args.scheduler, set_as_default=False)
        where = f"Dask cluster {args.scheduler}"
    else:
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=40)
        client = Client(cluster, set_as_default=False)
        where = f"Dask LocalCluster, {args.workers} workers x 1 thread"
    try:
        threads = sum(client.nthreads().values())
        setup_s = time.perf_counter() - started
        dask_s, on_dask = _timed(sc, args.replications, args.seed, threads,
                                 client.get_executor(pure=False))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

    rows = [(f"local process pool, workers={args.workers} (baseline)", local_s,
             result_hash(local)),
            (f"{where} (+{setup_s:.1f} s start, not timed)", dask_s, result_hash(on_dask))]
    print(f"{'executor':<68} {'wall s':>7} {'reps/s':>7}  result SHA-256 (first 16)")
    for name, seconds, digest in rows:
        print(f"{name:<68} {seconds:7.2f} {args.replications / seconds:7.2f}  {digest[:16]}")
    same = rows[0][2] == rows[1][2]
    print(f"cluster / local wall time: {dask_s / local_s:.2f}x; identical results: "
          f"{'yes' if same else 'NO'}")
    print(f"won deals, mean: {local.total_won().mean():.1f} (local), "
          f"{on_dask.total_won().mean():.1f} (cluster)")
    if not same:
        raise SystemExit("the cluster's result differs from the local pool's")


if __name__ == "__main__":
    main()
