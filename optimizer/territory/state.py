"""The typed state passed between the steps of a territory solve.

:class:`SolveTask` is what every step works on (the model's data, the candidate pairs, the
injected solver and the wall-clock deadline); :class:`Outcome` is what a step gives back. The
clock helpers read the deadline the same way everywhere: a solve is started only with at least
a second left (HiGHS's own time limit does not count PuLP's model transfer).

Times are :func:`time.perf_counter` instants in seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .formulation import ModelSpec
from .solver import SolverSpec

__all__ = ["Outcome", "Phases", "SolveTask", "expired", "seconds_left"]


@dataclass(frozen=True)
class Phases:
    """Where a solve is, for a progress display: ``phases(at, message)`` reports ``at`` (0..1,
    within this part of the alignment) and what is being done to ``report`` (``fraction,
    message``), scaled into ``[low, high]``; a no-op without ``report``. Reports only: nothing
    is decided by them."""

    report: Callable[[float, str], None] | None = None
    low: float = 0.0
    high: float = 1.0

    def __call__(self, at: float, message: str) -> None:
        if self.report is not None:
            self.report(self.low + min(max(at, 0.0), 1.0) * (self.high - self.low), message)

    def part(self, low: float, high: float, name: str = "") -> Phases:
        """The sub-range ``[low, high]`` of this one (messages prefixed by ``name``)."""
        if self.report is None:
            return self
        report, span = self.report, self.high - self.low
        prefixed = report if not name else (lambda f, m: report(f, f"{name}: {m}"))
        return Phases(prefixed, self.low + low * span, self.low + high * span)


@dataclass(frozen=True, eq=False)
class SolveTask:
    """One model to solve: ``spec`` (everything but the pairs), the candidate pairs ``pi``
    (account rows) and ``pj`` (rep columns), sorted by account, the ``solver``, and the
    ``deadline`` (a :func:`time.perf_counter` instant, seconds), ``progress`` and the
    ``relaxation`` hook below."""

    spec: ModelSpec
    pi: np.ndarray
    pj: np.ndarray
    solver: SolverSpec
    deadline: float
    progress: Phases = field(default_factory=Phases)
    relaxation: Callable[[float], tuple[np.ndarray | None, float]] | None = None
    """Optional: ``relaxation(share)`` gives the pair values (aligned with ``pi``/``pj``) of
    the LP with every band tightened by ``share`` of its tolerance, or None when that LP did
    not solve, and the seconds it took; without it, fix-and-resolve and re-rounding build
    those LPs with PuLP over the pairs. Column generation (:mod:`.colsolve`) sets it."""
    reround_shares: tuple[float, ...] | None = None
    """Optional: the shares of each tolerance held back in the LPs re-rounded
    (:mod:`.reround`), in this order and no others; None: ``reround.REROUND_SHARES``, grown
    while they pay when ``relaxation`` is set."""

    @property
    def n_accounts(self) -> int:
        return len(self.spec.account_ids)


@dataclass
class Outcome:
    """What a solve step gave.

    ``state``: ``"optimal"`` | ``"feasible"`` | ``"infeasible"`` | ``"none"`` (no plan).
    ``assign``: rep column per account (None without a plan). ``objective`` and ``bound`` in
    the model's units (weighted distance units). ``solver_optimal``: the solver proved the
    plan optimal. ``strategy``: ``"exact"``, ``"fix"`` or a heuristic's name. ``notes``: what
    the step did, for the planner. ``integer_failed``: the LP held the bands but no
    whole-account plan came within the share of the time fix-and-resolve may use (the
    candidates can be widened). ``lp_seconds``: building and solving the LP relaxation.
    ``incumbent``: the plan is the best repaired plan found on the way, returned because the
    time limit ended the search before it had a plan of its own (:mod:`.incumbent`)."""

    state: str
    assign: np.ndarray | None = None
    objective: float | None = None
    bound: float | None = None
    solver_optimal: bool = False
    strategy: str = ""
    notes: list[str] = field(default_factory=list)
    integer_failed: bool = False
    lp_seconds: float = 0.0
    incumbent: bool = False


def seconds_left(deadline: float) -> float:
    """Seconds to ``deadline``, at least 1 (a solver's time limit is never below a second)."""
    return max(1.0, deadline - time.perf_counter())


def expired(deadline: float) -> bool:
    """Less than a second left: starting another solve would overrun the time limit (HiGHS's
    own limit does not count PuLP's model transfer, a minute at a million pairs)."""
    return time.perf_counter() > deadline - 1.0
