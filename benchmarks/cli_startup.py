"""CLI start-up time: ``salesplan --help`` and ``salesplan validate`` beside ``import pandas``.

Run: ``.venv/bin/python -m salesplan.benchmarks.cli_startup [--runs 15]``. Goal (issue #17):
both commands start within 1.5x the time of ``python -c "import pandas"`` on the same machine.

Each command runs ``--runs`` times in a fresh interpreter, interleaved (pandas, help, validate,
pandas, ...) so that a busy moment of the machine hits all three alike; the figure is the median
wall time, and the ratio is the command's median over the pandas median. The baseline is
``import pandas`` because every engine command needs pandas anyway: a CLI that starts in that
time does no work at start-up beyond what Python and its own argument parsing cost.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

from salesplan.scenarios.examples import EXAMPLES

COMMANDS = {
    "python -c 'import pandas' (baseline)": [sys.executable, "-c", "import pandas"],
    "salesplan --help": [sys.executable, "-m", "salesplan", "--help"],
    "salesplan validate midmarket.yaml": [sys.executable, "-m", "salesplan", "validate",
                                          str(EXAMPLES / "midmarket.yaml")],
}


def _wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   cwd=os.path.expanduser("~"))
    return time.perf_counter() - start


def measure(runs: int) -> dict[str, list[float]]:
    """Wall seconds of each command, ``runs`` times, interleaved (one warm-up run each first)."""
    for cmd in COMMANDS.values():
        _wall(cmd)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name, cmd in COMMANDS.items():
            times[name].append(_wall(cmd))
    return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15, help="runs per command (default 15)")
    args = ap.parse_args(argv)
    times = measure(args.runs)
    base = statistics.median(next(iter(times.values())))
    print(f"CLI start-up, median of {args.runs} runs each ({platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()})")
    print(f"{'command':40s} {'median s':>9s} {'min s':>7s} {'ratio':>6s}")
    for name, t in times.items():
        med = statistics.median(t)
        print(f"{name:40s} {med:9.3f} {min(t):7.3f} {med / base:6.2f}")
    print("goal: ratio <= 1.50 for --help and validate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
