"""The tracking's user errors."""

from __future__ import annotations

from salesplan.errors import SalesplanError

__all__ = ["TrackingError"]


class TrackingError(SalesplanError):
    """Bad tracking input: an as-of date outside the export, targets that do not parse, name
    unknown reps or regions, overlap, or sit at a level the export cannot measure. The CLI
    prints the message and exits with code 2."""
