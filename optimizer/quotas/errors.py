"""Domain errors for quota allocation, in a planner's words.

Every error derives from :class:`salesplan.scenarios.SalesplanError`, so the CLI prints the message
and exits with code 2, and the HTTP service answers 422 with the same text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from salesplan.scenarios.errors import SalesplanError

__all__ = [
    "Conflict",
    "InfeasibleQuotaError",
    "PinsError",
    "QuotaError",
    "ReconcileError",
]


class QuotaError(SalesplanError):
    """A quota request cannot be carried out (unknown method, missing input, bad option)."""


@dataclass(frozen=True)
class Conflict:
    """One pin or bound that cannot hold: ``where`` names it (``region East``, ``pin rep R-03``),
    ``message`` says why, ``shortfall`` is by how much (currency; positive)."""

    where: str
    message: str
    shortfall: float = 0.0

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class InfeasibleQuotaError(QuotaError):
    """The pins, bounds and rounding cannot all hold; ``conflicts`` lists each one that breaks,
    ``hints`` what the planner could relax (printed after them)."""

    def __init__(self, conflicts: Sequence[Conflict], hints: Sequence[str] = ()):
        self.conflicts = list(conflicts)
        self.hints = list(hints)
        n = len(self.conflicts)
        lines = [f"the quota plan is infeasible: {n} conflict{'s' if n != 1 else ''}"]
        lines += [f"  {c}" for c in self.conflicts]
        lines += [f"hint: {h}" for h in self.hints]
        super().__init__("\n".join(lines))

    def __reduce__(self):  # survive a trip to and from a worker process
        return (type(self), (self.conflicts, self.hints))


class PinsError(QuotaError):
    """A pins file (or pins list) is invalid; ``problems`` lists every bad row, by line."""

    def __init__(self, problems: Sequence[str], source: str | None = None):
        self.problems = list(problems)
        self._source = source
        head = f"{source}: " if source else ""
        n = len(self.problems)
        lines = [f"{head}{n} problem{'s' if n != 1 else ''} found in pins"]
        lines += [f"  {p}" for p in self.problems]
        super().__init__("\n".join(lines))

    def __reduce__(self):  # survive a trip to and from a worker process
        return (type(self), (self.problems, self._source))


class ReconcileError(QuotaError):
    """A plan does not conserve its totals at some level (a bug, never a user error: report it).
    ``report`` is the full reconcile frame; its failing rows are in the message."""

    def __init__(self, failures: Sequence[str], report: object = None):
        self.failures = list(failures)
        self.report = report
        lines = [f"quota plan does not reconcile at {len(self.failures)} check(s)"]
        lines += [f"  {f}" for f in self.failures[:20]]
        if len(self.failures) > 20:
            lines.append(f"  ... and {len(self.failures) - 20} more")
        super().__init__("\n".join(lines))

    def __reduce__(self):  # survive a trip to and from a worker process
        return (type(self), (self.failures, self.report))
