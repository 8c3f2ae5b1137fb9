"""Terminal output shared by CLI commands: one rich console for stdout, one for stderr,
and helpers that render pandas frames and money in the scenario's currency."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from salesplan.errors import SalesplanError

from ..formatting import money, money_short

if TYPE_CHECKING:
    import pandas as pd

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

__all__ = ["DEFAULT_MAX_REPLICATIONS", "ReplicationCapError", "check_replications", "err",
           "frame_table", "money", "money_short", "out", "phases"]

DEFAULT_MAX_REPLICATIONS = 2_000
"""The CLI's cap on replications per run, the service's default (``SALESPLAN_MAX_REPLICATIONS``):
memory and time grow with replications, and a typo (``-n 1000000000``) should stop at once, not
after gigabytes. ``salesplan --max-replications N COMMAND`` (or the environment variable) raises
it."""


class ReplicationCapError(SalesplanError):
    """More replications than the cap (exit 2)."""


def check_replications(replications: int, option: str = "--replications") -> None:
    """Refuse ``replications`` above the cap set by ``salesplan --max-replications`` (default
    :data:`DEFAULT_MAX_REPLICATIONS`)."""
    try:  # recent typer vendors click as typer._click (its own context stack)
        from typer._click.globals import get_current_context
    except ImportError:  # pragma: no cover - older typer uses click itself
        from click import get_current_context

    ctx = get_current_context(silent=True)
    root = ctx.find_root() if ctx is not None else None
    cap = (root.obj or {}).get("max_replications") if root is not None else None
    cap = cap or DEFAULT_MAX_REPLICATIONS
    if replications > cap:
        raise ReplicationCapError(
            f"{option} {replications:,} is above the cap of {cap:,} replications per run "
            f"(memory and time grow with them); to run more, say so: salesplan "
            f"--max-replications {replications} ...")


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


@contextmanager
def phases(first: str) -> Iterator[Callable[..., None]]:
    """A transient progress display on stderr for a command that runs in phases: yields
    ``update(phase, done=None, total=None)``; with a total, the bar and ``done/total`` show,
    without one the bar pulses. The elapsed time shows throughout; nothing is left on the
    terminal when the command is done."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.fields[count]}"), TimeElapsedColumn(), console=err,
                  transient=True) as progress:
        task = progress.add_task(first, total=None, count="")

        def update(phase: str, done: int | None = None, total: int | None = None) -> None:
            count = f"{done:,}/{total:,}" if done is not None and total else ""
            progress.update(task, description=phase, completed=done or 0, total=total,
                            count=count)

        yield update
