"""Pins: a planner fixes a region's target, a rep's quota or one cell; the rest absorbs.

A pins CSV has a header and one pin per row::

    level,id,product,segment,period,value
    region,East,,,,5200000
    rep,R-07,,,,450000
    cell,R-07,suite,Enterprise,2027-03,60000

``level`` is ``region``, ``rep`` or ``cell``; ``id`` the region or rep id; ``product``,
``segment`` and ``period`` name the cell (only for cells; a dimension the plan does not split by is
left empty); ``value`` is currency (a region pin fixes the region *target*: its reps then carry
``value x over-assignment``). Values are rounded to the currency unit. Bad rows are reported by
line (the header is line 1), all at once.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .errors import PinsError

if TYPE_CHECKING:
    from salesplan.scenarios.model import Scenario

__all__ = [
    "LEVELS",
    "Pin",
    "as_pins",
    "check_pins",
    "parse_pins",
    "pinned_values",
    "pins_by_level",
    "read_pins",
]

LEVELS = ("region", "rep", "cell")
_COLUMNS = ("level", "id", "product", "segment", "period", "value")


@dataclass(frozen=True)
class Pin:
    """One fixed number. ``line`` is the source line (None when built in code)."""

    level: str
    id: str
    value: float
    product: str | None = None
    segment: str | None = None
    period: str | None = None
    line: int | None = None
    source: str | None = None

    @property
    def key(self) -> tuple:
        if self.level == "cell":
            return (self.level, self.id, self.product, self.segment, self.period)
        return (self.level, self.id)

    def where(self) -> str:
        """``pin rep R-07 (pins.csv line 3)``: how a message names this pin."""
        what = f"pin {self.level} {self.id}"
        if self.level == "cell":
            dims = "/".join(d or "all" for d in (self.product, self.segment, self.period))
            what += f" {dims}"
        if self.line is not None:
            what += f" ({self.source or 'pins'} line {self.line})"
        return what


def _clean(v: object) -> str | None:
    if v is None:
        return None
    s = str(v).strip()
    return s or None


def _parse_value(raw: str | None) -> tuple[float, str | None]:
    """A pin's value (currency) from its text (``1,200,000`` and ``1_200_000`` allowed), and
    what is wrong with it (None: nothing)."""
    if raw is None:
        return math.nan, "value is required"
    try:
        value = float(raw.replace(",", "").replace("_", ""))
    except ValueError:
        return math.nan, f"value must be a number, got {raw!r}"
    if not math.isfinite(value) or value < 0:
        return value, f"value must be a number >= 0, got {raw}"
    return value, None


def _check_row(level: str, rid: str | None, raw: str | None,
               dims: Mapping[str, str | None]) -> tuple[float, list[str]]:
    """One row's value and everything wrong with it (cleaned fields: ``level`` lower case,
    ``dims`` the product, segment and period)."""
    errs = []
    if level not in LEVELS:
        errs.append(f"level must be one of {', '.join(LEVELS)}, got {level or 'nothing'!r}")
    if rid is None:
        errs.append("id is required")
    value, problem = _parse_value(raw)
    if problem is not None:
        errs.append(problem)
    if level in ("region", "rep") and any(dims.values()):
        errs.append(f"a {level} pin takes no product, segment or period")
    if level == "cell" and not any(dims.values()):
        errs.append("a cell pin needs at least one of product, segment, period")
    return value, errs


def parse_pins(rows: Iterable[Mapping[str, object]], source: str | None = None,
               first_line: int = 2) -> list[Pin]:
    """Validate pin rows (mappings with the CSV columns); raise :class:`PinsError` listing every
    bad row by line."""
    pins: list[Pin] = []
    problems: list[str] = []
    seen: dict[tuple, int] = {}
    for i, row in enumerate(rows):
        line = first_line + i
        where = f"line {line}"
        extra = sorted(set(row) - set(_COLUMNS))
        if extra:
            problems.append(f"{where}: unknown column(s) {', '.join(map(str, extra))}")
            continue
        level = (_clean(row.get("level")) or "").lower()
        rid = _clean(row.get("id"))
        raw = _clean(row.get("value"))
        dims = {k: _clean(row.get(k)) for k in ("product", "segment", "period")}
        value, errs = _check_row(level, rid, raw, dims)
        if errs:
            problems.append(f"{where}: " + "; ".join(errs))
            continue
        pin = Pin(level=level, id=rid, value=float(round(value)), line=line, source=source,
                  **dims)  # type: ignore[arg-type]
        if pin.key in seen:
            problems.append(f"{where}: duplicates the pin on line {seen[pin.key]}")
            continue
        seen[pin.key] = line
        pins.append(pin)
    if problems:
        raise PinsError(problems, source)
    return pins


def read_pins(path: str | Path) -> list[Pin]:
    """Read a pins CSV (see the module docstring)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise PinsError([f"cannot read the file: {exc.strerror or exc}"], p.name) from None
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in ("level", "id", "value") if c not in header]
    if missing:
        raise PinsError([f"line 1: missing column(s) {', '.join(missing)} "
                         f"(expected {', '.join(_COLUMNS)})"], p.name)
    reader.fieldnames = header
    return parse_pins(({k: v for k, v in row.items() if k is not None} for row in reader),
                      source=p.name)


