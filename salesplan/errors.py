"""The base of every error a user can cause, shared by every layer.

A :class:`SalesplanError` carries a message for the planner, not a traceback: the CLI prints it
and exits with code 2, the HTTP service answers 422 with the same text. Each layer derives its
own (``ScenarioError``, ``AlignmentError``, ``QuotaError``, ``MissingExtraError``...). It lives
here, not in :mod:`salesplan.scenarios`, so that the CLI can catch it without loading pydantic.
"""

from __future__ import annotations

__all__ = ["SalesplanError"]


class SalesplanError(Exception):
    """Base of every user-facing error: the message is for the planner, not a traceback."""
