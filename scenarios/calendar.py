"""The horizon's calendar and the lead arrival rate every engine agrees on.

Time inside the engines is measured in **days since the horizon start** (a float; day 0.0 is
00:00 on ``horizon.start``). Month ``m`` (0-based) of the horizon covers
``[month_edges[m], month_edges[m + 1])``.

A lead source's arrival rate, in leads per day, at time ``t`` in calendar month ``c`` is::

    rate(t) = leads_per_month * 12 / 365.25 * s[c] * (1 + annual_growth) ** (t / 365.25)

where ``s`` is the source's seasonality rescaled to mean 1. So ``leads_per_month`` is the average
monthly volume in the first year of the horizon (before growth), and a 31-day month gets about
31/30.44 of it.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from .model import Horizon, LeadSource

__all__ = [
    "DAYS_PER_YEAR",
    "expected_leads_by_month",
    "month_edges",
    "month_labels",
    "normalised_seasonality",
    "quarter_month",
    "source_rate_per_day",
]

DAYS_PER_YEAR = 365.25


def month_edges(horizon: Horizon, before: int = 0) -> np.ndarray:
    """Day offsets of month starts: ``months + 1`` edges (plus ``before`` earlier months,
    at negative offsets, for a warm-up)."""
    start = horizon.start
    dates = [_add_months(start, m) for m in range(-before, horizon.months + 1)]
    return np.array([(d - start).days for d in dates], dtype=float)


def month_labels(horizon: Horizon) -> list[str]:
    """``YYYY-MM`` for every horizon month."""
    return [_add_months(horizon.start, m).strftime("%Y-%m") for m in range(horizon.months)]


def _add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    return dt.date(d.year + y, m + 1, 1)


def calendar_months(horizon: Horizon, before: int = 0) -> np.ndarray:
    """Calendar month index (0 = January) of every month from ``-before`` to the horizon end."""
    return np.array([_add_months(horizon.start, m).month - 1
                     for m in range(-before, horizon.months)], dtype=int)


def quarter_month(start: dt.date, days: np.ndarray) -> np.ndarray:
    """Month of the calendar quarter (0, 1, 2: Jan/Apr/Jul/Oct are 0) of the days ``days``
    (floats, floored) after ``start``."""
    day = np.datetime64(start, "D") + np.floor(np.asarray(days, float)).astype("timedelta64[D]")
    return day.astype("datetime64[M]").astype(np.int64) % 3


def normalised_seasonality(profile: list[float]) -> np.ndarray:
    """A 12-entry profile rescaled to mean 1."""
    s = np.asarray(profile, dtype=float)
    return s * (12.0 / s.sum())


def source_rate_per_day(source: LeadSource, horizon: Horizon, before: int = 0) -> np.ndarray:
    """Base rate (leads/day, before growth) in each month from ``-before`` to the horizon end."""
    season = normalised_seasonality(source.seasonality)
    return source.leads_per_month * 12.0 / DAYS_PER_YEAR * season[calendar_months(horizon, before)]


def expected_leads_by_month(source: LeadSource, horizon: Horizon) -> np.ndarray:
    """Expected number of leads from ``source`` in each horizon month (exact integral)."""
    edges = month_edges(horizon)
    base = source_rate_per_day(source, horizon)
    g = math.log1p(source.annual_growth) / DAYS_PER_YEAR  # continuous growth per day
    if abs(g) < 1e-15:
        return base * np.diff(edges)
    return base * (np.exp(g * edges[1:]) - np.exp(g * edges[:-1])) / g
