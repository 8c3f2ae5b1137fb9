"""Numbers as people and programs read them: money as ``$1,234,567`` in reports and tables,
``$22.71M`` where space is short; plain JSON (no NaN, no numpy). Shared by the CLI, the reports
and the HTTP service."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["jsonable", "money", "money_short"]

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def money(value: float | None, currency: str = "USD", digits: int = 0) -> str:
    """``$1,234,567`` style (ISO code prefix for currencies without a common symbol)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    sym = _SYMBOLS.get(currency, currency + " ")
    sign = "-" if value < 0 else ""
    return f"{sign}{sym}{abs(value):,.{digits}f}"


def money_short(value: float | None, currency: str = "USD") -> str:
    """``$22.71M`` / ``$840.2k`` style for narrow terminal tables."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    sym = _SYMBOLS.get(currency, currency + " ")
    sign = "-" if value < 0 else ""
    v = abs(value)
    if v >= 1e9:
        return f"{sign}{sym}{v / 1e9:.2f}B"
    if v >= 1e6:
        return f"{sign}{sym}{v / 1e6:.2f}M"
    if v >= 1e3:
        return f"{sign}{sym}{v / 1e3:.1f}k"
    return f"{sign}{sym}{v:.0f}"


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
