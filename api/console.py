"""Terminal output shared by CLI commands: one rich console for stdout, one for stderr,
and helpers that render pandas frames and money in the scenario's currency."""

from __future__ import annotations

import math

import pandas as pd
from rich.console import Console
from rich.table import Table

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

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


def frame_table(df: pd.DataFrame, title: str | None = None, formats: dict | None = None) -> Table:
    """A rich table of ``df`` with per-column formatters (callables or format specs)."""
    formats = formats or {}
    table = Table(title=title, title_justify="left", header_style="bold")
    for col in df.columns:
        numeric = pd.api.types.is_numeric_dtype(df[col])
        table.add_column(str(col), justify="right" if numeric else "left")
    for row in df.itertuples(index=False):
        cells = []
        for col, value in zip(df.columns, row, strict=True):
            fmt = formats.get(col)
            if callable(fmt):
                cells.append(fmt(value))
            elif fmt:
                cells.append(format(value, fmt))
            elif isinstance(value, float):
                cells.append(f"{value:,.2f}")
            else:
                cells.append(str(value))
        table.add_row(*cells)
    return table
