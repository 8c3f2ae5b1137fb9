"""The calibration's domain error (the CLI and the API report it as a user error)."""

from __future__ import annotations

from salesplan.scenarios.errors import SalesplanError

__all__ = ["CalibrationError"]


class CalibrationError(SalesplanError):
    """The history cannot support a calibration (too few deals, no dates...)."""
