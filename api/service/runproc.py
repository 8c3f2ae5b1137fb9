"""The body of a run process (kept light: a spawned process imports only this, the scenario
layer and what its kind needs, never the web stack or the database)."""

from __future__ import annotations

import json
import time
import traceback
from multiprocessing.connection import Connection

from scenarios.errors import SalesplanError

from .kinds import KindFunction, jsonable

__all__ = ["child_main"]


def child_main(run: KindFunction, document: dict, tables: dict[str, str], options: dict,
               conn: Connection) -> None:
    """Entry point of a run process: load the scenario, run the kind, send the output."""
    from scenarios.io import loads_scenario

    last = [0.0]

    def progress(fraction: float, message: str = "") -> None:
        now = time.monotonic()
        if now - last[0] < 0.2 and 0 <= fraction < 1:
            return
        last[0] = now
        conn.send(("progress", float(fraction), str(message)[:500]))

    try:
        scenario = loads_scenario(json.dumps(document), "json", tables=tables, source="scenario")
        output = run(scenario, options, progress)
        payload = {
            "result": jsonable(output.result),
            "tables": {str(n): df.to_csv(index=False) for n, df in output.tables.items()},
            "charts": {str(n): bytes(png) for n, png in output.charts.items() if png},
        }
        json.dumps(payload["result"], allow_nan=False)
        conn.send(("done", payload))
    except SalesplanError as exc:
        conn.send(("error", str(exc)))
    except Exception as exc:
        traceback.print_exc()
        conn.send(("error", f"internal error ({type(exc).__name__}): {exc}"))
    finally:
        conn.close()
