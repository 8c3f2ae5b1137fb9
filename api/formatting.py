"""Numbers as people and programs read them: money as ``$1,234,567`` in reports and tables,
``$22.71M`` where space is short; plain JSON (no NaN, no numpy). Shared by the CLI, the reports
and the HTTP service; the formatting itself lives in :mod:`salesplan.numbers`, below every layer,
so the engines' reports use it too."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from salesplan.numbers import interval, money, money_short, percent, readable, round_floats

__all__ = ["interval", "jsonable", "money", "money_short", "percent", "readable", "round_floats"]


def jsonable(value: Any) -> Any:
    """Plain JSON: NaN and infinities become null, numpy scalars and arrays plain numbers."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [jsonable(v) for v in items]
    if hasattr(value, "tolist"):  # numpy scalar or array
        return jsonable(value.tolist())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
