"""The run pool: queued runs execute in worker processes, at most ``run_workers`` at a time.

One thread in the server process (the monitor) does everything with the database: it claims the
oldest queued run (FIFO by creation; the claim is an atomic ``queued -> running`` update), hands
it to an idle worker process (``multiprocessing``, spawn context: safe beside the server's
threads; started on demand, reused for up to ``MAX_RUNS_PER_WORKER`` runs), reads its progress
and its output from a pipe, and writes status, progress and results. A worker never touches the
database, so a run that is cancelled (``DELETE``), that passes the run-time limit, or whose
server stops is stopped by terminating its process at any moment, without leaving a
half-written result; a fresh process takes its place.

Restart: :meth:`RunPool.start` first re-queues runs left ``running`` by a previous process (a
crash, a kill), or marks them failed with the reason once they have been started
``max_attempts`` times. A graceful :meth:`RunPool.stop` re-queues the runs it interrupts. Exactly
one server process should serve a database (see ``docs/service.md``).

Workers die with the server: each worker arms the Linux parent-death signal and watches its
parent (:func:`~.runproc.die_with_parent`), so a ``kill -9`` of the server leaves no worker
computing a run that the next server will run again. Workers are started by the monitor thread,
which lives as long as the pool (the parent-death signal fires when the *thread* that started
the process ends).

One execution at a time: a claim is a compare-and-set on ``(status, attempts)`` that bumps
``attempts``; the attempt number is the claim's token. Every later write of this pool for the
run (progress, the result, the re-queue on stop) is conditioned on ``status = 'running'`` and
``attempts`` still equal to that token, and a run whose row no longer carries it (cancelled, or
re-queued and claimed again by another server) has its process stopped on the next tick. A stale
server or worker therefore can neither write over the run's result nor keep computing it.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from sqlalchemy import select, update

from .db import Database, Result, ResultFile, Run, ScenarioVersion, utcnow
from .kinds import Kind
from .runproc import worker_main
from .settings import Settings

__all__ = ["RunPool", "recover_interrupted"]

log = logging.getLogger("salesplan.service")

PROGRESS_EVERY = 0.5  # seconds between progress writes per run
MAX_RUNS_PER_WORKER = 100  # a worker process is replaced after this many runs


# ---- the pool ------------------------------------------------------------------------------------

@dataclass
class _Worker:
    """A worker process and the parent's end of its pipe; ``run_id`` is its current run."""

    process: Any
    conn: Connection
    run_id: int | None = None
    attempt: int = 0  # the claim's token: the run's ``attempts`` after this pool claimed it
    served: int = 0
    started: float = 0.0
    progress: tuple[float, str] | None = None
    written: float = 0.0


def _owned(run_id: int, attempt: int) -> tuple:
    """The condition of every write for a run by the pool that claimed it as ``attempt``."""
    return Run.id == run_id, Run.status == "running", Run.attempts == attempt


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
                r.message = (f"failed: interrupted by a server stop or crash "
                             f"{r.attempts} time(s)")
                failed += 1
            else:
                r.status = "queued"
                r.message = f"re-queued after a server stop (attempt {r.attempts} interrupted)"
                requeued += 1
    if requeued or failed:
        log.warning("recovered interrupted runs: %d re-queued, %d failed", requeued, failed)
    return requeued, failed


