"""Run kinds and process targets for ``test_service_run_worker`` (no tests here).

Kept light on purpose: a run worker unpickles a job's kind function by importing its module,
so this module must import nothing the worker would not have imported anyway (no planning
module, no engine), or the check of what a run imports would prove nothing.
"""

from __future__ import annotations

import os
import sys

from salesplan.api.service.kinds import RunOutput

HEAVY = ("salesplan", "numpy", "pandas", "scipy", "matplotlib", "pulp", "highspy", "simpy",
         "pydantic", "yaml")
"""Packages whose import a warm worker must not pay during a run (top-level names). Not
Pillow: it registers its image plugins when matplotlib first writes a PNG (about 20 ms)."""


def _heavy(modules) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


def whatif_imports(scenario, options: dict, progress) -> RunOutput:
    """Run the real ``whatif`` kind (2 replications) and report the modules of :data:`HEAVY`
    it imported before its first estimates and in all, and whether the what-if runner was
    already imported when the run began."""
    from salesplan.api.service.kinds import run_whatif_kind

    before = set(sys.modules)
    first: list[list[str]] = []

    def watching(fraction, message="", partial=None):
        if partial is not None and not first:
            first.append(_heavy(set(sys.modules) - before))
        progress(fraction, message, partial)

    run_whatif_kind(scenario, {"replications": 2, "seed": 1}, watching, tables={})
    return RunOutput(result={"before_first_estimate": first[0],
                             "new": _heavy(set(sys.modules) - before), "pid": os.getpid(),
                             "runner_was_loaded": "salesplan.api.planning.whatif" in before})


def idle_modules_loaded(scenario, options: dict, progress) -> RunOutput:
    """Which of the worker's idle-time imports are done."""
    from salesplan.api.service.runproc import PRELOAD_IDLE

    return RunOutput(result={"loaded": [m for m in PRELOAD_IDLE if m in sys.modules]})


def warm_then_execute(conn, job: tuple) -> None:
    """Import both preload lists, then execute ``job`` as a worker would."""
    from salesplan.api.service.runproc import PRELOAD, PRELOAD_IDLE, execute, preload

    assert preload(PRELOAD) == [] and preload(PRELOAD_IDLE) == []
    execute(*job, send=conn.send)
    conn.close()


def cold_execute(conn, job: tuple) -> None:
    """The control: execute ``job`` as a run worker would, without its start-up (no
    preload), and send the outcome on ``conn``."""
    from salesplan.api.service.runproc import execute

    execute(*job, send=conn.send)
    conn.close()


def lane_pids(scenario, options: dict, progress) -> RunOutput:
    """The pids of the lanes this run's replications go to."""
    from salesplan.api.executors import run_replications

    return RunOutput(result={"pids": run_replications().executor.pids})


def kill_a_lane(scenario, options: dict, progress) -> RunOutput:
    """A task that ends its lane with exit code 5 (standing for the OOM killer)."""
    from salesplan.api.executors import run_replications

    run_replications().executor.submit(os._exit, 5).result()
    return RunOutput(result={})


def estimates_then_hold(scenario, options: dict, progress) -> RunOutput:
    """One set of estimates, a second of silence, then the result."""
    import time

    progress(0.5, "estimates from 1 of 2", {"replications_done": 1})
    time.sleep(1.0)
    return RunOutput(result={"done": True})
