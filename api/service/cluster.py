"""Runs on a Dask ``distributed`` cluster (``SALESPLAN_DASK_SCHEDULER=tcp://host:8786``).

The server keeps the database and the queue; the run pool's monitor
(:mod:`salesplan.api.service.worker`) claims runs as always, then hands each one to the cluster
as one task, :func:`run_on_cluster`, instead of a local worker process. On a Dask worker that
task loads the scenario and calls the kind, exactly as a local run process does
(:func:`~salesplan.api.service.runproc.execute`), with one difference: the kind's replications go
back to the cluster as tasks (:func:`salesplan.api.executors.run_replications` returns the
worker's client executor, split for every worker thread of the cluster). The run task secedes
from its worker's thread pool while it waits (``worker_client``), so it never holds a thread that
its own replications need. Results are bit-identical to the local pool's: replication ``i``
draws from the same random streams wherever it runs and outputs are put back in replication
order before any reduction.

What the server sees of a run on the cluster (:class:`ClusterRun`), all on one event topic
(:data:`TOPIC`, ``Worker.log_event`` -> ``Client.subscribe_topic``): ``started`` (and on which
worker), ``waiting`` (an earlier attempt of the run is still stopping), ``progress``, ``ended``;
the outcome is the task's result.

Guarantees, as with local processes:

- *Cancel* cancels the run's Dask future. The run task watches its own task state on its worker
  (every :data:`WATCH` s); once cancelled (by ``DELETE``, the time limit, the server's stop, or
  the server's death: the scheduler releases the futures of a client that is gone) it cancels its
  replication chunks that have not finished and ends at its next progress report. A run that does
  not end within ``dask_stop_grace`` seconds (an alignment inside its solver) has its worker
  restarted by the server (:meth:`Cluster.reap`); Dask re-runs elsewhere whatever else that
  worker held.
- *One execution at a time*: the run task holds a Dask ``Lock`` named after the database and the
  run while it executes; a later attempt of the same run (after a restart of the server) waits
  for an earlier one that is still stopping. Results are written under the attempt fence of the
  pool, as for local runs.
- *A worker that dies* takes its run task with it; the scheduler starts the task again on
  another worker (its message says so) and gives up after ``distributed.scheduler.
  allowed-failures`` deaths: the run then fails with a message saying that the Dask workers
  running it died.
- *The server's shutdown* cancels every run it started on the cluster, waits up to
  ``dask_stop_grace`` seconds for them to end, restarts the workers of those that did not, and
  re-queues the runs.

Dask is imported only here and only when a scheduler is configured (the ``dask`` extra).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import time
from typing import Any

from salesplan.scenarios.errors import SalesplanError

from ..executors import Replications, RunStoppedError, StoppableExecutor, replications_on
from .runproc import execute

__all__ = ["TOPIC", "Cluster", "ClusterError", "ClusterRun", "check_scheduler", "run_on_cluster"]

log = logging.getLogger("salesplan.service")

TOPIC = "salesplan-runs"
"""The Dask event topic of the run tasks' reports (``started``, ``waiting``, ``progress``,
``ended``), each a dict with the ``job`` (the task's key)."""
WATCH = 0.2  # seconds between a run task's looks at its own state (cancelled?)
LOCK_WAIT = 0.5  # seconds per attempt of a run task to take its run's lock
CONNECT_TIMEOUT = 10.0  # seconds to reach the scheduler
LOOK_TIMEOUT = 10.0  # seconds for the workers to list their tasks (earlier attempts of a run)


class ClusterError(SalesplanError):
    """The Dask scheduler cannot be reached (or the ``dask`` extra is missing)."""


def scope_of(database_url: str) -> str:
    """A short, stable name of a database (a hash: the URL may hold a password), so that two
    services sharing a cluster never mix up their run ids."""
    return hashlib.sha256(database_url.encode("utf-8")).hexdigest()[:12]


# ---- on a Dask worker -----------------------------------------------------------------------

def _task_cancelled(worker: Any, key: str) -> bool:
    """True once the scheduler no longer wants this task (its future was cancelled or its
    client is gone): the worker moves an executing task it was told to forget to
    ``cancelled``."""
    ts = worker.state.tasks.get(key)
    return ts is None or ts.state in ("cancelled", "released", "forgotten")


def run_on_cluster(job: str, lock_name: str, run: Any, document: dict, tables: dict[str, str],
                   options: dict) -> tuple:
    """The Dask task of one run attempt (its key is ``job``): load the scenario, run the kind
    with its replications on the cluster, and return ``("done", payload)`` or
    ``("error", message)`` as a local run process sends them."""
    from distributed import Lock, get_worker, worker_client

    worker = get_worker()

    def report(event: str, **fields: Any) -> None:
        worker.log_event(TOPIC, {"job": job, "event": event, "worker": worker.address,
                                 "pid": os.getpid(), **fields})

    report("started")
    outcome: list[tuple] = []
    try:
        with worker_client() as client:
            lock = Lock(lock_name)
            waited = False
            while not lock.acquire(timeout=LOCK_WAIT):
                if _task_cancelled(worker, job):
                    return ("error", "stopped before it started")
                if not waited:
                    report("waiting")
                    waited = True
            try:
                outcome = _execute_here(job, worker, client, run, document, tables, options,
                                        report)
            finally:
                lock.release()
    finally:
        report("ended")
    return outcome[0] if outcome else ("error", "the run task ended without an outcome")


def _execute_here(job: str, worker: Any, client: Any, run: Any, document: dict,
                  tables: dict[str, str], options: dict, report: Any) -> list[tuple]:
    """Run the kind under a :class:`StoppableExecutor` over the cluster, stopped by a watching
    thread as soon as this task is cancelled."""
    executor = StoppableExecutor(client.get_executor(pure=False))
    threads = max(1, sum(client.nthreads().values()))
    finished = threading.Event()

    def watch() -> None:
        while not finished.wait(WATCH):
            if _task_cancelled(worker, job):
                executor.stop("the run was cancelled on the cluster (cancelled, past its time "
                              "limit, or its server stopped)")
                return

    watcher = threading.Thread(target=watch, name=f"salesplan-watch-{job}", daemon=True)
    watcher.start()
    outcome: list[tuple] = []

    def send(message: tuple) -> None:
        if message[0] == "progress":
            if executor.stopped:
                raise RunStoppedError(executor.stopped)
            report("progress", fraction=message[1], message=message[2],
                   partial=message[3] if len(message) > 3 else None)
        else:
            outcome.append(message)

    try:
        with replications_on(Replications(executor, threads)):
            execute(run, document, tables, options, send)
    finally:
        finished.set()
    return outcome


# ---- in the server --------------------------------------------------------------------------

def _client(address: str, connect_timeout: float) -> Any:
    """A ``distributed.Client`` of the scheduler at ``address``, or :class:`ClusterError`."""
    from salesplan.api.extras import MissingExtraError, require

    try:
        require("dask", "SALESPLAN_DASK_SCHEDULER (runs on a Dask cluster)")
    except MissingExtraError as exc:
        raise ClusterError(str(exc)) from None
    from distributed import Client

    try:
        return Client(address, timeout=f"{connect_timeout}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(
            f"cannot reach the Dask scheduler at {address} ({exc}); start one with `dask "
            f"scheduler` and workers with `dask worker {address}`, or unset "
            "SALESPLAN_DASK_SCHEDULER to run on local processes") from exc


def _describe(client: Any, address: str) -> str:
    workers = client.scheduler_info().get("workers", {})
    threads = sum(int(w.get("nthreads", 0)) for w in workers.values())
    return f"Dask cluster {address} ({len(workers)} workers, {threads} threads)"


def check_scheduler(address: str, connect_timeout: float | None = None) -> str:
    """Connect to the scheduler once and describe the cluster (``salesplan serve`` says where
    runs go before it starts); :class:`ClusterError` if it cannot be reached."""
    client = _client(address, connect_timeout or CONNECT_TIMEOUT)
    try:
        return _describe(client, address)
    finally:
        client.close()


class Cluster:
    """The server's connection to a Dask scheduler: submits run tasks, collects their reports,
    and stops those it cancelled (see the module documentation)."""

    def __init__(self, address: str, scope: str, stop_grace: float = 10.0,
                 connect_timeout: float | None = None):
        self.address, self.scope, self.stop_grace = address, scope, stop_grace
        self.client = _client(address, connect_timeout or CONNECT_TIMEOUT)
        self._lock = threading.Lock()
        self._events: dict[str, list[dict]] = {}
        self._live: set[str] = set()  # jobs whose reports the run pool still reads
        self._hosts: dict[str, str] = {}  # job -> worker address, while its task executes
        self._stopping: dict[str, float] = {}  # job -> when the server cancelled it
        self._waiting: dict[str, float] = {}  # job -> when it first reported "waiting"
        self.client.subscribe_topic(TOPIC, self._on_event)

    @property
    def prefix(self) -> str:
        return f"salesplan-run-{self.scope}-"

    def describe(self) -> str:
        return _describe(self.client, self.address)

    def connection(self) -> str:
        """``"running"`` (connected), ``"reconnecting"`` (the connection to the scheduler broke
        and the client is trying again, for up to its connect timeout), or ``"closed"`` (it gave
        up, or was closed)."""
        status = str(getattr(self.client, "status", "closed"))
        if status == "running":
            return "running"
        if status in ("connecting", "newly-created"):
            return "reconnecting"
        return "closed"

    def lost_connection_message(self) -> str:
        """Why a run on the cluster was interrupted when the scheduler connection broke."""
        return (f"the connection to the Dask scheduler at {self.address} was lost while the "
                "run was on the cluster (the scheduler stopped, restarted or is unreachable)")

    def _on_event(self, event: tuple) -> None:
        """Subscription handler (the client's event loop thread)."""
        _, msg = event
        job = msg.get("job") if isinstance(msg, dict) else None
        if not isinstance(job, str) or not job.startswith(self.prefix):
            return
        with self._lock:
            event = msg.get("event")
            if event == "started":
                self._hosts[job] = str(msg.get("worker"))
            elif event == "ended":
                self._hosts.pop(job, None)
                self._waiting.pop(job, None)
            elif event == "waiting" and job in self._live:
                self._waiting.setdefault(job, time.monotonic())
            elif event == "progress":
                self._waiting.pop(job, None)  # it holds its run's lock now
            if job in self._live:
                self._events.setdefault(job, []).append(msg)

    def take(self, job: str) -> list[dict]:
        """The reports of ``job`` received since the last call."""
        with self._lock:
            return self._events.pop(job, [])

    def submit(self, run_id: int, attempt: int, job: tuple) -> ClusterRun:
        """Start attempt ``attempt`` of run ``run_id`` (``job``: kind function, document, tables,
        options) as a task on the cluster."""
        key = f"{self.prefix}{run_id}-{attempt}"
        with self._lock:
            self._live.add(key)
        future = self.client.submit(run_on_cluster, key, f"{self.prefix}{run_id}", *job,
                                    key=key, pure=False, retries=0)
        return ClusterRun(self, key, future)

    def stop(self, run: ClusterRun) -> None:
        """Cancel a run's task; :meth:`reap` restarts its worker if it does not end in time."""
        with self._lock:
            self._stopping[run.key] = time.monotonic()
            self._live.discard(run.key)
            self._events.pop(run.key, None)
            self._waiting.pop(run.key, None)
        with contextlib.suppress(Exception):
            run.future.cancel()

    def forget(self, run: ClusterRun) -> None:
        """The run pool has the outcome of ``run``: drop its reports."""
        with self._lock:
            self._live.discard(run.key)
            self._events.pop(run.key, None)
            self._waiting.pop(run.key, None)
            if run.future.status in ("finished", "error"):
                self._hosts.pop(run.key, None)  # over, even if its "ended" report is lost

    def reap(self, grace: float | None = None) -> list[str]:
        """Restart the workers of cancelled run tasks still executing after ``grace`` seconds
        (default ``stop_grace``), and of earlier attempts that a run task has waited for longer
        than that (:meth:`earlier_attempts`); forget those that ended. Returns the workers
        restarted."""
        grace = self.stop_grace if grace is None else grace
        now = time.monotonic()
        late: set[str] = set()
        with self._lock:
            for key, since in list(self._stopping.items()):
                host = self._hosts.get(key)
                if host is None and now - since > WATCH * 5:
                    del self._stopping[key]  # ended (or never started)
                elif host is not None and now - since > grace:
                    late.add(host)
                    del self._stopping[key]
                    self._hosts.pop(key, None)
            blocked = [key for key, since in self._waiting.items() if now - since > grace]
            for key in blocked:
                self._waiting[key] = now  # look again after another grace period
        for key in blocked:
            late.update(self.earlier_attempts(key).values())
        if late:
            log.warning("cancelled runs still executing after %.0f s on Dask workers %s: "
                        "restarting them", grace, ", ".join(sorted(late)))
            try:
                self.client.restart_workers(sorted(late), raise_for_error=False)
            except Exception:
                log.exception("could not restart Dask workers %s", sorted(late))
        return sorted(late)

    def earlier_attempts(self, key: str) -> dict[str, str]:
        """Earlier attempts of the run of task ``key`` still executing on the cluster, as
        ``{task key: worker address}``: an attempt that a server started and could not stop
        itself (the server was killed, or lost its scheduler connection, while the attempt was
        inside a call that does not return, such as an alignment in its solver). It holds the
        run's lock, so the later attempt waits; no server would ever restart its worker."""
        run, _, attempt = key.rpartition("-")
        if not attempt.isdigit():
            return {}
        stem = f"{run}-"

        def busy(dask_worker: Any) -> list[str]:
            return [str(k) for k, ts in dask_worker.state.tasks.items()
                    if str(k).startswith(stem)
                    and ts.state in ("executing", "long-running", "cancelled")]

        try:  # bounded: the monitor thread calls this, and must never hang on a worker
            found = self.client.run(busy, on_error="ignore", callback_timeout=LOOK_TIMEOUT)
        except Exception:
            log.exception("could not look for earlier attempts of %s on the cluster", key)
            return {}
        return {k: host for host, keys in found.items() for k in keys
                if k.rpartition("-")[2].isdigit() and int(k.rpartition("-")[2]) < int(attempt)}

    def _on_workers(self, keys: set[str]) -> list[str]:
        """Those of ``keys`` that a worker of the cluster still executes (or holds cancelled
        while it runs); [] when the workers cannot be asked (the caller is shutting down)."""

        def busy(dask_worker: Any) -> list[str]:
            return [str(k) for k, ts in dask_worker.state.tasks.items()
                    if str(k) in keys and ts.state in ("executing", "long-running", "cancelled")]

        try:
            found = self.client.run(busy, on_error="ignore", callback_timeout=LOOK_TIMEOUT)
        except Exception:
            return []
        return [k for ks in found.values() for k in ks]

    def executing(self) -> list[str]:
        """Keys of this server's run tasks that have started and not ended."""
        with self._lock:
            return sorted(self._hosts)

    def close(self) -> None:
        """Wait up to ``stop_grace`` for cancelled runs to end, restart the workers of those
        that did not, and disconnect."""
        deadline = time.monotonic() + self.stop_grace
        with self._lock:
            stopped = set(self._stopping)
        while time.monotonic() < deadline:
            with self._lock:
                busy = any(k in self._hosts for k in self._stopping)
            if not busy:
                break
            time.sleep(WATCH)
        # a run task reports "ended" just before it returns: wait (within the grace) until its
        # worker has let it go too, so that nothing of this server runs once close() returns
        while stopped and time.monotonic() < deadline and self._on_workers(stopped):
            time.sleep(WATCH / 4)
        self.reap(grace=0.0)
        with contextlib.suppress(Exception):
            self.client.unsubscribe_topic(TOPIC)
        with contextlib.suppress(Exception):
            self.client.close()


class ClusterRun:
    """One run attempt on the cluster, as the run pool polls it."""

    def __init__(self, cluster: Cluster, key: str, future: Any):
        self.cluster, self.key, self.future = cluster, key, future
        self.starts: list[str] = []
        self.note = ""  # why the run was restarted, added to its later progress messages

    def messages(self) -> list[tuple]:
        """Progress as ``("progress", fraction, message, partial)`` (fraction -1: message only;
        ``partial``: the kind's estimates so far, or None), then
        the outcome, ``("done", payload)`` or ``("error", message)``, once the task is over, or
        ``("requeue", why)`` if it was lost with the connection to the scheduler (not the run's
        fault: the pool puts it back in the queue)."""
        out: list[tuple] = []
        for ev in self.cluster.take(self.key):
            kind = ev.get("event")
            if kind == "started":
                self.starts.append(str(ev.get("worker")))
                if len(self.starts) == 1:
                    out.append(("progress", -1.0, f"running on Dask worker {self.starts[-1]}"))
                else:
                    self.note = (f"restarted on Dask worker {self.starts[-1]}: the worker "
                                 f"running it ({self.starts[-2]}) died")
                    out.append(("progress", -1.0, self.note))
            elif kind == "waiting":
                out.append(("progress", -1.0, "waiting for an earlier attempt of this run to "
                                              "stop on the cluster"))
            elif kind == "progress":
                message = str(ev.get("message", ""))
                out.append(("progress", float(ev.get("fraction", -1.0)),
                            f"{message} ({self.note})" if self.note else message,
                            ev.get("partial")))
        outcome = self._outcome()
        if outcome is not None:
            out.append(outcome)
        return out

    def _outcome(self) -> tuple | None:
        status = self.future.status
        if status == "finished":
            try:
                result = self.future.result(timeout=30)
            except Exception as exc:
                return ("error", f"could not fetch the run's result from the Dask cluster "
                                 f"({type(exc).__name__}: {exc})")
            return tuple(result)
        if status == "error":
            exc = self.future.exception(timeout=30)
            from distributed.scheduler import KilledWorker

            if isinstance(exc, KilledWorker):
                where = ", ".join(self.starts) or "unknown workers"
                return ("error", f"the Dask workers running the run died "
                                 f"{max(len(self.starts), 1)} time(s) ({where}); Dask gave up "
                                 "after distributed.scheduler.allowed-failures: check the "
                                 "workers' logs and memory limits")
            return ("error", f"the run's Dask task failed ({type(exc).__name__}: {exc})")
        if status in ("cancelled", "lost"):
            if self.cluster.connection() != "running":
                return ("requeue", self.cluster.lost_connection_message())
            return ("error", f"the Dask scheduler at {self.cluster.address} dropped the run's "
                             f"task (its future is {status}, while this server is connected: "
                             "the scheduler restarted, or a client cancelled the task)")
        return None
