"""Run every performance benchmark in turn: ``python -m salesplan.benchmarks`` (what ``make bench``
runs)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).resolve().parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)])
                   if not m.name.startswith("_") and m.name != "baseline")
    for name in names:
        module = importlib.import_module(f"salesplan.benchmarks.{name}")
        if hasattr(module, "main"):
            print(f"\n=== salesplan.benchmarks.{name} ===", flush=True)
            module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
