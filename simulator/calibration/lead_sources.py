"""The scenario's lead sources: monthly arrivals of new deals per region x segment x source,
fitted over the fully observed months before the cut (:func:`~.estimators.fit_arrivals`), from
the routed deals only (the rep-sourced deals :mod:`.sourcing` counted are left out).

**Two windows.** The outcome follow-up runs to the cut (a deal open then is censored there);
the arrival window ends where the export stops recording new deals, which may be earlier: an
export pulled months after its last lead would otherwise count those months as zero leads (a
level halved, a steep negative trend). The export's leads are taken to stop early when no deal
was created in the ``g`` days before the cut and ``exp(-rate x g) < EARLY_END_P`` at the
window's mean daily rate (a gap that long is not chance). Per lead source the same test on its
own rate ends its window at its own last lead. Each window then keeps its full months only.

Growth outside the scenario's bounds (``annual_growth`` in (-1, 10]: a source that ramps from 1
to 35 leads a month) is clipped, with a note; the level is the fit's level at the horizon
start, so the clip only flattens the ramp beyond it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .cut import CutHistory
from .dimensions import ALL
from .documents import rounded
from .errors import CalibrationError
from .estimators import ArrivalFit, fit_arrivals

__all__ = ["EARLY_END_P", "GROWTH_BOUNDS", "ArrivalWindow", "LeadSources", "arrival_months",
           "arrival_window", "lead_sources"]

NO_SOURCE = "leads"
"""The id of the one lead source of an export without source, region or segment."""

EARLY_END_P = 1e-3
"""The probability of a gap without leads below which the leads are taken to stop early."""

GROWTH_BOUNDS = (-0.99, 10.0)
"""The annual growth a scenario's lead source may hold (its schema: > -1, <= 10)."""


@dataclass
class LeadSources:
    """``fits``: one arrival fit per region x segment x source (sorted); ``documents``: the
    scenario's lead-source documents, in the same order; ``notes``."""

    fits: list[ArrivalFit]
    documents: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    window: ArrivalWindow | None = None


def arrival_months(created: pd.Series, truncation: pd.Timestamp | None, cut: pd.Timestamp
                   ) -> tuple[pd.Period, pd.Period]:
    """The first and last month whose arrivals were fully observed: from the first full month
    of ``created`` dates (or from the truncation date: earlier months lost deals) to the last
    full month before the cut; raise when there is none."""
    first_m = created.min().to_period("M")
    if truncation is not None:
        tp = truncation.to_period("M")
        first_m = tp if truncation.day == 1 else tp + 1
    elif created.min().day != 1:
        first_m = first_m + 1
    last_m = (cut - pd.Timedelta(days=1)).to_period("M")
    if cut != cut.to_period("M").start_time:
        last_m = last_m - 1
    if last_m < first_m:
        raise CalibrationError(f"no full month of arrivals between {first_m} and {last_m}")
    return first_m, last_m


def _early_end(created: pd.Series, start: pd.Timestamp, end: pd.Timestamp
               ) -> pd.Timestamp | None:
    """The day after the last of ``created`` when the gap from it to ``end`` (exclusive) is too
    long for chance at the mean daily rate since ``start`` (module docstring), else None."""
    c = created.dropna()
    c = c[(c >= start) & (c < end)]
    if c.empty:
        return None
    last = c.max() + pd.Timedelta(days=1)
    gap = (end - last).days
    days = max((end - start).days, 1)
    if gap >= 7 and math.exp(-len(c) / days * gap) < EARLY_END_P:
        return last
    return None


@dataclass(frozen=True)
class ArrivalWindow:
    """Where arrivals are counted: ``first``..``last`` (months; the last observed for its
    first ``last_days`` days only when set: a window that ends early, mid-month), ``end``
    (exclusive: the cut, or the day after the export's last lead when its leads stop early),
    ``follow_up``: the outcome follow-up's end (exclusive: the cut)."""

    first: pd.Period
    last: pd.Period
    end: pd.Timestamp
    follow_up: pd.Timestamp
    last_days: int | None = None

    @property
    def early(self) -> bool:
        return self.end < self.follow_up

    def months(self) -> tuple[pd.Period, pd.Period]:
        """The first and last month counted (the last may be partial)."""
        return self.first, self.last

    def full_months(self) -> tuple[pd.Period, pd.Period]:
        """The first and last fully observed month (the rep-sourced rate's window)."""
        last = self.last - 1 if self.last_days is not None else self.last
        return self.first, max(last, self.first)

    def to_dict(self) -> dict[str, Any]:
        return {"arrivals": {"first_month": str(self.first), "last_month": str(self.last),
                             "last_month_days": self.last_days,
                             "data_end": (self.end - pd.Timedelta(days=1)).date().isoformat()},
                "outcomes": {"followed_up_to": (self.follow_up - pd.Timedelta(days=1))
                             .date().isoformat()}}


