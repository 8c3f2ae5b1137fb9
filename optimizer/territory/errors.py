"""Errors of the territory optimiser: planner-worded, each carrying the list of reasons.

All derive from :class:`salesplan.scenarios.errors.SalesplanError`, so the CLI prints them and exits
with code 2 (no traceback) and the HTTP service answers 422 with the same text.
"""

from __future__ import annotations

from collections.abc import Sequence

from salesplan.scenarios.errors import SalesplanError

__all__ = ["AlignmentError", "InfeasibleInputError", "InfeasiblePlanError", "NoSolutionError"]


class AlignmentError(SalesplanError):
    """Base of the optimiser's errors. ``reasons`` are the planner-readable lines; ``status`` is
    the honest plan status (always ``"no solution"`` here)."""

    status = "no solution"
    headline = "no territory plan"

    def __init__(self, reasons: Sequence[str], headline: str | None = None):
        self.reasons = list(reasons)
        if headline:
            self.headline = headline
        lines = [self.headline] + [f"  - {r}" for r in self.reasons]
        super().__init__("\n".join(lines))

    def __reduce__(self):  # survive a trip to and from a worker process
        return (type(self), (self.reasons, self.headline))


class InfeasibleInputError(AlignmentError):
    """The input cannot have a plan; found by checks before any solve."""

    headline = "the territory plan is infeasible as specified (found before solving)"


class InfeasiblePlanError(AlignmentError):
    """The solver proved that no plan satisfies every constraint; ``reasons`` say which
    constraint family to relax and how."""

    headline = "the solver proved that no territory plan meets every constraint"


class NoSolutionError(AlignmentError):
    """The solver stopped (time limit) before finding any plan."""

    headline = "no territory plan found within the limits"