class RunPool:
    """Executes queued runs in worker processes (see the module documentation)."""

    def __init__(self, db: Database, settings: Settings, kinds: Mapping[str, Kind]):
        self.db = db
        self.settings = settings
        self.kinds = dict(kinds)
        self._ctx = mp.get_context("spawn")
        self._workers: list[_Worker] = []
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
        """Stop the monitor and the worker processes. ``requeue``: put interrupted runs back
        in the queue (a graceful stop); otherwise leave them ``running``, as a crash would."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        for w in list(self._workers):
            run_id, attempt = w.run_id, w.attempt
            if run_id is None:
                with contextlib.suppress(OSError, ValueError):
                    w.conn.send(None)
                w.process.join(timeout=2)
            self._kill(w)
            if requeue and run_id is not None:
                with self.db.session() as s:
                    s.execute(update(Run).where(*_owned(run_id, attempt))
                              .values(status="queued", message="re-queued: the server stopped"))
        self._workers.clear()

    def wake(self) -> None:
        """Look at the queue now (a run was submitted or cancelled)."""
        self._wake.set()

    @property
    def active(self) -> list[int]:
        """Ids of the runs executing now."""
        return sorted(w.run_id for w in self._workers if w.run_id is not None)

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
        for w in list(self._workers):
            if w.run_id is not None:
                self._poll(w)
            elif not w.process.is_alive():
                self._drop(w)
        self._check_cancelled()
        while not self._stop.is_set():
            worker = self._idle_worker()
            if worker is None or not self._launch_next(worker):
                break

    def _idle_worker(self) -> _Worker | None:
        for w in self._workers:
            if w.run_id is None and w.process.is_alive():
                return w
        if len(self._workers) >= self.settings.run_workers:
            return None
        parent, child = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(target=worker_main, daemon=True,
                                    args=(child, self.settings.run_memory_mb, os.getpid()),
                                    name="salesplan-run-worker")
        process.start()
        child.close()
        w = _Worker(process, parent)
        self._workers.append(w)
        return w

    def _check_cancelled(self) -> None:
        """Stop the process of every run this pool no longer owns: cancelled, deleted, or
        re-queued and claimed again elsewhere (its ``attempts`` moved past our token)."""
        busy = {w.run_id: w for w in self._workers if w.run_id is not None}
        if not busy:
            return
        with self.db.session() as s:
            rows = dict(s.execute(select(Run.id, Run.attempts)
                                  .where(Run.id.in_(list(busy)), Run.status == "running")).all())
        for rid, w in busy.items():
            if rid not in rows:
                log.info("run %d cancelled: stopping its process", rid)
                self._drop(w)
            elif rows[rid] != w.attempt:
                log.warning("run %d attempt %d was taken over (now attempt %d): stopping its "
                            "process here", rid, w.attempt, rows[rid])
                self._drop(w)

    def _launch_next(self, worker: _Worker) -> bool:
        """Claim the oldest queued run and hand it to ``worker``; False if the queue is empty."""
        with self.db.session() as s:
            run = s.scalars(select(Run).where(Run.status == "queued")
                            .order_by(Run.created, Run.id).limit(1)).first()
            if run is None:
                return False
            attempt = run.attempts + 1
            claimed = s.execute(
                update(Run).where(Run.id == run.id, Run.status == "queued",
                                  Run.attempts == run.attempts)
                .values(status="running", started=utcnow(), attempts=attempt,
                        progress=0.0, message="starting", error=None)
            ).rowcount
            if claimed != 1:
                return True  # cancelled or claimed elsewhere meanwhile: try the next one
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
            self._finish(run_id, attempt, "failed", why)
            return True
        try:
            worker.conn.send((kind.run, document, tables, options))
        except (OSError, ValueError) as exc:
            self._drop(worker)
            self._finish(run_id, attempt, "failed", f"could not start the run: {exc}")
            return True
        worker.run_id, worker.attempt, worker.started = run_id, attempt, time.monotonic()
        worker.progress, worker.written = None, 0.0
        log.info("run %d (%s) started in process %s", run_id, kind_name, worker.process.pid)
        return True

    def _poll(self, w: _Worker) -> None:
        run_id, attempt = w.run_id, w.attempt
        assert run_id is not None
        outcome = None
        try:
            while outcome is None and w.conn.poll():
                msg = w.conn.recv()
                if msg[0] == "progress":
                    w.progress = (msg[1], msg[2])
                else:
                    outcome = msg
        except (EOFError, OSError):
            pass
        if outcome is not None:
            w.run_id = None
            w.served += 1
            if outcome[0] == "done":
                self._finish(run_id, attempt, "succeeded", None, outcome[1])
            else:
                self._finish(run_id, attempt, "failed", outcome[1])
            if w.served >= MAX_RUNS_PER_WORKER:  # recycle: bounded memory growth
                with contextlib.suppress(OSError, ValueError):
                    w.conn.send(None)
                self._drop(w)
            return
        if not w.process.is_alive():
            self._drop(w)
            self._finish(run_id, attempt, "failed", f"the run process exited unexpectedly "
                                                    f"(exit code {w.process.exitcode})")
            return
        limit = self.settings.run_time_limit
        now = time.monotonic()
        if now - w.started > limit:
            self._drop(w)
            self._finish(run_id, attempt, "failed", f"stopped: the run took longer than the "
                                                    f"run time limit of {limit:g} s")
            return
        if w.progress is not None and now - w.written >= PROGRESS_EVERY:
            fraction, message = w.progress
            values: dict[str, Any] = {"message": message}
            if 0 <= fraction <= 1:
                values["progress"] = round(fraction, 4)
            with self.db.session() as s:
                s.execute(update(Run).where(*_owned(run_id, attempt)).values(**values))
            w.written, w.progress = now, None

    def _drop(self, w: _Worker) -> None:
        """Stop a worker process (whatever it is doing) and forget it."""
        self._kill(w)
        if w in self._workers:
            self._workers.remove(w)

    @staticmethod
    def _kill(w: _Worker) -> None:
        p = w.process
        if p.is_alive():
            p.terminate()
            p.join(timeout=5)
            if p.is_alive():  # pragma: no cover - terminate ignored
                p.kill()
                p.join(timeout=5)
        with contextlib.suppress(OSError):
            w.conn.close()

    def _finish(self, run_id: int, attempt: int, status: str, error: str | None,
                payload: dict | None = None) -> None:
        """Write a run's outcome, only if attempt ``attempt`` still owns it (see the module
        documentation); otherwise the outcome is discarded."""
        with self.db.session() as s:
            values: dict[str, Any] = {"status": status, "finished": utcnow(), "error": error,
                                      "message": "done" if status == "succeeded" else "failed"}
            if status == "succeeded":
                values["progress"] = 1.0
            changed = s.execute(update(Run).where(*_owned(run_id, attempt))
                                .values(**values)).rowcount
            if changed != 1:
                log.info("run %d attempt %d: outcome discarded (the run was cancelled or taken "
                         "over meanwhile)", run_id, attempt)
                return
            if payload is None:
                return
            s.add(Result(run_id=run_id, result=payload["result"]))
            for name, text in payload["tables"].items():
                s.add(ResultFile(run_id=run_id, kind="table", name=name,
                                 content=text.encode("utf-8")))
            for name, png in payload["charts"].items():
                s.add(ResultFile(run_id=run_id, kind="chart", name=name, content=png))
        log.info("run %d %s%s", run_id, status, f": {error}" if error else "")
