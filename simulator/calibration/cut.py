"""The cut of a calibration: what a CRM history knew just before a date, and the horizon that
starts there.

:func:`history_at` is the history as known before the cut (later closes unknown: those deals are
open at the cut); :func:`cut_history` makes the :class:`CutHistory` every calibration step reads.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from salesplan.scenarios.crm.mapping import HistoryMapping
from salesplan.scenarios.crm.reader import History

from .errors import CalibrationError

__all__ = ["MIN_DATED_LOSSES", "MIN_DEALS", "STALE_QUANTILE", "CutHistory", "StaleRule",
           "apply_stale_rule", "cut_history", "history_at"]

MIN_DEALS = 10
"""The fewest usable deals before the cut a calibration accepts."""

MIN_DATED_LOSSES = 2
"""An export with fewer dated losses records no losses to speak of: a won-only funnel."""

STALE_QUANTILE = 0.99
"""A won-only export's stale age, when the mapping does not state one: this quantile of the
won deals' cycle times (a lead open longer is taken as lost at that age)."""


@dataclass(frozen=True)
class StaleRule:
    """Open deals older than ``age_days`` are lost at that age: ``source`` says where the age
    comes from (``mapping`` or ``estimated``); ``deals`` were made lost by it at the cut;
    ``undated_lost``: losses without a close date in an export without a dated loss, taken as
    open leads first (when they were given up is unknown)."""

    age_days: int
    source: str
    deals: int
    undated_lost: int = 0

    def to_dict(self) -> dict[str, object]:
        return {"age_days": self.age_days, "source": self.source, "deals_made_lost": self.deals,
                "undated_losses_taken_as_open": self.undated_lost,
                "rule": f"a deal still open {self.age_days} days after it was created is "
                        "lost at that age (the simulator's lost deals keep the won timing)"}


def apply_stale_rule(known: History, cut: pd.Timestamp) -> StaleRule | None:
    """Make stale open deals lost (in ``known.deals``). The rule applies when the mapping
    states ``stale_after_days``, or when the export records no dated loss (fewer than
    :data:`MIN_DATED_LOSSES`: a won-only funnel, where a lead that never converts is never
    closed, or is marked lost without a date; such losses are open leads, censored at their
    age), with the age estimated as the
    :data:`STALE_QUANTILE` quantile of the won cycle times. None when it does not apply."""
    d = known.deals
    stated = known.mapping.stale_after_days
    dated_lost = d["outcome"].eq("lost") & d["close_date"].notna()
    undated = d["outcome"].eq("lost") & d["close_date"].isna() & d["created_date"].notna()
    reopened = 0
    few_losses = int(dated_lost.sum()) < MIN_DATED_LOSSES
    if few_losses and undated.any():
        # a won-only funnel whose unconverted leads are marked lost without a date: when they
        # were given up is unknown, so they are open leads, censored at their age
        d.loc[undated, "outcome"] = "open"
        reopened = int(undated.sum())
    is_open = d["outcome"].eq("open") & d["created_date"].notna()
    if stated is not None:
        age, source = math.ceil(stated), "mapping (stale_after_days)"
    elif few_losses and is_open.any():
        won = d["outcome"].eq("won")
        cycle = (d.loc[won, "close_date"] - d.loc[won, "created_date"]).dt.days.dropna()
        if len(cycle) < 2:
            return None
        age = max(math.ceil(float(np.quantile(cycle, STALE_QUANTILE))), 1)
        source = (f"estimated: the {STALE_QUANTILE:.0%} quantile of {len(cycle)} won cycle "
                  f"times (the export records {int(dated_lost.sum())} dated losses)")
    else:
        return None
    stale = is_open & ((cut - d["created_date"]).dt.days > age)
    d.loc[stale, "outcome"] = "lost"
    d.loc[stale, "close_date"] = d.loc[stale, "created_date"] + pd.Timedelta(days=age)
    d.loc[stale, "stage"] = ""
    return StaleRule(age, source, int(stale.sum()), reopened)


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
    ``horizon_months``: the horizon's length in months; ``stale``: the stale rule applied to
    open deals (None: none); ``notes``: what the cut changed."""

    full: History
    known: History
    cut: pd.Timestamp
    start: pd.Timestamp
    horizon_months: int
    notes: list[str] = field(default_factory=list)
    stale: StaleRule | None = None

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
    n_won = int(known.deals["outcome"].eq("won").sum())
    if n_won < 2:
        raise CalibrationError(f"only {n_won} won deal(s) before {cut.date()}: conversion and "
                               "deal sizes cannot be estimated (a calibration needs at least 2)")
    stale = apply_stale_rule(known, cut)
    if stale is not None:
        if stale.undated_lost:
            notes.append(f"no loss has a close date: {stale.undated_lost} losses without one "
                         "are taken as open leads (when they were given up is unknown)")
        notes.append(f"stale rule: {stale.deals} deals open more than {stale.age_days} days "
                     f"at the cut are taken as lost at that age ({stale.source})")
    return CutHistory(full=history, known=known, cut=cut, start=start,
                      horizon_months=horizon_months, notes=notes, stale=stale)
