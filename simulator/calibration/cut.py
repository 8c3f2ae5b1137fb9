"""The cut of a calibration: what a CRM history knew just before a date, and the horizon that
starts there.

:func:`history_at` is the history as known before the cut (later closes unknown: those deals are
open at the cut); :func:`cut_history` makes the :class:`CutHistory` every calibration step reads.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from salesplan.scenarios.crm.mapping import HistoryMapping
from salesplan.scenarios.crm.reader import History

from .errors import CalibrationError

__all__ = ["MIN_DEALS", "CutHistory", "cut_history", "history_at"]

MIN_DEALS = 10
"""The fewest usable deals before the cut a calibration accepts."""


def history_at(history: History, cut: pd.Timestamp) -> History:
    """What was known just before ``cut``: deals created before it; closes on or after it are
    unknown (those deals are open at the cut, in the stage they were in); a flat export's
    amounts of those deals are hidden (a flat export's amount is the close value)."""
    d = history.deals
    d = d[d["created_date"].notna() & (d["created_date"] < cut)
          | d["created_date"].isna() & (d["close_date"] < cut)].copy()
    later = d["close_date"].notna() & (d["close_date"] >= cut)
    d.loc[later, "outcome"] = "open"
    d.loc[later, "close_date"] = pd.NaT
    if history.mapping.kind == "flat":
        d.loc[later, "amount"] = np.nan
    tr = history.transitions
    if tr is not None:
        tr = tr[tr["date"] < cut]
        last_open = tr[~tr["stage"].isin(["won", "lost"])].groupby("id")["stage"].last()
        opened = d["outcome"].eq("open")
        st = d["id"].map(last_open)
        d.loc[opened & st.notna(), "stage"] = st[opened & st.notna()]
        blank = opened & (d["stage"].isna() | d["stage"].isin(["", "won", "lost"]))
        d.loc[blank, "stage"] = history.mapping.scenario_stages[0]
    else:
        d.loc[later, "stage"] = history.mapping.scenario_stages[-1]
    d.attrs = dict(history.deals.attrs)
    return History(deals=d.reset_index(drop=True), report=history.report,
                   mapping=history.mapping, teams=history.teams, transitions=tr,
                   as_of=cut - pd.Timedelta(days=1), sources=history.sources,
                   fields=history.fields)


@dataclass(frozen=True)
class CutHistory:
    """A history cut for a calibration.

    ``full``: the whole export (its cleaning summary goes into the estimates); ``known``: what
    was known before the cut (:func:`history_at`); ``cut``: the first day not known (open deals
    are censored there); ``start``: the horizon start, the cut rounded up to a first of month;
    ``horizon_months``: the horizon's length in months; ``notes``: what the cut changed."""

    full: History
    known: History
    cut: pd.Timestamp
    start: pd.Timestamp
    horizon_months: int
    notes: list[str] = field(default_factory=list)

    @property
    def mapping(self) -> HistoryMapping:
        return self.known.mapping

    @property
    def deals(self) -> pd.DataFrame:
        """The deals known at the cut (:attr:`History.deals` columns)."""
        return self.known.deals

    @property
    def truncation(self) -> pd.Timestamp | None:
        """The export's left-truncation date (no close seen before it), if any."""
        return self.known.deals.attrs.get("truncation_date")

    @property
    def flat(self) -> bool:
        """Whether the funnel is one stage from entry to close: a flat export, or a history
        export without stage changes before the cut."""
        tr = self.known.transitions
        return self.mapping.kind == "flat" or tr is None or tr.empty


def _first_of_next_month(d: pd.Timestamp) -> pd.Timestamp:
    """``d`` itself on a first of month, else the first of the next month (midnight)."""
    return (d + pd.offsets.MonthBegin(1)).normalize() if d.day != 1 else d.normalize()


def cut_history(history: History, cutoff: str | dt.date | pd.Timestamp | None,
                horizon_months: int) -> CutHistory:
    """The history as known at ``cutoff`` (default: the day after the export's last date) and
    the horizon of ``horizon_months`` months from the first of month on or after it; raise
    when the history has no dates or fewer than ``MIN_DEALS`` deals before the cut."""
    if cutoff is None:
        if history.as_of is None:
            raise CalibrationError("the history has no dates")
        cut = history.as_of + pd.Timedelta(days=1)
    else:
        cut = pd.Timestamp(cutoff)
    start = _first_of_next_month(cut)
    known = history_at(history, cut)
    notes = []
    if start != cut:
        notes.append(f"cut {cut.date()} is not a first of month: the horizon starts "
                     f"{start.date()}")
    if len(known.deals) < MIN_DEALS:
        raise CalibrationError(f"only {len(known.deals)} usable deals before {cut.date()}; "
                               f"a calibration needs at least {MIN_DEALS}")
    return CutHistory(full=history, known=known, cut=cut, start=start,
                      horizon_months=horizon_months, notes=notes)
