"""Terminal output shared by CLI commands: one rich console for stdout, one for stderr,
and helpers that render pandas frames and money in the scenario's currency."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from ..formatting import money, money_short

if TYPE_CHECKING:
    import pandas as pd

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

__all__ = ["err", "frame_table", "money", "money_short", "out"]


def frame_table(df: pd.DataFrame, title: str | None = None, formats: dict | None = None) -> Table:
    """A rich table of ``df`` with per-column formatters (callables or format specs)."""
    formats = formats or {}
    table = Table(title=title, title_justify="left", header_style="bold")
    for col in df.columns:
        numeric = df[col].dtype.kind in "biufc"  # what pandas calls numeric, bools included
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
