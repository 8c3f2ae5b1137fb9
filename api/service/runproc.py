"""The body of a run worker process (kept light: a spawned process imports only this, the
scenario layer and what its kinds need, never the web stack or the database).

A worker process starts warm: before it says it is ready it imports the engines and the
planning modules a simulation and a what-if need up to its first estimates (:data:`PRELOAD`),
so a run it takes does not wait for them (about 1-1.7 s of a what-if's first estimate on a
loaded 2-core machine, issue #20), and while it has no run it imports the rest of what the
kinds import lazily (:data:`PRELOAD_IDLE`). The pool starts workers ahead of the runs (a
spare one is spawned as a run takes the last), so the imports happen while no run waits.

With ``processes`` > 1 (the ``run_processes`` setting), a worker also starts that many
replication lanes (:mod:`.lanes`) and every run's replications are spread over them; a lane
dies with its worker. The results are the same as in one process.

A worker process first sends ``("ready",)`` (:data:`READY`; the pool hands it no run before),
then serves runs one after another: it receives ``(kind function, document,
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

from ..executors import IN_PROCESS, Replications, RunStoppedError, replications_on
from .kinds import KindFunction, jsonable
from .lanes import LaneError, Lanes

__all__ = ["PRELOAD", "PRELOAD_IDLE", "READY", "die_with_parent", "execute", "preload",
           "start_lanes", "worker_main"]

PARENT_POLL = 0.5  # seconds between os.getppid() checks when there is no parent sentinel
PARENT_GONE_EXIT = 75  # exit code of a worker that ends because its server is gone
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>

READY = ("ready",)
"""What a worker sends once, when it has started (imports done), before its first run."""

PRELOAD = (
    "salesplan.scenarios.io",
    "salesplan.scenarios.expected",
    "salesplan.simulator",
    "salesplan.api.planning.whatif",
    "salesplan.api.planning.against",
    "salesplan.api.planning.simulation",
)
"""What a run worker imports before it says it is ready: the path of a simulation and of a
what-if up to its first estimates (the scenario reader, the levers' expected loads, the
simulator, the what-if runner with the quota methods and pay it uses)."""

PRELOAD_IDLE = (
    "salesplan.api.planning.report",
    "salesplan.api.plots",
    "matplotlib.backends.backend_agg",
    "pandas.io.formats.csvs",
    "pandas.core.methods.to_dict",
    "salesplan.optimizer",
    "salesplan.api.planning.alignment",
    "salesplan.api.planning.headcount",
    "salesplan.api.planning.quota_files",
    "salesplan.api.planning.quotas",
    "salesplan.api.planning.comp_report",
    "salesplan.api.planning.compensation",
    "salesplan.api.planning.tracking.output",
    "salesplan.api.planning.tracking.run",
)
"""What a ready worker imports while no run is waiting, one module at a time (a run that
arrives meanwhile is taken at once, and imports what it still needs itself): with
:data:`PRELOAD`, every module the kind functions of :mod:`.kinds` import inside their bodies
and what those import lazily in turn (matplotlib's Agg backend for the charts of the
``plots`` extra, the pandas modules behind ``to_csv`` and ``to_dict``, which every run's
output goes through). Left out of :data:`PRELOAD` so that a worker replacing a cancelled
run's is ready sooner (the next run waits for it)."""


def preload(modules: tuple[str, ...] = PRELOAD) -> list[str]:
    """Import ``modules`` now; returns those that could not be imported (an extra that is not
    installed, such as matplotlib for ``salesplan.api.plots``). Their kinds import them when
    they run, as they always did, and report the missing extra (or the failure) there: a
    module that fails here never stops the worker, it is only not warm."""
    import importlib

    missing = []
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
        except Exception as exc:  # a broken module: its kind fails with the error when it runs
            print(f"salesplan run worker: could not preload {name} ({type(exc).__name__}: "
                  f"{exc}); runs that need it import it themselves", file=sys.stderr)
            missing.append(name)
    return missing


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
    except LaneError as exc:  # a replication process was killed (out of memory?) or crashed
        send(("error", f"{exc}; the run can be submitted again"))
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


def start_lanes(processes: int) -> Lanes | None:
    """The replication lanes of a worker whose runs get ``processes`` processes (None for 1, or
    when they cannot be started: replications run in the worker, as they always could)."""
    if processes <= 1:
        return None
    try:
        return Lanes(processes)
    except (OSError, LaneError) as exc:
        print(f"salesplan run worker: could not start {processes} replication processes "
              f"({type(exc).__name__}: {exc}); runs use this process alone", file=sys.stderr)
        return None


def worker_main(conn: Connection, memory_mb: int | None = None,
                parent_pid: int | None = None, processes: int = 1) -> None:
    """Entry point of a worker process: start its replication lanes (``processes`` > 1, see
    :mod:`.lanes`) and import what runs need first (:data:`PRELOAD`), say it is ready, then
    serve runs until ``None`` or the pipe closes, importing :data:`PRELOAD_IDLE` while no run
    waits; with ``parent_pid``, end as soon as that process (the server) is gone."""
    die_with_parent(parent_pid)
    limit_memory(memory_mb)
    lanes = start_lanes(processes)  # first: the lanes warm up while this process imports
    preload()
    idle = list(PRELOAD_IDLE)
    try:
        conn.send(READY)
        while True:
            while idle and not conn.poll():
                preload((idle.pop(0),))
            try:
                job = conn.recv()
            except (EOFError, OSError):
                return
            if job is None:
                return
            if lanes is not None and lanes.broken:  # a lane died during the last run
                lanes.shutdown(wait=True, cancel_futures=True)
                lanes = start_lanes(processes)
            where = IN_PROCESS if lanes is None else Replications(lanes, lanes.processes)
            with replications_on(where):
                execute(*job, send=conn.send)
    finally:
        if lanes is not None:
            lanes.shutdown(wait=True, cancel_futures=True)
        conn.close()