def as_pins(pins: object) -> list[Pin]:
    """Pins as :func:`~salesplan.optimizer.quotas.plan.allocate_quotas` takes them: None (no
    pins), a pins CSV path, a list of :class:`Pin`, or a list of mappings (or dataclasses) with
    the CSV columns (validated by :func:`parse_pins`)."""
    if pins is None:
        return []
    if isinstance(pins, str | Path):
        return read_pins(pins)
    out = list(pins)  # type: ignore[call-overload]
    if all(isinstance(p, Pin) for p in out):
        return out
    return parse_pins([p if isinstance(p, Mapping) else asdict(p) for p in out])


def pins_by_level(pins: Sequence[Pin]) -> dict[str, list[Pin]]:
    """The pins grouped by level (every level present, in the given order within each)."""
    out: dict[str, list[Pin]] = {lvl: [] for lvl in LEVELS}
    for p in pins:
        out[p.level].append(p)
    return out


# which split dimensions (``by``) give a cell pin's product, segment and period a meaning
_SPLIT_BY = {
    "product": ("product", "category"),
    "segment": ("segment",),
    "period": ("quarter", "month", "week"),
}


def _cell_problems(p: Pin, valid: Mapping[str, set[str]], dims: tuple[str, ...]) -> list[str]:
    """What is wrong with a cell pin's product, segment and period given the plan's split."""
    problems = []
    for col in ("product", "segment", "period"):
        v = getattr(p, col)
        split = any(d in dims for d in _SPLIT_BY[col])
        if v is not None and not split:
            problems.append(
                f"{p.where()}: the plan does not split by {col} "
                f"(--by {','.join(dims) or 'nothing'})"
            )
        elif v is None and split:
            problems.append(f"{p.where()}: names no {col} but the plan splits by it")
        elif v is not None and v not in valid[col]:
            shown = ", ".join(sorted(valid[col])[:8])
            problems.append(
                f"{p.where()}: unknown {col} {v!r} (known: {shown}"
                f"{' ...' if len(valid[col]) > 8 else ''})"
            )
    return problems


def check_pins(pins: Sequence[Pin], scenario: Scenario, cell_keys: pd.DataFrame,
               dims: tuple[str, ...]) -> None:
    """Raise :class:`PinsError` listing every pin that names nothing in the plan: an unknown
    region or rep, or a cell whose product, segment or period the plan (split by ``dims``, with
    cells ``cell_keys``: columns ``product``, ``segment``, ``period``) does not have."""
    problems = []
    regions, reps = set(scenario.region_ids), set(scenario.rep_index)
    valid = {c: set(cell_keys[c]) for c in ("product", "segment", "period")}
    for p in pins:
        if p.level == "region" and p.id not in regions:
            problems.append(f"{p.where()}: unknown region {p.id!r}")
        elif p.level in ("rep", "cell") and p.id not in reps:
            problems.append(f"{p.where()}: unknown rep {p.id!r}")
        if p.level == "cell":
            problems += _cell_problems(p, valid, dims)
    if problems:
        raise PinsError(problems)


def pinned_values(items: Sequence[str], pins: Sequence[Pin],
                  word: str) -> tuple[pd.Series, dict[str, str]]:
    """For one level's ``pins`` (region or rep): item -> pinned value (NaN: free; currency),
    and item -> how a message names it (``f"{word} {id}"``, or the pin's :meth:`Pin.where`)."""
    fixed = pd.Series(np.nan, index=items)
    where = {i: f"{word} {i}" for i in items}
    for p in pins:
        fixed[p.id] = p.value
        where[p.id] = p.where()
    return fixed, where
