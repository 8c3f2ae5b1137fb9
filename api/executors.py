"""Where a run's replications go: the seam between the application layer and an executor.

The engines take an optional ``concurrent.futures.Executor`` for their replications
(:func:`salesplan.simulator.simulate`); they never know whether it is local processes or a Dask
cluster. The HTTP service's run kinds do not take one as an argument (their signature is
``(scenario, options, progress)``): they ask :func:`run_replications` for the executor of the
run they are part of, which whoever executes the run set with :func:`replications_on`:

- a run process of the local pool sets nothing: the default, :data:`IN_PROCESS`, simulates in
  that process (``workers=1``), as before;
- a run on a Dask cluster (:mod:`salesplan.api.service.cluster`) sets the cluster's executor and
  the number of worker threads, so the replications fan out over the cluster as tasks.

The value lives in a :class:`contextvars.ContextVar`: it belongs to the thread (or task) that
set it and is gone when the ``with`` block ends, so two runs in two threads of one Dask worker
never see each other's executor, and nothing is left behind in the process.

Results do not depend on the executor: replication ``i`` of a seed always draws from the same
random streams and results are put back in replication order before any reduction (see
:mod:`salesplan.simulator.runner`).

:class:`StoppableExecutor` wraps an executor so that a run can be stopped between replication
chunks: :meth:`StoppableExecutor.stop` cancels every chunk not yet finished, and the engine,
waiting on them, gets :class:`RunStoppedError`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import CancelledError, Executor, Future
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

__all__ = ["IN_PROCESS", "Replications", "RunStoppedError", "StoppableExecutor",
           "replications_on", "run_replications"]


@dataclass(frozen=True)
class Replications:
    """Where replications run: ``executor`` (None: in this process) and ``workers``, the
    parallelism the replications are split for (chunks; it never changes a result)."""

    executor: Executor | None = None
    workers: int = 1

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")

    def kwargs(self) -> dict[str, Any]:
        """The keyword arguments of :func:`~salesplan.simulator.simulate` and the planning
        functions: ``workers`` and ``executor``."""
        return {"workers": self.workers, "executor": self.executor}


IN_PROCESS = Replications()
"""The default: every replication in the calling process, one after another."""

_CURRENT: ContextVar[Replications] = ContextVar("salesplan_replications", default=IN_PROCESS)


def run_replications() -> Replications:
    """Where the current run's replications go (:data:`IN_PROCESS` unless set)."""
    return _CURRENT.get()


@contextmanager
def replications_on(replications: Replications) -> Iterator[Replications]:
    """Within the block, :func:`run_replications` returns ``replications`` (this thread or
    task only)."""
    token = _CURRENT.set(replications)
    try:
        yield replications
    finally:
        _CURRENT.reset(token)


class RunStoppedError(CancelledError):
    """The run was stopped (cancelled, past its time limit, or its server is gone)."""


class StoppableExecutor(Executor):
    """An executor that forwards to ``inner`` until :meth:`stop`; then every chunk not yet
    finished is cancelled (waiting on it raises :class:`RunStoppedError`) and new submissions are
    refused with :class:`RunStoppedError`. ``inner`` is not shut down."""

    def __init__(self, inner: Executor):
        self._inner = inner
        self._lock = threading.Lock()
        self._pending: set[Future] = set()
        self._reason: str | None = None

    @property
    def stopped(self) -> str | None:
        """Why the executor was stopped, or None."""
        return self._reason

    def submit(self, fn, /, *args, **kwargs) -> Future:
        with self._lock:
            if self._reason is not None:
                raise RunStoppedError(self._reason)
            inner = self._inner.submit(fn, *args, **kwargs)
            self._pending.add(inner)
        outer: Future = Future()

        def relay(done: Future) -> None:
            with self._lock:
                self._pending.discard(done)
                reason = self._reason
            if outer.done():
                return
            if reason is not None or done.cancelled():
                outer.set_exception(RunStoppedError(reason or "a replication chunk was cancelled"))
            elif done.exception() is not None:
                outer.set_exception(done.exception())
            else:
                outer.set_result(done.result())

        inner.add_done_callback(relay)
        return outer

    def stop(self, reason: str) -> None:
        """Cancel every chunk not finished; later submissions raise :class:`RunStoppedError`."""
        with self._lock:
            if self._reason is not None:
                return
            self._reason = reason
            pending = list(self._pending)
        for fut in pending:
            fut.cancel()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Nothing to release: the inner executor belongs to the caller."""
