"""HiGHS prints a two-line banner ("Running HiGHS ...") the first time a process builds a solver
object, before PuLP can switch its output off; in a command-line tool it lands in the middle of
tables and progress bars. :func:`silence_highs_banner` builds that first object with the
process's standard output pointed at ``/dev/null``, so later solvers print nothing (their own
output stays governed by ``msg``)."""

from __future__ import annotations

import os
import sys

__all__ = ["silence_highs_banner"]

_done = False


def silence_highs_banner() -> None:
    """Swallow HiGHS's once-per-process banner. Call it early, from one thread: it points file
    descriptor 1 at ``/dev/null`` for the moment it takes to build one ``highspy.Highs``. Does
    nothing if highspy is missing or the banner has already been dealt with."""
    global _done
    if _done:
        return
    _done = True
    try:
        import highspy
    except ImportError:  # pragma: no cover - highspy is a dependency
        return
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # pragma: no cover - no fd 1 (some embedded interpreters)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
