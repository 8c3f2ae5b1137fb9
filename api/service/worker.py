"""The run pool: queued runs execute in worker processes, at most ``run_workers`` at a time.

One thread in the server process (the monitor) does everything with the database: it claims the
oldest queued run (FIFO by creation; the claim is an atomic ``queued -> running`` update), hands
it to an idle worker process (``multiprocessing``, spawn context: safe beside the server's
threads; started ahead of the runs, up to ``run_workers``, reused for up to
``MAX_RUNS_PER_WORKER`` runs; a worker takes runs once it has said it is ready, its imports
done and its replication lanes started, see :mod:`.runproc`), reads its progress
and its output from a pipe, and writes status, progress and results. A worker never touches the
database, so a run that is cancelled (``DELETE``), that passes the run-time limit, or whose
server stops is stopped by terminating its process at any moment, without leaving a
half-written result; a fresh process takes its place.

Restart: :meth:`RunPool.start` first re-queues runs left ``running`` by a previous process (a
crash, a kill), or marks them failed with the reason once they have been started
``max_attempts`` times. A graceful :meth:`RunPool.stop` re-queues the runs it interrupts.

One active pool per database (:class:`PoolLock`): a pool executes runs only while it holds the
database's run-pool lock (SQLite: an exclusive ``flock`` on a file beside the database file;
PostgreSQL: a session advisory lock on a connection the pool keeps open). The operating system
or the database server releases the lock when its holder dies, ``kill -9`` included. A second
server on the same database serves HTTP, and its pool waits, without recovering or claiming
anything, until the lock is free; then it recovers the runs left ``running`` and takes over.

Workers die with the server: each worker arms the Linux parent-death signal in its first
statement, before it imports anything (:class:`~.spawn.RunWorkerProcess`), and watches its
parent (:func:`~.runproc.die_with_parent`), so a ``kill -9`` of the server leaves no worker
computing a run that the next server will run again, nor one still starting up; no
``multiprocessing`` resource tracker is started beside them. Workers are started by the monitor
thread, which lives as long as the pool (the parent-death signal fires when the *thread* that
started the process ends).

One execution at a time: a claim is a compare-and-set on ``(status, attempts)`` that bumps
``attempts``; the attempt number is the claim's token. Every later write of this pool for the
run (progress, the result, the re-queue on stop) is conditioned on ``status = 'running'`` and
``attempts`` still equal to that token, and a run whose row no longer carries it (cancelled, or
re-queued and claimed again by another server) has its process stopped on the next tick. A stale
server or worker therefore can neither write over the run's result nor keep computing it.

On a Dask cluster (``dask_scheduler`` set): the monitor, the queue, the claims, the fence, the
time limit and every database write stay here; each claimed run becomes one task on the cluster
instead of a message to a local process (:mod:`.cluster`), and ``run_workers`` is the number of
runs on the cluster at once. A slot (:class:`_ProcessSlot` or :class:`_ClusterSlot`) is where a
run executes; the monitor treats both alike. A run lost with the scheduler connection is
re-queued (failed once started ``max_attempts`` times); no run starts while the client
reconnects, and once it gives up the pool drops it and connects again.
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
from multiprocessing.connection import wait as connection_wait
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.engine import Connection as DbConnection

from .cluster import Cluster, ClusterError, ClusterRun, scope_of
from .db import Database, Result, ResultFile, Run, ScenarioVersion, utcnow
from .kinds import Kind
from .lanes import Waker
from .runproc import READY, worker_main
from .settings import Settings
from .spawn import RunWorkerProcess

__all__ = ["PoolLock", "RunPool", "recover_interrupted"]

log = logging.getLogger("salesplan.service")

PROGRESS_EVERY = 0.5  # seconds between progress writes per run
MAX_RUNS_PER_WORKER = 100  # a worker process is replaced after this many runs
LOCK_RETRY = 1.0  # seconds between attempts of a waiting pool to take the run-pool lock
LOCK_CHECK = 2.0  # seconds between checks that a PostgreSQL lock's connection is still alive
PG_LOCK_KEY = 0x73616C6573706C61  # "salesplan": the advisory lock key of the run pool
CONNECT_RETRY = 5.0  # seconds between attempts to reach an unreachable Dask scheduler


# ---- one active pool per database ----------------------------------------------------------------

class PoolLock:
    """The run-pool lock of a database: held by at most one pool, released when its holder
    process dies. SQLite: ``flock`` on ``<database file>.runpool.lock`` (POSIX; ``msvcrt``
    on Windows). PostgreSQL: ``pg_try_advisory_lock`` on a dedicated connection. Other
    databases: no lock (every pool acts; the attempt fence still keeps results single)."""

    def __init__(self, db: Database):
        self.db = db
        self._file: Any = None
        self._conn: DbConnection | None = None
        self._checked = 0.0

    @property
    def held(self) -> bool:
        return self._file is not None or self._conn is not None

    def acquire(self) -> bool:
        """Take the lock if it is free (never blocks); True if this pool holds it now."""
        if self.held:
            return True
        dialect = self.db.engine.dialect.name
        if dialect == "sqlite":
            return self._acquire_file()
        if dialect == "postgresql":
            return self._acquire_pg()
        return True

    def _acquire_file(self) -> bool:
        path = self.db.engine.url.database
        if not path or path == ":memory:":
            self._file = True  # a private database: nobody to exclude
            return True
        f = open(f"{path}.runpool.lock", "a+b")  # noqa: SIM115 - kept open while held
        try:
            try:
                import fcntl

                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except ImportError:  # pragma: no cover - Windows
                import msvcrt

                msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            f.close()
            return False
        self._file = f
        return True

    def _acquire_pg(self) -> bool:
        conn = self.db.engine.connect()
        try:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                               {"k": PG_LOCK_KEY}).scalar()
            conn.commit()
        except Exception:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn, self._checked = conn, time.monotonic()
        return True

    def still_held(self) -> bool:
        """False if the lock was lost (PostgreSQL: its connection died, so the server
        released it); checked at most every :data:`LOCK_CHECK` seconds."""
        if self._conn is None:
            return self.held
        now = time.monotonic()
        if now - self._checked < LOCK_CHECK:
            return True
        self._checked = now
        try:
            self._conn.execute(text("SELECT 1")).scalar()
            self._conn.commit()
        except Exception:
            log.exception("the run-pool lock's database connection failed")
            self.release()
            return False
        return True

    def release(self) -> None:
        f, conn = self._file, self._conn
        self._file = self._conn = None
        if f is not None and f is not True:
            with contextlib.suppress(OSError):
                f.close()  # closing the file releases the flock
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PG_LOCK_KEY})
                conn.commit()
            with contextlib.suppress(Exception):
                conn.close()


# ---- the pool ------------------------------------------------------------------------------------

class _ProcessSlot:
    """A local worker process and the parent's end of its pipe (reused for many runs). It
    takes no run until it has said it is ready (its imports done, :func:`~.runproc.worker_main`),
    so a run's clock (the time limit, ``started``) starts when the run can start."""

    def __init__(self, process: Any, conn: Connection):
        self.process, self.conn = process, conn
        self.ready = False

    @property
    def where(self) -> str:
        return f"process {self.process.pid}"

    def reusable(self) -> bool:
        return self.process.is_alive()

    def warm(self) -> bool:
        """True once the process has said it is ready (read from its pipe here)."""
        if not self.ready:
            try:
                while not self.ready and self.conn.poll():
                    self.ready = self.conn.recv() == READY
            except (EOFError, OSError):
                return False
        return self.ready

    def start(self, run_id: int, attempt: int, job: tuple) -> None:
        self.conn.send(job)

    def messages(self):
        """What the process sent since the last call (progress, then at most one outcome)."""
        try:
            while self.conn.poll():
                msg = self.conn.recv()
                yield msg
                if msg[0] != "progress":
                    return
        except (EOFError, OSError):
            return

    def died(self) -> str | None:
        if self.process.is_alive():
            return None
        return f"the run process exited unexpectedly (exit code {self.process.exitcode})"

    def finished(self) -> None:
        """The run's outcome was read; the process waits for the next run."""

    def retire(self) -> None:
        """Ask an idle process to end."""
        with contextlib.suppress(OSError, ValueError):
            self.conn.send(None)
        self.process.join(timeout=2)

    def kill(self) -> None:
        p = self.process
        if p.is_alive():
            p.terminate()
            p.join(timeout=5)
            if p.is_alive():  # pragma: no cover - terminate ignored
                p.kill()
                p.join(timeout=5)
        with contextlib.suppress(OSError):
            self.conn.close()


