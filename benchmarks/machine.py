"""The machine a benchmark ran on, as its first printed line (figures are only comparable on
the same machine)."""

from __future__ import annotations

import os
import platform


def machine_line(load: bool = False) -> str:
    """``machine: x86_64 Linux, 2 cores, python 3.11.7`` (and ``; load 0.5``, the 1-minute load
    average, with ``load``)."""
    line = (f"machine: {platform.machine()} {platform.system()}, {os.cpu_count()} cores, "
            f"python {platform.python_version()}")
    return f"{line}; load {os.getloadavg()[0]:.1f}" if load else line
