"""Helpers for the lifecycle tests (no tests here): a server in a subprocess with a real worker
pool, a run kind that journals each execution's start and end, and the process-tree checks.

The kind and the process targets live at module level so that spawned processes can import them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
from pydantic import BaseModel, ConfigDict, Field
from test_service_support import all_kinds, make_app

from salesplan.api.service.kinds import Kind, RunOutput

TESTS = Path(__file__).resolve().parent


class JournalOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: float = Field(1.0, ge=0, le=600)
    again_seconds: float | None = Field(None, ge=0, le=600)
    journal: str


def journal(scenario, options: dict, progress) -> RunOutput:
    """Append ``start <pid>`` to the journal file, sleep, append ``end <pid>``. No progress
    while it sleeps, like an align inside its solver: a worker that reports progress would
    notice its server's death on its next send anyway, one that does not must be ended.
    ``again_seconds``: how long a later execution (the journal already has a start) sleeps."""
    path, seconds = options["journal"], float(options["seconds"])
    again = options.get("again_seconds")
    if again is not None and Path(path).exists() and Path(path).read_text():
        seconds = float(again)
    with open(path, "a") as f:
        f.write(f"start {os.getpid()}\n")
    time.sleep(seconds)
    with open(path, "a") as f:
        f.write(f"end {os.getpid()}\n")
    return RunOutput(result={"pid": os.getpid()})


def lifecycle_kinds() -> dict[str, Kind]:
    return {**all_kinds(), "journal": Kind("journal", JournalOptions, journal, "test: journal")}


def serve(data_dir: str, port: int, settings: dict | None = None) -> None:
    """Run the service (test kinds, 2 run workers, ``settings`` over the test defaults) on
    127.0.0.1:``port`` until killed."""
    import uvicorn

    from salesplan.api.service.deps import get_kinds

    app = make_app(Path(data_dir), **{"run_workers": 2, **(settings or {})})
    app.dependency_overrides[get_kinds] = lifecycle_kinds
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir: Path, port: int, log: Path, **settings) -> subprocess.Popen:
    code = (f"import sys; sys.path.insert(0, {str(TESTS)!r}); "
            f"import test_service_lifecycle_support as m; "
            f"m.serve({str(data_dir)!r}, {port}, {settings!r})")
    out = open(log, "ab")  # noqa: SIM115 - owned by the child
    return subprocess.Popen([sys.executable, "-c", code], stdout=out, stderr=subprocess.STDOUT,
                            cwd=str(data_dir))


def stop_server(proc: subprocess.Popen, timeout: float = 30.0) -> None:
    """SIGTERM a server started by :func:`start_server` and wait ``timeout`` seconds for it to
    shut down; kill it past that."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def wait_health(client, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited during start-up"
        try:
            if client.get("/health").status_code == 200:
                return
        except httpx.TransportError:  # not listening yet
            pass
        time.sleep(0.1)
    raise AssertionError("the server did not answer /health")


def alive(pids: list[int]) -> list[int]:
    """The pids still running (a zombie, dead but not yet reaped, counts as gone)."""
    out = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
        except psutil.NoSuchProcess:
            pass
    return out


def watched_child(parent_pid: int, mode: str, pid_file: str) -> None:
    """A process that relies on the portable parent watch only (no parent-death signal);
    ``mode='poll'`` also hides the multiprocessing parent sentinel, leaving the getppid poll.
    It writes its pid to ``pid_file`` once its watch is armed."""
    import multiprocessing as mp

    from salesplan.api.service import runproc

    runproc._set_pdeathsig = lambda: False
    if mode == "poll":
        mp.parent_process = lambda: None
    runproc.die_with_parent(parent_pid)
    Path(pid_file).write_text(str(os.getpid()))
    time.sleep(600)


def middle(pid_file: str, mode: str) -> None:
    """Start a :func:`watched_child` (which writes its pid to ``pid_file`` once armed) and wait
    to be killed."""
    import multiprocessing as mp

    child = mp.get_context("spawn").Process(target=watched_child,
                                            args=(os.getpid(), mode, pid_file), daemon=False)
    child.start()
    time.sleep(600)


def _load_slowly(marker: str, seconds: float) -> str:
    """Unpickled in the child before its target runs: journal that the child got this far,
    then take ``seconds`` (a worker importing the run layer on a loaded machine)."""
    Path(marker).write_text(str(os.getpid()))
    time.sleep(seconds)
    return marker


class SlowToLoad:
    """An argument whose unpickling in a spawned child takes ``seconds``: it holds the child in
    its start-up, before ``worker_main`` (and its :func:`die_with_parent`) would run."""

    def __init__(self, marker: str, seconds: float):
        self.marker, self.seconds = marker, seconds

    def __reduce__(self):
        return _load_slowly, (self.marker, self.seconds)


def starting_parent(pid_file: str, marker: str, armed: bool) -> None:
    """Start a run worker that stays in its start-up for 60 s (``armed``: the pool's
    :class:`RunWorkerProcess`; otherwise a plain spawn-context process), write its pid to
    ``pid_file`` and wait to be killed."""
    import multiprocessing as mp

    from salesplan.api.service.runproc import worker_main
    from salesplan.api.service.spawn import RunWorkerProcess

    _parent, child = mp.get_context("spawn").Pipe()  # the parent end stays open
    args = (child, SlowToLoad(marker, 60.0), os.getpid())
    process = (RunWorkerProcess(target=worker_main, args=args, daemon=True) if armed
               else mp.get_context("spawn").Process(target=worker_main, args=args, daemon=True))
    process.start()
    Path(pid_file).write_text(str(process.pid))
    time.sleep(600)
