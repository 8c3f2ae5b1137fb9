"""The calibration's errors: :class:`CalibrationError`, the history cannot support a
calibration (the CLI and the API report it as a user error), and :class:`CalibrationBugError`, the
calibration produced an estimate its own scenario schema rejects (a bug: exit 1)."""

from __future__ import annotations

from salesplan.scenarios.errors import SalesplanError

__all__ = ["CalibrationBugError", "CalibrationError"]


class CalibrationError(SalesplanError):
    """The history cannot support a calibration (too few deals, no dates...)."""


class CalibrationBugError(RuntimeError):
    """A calibrated estimate that the scenario schema rejects after every clip the calibration
    knows: a calibration bug, never the user's data (the message names the estimate)."""
