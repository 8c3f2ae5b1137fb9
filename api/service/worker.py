"""The run pool: queued runs execute in their own processes, at most ``run_workers`` at a time.

One thread in the server process (the monitor) does everything with the database: it claims the
oldest queued run (FIFO by creation; the claim is an atomic ``queued -> running`` update), starts
a ``multiprocessing`` process for it (spawn context: safe beside the server's threads), reads its
progress and its output from a pipe, and writes status, progress and results. A child process
never touches the database, so a run that is cancelled (``DELETE``), that passes the run-time
limit, or whose server stops can be terminated at any moment without leaving a half-written
result.

Restart: :meth:`RunPool.start` first re-queues runs left ``running`` by a previous process (a
crash, a kill), or marks them failed with the reason once they have been started
``max_attempts`` times. A graceful :meth:`RunPool.stop` re-queues the runs it interrupts. Exactly
one server process should serve a database (see ``docs/service.md``).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from sqlalchemy import select, update

from .db import Database, Result, ResultFile, Run, ScenarioVersion, utcnow
from .kinds import Kind
from .runproc import child_main
from .settings import Settings

__all__ = ["RunPool", "recover_interrupted"]

log = logging.getLogger("salesplan.service")

PROGRESS_EVERY = 0.5  # seconds between progress writes per run


# ---- the pool ------------------------------------------------------------------------------------

@dataclass
class _Job:
    run_id: int
    process: Any
    conn: Connection
    started: float = field(default_factory=time.monotonic)
    progress: tuple[float, str] | None = None
    written: float = 0.0
    outcome: tuple | None = None


def recover_interrupted(db: Database, max_attempts: int) -> tuple[int, int]:
    """Re-queue runs left ``running`` (or fail those started ``max_attempts`` times).

    Returns (re-queued, failed)."""
    requeued = failed = 0
    with db.session() as s:
        rows = s.scalars(select(Run).where(Run.status == "running").order_by(Run.id)).all()
        for r in rows:
            if r.attempts >= max_attempts:
                r.status = "failed"
                r.finished = utcnow()
                r.error = (f"interrupted by a server stop or crash {r.attempts} time(s); "
                           f"not retried (max_attempts={max_attempts})")
                failed += 1
            else:
                r.status = "queued"
                r.message = f"re-queued after a server stop (attempt {r.attempts} interrupted)"
                requeued += 1
    if requeued or failed:
        log.warning("recovered interrupted runs: %d re-queued, %d failed", requeued, failed)
    return requeued, failed


class RunPool:
    """Executes queued runs in separate processes (see the module documentation)."""

    def __init__(self, db: Database, settings: Settings, kinds: Mapping[str, Kind]):
        self.db = db
        self.settings = settings
        self.kinds = dict(kinds)
        self._ctx = mp.get_context("spawn")
        self._jobs: dict[int, _Job] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- lifecycle ----
    def start(self) -> None:
        recover_interrupted(self.db, self.settings.max_attempts)
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="salesplan-runs", daemon=True)
        self._thread.start()

    def stop(self, requeue: bool = True) -> None:
        """Stop the monitor and terminate running jobs. ``requeue``: put their runs back in
        the queue (a graceful stop); otherwise leave them ``running``, as a crash would."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        for job in list(self._jobs.values()):
            self._terminate(job)
            if requeue:
                with self.db.session() as s:
                    s.execute(update(Run).where(Run.id == job.run_id, Run.status == "running")
                              .values(status="queued", message="re-queued: the server stopped"))
        self._jobs.clear()

    def wake(self) -> None:
        """Look at the queue now (a run was submitted or cancelled)."""
        self._wake.set()

    @property
    def active(self) -> list[int]:
        return sorted(self._jobs)

    # ---- the monitor ----
    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._tick()
            except Exception:
                log.exception("run pool tick failed")
                time.sleep(1.0)
            self._wake.wait(self.settings.poll_interval)
            self._wake.clear()

    def _tick(self) -> None:
        for job in list(self._jobs.values()):
            self._poll(job)
        self._check_cancelled()
        while len(self._jobs) < self.settings.run_workers and not self._stop.is_set():
            if not self._launch_next():
                break

    def _check_cancelled(self) -> None:
        if not self._jobs:
            return
        with self.db.session() as s:
            rows = s.execute(select(Run.id, Run.status).where(Run.id.in_(list(self._jobs))))
            gone = [rid for rid, status in rows if status != "running"]
        for rid in gone:
            job = self._jobs.pop(rid, None)
            if job is not None:
                log.info("run %d cancelled: stopping its process", rid)
                self._terminate(job)

    def _launch_next(self) -> bool:
        with self.db.session() as s:
            run = s.scalars(select(Run).where(Run.status == "queued")
                            .order_by(Run.created, Run.id).limit(1)).first()
            if run is None:
                return False
            claimed = s.execute(
                update(Run).where(Run.id == run.id, Run.status == "queued")
                .values(status="running", started=utcnow(), attempts=Run.attempts + 1,
                        progress=0.0, message="starting", error=None)
            ).rowcount
            if claimed != 1:
                return True  # someone else took it (or it was cancelled): try the next one
            version = s.scalar(select(ScenarioVersion).where(
                ScenarioVersion.scenario_id == run.scenario_id,
                ScenarioVersion.version == run.version))
            run_id, kind_name, options = run.id, run.kind, dict(run.options or {})
            document = dict(version.document) if version else None
            tables = dict(version.tables or {}) if version else {}
        kind = self.kinds.get(kind_name)
        if kind is None or document is None:
            why = (f"unknown run kind {kind_name!r} (not registered on this server)"
                   if kind is None else "the scenario version no longer exists")
            self._finish(run_id, "failed", why)
            return True
        parent, child = self._ctx.Pipe(duplex=False)
        process = self._ctx.Process(target=child_main, name=f"salesplan-run-{run_id}",
                                    args=(kind.run, document, tables, options, child),
                                    daemon=True)
        process.start()
        child.close()
        self._jobs[run_id] = _Job(run_id, process, parent)
        log.info("run %d (%s) started in process %s", run_id, kind_name, process.pid)
        return True

    def _poll(self, job: _Job) -> None:
        try:
            while job.outcome is None and job.conn.poll():
                msg = job.conn.recv()
                if msg[0] == "progress":
                    job.progress = (msg[1], msg[2])
                else:
                    job.outcome = msg
        except (EOFError, OSError):
            pass
        if job.outcome is not None:
            self._jobs.pop(job.run_id, None)
            job.process.join(timeout=10)
            if job.process.is_alive():
                self._terminate(job)
            job.conn.close()
            if job.outcome[0] == "done":
                self._finish(job.run_id, "succeeded", None, job.outcome[1])
            else:
                self._finish(job.run_id, "failed", job.outcome[1])
            return
        if not job.process.is_alive():
            self._jobs.pop(job.run_id, None)
            job.conn.close()
            self._finish(job.run_id, "failed", f"the run process exited unexpectedly "
                                               f"(exit code {job.process.exitcode})")
            return
        limit = self.settings.run_time_limit
        if time.monotonic() - job.started > limit:
            self._jobs.pop(job.run_id, None)
            self._terminate(job)
            self._finish(job.run_id, "failed", f"stopped: the run took longer than the run time "
                                               f"limit of {limit:g} s")
            return
        now = time.monotonic()
        if job.progress is not None and now - job.written >= PROGRESS_EVERY:
            fraction, message = job.progress
            values: dict[str, Any] = {"message": message}
            if 0 <= fraction <= 1:
                values["progress"] = round(fraction, 4)
            with self.db.session() as s:
                s.execute(update(Run).where(Run.id == job.run_id, Run.status == "running")
                          .values(**values))
            job.written = now
            job.progress = None

    def _terminate(self, job: _Job) -> None:
        p = job.process
        if p.is_alive():
            p.terminate()
            p.join(timeout=5)
            if p.is_alive():  # pragma: no cover - terminate ignored
                p.kill()
                p.join(timeout=5)
        with contextlib.suppress(OSError):
            job.conn.close()

    def _finish(self, run_id: int, status: str, error: str | None,
                payload: dict | None = None) -> None:
        with self.db.session() as s:
            values: dict[str, Any] = {"status": status, "finished": utcnow(), "error": error,
                                      "message": "done" if status == "succeeded" else "failed"}
            if status == "succeeded":
                values["progress"] = 1.0
            changed = s.execute(update(Run).where(Run.id == run_id, Run.status == "running")
                                .values(**values)).rowcount
            if changed != 1 or payload is None:
                return  # cancelled meanwhile: the output is discarded
            s.add(Result(run_id=run_id, result=payload["result"]))
            for name, text in payload["tables"].items():
                s.add(ResultFile(run_id=run_id, kind="table", name=name,
                                 content=text.encode("utf-8")))
            for name, png in payload["charts"].items():
                s.add(ResultFile(run_id=run_id, kind="chart", name=name, content=png))
        log.info("run %d %s%s", run_id, status, f": {error}" if error else "")