def _window_to(first: pd.Period, end: pd.Timestamp, follow_up: pd.Timestamp) -> ArrivalWindow:
    """The window from ``first`` to ``end`` (exclusive): full months to the cut; to an early
    end, the months before it and the month it falls in for its days before ``end``."""
    month = end.to_period("M")
    if end >= follow_up or end == month.start_time:
        last = (end - pd.Timedelta(days=1)).to_period("M")
        if end != month.start_time:
            last -= 1
        if last < first:
            raise CalibrationError(f"no full month of arrivals between {first} and {last}")
        return ArrivalWindow(first, last, end, follow_up)
    if month < first:
        raise CalibrationError(f"no arrivals to count: the leads stop ({end.date()}) before "
                               f"the first full month {first}")
    return ArrivalWindow(first, month, end, follow_up, int((end - month.start_time).days))


def arrival_window(created: pd.Series, truncation: pd.Timestamp | None, cut: pd.Timestamp
                   ) -> ArrivalWindow:
    """The arrival window of the export (module docstring): from :func:`arrival_months`'s
    first month to the last full month before the cut or, when the leads stop early, to the
    day they stop."""
    first_m, _ = arrival_months(created, truncation, cut)
    end = _early_end(created, first_m.start_time, cut) or cut
    return _window_to(first_m, end, cut)


def lead_sources(cut: CutHistory, deals: pd.DataFrame,
                 rep_sourced: frozenset[str] = frozenset(),
                 window: ArrivalWindow | None = None) -> LeadSources:
    """Fit the arrivals of ``deals`` (the known deals with their dimensions filled) per region
    x segment x source over ``window`` (default: :func:`arrival_window` of every deal), each
    source's ending at its own last lead when its leads stop early; the deals whose id is in
    ``rep_sourced`` (reps created them: :mod:`.sourcing`) and the deals without a region are
    left out (the latter noted)."""
    created = deals["created_date"]
    window = window or arrival_window(created, cut.truncation, cut.cut)
    first_m, last_m = window.months()
    in_win = created.notna() & (created.dt.to_period("M") >= first_m) & (
        created.dt.to_period("M") <= last_m) & (created < window.end)
    if rep_sourced:
        in_win &= ~deals["id"].isin(rep_sourced)
    notes = []
    no_region = int((in_win & deals["region"].isna()).sum())
    if no_region:
        notes.append(f"{no_region} deals without a region (owner not in the team table) are "
                     "not counted in any region's arrivals")
    if window.early:
        day = pd.Timedelta(days=1)
        notes.append(f"the export's leads stop on {(window.end - day).date()}, before the "
                     f"outcome follow-up ends ({(cut.cut - day).date()}): arrivals counted "
                     f"{first_m}..{last_m} only")
    out = LeadSources([], [], notes, window)
    for (reg, seg, src), g in deals[in_win & deals["region"].notna()].groupby(
            ["region", "segment", "source"], sort=True):
        own = window
        own_end = _early_end(g["created_date"], first_m.start_time, window.end)
        if own_end is not None and own_end.to_period("M") >= first_m:
            own = _window_to(first_m, own_end, cut.cut)
            notes.append(f"lead source {reg}/{seg}/{src}: its leads stop on "
                         f"{(own_end - pd.Timedelta(days=1)).date()}; its arrivals are "
                         f"counted {own.first}..{own.last}")
            g = g[g["created_date"] < own_end]
        fit = fit_arrivals(g["created_date"], own.first, own.last,
                           {"region": reg, "segment": seg, "source": src},
                           last_days=own.last_days)
        out.fits.append(fit)
        out.documents.append(_source_document(fit, g, (reg, seg, src), notes))
    return out


def _source_document(fit: ArrivalFit, g: pd.DataFrame, key: tuple[str, str, str],
                     notes: list[str]) -> dict[str, Any]:
    """The scenario document of one lead source (``key``: region, segment, source; ``g``: its
    deals in the window, whose products give the product mix); a growth outside
    :data:`GROWTH_BOUNDS` is clipped and noted (in ``notes`` and the fit's own notes)."""
    reg, seg, src = key
    mix = g["product"].value_counts().sort_index()
    sid = "-".join(x for x in (reg, seg, src) if x != ALL) or NO_SOURCE
    lo, hi = GROWTH_BOUNDS
    if not lo <= fit.annual_growth <= hi:
        clipped = min(max(fit.annual_growth, lo), hi)
        msg = (f"lead source {sid}: annual growth {fit.annual_growth:.4g} is outside the "
               f"scenario's bounds ({lo:g}, {hi:g}]: clipped to {clipped:g} (its level "
               f"{fit.level:.4g} a month at the horizon start is kept)")
        notes.append(msg)
        fit.notes.append(msg)
        fit.annual_growth = clipped
    return {
        "id": sid, "region": reg, "segment": seg,
        "channel": src if src != ALL else "inbound",
        "leads_per_month": rounded(fit.level, 4),
        "seasonality": [rounded(s, 4) for s in fit.seasonality],
        "annual_growth": rounded(fit.annual_growth, 4),
        "product_mix": {p: int(c) for p, c in mix.items()},
    }