class _ClusterSlot:
    """A lane for one run at a time on the Dask cluster (see :mod:`.cluster`)."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.run: ClusterRun | None = None

    @property
    def where(self) -> str:
        return f"Dask task {self.run.key}" if self.run else "the Dask cluster"

    def reusable(self) -> bool:
        return True

    def warm(self) -> bool:
        return True

    def start(self, run_id: int, attempt: int, job: tuple) -> None:
        self.run = self.cluster.submit(run_id, attempt, job)

    def messages(self):
        return self.run.messages() if self.run is not None else []

    def died(self) -> str | None:
        return None  # a worker's death is reported by the task's future (messages)

    def finished(self) -> None:
        if self.run is not None:
            self.cluster.forget(self.run)
        self.run = None

    def retire(self) -> None:
        """Nothing to end: the cluster's workers are not the server's."""

    def kill(self) -> None:
        if self.run is not None:
            self.cluster.stop(self.run)
        self.run = None


@dataclass
class _Worker:
    """A slot where runs execute; ``run_id`` is its current run."""

    slot: _ProcessSlot | _ClusterSlot
    run_id: int | None = None
    attempt: int = 0  # the claim's token: the run's ``attempts`` after this pool claimed it
    served: int = 0
    started: float = 0.0
    progress: tuple[float, str] | None = None
    written: float = 0.0
    partial: dict | None = None  # the run's estimates so far, as its kind last sent them

    @property
    def process(self) -> Any:
        """The local worker process (a local slot only)."""
        return self.slot.process  # type: ignore[union-attr]


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
        self._waker = Waker()
        self._ticked = 0.0  # time.monotonic() of the last full tick
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lock = PoolLock(db)
        self._lock_tried = 0.0
        self.cluster: Cluster | None = None
        self._connect_tried = 0.0

    # ---- lifecycle ----
    def start(self) -> None:
        """Start the monitor; runs left ``running`` are recovered once the pool holds the
        run-pool lock (at once, unless another live server holds it)."""
        if not self._take_lock():
            log.warning("another server's run pool is active on this database: this pool "
                        "waits for its lock and claims no run until then")
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="salesplan-runs", daemon=True)
        self._thread.start()

    def stop(self, requeue: bool = True) -> None:
        """Stop the monitor and the worker processes. ``requeue``: put interrupted runs back
        in the queue (a graceful stop); otherwise leave them ``running``, as a crash would."""
        self._stop.set()
        self._waker.wake()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        try:
            self._stop_workers(requeue)
            if self.cluster is not None:
                self.cluster.close()  # cancelled runs end (or their workers restart) first
                self.cluster = None
        finally:
            self.lock.release()

    def _stop_workers(self, requeue: bool) -> None:
        for w in list(self._workers):
            run_id, attempt = w.run_id, w.attempt
            if run_id is None:
                w.slot.retire()
            self._kill(w)
            if requeue and run_id is not None:
                self._requeue(run_id, attempt, "the server stopped")
        self._workers.clear()

    def _requeue(self, run_id: int, attempt: int, why: str, bounded: bool = False) -> None:
        """Put a run this pool owns as ``attempt`` back in the queue, saying why. ``bounded``
        (an interruption that may come back, such as a lost scheduler connection): a run
        already started ``max_attempts`` times is failed instead, saying why, as a run
        interrupted by crashes is (:func:`recover_interrupted`)."""
        limit = self.settings.max_attempts
        if bounded and attempt >= limit:
            values: dict[str, Any] = {
                "status": "failed", "finished": utcnow(), "message": f"failed: {why}",
                "error": f"{why}; interrupted {attempt} time(s), not retried "
                         f"(max_attempts={limit})"}
        else:
            values = {"status": "queued", "message": f"re-queued: {why}"}
        with self.db.session() as s:
            changed = s.execute(update(Run).where(*_owned(run_id, attempt))
                                .values(**values)).rowcount
        if changed:
            log.warning("run %d attempt %d %s: %s", run_id, attempt, values["status"], why)

    def wake(self) -> None:
        """Look at the queue now (a run was submitted or cancelled)."""
        self._waker.wake()

    @property
    def active(self) -> list[int]:
        """Ids of the runs executing now."""
        return sorted(w.run_id for w in self._workers if w.run_id is not None)

    def partial(self, run_id: int) -> dict | None:
        """The estimates so far of a run executing now, as its kind last reported them (e.g. a
        what-if's P(hit) per variant after each round of replications); None for a run that is
        not executing here or whose kind reports none. Kept in memory only: the finished run's
        result replaces it."""
        for w in list(self._workers):
            if w.run_id == run_id:
                return w.partial
        return None

    # ---- the monitor ----
    def _loop(self) -> None:
        woken: list[_Worker] = []
        while not self._stop.is_set():
            try:
                if woken and time.monotonic() - self._ticked < self.settings.poll_interval:
                    self._answer(woken)
                else:
                    self._ticked = time.monotonic()
                    self._tick()
            except Exception:
                log.exception("run pool tick failed")
                time.sleep(1.0)
            woken = self._wait()

    def _wait(self) -> list[_Worker]:
        """Sleep until ``poll_interval`` has passed, :meth:`wake` is called, or a local worker
        has sent something (progress, estimates, its outcome, its ``ready``, or its pipe's end
        when it died): a worker's message is read as it arrives, not on the next tick. Returns
        the workers that sent something ([] for a timeout or a wake)."""
        slots = {w.slot.conn: w for w in self._workers if isinstance(w.slot, _ProcessSlot)}
        ready = connection_wait([self._waker.reader, *slots], self.settings.poll_interval)
        if self._waker.reader in ready:
            self._waker.clear()
            return []
        return [slots[c] for c in ready if c in slots]

    def _answer(self, woken: list[_Worker]) -> None:
        """Between full ticks: read the runs' messages of the workers that sent some. A message
        from an idle worker (its ``ready``, or its death) waits for the next full tick, which
        hands out runs and drops dead workers."""
        if any(w.run_id is None for w in woken):
            self._ticked = time.monotonic()
            self._tick()
            return
        for w in woken:
            if w in self._workers and w.run_id is not None:
                self._poll(w)

    def _take_lock(self) -> bool:
        """Hold the run-pool lock (trying at most every :data:`LOCK_RETRY` s); on taking it,
        recover the runs a dead holder left ``running``."""
        if self.lock.held:
            if self.lock.still_held():
                return True
            log.error("lost the run-pool lock: stopping this pool's runs (another server may "
                      "take them over)")
            self._stop_workers(requeue=False)
            return False
        now = time.monotonic()
        if self._lock_tried and now - self._lock_tried < LOCK_RETRY:
            return False
        self._lock_tried = now
        if not self.lock.acquire():
            return False
        recover_interrupted(self.db, self.settings.max_attempts)
        return True

    def _connect(self) -> bool:
        """With a Dask scheduler configured: be connected to it (trying at most every
        :data:`CONNECT_RETRY` s; runs stay queued meanwhile). True without one."""
        address = self.settings.dask_scheduler
        if address is None or self.cluster is not None:
            return True
        now = time.monotonic()
        if self._connect_tried and now - self._connect_tried < CONNECT_RETRY:
            return False
        self._connect_tried = now
        try:
            self.cluster = Cluster(address, scope_of(self.settings.resolved_database_url),
                                   stop_grace=self.settings.dask_stop_grace)
        except ClusterError as exc:
            log.error("%s; runs stay queued, retrying in %g s", exc, CONNECT_RETRY)
            return False
        log.info("runs execute on the %s", self.cluster.describe())
        return True

    def _tick(self) -> None:
        if not self._take_lock() or not self._connect():
            return
        for w in list(self._workers):
            if w.run_id is not None:
                self._poll(w)
            elif not w.slot.reusable():
                self._drop(w)
        if self.cluster is not None and not self._cluster_usable():
            return
        if self.cluster is not None:
            self.cluster.reap()
        self._check_cancelled()
        while not self._stop.is_set():
            worker = self._idle_worker()
            if worker is None or not self._launch_next(worker):
                break

    def _cluster_usable(self) -> bool:
        """With a Dask cluster: True if connected. While the client reconnects, no run is
        started (they stay queued); once it gave up, this pool re-queues the runs it had on
        the cluster, drops the client and connects again (:meth:`_connect`, every
        :data:`CONNECT_RETRY` s), so that a scheduler that comes back takes the queue up."""
        assert self.cluster is not None
        state = self.cluster.connection()
        if state == "running":
            return True
        if state == "reconnecting":
            return False
        why = self.cluster.lost_connection_message()
        log.error("%s; reconnecting every %g s, runs stay queued meanwhile", why, CONNECT_RETRY)
        for w in list(self._workers):
            if w.run_id is not None:
                self._requeue(w.run_id, w.attempt, why, bounded=True)
            w.run_id = None
            self._drop(w)
        cluster, self.cluster = self.cluster, None
        with contextlib.suppress(Exception):
            cluster.client.close()
        self._connect_tried = time.monotonic()
        return False

    def _idle_worker(self) -> _Worker | None:
        """A worker ready for a run, if any; otherwise one more is started while fewer than
        ``run_workers`` exist (a local process takes runs once it says it is ready, on a
        later tick)."""
        for w in self._workers:
            if w.run_id is None and w.slot.reusable() and w.slot.warm():
                return w
        if len(self._workers) >= self.settings.run_workers:
            return None
        if self.cluster is not None:
            w = _Worker(_ClusterSlot(self.cluster))
            self._workers.append(w)
            return w
        parent, child = self._ctx.Pipe(duplex=True)
        process = RunWorkerProcess(target=worker_main, daemon=True,
                                   args=(child, self.settings.run_memory_mb, os.getpid(),
                                         self.settings.resolved_run_processes),
                                   name="salesplan-run-worker")
        process.start()
        child.close()
        self._workers.append(_Worker(_ProcessSlot(process, parent)))
        return None

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
            worker.slot.start(run_id, attempt, (kind.run, document, tables, options))
        except Exception as exc:  # a broken pipe, a cluster that refuses the task
            self._drop(worker)
            self._finish(run_id, attempt, "failed", f"could not start the run: {exc}")
            return True
        worker.run_id, worker.attempt, worker.started = run_id, attempt, time.monotonic()
        worker.progress, worker.written, worker.partial = None, 0.0, None
        log.info("run %d (%s) started in %s", run_id, kind_name, worker.slot.where)
        return True

    def _poll(self, w: _Worker) -> None:
        run_id, attempt = w.run_id, w.attempt
        assert run_id is not None
        outcome = None
        for msg in w.slot.messages():
            if msg[0] == "progress":
                w.progress = (msg[1], msg[2])
                if len(msg) > 3 and msg[3] is not None:
                    w.partial = msg[3]
            else:
                outcome = msg
                break
        if outcome is not None:
            w.run_id = None
            w.served += 1
            w.slot.finished()
            if outcome[0] == "done":
                self._finish(run_id, attempt, "succeeded", None, outcome[1])
            elif outcome[0] == "requeue":  # lost with the cluster connection: not its fault
                self._requeue(run_id, attempt, outcome[1], bounded=True)
            else:
                self._finish(run_id, attempt, "failed", outcome[1])
            if w.served >= MAX_RUNS_PER_WORKER:  # recycle: bounded memory growth
                w.slot.retire()
                self._drop(w)
            return
        died = w.slot.died()
        if died is not None:
            self._drop(w)
            self._finish(run_id, attempt, "failed", died)
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
        w.slot.kill()

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
            for name, content in payload.get("files", {}).items():  # the CLI's output files
                s.add(ResultFile(run_id=run_id, kind="file", name=name, content=content))
        log.info("run %d %s%s", run_id, status, f": {error}" if error else "")
