"""Numbers as people read them, and as CSV files should hold them: the one formatting module of
salesplan, below every layer, so that the engines' reports (which may not import ``api``), the
CLI, the what-if reports and the HTTP service print money, shares and intervals alike.

- :func:`money` ``$2,802,113``; :func:`money_short` ``$2.80M`` where space is short;
- :func:`percent` ``12.3%``; :func:`interval` ``$1.2M to $1.9M``;
- :func:`readable` any value of a report (a nested dict or list included) as one line of text;
- :func:`round_floats` a table's float columns rounded for a CSV: money to cents, everything
  else to 6 decimals, so ``3.469446951953614e-18`` is written ``0.0``.

Imports nothing heavy: ``salesplan --help`` loads it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MONEY_DECIMALS", "SHARE_DECIMALS", "interval", "money", "money_short", "percent",
           "readable", "round_floats"]

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}

MONEY_DECIMALS = 2
"""Money in CSV files: to the cent."""
SHARE_DECIMALS = 6
"""Every other float in CSV files (shares, rates, days, means of counts): 6 decimals."""


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def money(value: float | None, currency: str = "USD", digits: int = 0) -> str:
    """``$1,234,567`` style (ISO code prefix for currencies without a common symbol); ``-``
    for a missing value."""
    if _missing(value):
        return "-"
    sym = _SYMBOLS.get(currency, currency + " ")
    sign = "-" if value < 0 and round(abs(value), digits) else ""
    return f"{sign}{sym}{abs(value):,.{digits}f}"


def money_short(value: float | None, currency: str = "USD") -> str:
    """``$22.71M`` / ``$840.2k`` style for narrow terminal tables."""
    if _missing(value):
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


def percent(value: float | None, digits: int = 1) -> str:
    """A share as ``12.3%``; ``-`` for a missing value."""
    if _missing(value):
        return "-"
    return f"{value:.{digits}%}"


def number(value: Any, digits: int = 3) -> str:
    """A plain number for people: integers with thousands separators, floats to ``digits``
    significant digits (at most), never in exponent notation for everyday sizes."""
    if _missing(value):
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()
                                  and abs(value) < 1e15):
        return f"{int(value):,}"
    v = float(value)
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(v))))
    text = f"{v:.{min(decimals, 8)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def interval(lo: float | None, hi: float | None, fmt: Callable[[Any], str] = number) -> str:
    """An interval as ``lo to hi``, each end formatted by ``fmt``."""
    return f"{fmt(lo)} to {fmt(hi)}"


def readable(value: Any, fmt: Callable[[Any], str] = number) -> str:
    """Any value of a report as one line a person reads: numbers by ``fmt``, a pair of numbers
    as an interval, a list as its items joined by commas, a dict as ``key: value`` pairs joined
    by semicolons (nested values alike), missing values as ``-``."""
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {readable(v, fmt)}" for k, v in value.items()) or "-"
    if isinstance(value, list | tuple):
        if len(value) == 2 and all(isinstance(v, int | float) and not isinstance(v, bool)
                                   for v in value):
            return interval(value[0], value[1], fmt)
        return ", ".join(readable(v, fmt) for v in value) or "-"
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, bool | int | float):
        return fmt(value)
    return str(value)


def round_floats(df: pd.DataFrame, money_columns: Iterable[str] = (),
                 decimals: int = SHARE_DECIMALS) -> pd.DataFrame:
    """A copy of ``df`` whose float columns are rounded for a CSV file: ``money_columns`` to
    cents, the others to ``decimals`` decimals; ``-0.0`` becomes ``0.0``. Integers, text and
    missing values are left as they are."""
    money_set = set(money_columns)
    out = df.copy()
    for col in out.columns:
        if out[col].dtype.kind != "f":
            continue
        places = MONEY_DECIMALS if col in money_set else decimals
        out[col] = out[col].round(places) + 0.0
    return out
