"""Target periods (a calendar month ``2017-11``, quarter ``2017Q4`` or year ``2017``) and
working days.

Every period is a union of calendar months, so the landing simulation works on months and a
period's landing is the sum of its months. Working days are Monday to Friday (no holidays): the
unit of the pace line (target to date = target x working days elapsed / working days in the
period).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import TrackingError

__all__ = ["Period", "month_index", "parse_period", "working_days"]

_QUARTER = re.compile(r"^(\d{4})\s*-?\s*Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True, order=True)
class Period:
    """A calendar period: ``start`` (first day) to ``end`` (last day, inclusive); ``kind``
    month, quarter or year; ``label`` as written in outputs (``2017Q4``, ``2017-11``,
    ``2017``)."""

    start: pd.Timestamp
    end: pd.Timestamp
    kind: str
    label: str

    @property
    def months(self) -> list[pd.Period]:
        """The calendar months the period covers, in order."""
        return list(pd.period_range(self.start, self.end, freq="M"))

    def overlaps(self, other: Period) -> bool:
        return self.start <= other.end and other.start <= self.end

    def elapsed_share(self, asof: pd.Timestamp) -> float:
        """Working days from the start to ``asof`` (inclusive) over the period's working days
        (0 before the period, 1 after it)."""
        total = working_days(self.start, self.end)
        if asof < self.start:
            return 0.0
        done = working_days(self.start, min(asof, self.end))
        return done / total if total else 1.0


def parse_period(text: object) -> Period:
    """``2017Q4`` (also ``2017-Q4``), ``2017-11`` or ``2017``; raise :class:`TrackingError`
    naming the value otherwise."""
    s = str(text).strip()
    if m := _QUARTER.match(s):
        y, q = int(m.group(1)), int(m.group(2))
        start = pd.Timestamp(y, 3 * q - 2, 1)
        return Period(start, start + pd.offsets.QuarterEnd(0), "quarter", f"{y}Q{q}")
    if (m := _MONTH.match(s)) and 1 <= int(m.group(2)) <= 12:
        y, mo = int(m.group(1)), int(m.group(2))
        start = pd.Timestamp(y, mo, 1)
        return Period(start, start + pd.offsets.MonthEnd(0), "month", f"{y}-{mo:02d}")
    if m := _YEAR.match(s):
        y = int(m.group(1))
        return Period(pd.Timestamp(y, 1, 1), pd.Timestamp(y, 12, 31), "year", str(y))
    raise TrackingError(f"period {s!r} does not parse: expected a quarter (2017Q4), a month "
                        "(2017-11) or a year (2017)")


def working_days(first: pd.Timestamp, last: pd.Timestamp) -> int:
    """Monday-to-Friday days from ``first`` to ``last``, both included (0 if last < first)."""
    if last < first:
        return 0
    return int(np.busday_count(first.date(), (last + pd.Timedelta(days=1)).date()))


def month_index(months: list[pd.Period], dates: pd.Series) -> np.ndarray:
    """Position of each date's month in ``months`` (consecutive calendar months); -1 outside
    them or for a missing date."""
    if not months:
        return np.full(len(dates), -1)
    first = months[0]
    d = pd.to_datetime(dates)
    idx = ((d.dt.year - first.year) * 12 + (d.dt.month - first.month)).to_numpy(dtype=float)
    ok = np.isfinite(idx) & (idx >= 0) & (idx < len(months))
    return np.where(ok, np.nan_to_num(idx, nan=-1), -1).astype(np.int64)
