"""The body of a run worker process (kept light: a spawned process imports only this, the
scenario layer and what its kinds need, never the web stack or the database).

A worker process serves runs one after another: it receives ``(kind function, document,
tables, options)`` on its pipe, sends ``("progress", fraction, message, partial)`` messages
(``partial``: the kind's estimates so far, or None) and then
``("done", payload)`` or ``("error", message)``, and waits for the next run (``None`` ends it).
The parent terminates the process to cancel a run or to stop one past the time limit.

A worker dies with its server (:func:`die_with_parent`): the worker never writes to the database,
so once its server is gone its work can only be wasted, and it would compete for the CPU with the
restarted server's re-run of the same run. Two mechanisms, so that it holds on every platform:

- Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` (through ``ctypes``): the kernel kills the worker
  the moment its parent exits, however it exits (``kill -9`` included).
- Everywhere (and as a second line on Linux): a daemon thread waits on the parent sentinel that
  ``multiprocessing`` gives a spawned child (the read end of a pipe whose write end only the
  parent holds on POSIX; the parent's process handle on Windows); it becomes ready when the
  parent dies, and the thread ends the process with ``os._exit``. Where there is no sentinel
  (the worker was not started by ``multiprocessing``) the thread polls ``os.getppid()``.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

from salesplan.scenarios.errors import SalesplanError

from ..executors import RunStoppedError
from .kinds import KindFunction, jsonable

__all__ = ["die_with_parent", "execute", "worker_main"]

PARENT_POLL = 0.5  # seconds between os.getppid() checks when there is no parent sentinel
PARENT_GONE_EXIT = 75  # exit code of a worker that ends because its server is gone
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def execute(run: KindFunction, document: dict, tables: dict[str, str], options: dict,
            send: Any) -> None:
    """Load the scenario, run the kind and send its output (or the error) with ``send``."""
    from salesplan.scenarios.io import loads_scenario

    last = [0.0]

    def progress(fraction: float, message: str = "", partial: dict | None = None) -> None:
        now = time.monotonic()
        if partial is None and now - last[0] < 0.2 and 0 <= fraction < 1:
            return  # estimates so far are always sent (a kind sends them a few times a run)
        last[0] = now
        send(("progress", float(fraction), str(message)[:500],
              None if partial is None else jsonable(partial)))

    try:
        scenario = loads_scenario(json.dumps(document), "json", tables=tables, source="scenario")
        files = {"tables": tables} if getattr(run, "uses_files", False) else {}
        output = run(scenario, options, progress, **files)
        payload = {
            "result": jsonable(output.result),
            "tables": {str(n): df.to_csv(index=False) for n, df in output.tables.items()},
            "charts": {str(n): bytes(png) for n, png in output.charts.items() if png},
            "files": {str(n): bytes(b) for n, b in getattr(output, "files", {}).items()},
        }
        json.dumps(payload["result"], allow_nan=False)
    except RunStoppedError as exc:  # on a cluster: cancelled between replication chunks
        send(("error", f"stopped: {exc}"))
    except SalesplanError as exc:
        send(("error", str(exc)))
    except MemoryError:
        send(("error", "the run ran out of memory (the run memory limit, "
                       "SALESPLAN_RUN_MEMORY_MB, or the machine's); try fewer replications "
                       "or a smaller scenario"))
    except Exception as exc:
        traceback.print_exc()
        send(("error", f"internal error ({type(exc).__name__}): {exc}"))
    else:
        send(("done", payload))


def limit_memory(megabytes: int | None) -> None:
    """Cap this process's address space (POSIX); allocations past it raise MemoryError."""
    if not megabytes:
        return
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return
    limit = megabytes * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _set_pdeathsig() -> bool:
    """Ask the Linux kernel to SIGKILL this process when its parent exits; False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):  # pragma: no cover - no libc / no prctl
        return False


def _watch_parent(parent_pid: int) -> None:
    """Block until the parent process is gone, then end this process at once."""
    import multiprocessing as mp
    from multiprocessing.connection import wait

    parent = mp.parent_process()
    sentinel = getattr(parent, "sentinel", None)
    if sentinel is not None:
        wait([sentinel])
    else:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_POLL)
    os._exit(PARENT_GONE_EXIT)


def die_with_parent(parent_pid: int | None) -> dict[str, bool]:
    """Make this process end when ``parent_pid`` (its server) is gone: the parent-death signal
    where the platform has one, and a watching thread everywhere. Returns which are active."""
    if parent_pid is None:
        return {"pdeathsig": False, "watch": False}
    pdeathsig = _set_pdeathsig()
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(PARENT_GONE_EXIT)
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="salesplan-parent-watch",
                     daemon=True).start()
    return {"pdeathsig": pdeathsig, "watch": True}


def worker_main(conn: Connection, memory_mb: int | None = None,
                parent_pid: int | None = None) -> None:
    """Entry point of a worker process: serve runs until ``None`` or the pipe closes; with
    ``parent_pid``, end as soon as that process (the server) is gone."""
    die_with_parent(parent_pid)
    limit_memory(memory_mb)
    try:
        while True:
            try:
                job = conn.recv()
            except (EOFError, OSError):
                return
            if job is None:
                return
            execute(*job, send=conn.send)
    finally:
        conn.close()
