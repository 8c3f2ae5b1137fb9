"""Replication lanes: the processes a run worker spreads its runs' replications over.

A run worker (:mod:`.runproc`) executes one run at a time. With ``run_processes`` of 1 its
replications run in that process, one after another (:data:`~salesplan.api.executors.IN_PROCESS`).
With more, the worker starts that many *lanes* when it starts, and gives every run a
:class:`Lanes` executor through :func:`~salesplan.api.executors.replications_on`: the engines
send their replication chunks to it (``simulate(executor=...)``), and the chunks run on every
lane at once. Results do not depend on it: replication ``i`` of a seed draws only from its own
random streams and the engines put results back in replication order
(:mod:`salesplan.simulator.runner`), exactly as on a Dask cluster.

A lane is a plain ``python -c`` child of the run worker, not a ``multiprocessing`` process: a
run worker is a daemonic process, which ``multiprocessing`` does not let have children, and a
lane needs no named semaphore, hence no resource tracker. Its command line starts with
:data:`~.spawn.ARM_PROGRAM` (the parent-death signal armed before anything is imported, the
parent being the run worker), so a lane dies with its run worker however that ends (the pool
terminating a cancelled run's worker, the kernel killing the worker after a ``kill -9`` of the
server): no lane outlives its run. A lane then imports the simulator (:data:`WARM`), says it is
ready, and serves tasks from a ``multiprocessing.connection.Connection`` over a socket pair:
``(task id, pickled (fn, args, kwargs))`` in, ``(task id, ok, pickled value or exception)``
out.

One thread of the run worker (the collector) does all the talking: it sends queued tasks to
idle ready lanes (first come, first served) and sets each task's future from the answer. A lane
that dies (the OOM killer, a crash) breaks the executor: every task not answered fails with
:class:`LaneError` saying which lane ended and how, later submissions are refused, and the run
worker starts fresh lanes before its next run.

POSIX only (file descriptors passed to the child); :func:`lanes_supported` says so, and the
settings give a run one process elsewhere.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pickle
import subprocess
import sys
import threading
from collections import deque
from concurrent.futures import Executor, Future, InvalidStateError
from dataclasses import dataclass
from multiprocessing.connection import Connection, Pipe, wait

from .spawn import ARM_PROGRAM

__all__ = ["LANE_PROGRAM", "WARM", "LaneError", "Lanes", "Waker", "lane_main", "lanes_supported"]

WARM = ("salesplan.simulator.runner",)
"""What a lane imports before it says it is ready (the engines' replication chunks)."""

LANE_PROGRAM = ARM_PROGRAM + (
    "from salesplan.api.service.lanes import lane_main\n"
    "lane_main({fd}, {parent})\n")
"""A lane's ``-c`` program (``{parent}``: the run worker's pid; ``{fd}``: its socket)."""

READY = "ready"
SHUTDOWN_GRACE = 2.0  # seconds a lane may take to end once asked, before it is killed


class LaneError(RuntimeError):
    """A replication lane ended unexpectedly (or its answer could not be read)."""


def lanes_supported() -> bool:
    """True where lanes can be started (POSIX: descriptors passed to a child process)."""
    return os.name == "posix"


# ---- the lane process ----------------------------------------------------------------------------

def lane_main(fd: int, parent_pid: int) -> None:
    """Body of a lane: die with ``parent_pid``, take its import path, warm up, then answer
    tasks until ``None`` or end of file."""
    import importlib

    from .runproc import die_with_parent

    die_with_parent(parent_pid)
    conn = Connection(fd)
    try:
        sys.path[:] = conn.recv()  # the run worker's path (test modules, a source checkout)
        for name in WARM:
            importlib.import_module(name)
        conn.send(READY)
        while True:
            task = conn.recv()
            if task is None:
                return
            task_id, blob = task
            conn.send((task_id, *_answer(blob)))
    except (EOFError, OSError):  # the executor closed its end (shut down before we were up)
        return
    finally:
        conn.close()


def _answer(blob: bytes) -> tuple[bool, bytes]:
    """Run one pickled task: ``(True, pickled value)`` or ``(False, pickled exception)``."""
    try:
        fn, args, kwargs = pickle.loads(blob)
        value, ok = fn(*args, **kwargs), True
    except Exception as exc:  # MemoryError included: the run reports it as such
        value, ok = exc, False
    try:
        return ok, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        what = "result" if ok else f"error ({type(value).__name__}: {value})"
        return False, pickle.dumps(LaneError(f"a replication lane could not send its {what}: "
                                             f"{type(exc).__name__}: {exc}"))


# ---- the executor in the run worker --------------------------------------------------------------

@dataclass
class _Lane:
    number: int
    process: subprocess.Popen
    conn: Connection
    ready: bool = False
    task: int | None = None  # the task it is running
    ended: bool = False


class Waker:
    """Makes a thread's ``multiprocessing.connection.wait`` on :attr:`reader` return, from any
    thread (a pipe holding at most one pending message, so :meth:`wake` never blocks)."""

    def __init__(self) -> None:
        self.reader, self._writer = Pipe(duplex=False)
        self._lock = threading.Lock()
        self._pending = False

    def wake(self) -> None:
        with self._lock:
            if not self._pending:
                self._pending = True
                self._writer.send_bytes(b"w")

    def clear(self) -> None:
        with self._lock:
            while self.reader.poll():
                self.reader.recv_bytes()
            self._pending = False

    def close(self) -> None:
        self.reader.close()
        self._writer.close()


class Lanes(Executor):
    """``processes`` lanes of this process (see the module documentation). Create it from the
    thread that lives as long as the lanes (a run worker's main thread): the parent-death
    signal follows the thread that started the child."""

    def __init__(self, processes: int):
        if processes < 1:
            raise ValueError(f"processes must be >= 1, got {processes}")
        if not lanes_supported():
            raise LaneError("replication lanes need a POSIX system")
        self.processes = processes
        self._lock = threading.Lock()
        self._futures: dict[int, Future] = {}
        self._queue: deque[tuple[int, bytes]] = deque()
        self._ids = itertools.count()
        self._broken: str | None = None
        self._closing = False
        self._waker = Waker()
        self._lanes = [self._start(i) for i in range(processes)]
        self._collector = threading.Thread(target=self._collect, name="salesplan-lanes",
                                           daemon=True)
        self._collector.start()

    @staticmethod
    def _start(number: int) -> _Lane:
        ours, theirs = Pipe(duplex=True)  # a socket pair
        fd = theirs.fileno()
        program = LANE_PROGRAM.format(parent=os.getpid(), fd=fd)
        process = subprocess.Popen([sys.executable, "-c", program], pass_fds=(fd,),
                                   stdin=subprocess.DEVNULL)
        theirs.close()
        ours.send(list(sys.path))
        return _Lane(number, process, ours)

    @property
    def broken(self) -> str | None:
        """Why the executor no longer takes tasks (a lane ended), or None."""
        return self._broken

    @property
    def pids(self) -> list[int]:
        """The lanes' process ids."""
        return [lane.process.pid for lane in self._lanes]

    def submit(self, fn, /, *args, **kwargs) -> Future:
        blob = pickle.dumps((fn, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        future: Future = Future()
        with self._lock:
            if self._broken is not None:
                raise LaneError(self._broken)
            if self._closing:
                raise RuntimeError("cannot submit to replication lanes after shutdown")
            task_id = next(self._ids)
            self._futures[task_id] = future
            self._queue.append((task_id, blob))
        self._waker.wake()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop taking tasks; the lanes end once the tasks already submitted are answered
        (``cancel_futures``: those not started are cancelled first). ``wait``: until the
        lanes have ended (each is killed past :data:`SHUTDOWN_GRACE` seconds)."""
        with self._lock:
            self._closing = True
            if cancel_futures:
                for task_id, _ in self._queue:
                    self._futures.pop(task_id).cancel()
                self._queue.clear()
        self._waker.wake()
        if not wait:
            return
        self._collector.join()
        for lane in self._lanes:
            try:
                lane.process.wait(timeout=SHUTDOWN_GRACE)
            except subprocess.TimeoutExpired:
                lane.process.kill()
                lane.process.wait()
        self._waker.close()

    # ---- the collector thread ----
    def _collect(self) -> None:
        while True:
            live = [lane for lane in self._lanes if not lane.ended]
            with self._lock:
                done = self._closing and not self._futures
            if done or not live:
                break
            ready = wait([self._waker.reader, *(lane.conn for lane in live)])
            for lane in live:
                if lane.conn in ready:
                    self._read(lane)
            if self._waker.reader in ready:
                self._waker.clear()
            self._dispatch()
        for lane in self._lanes:
            if not lane.ended:
                with contextlib.suppress(OSError):
                    lane.conn.send(None)
            lane.conn.close()

    def _read(self, lane: _Lane) -> None:
        try:
            message = lane.conn.recv()
        except (EOFError, OSError):
            self._lost(lane)
            return
        if message == READY:
            lane.ready = True
            return
        task_id, ok, blob = message
        lane.task = None
        with self._lock:
            future = self._futures.pop(task_id, None)
        if future is None or future.done():
            return
        try:
            value = pickle.loads(blob)
        except Exception as exc:
            future.set_exception(LaneError(f"could not read a replication lane's answer: "
                                           f"{type(exc).__name__}: {exc}"))
            return
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)

    def _lost(self, lane: _Lane) -> None:
        """A lane ended without being asked: every task not answered fails."""
        lane.ended = True
        try:
            code = lane.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        why = (f"replication lane {lane.number} (process {lane.process.pid}) ended "
               f"unexpectedly (exit code {code})")
        with self._lock:
            if self._broken is None:
                self._broken = why
            failed = list(self._futures.values())
            self._futures.clear()
            self._queue.clear()
        for future in failed:
            with contextlib.suppress(InvalidStateError):  # cancelled meanwhile
                future.set_exception(LaneError(why))

    def _dispatch(self) -> None:
        """Send queued tasks to idle ready lanes (tasks cancelled meanwhile are dropped)."""
        for lane in self._lanes:
            if lane.ended or not lane.ready or lane.task is not None:
                continue
            while True:
                with self._lock:
                    if not self._queue:
                        return
                    task_id, blob = self._queue.popleft()
                    future = self._futures[task_id]
                    if not future.set_running_or_notify_cancel():
                        del self._futures[task_id]
                        continue
                lane.task = task_id
                try:
                    lane.conn.send((task_id, blob))
                except OSError:
                    self._lost(lane)
                break
