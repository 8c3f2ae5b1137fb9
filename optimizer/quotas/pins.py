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
from dataclasses import dataclass
from pathlib import Path

from .errors import PinsError

__all__ = ["LEVELS", "Pin", "parse_pins", "read_pins"]

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
        errs = []
        if level not in LEVELS:
            errs.append(f"level must be one of {', '.join(LEVELS)}, got {level or 'nothing'!r}")
        if rid is None:
            errs.append("id is required")
        value = math.nan
        if raw is None:
            errs.append("value is required")
        else:
            try:
                value = float(raw.replace(",", "").replace("_", ""))
            except ValueError:
                errs.append(f"value must be a number, got {raw!r}")
            else:
                if not math.isfinite(value) or value < 0:
                    errs.append(f"value must be a number >= 0, got {raw}")
        if level in ("region", "rep") and any(dims.values()):
            errs.append(f"a {level} pin takes no product, segment or period")
        if level == "cell" and not any(dims.values()):
            errs.append("a cell pin needs at least one of product, segment, period")
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


def pins_by_level(pins: Sequence[Pin]) -> dict[str, list[Pin]]:
    out: dict[str, list[Pin]] = {lvl: [] for lvl in LEVELS}
    for p in pins:
        out[p.level].append(p)
    return out
