"""The body of a run worker process (kept light: a spawned process imports only this, the
scenario layer and what its kinds need, never the web stack or the database).

A worker process serves runs one after another: it receives ``(kind function, document,
tables, options)`` on its pipe, sends ``("progress", fraction, message)`` messages and then
``("done", payload)`` or ``("error", message)``, and waits for the next run (``None`` ends it).
The parent terminates the process to cancel a run or to stop one past the time limit.
"""

from __future__ import annotations

import json
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

from salesplan.scenarios.errors import SalesplanError

from .kinds import KindFunction, jsonable

__all__ = ["execute", "worker_main"]


def execute(run: KindFunction, document: dict, tables: dict[str, str], options: dict,
            send: Any) -> None:
    """Load the scenario, run the kind and send its output (or the error) with ``send``."""
    from salesplan.scenarios.io import loads_scenario

    last = [0.0]

    def progress(fraction: float, message: str = "") -> None:
        now = time.monotonic()
        if now - last[0] < 0.2 and 0 <= fraction < 1:
            return
        last[0] = now
        send(("progress", float(fraction), str(message)[:500]))

    try:
        scenario = loads_scenario(json.dumps(document), "json", tables=tables, source="scenario")
        output = run(scenario, options, progress)
        payload = {
            "result": jsonable(output.result),
            "tables": {str(n): df.to_csv(index=False) for n, df in output.tables.items()},
            "charts": {str(n): bytes(png) for n, png in output.charts.items() if png},
        }
        json.dumps(payload["result"], allow_nan=False)
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


def worker_main(conn: Connection, memory_mb: int | None = None) -> None:
    """Entry point of a worker process: serve runs until ``None`` or the pipe closes."""
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
