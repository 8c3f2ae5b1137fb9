"""Timestamps for the profile of the first estimate (used by ``instrument.patch``)."""

import os
import time


def t(label: str) -> None:
    """Append ``<unix time> <pid> <label>`` to the file named by ``SPTRACE`` (if set)."""
    path = os.environ.get("SPTRACE")
    if path:
        with open(path, "a") as f:
            f.write(f"{time.time():.3f} {os.getpid()} {label}\n")
