"""The HTTP service: scenarios, runs and results over FastAPI, persisted with SQLAlchemy.

``create_app(settings)`` builds the app (:mod:`salesplan.api.service.app`); runs execute in the run
pool (:mod:`salesplan.api.service.worker`) through the kind registry
(:mod:`salesplan.api.service.kinds`). See ``docs/service.md``. Imports are lazy so that a run
process (which imports :mod:`salesplan.api.service.runproc`) does not load the web stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app
    from .settings import Settings, get_settings

__all__ = ["Settings", "create_app", "get_settings"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    if name in ("Settings", "get_settings"):
        from . import settings

        return getattr(settings, name)
    raise AttributeError(name)
