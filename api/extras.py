"""Optional dependencies: which extra of ``salesplan`` provides what, and a clear answer when one
is missing.

``pip install salesplan`` brings the engines and the CLI. Charts need the ``plots`` extra, the
HTTP service the ``service`` extra, cluster sweeps the ``dask`` extra (``all`` brings every one).
A command that cannot run without its extra raises :class:`MissingExtraError` (the CLI exits with
code 2 and the message, never a traceback); a command whose charts are only part of its output
writes everything else and says which files it did not draw (:func:`charts_skipped`).
"""

from __future__ import annotations

import importlib

from salesplan.errors import SalesplanError

__all__ = ["EXTRAS", "MissingExtraError", "charts_skipped", "have", "require"]

EXTRAS: dict[str, tuple[str, ...]] = {
    "plots": ("matplotlib",),
    "service": ("fastapi", "uvicorn", "sqlalchemy"),
    "dask": ("distributed",),
}
"""Extra name -> the modules whose import tells that it is installed (import names; the service
extra's python-multipart is checked by FastAPI itself when a form is parsed)."""


class MissingExtraError(SalesplanError):
    """A command needs an optional dependency that is not installed."""


def missing(extra: str) -> list[str]:
    """The modules of ``extra`` that cannot be imported here."""
    absent = []
    for module in EXTRAS[extra]:
        try:
            importlib.import_module(module)
        except ImportError:
            absent.append(module)
    return absent


def have(extra: str) -> bool:
    """True when every module of ``extra`` imports."""
    return not missing(extra)


def require(extra: str, feature: str) -> None:
    """Raise :class:`MissingExtraError` naming the extra to install when ``feature`` cannot run."""
    absent = missing(extra)
    if absent:
        raise MissingExtraError(
            f"{feature} needs the '{extra}' extra, which is not installed (missing: "
            f"{', '.join(absent)}); install it with: pip install 'salesplan[{extra}]'")


def charts_skipped(files: list[str]) -> str:
    """The line a command prints when it wrote its tables but could not draw ``files``."""
    return (f"charts not drawn ({', '.join(files)}): matplotlib is not installed; "
            "install it with: pip install 'salesplan[plots]'")
