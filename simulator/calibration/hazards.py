# ruff: noqa: N803, N806  (single capitals follow the model notation: E exposure, N events, Q...)
"""Closing hazards by deal age and month of the quarter, with a stalled share per entry month:
the model of the open pipeline at a cut date, and of new deals' timing.

**Hazards** (discrete time, whole days). On each day ``t`` a deal created on day ``c`` is still
open, it closes won with probability ``h_won[b, q]`` and lost with ``h_lost[b, q]``, where
``b = min((t - c) // bin_days, B - 1)`` is its age bin and ``q`` the month of the calendar
quarter of day ``t`` (0, 1, 2). The last bin is open-ended and holds no event: nothing closes
beyond the oldest observed close (no extrapolation). Each hazard is its cell's events over its
deal-days at risk (the maximum-likelihood estimate; deals still open at the cut are censored,
never lost; a left-truncated deal, created before the export's first close, counts from that
date); a cell never at risk takes its age bin's rate over the other months. ``calendar=False``
drops ``q``: the age-only model. Both are fitted when the history covers all three months of a
quarter; the lower AIC wins (AIC counts a won and a lost rate per cell at risk).

**Losses stacked at one age** (a CRM that auto-closes deals at 180 days, or the stale rule of
a won-only export): when one age holds at least ``LOSS_RULE_SHARE`` of the losses, it is a
rule, not a hazard: those losses leave the lost counts, and every deal still open at that age
is lost on that day (:func:`loss_rule_age`). Spread over its 14-day bin, the same losses would
let about a quarter of the deals survive the bin and stall (generated: 180-day losses, a
pooled stalled share of 0.26 against 0 with the rule).

Why the calendar: sales teams close in end-of-quarter bunches. In the Maven export a deal more
than two weeks old is never won in the first month of a quarter, and wins are 1.8 times as
frequent (per open deal-day) in the last month of a quarter as in the first, while losses are
2.6 times rarer there (history before 2017-10-01). A cycle-time distribution alone, whatever
its family, puts the open pipeline's closes in the wrong months.

**Stalled deals.** Following a deal created on day ``c`` through the hazards and the calendar
gives its open probability ``S_c(a)`` at each age and its cumulative won incidence. Deals still
open after the last bin never close: ``pi_c = S_c(end)`` is the pooled stalled share, and
``S0_c(a) = (S_c(a) - pi_c) / (1 - pi_c)`` the open probability of a deal that will close
(the convention that makes the stalled share identifiable: a closing deal closes within the
longest observed cycle). Entry-month cohorts differ: cohort ``m``'s stalled share ``pi_m`` is
estimated from its open share at the cut, ``f_m = pi_m + (1 - pi_m) m0_m`` with ``m0_m`` the
mean ``S0`` of its deals at the cut, so ``pi_m = (f_m - m0_m) / (1 - m0_m)`` with binomial
variance ``f (1 - f) / (n (1 - m0)^2)``, shrunk toward the pooled share (empirical Bayes,
method of moments). Cohorts too young to tell (``1 - m0 < 0.05``) or left-truncated take the
pooled share.

**Forecast** for a deal open at the cut at age ``a``: ``P(won) = (1 - pi_m) (CIF_won(end) -
CIF_won(a)) / (1 - pi_c) / (pi_m + (1 - pi_m) S0_c(a))``, and its won day is distributed as the
won incidence after the cut, over the calendar. Per cohort: the mean over its open deals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from salesplan.scenarios.calendar import quarter_month

__all__ = ["ClosingHazards", "DealDays", "fit_closing_hazards"]

MIN_INFORMATIVE = 0.05  # a cohort whose closing deals would mostly still be open: pooled share
LOSS_RULE_SHARE = 0.3
"""The share of the losses at one age above which they are a rule (:func:`loss_rule_age`)."""


@dataclass(frozen=True, eq=False)
class DealDays:
    """The deals of a fit as day numbers from ``origin`` (day 0, the first created date): per
    deal ``created``, ``end`` (the close day, or the day before the cut for an open deal),
    ``entry`` (the first day at risk: created, or the truncation date), ``is_open``,
    ``outcome`` (won/lost/open), ``cohort`` (entry month ``YYYY-MM``); ``cut_day``; the grid:
    ``bin_days`` per age bin, ``n_bins`` (the last open-ended) and ``moq`` (month of the
    quarter, 0-2, of every day from the origin); ``dropped``: deals left out, by reason."""

    origin: pd.Timestamp
    created: np.ndarray
    end: np.ndarray
    entry: np.ndarray
    is_open: np.ndarray
    outcome: np.ndarray
    cohort: np.ndarray
    cut_day: int
    bin_days: int
    n_bins: int
    moq: np.ndarray
    dropped: dict[str, int]

    @classmethod
    def of(cls, created: pd.Series, close: pd.Series, outcome: np.ndarray, cut: pd.Timestamp,
           truncation: pd.Timestamp | None, bin_days: int) -> DealDays:
        """The dated deals (module docstring of :func:`fit_closing_hazards`); raise without a
        dated deal or without a closed one."""
        outcome = np.asarray(outcome)
        no_close = (outcome != "open") & close.isna().to_numpy()
        ok = created.notna().to_numpy() & ~no_close
        dropped = {"no_created_date": int(created.isna().sum()),
                   "closed_without_close_date": int((no_close & created.notna().to_numpy())
                                                    .sum())}
        created, close, outcome = created[ok], close[ok], outcome[ok]
        if not len(created):
            raise ValueError("no dated deal")
        origin = created.min().normalize()
        c = (created - origin).dt.days.to_numpy(dtype=np.int64)
        cut_day = int((cut - origin).days)
        is_open = outcome == "open"
        e = np.where(is_open, cut_day - 1,
                     (close.fillna(cut) - origin).dt.days.to_numpy(dtype=np.int64))
        e = np.maximum(e, c)
        entry = c.copy() if truncation is None else np.maximum(c, int((truncation - origin).days))
        closed_age = (e - c)[~is_open]
        if not closed_age.size:
            raise ValueError("no closed deal")
        n_bins = int(closed_age.max()) // bin_days + 2  # the last, open-ended bin holds no event
        n_days = cut_day + 2 * n_bins * bin_days + 800
        return cls(origin=origin, created=c, end=e, entry=entry, is_open=is_open,
                   outcome=outcome, cohort=created.dt.strftime("%Y-%m").to_numpy(),
                   cut_day=cut_day, bin_days=bin_days, n_bins=n_bins,
                   moq=quarter_month(origin.date(), np.arange(n_days)), dropped=dropped)

    def quarter_months_seen(self) -> int:
        """How many months of the quarter (0-3) the days at risk before the cut cover."""
        if self.cut_day <= 0:
            return 0
        return int(np.unique(self.moq[max(int(self.entry.min()), 0):self.cut_day]).size)


def _cells(days: DealDays, q_cols: int) -> np.ndarray:
    """Deal-days at risk per cell (age bin x month of quarter; ``q_cols`` 1: age only) over the
    days ``entry..end`` of every deal. Deals with the same (created, entry, end) share their
    cells: each distinct span is laid out once and weighted by its count."""
    bin_days, n_bins, moq = days.bin_days, days.n_bins, days.moq
    spans, count = np.unique(np.stack([days.created, days.entry, days.end + 1], axis=1), axis=0,
                             return_counts=True)
    created, start, stop = spans[:, 0], spans[:, 1], spans[:, 2]
    length = np.maximum(stop - start, 0)
    offs = np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length)
    day = np.repeat(start, length) + offs
    age_bin = np.minimum((day - np.repeat(created, length)) // bin_days, n_bins - 1)
    cells = age_bin * q_cols + (moq[day] if q_cols > 1 else 0)
    return np.bincount(cells, weights=np.repeat(count, length).astype(float),
                       minlength=n_bins * q_cols)


@dataclass
class ClosingHazards:
    """A fitted closing-hazard model (see the module docstring). Hazards are per day.

    ``origin``: day 0; ``moq``: month of quarter of every day from ``origin``. The per-open-deal
    arrays (``open_*``, forecast days from the cut) serve :meth:`cohort_p_won`, which also
    recomputes a cohort's ``P(won | open)`` for another stalled share (the backtest's
    parameter draws).
    """

    calendar: bool
    bin_days: int
    n_bins: int
    h_won: np.ndarray            # [n_bins, 3 or 1]
    h_lost: np.ndarray
    exposure: np.ndarray         # deal-days at risk per cell
    events_won: np.ndarray
    events_lost: np.ndarray
    pooled_stall: float
    stall: dict[str, dict[str, Any]]   # per cohort: open share, raw and shrunk stalled share...
    stall_tau2: float                  # between-cohort variance of the stalled share
    loglik: float
    aic: float
    alternative: dict[str, dict[str, float]]   # the other model's loglik / aic
    origin: pd.Timestamp
    moq: np.ndarray
    open_cohort: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    open_row: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # per creation day of the open deals (``open_row`` maps each open deal to its row):
    open_pi: np.ndarray = field(default_factory=lambda: np.zeros(0))    # never closes
    open_surv: np.ndarray = field(default_factory=lambda: np.zeros(0))  # open at the cut
    open_won_by_day: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    new_deal: dict[str, Any] = field(default_factory=dict)  # set by the calibration
    dropped: dict[str, int] = field(default_factory=dict)   # deals left out, by reason
    calendar_note: str | None = None
    # the pipeline forecast's model error from inner cuts (``forecast_error``), set by the
    # calibration; empty: not estimated (the parameter draws then add nothing for it)
    model_error: dict[str, Any] = field(default_factory=dict)
    # the loss rule: every deal still open at this age (days) is lost on that day (None: none)
    loss_age: int | None = None
    loss_rule: dict[str, Any] | None = None

    @property
    def cohort_log_var(self) -> float:
        """Extra variance (log scale) of each entry-month cohort's ``P(won | open)`` beyond the
        binomial noise and the stalled share's standard error, independent between cohorts;
        0 when not estimated. Without a split (an estimate from before the common part was
        sized) the whole per-cohort estimate."""
        me = self.model_error
        v = me.get("cohort_log_variance", me.get("log_variance"))
        return float(v or 0.0)

    @property
    def pipeline_bias(self) -> float:
        """The factor on a pipeline cohort's won probability, within the bias window, that
        corrects the bias the inner cuts measured (``model_error["bias_correction"]``, set by
        the calibration); 1: none."""
        v = self.model_error.get("bias_correction")
        return 1.0 if v is None else float(v)

    def corrected_p_won(self, cohort: str, stall_share: float | None = None,
                        skip_days: int = 0) -> tuple[float, np.ndarray]:
        """:meth:`cohort_p_won` with the bias correction: the won probability of each day
        less than ``model_error["bias_window_days"]`` days after the cut (the longest inner
        window that measured the bias) times :attr:`pipeline_bias`; later days, which no
        window measured, as the model says. The total is capped at 1 (the won-day distribution
        keeps its shape). Returns ``P(won | open)`` and the normalised won-day distribution
        (day 0 = the cut + ``skip_days``)."""
        return self.bias_corrected(*self.cohort_p_won(cohort, stall_share, skip_days),
                                   skip_days=skip_days)

    def bias_corrected(self, p: float, per_day: np.ndarray, skip_days: int = 0
                       ) -> tuple[float, np.ndarray]:
        """A won probability ``p`` and its normalised won-day distribution (day 0 = the cut +
        ``skip_days``), as :meth:`cohort_p_won` gives them, with the bias correction of
        :meth:`corrected_p_won` applied."""
        r = self.pipeline_bias
        if r == 1.0 or p <= 0:
            return p, per_day
        window = int(self.model_error.get("bias_window_days") or 0)
        won = p * per_day
        won[:max(window - skip_days, 0)] *= r
        q = float(won.sum())
        if q <= 0:
            return 0.0, np.zeros(0)
        return min(q, 1.0), won / q

    @property
    def common_log_var(self) -> float:
        """Extra variance (log scale) of ``P(won | open)`` shared by every pipeline cohort (one
        draw for all of them); 0 when not estimated."""
        return float(self.model_error.get("common_log_variance") or 0.0)

    def paths(self, created_day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For deals created on the given day numbers: open probability at the start of each
        age (``[n, A + 1]``, A = n_bins x bin_days; the last column is the never-closing share)
        and the won probability on each age day (``[n, A]``)."""
        ages = self.n_bins * self.bin_days
        days = created_day[:, None] + np.arange(ages)[None, :]
        q = self._q(days)
        b = np.minimum(np.arange(ages) // self.bin_days, self.n_bins - 1)[None, :]
        hw, hl = self.h_won[b, q], self.h_lost[b, q]
        if self.loss_age is not None and self.loss_age < ages:
            hl[:, self.loss_age] = 1.0 - hw[:, self.loss_age]  # the rule: every open deal lost
        surv = np.concatenate([np.ones((created_day.size, 1)),
                               np.cumprod(1 - hw - hl, axis=1)], axis=1)
        return surv, surv[:, :-1] * hw

    def _q(self, days: np.ndarray) -> np.ndarray:
        if not self.calendar:
            return np.zeros(days.shape, dtype=np.int64)
        return quarter_month(self.origin.date(), days)

    def stall_share(self, cohort: str) -> float:
        return float(self.stall.get(cohort, {}).get("stall_share", self.pooled_stall))

    def cohort_p_won(self, cohort: str, stall_share: float | None = None,
                     skip_days: int = 0) -> tuple[float, np.ndarray]:
        """``P(won | open)`` of a cohort's deals open at the cut (the mean over them) and the
        distribution of the won day (day 0 = the cut + ``skip_days``; normalised, empty if
        never won). ``stall_share`` default: the cohort's estimate. With ``skip_days`` (a horizon
        that starts after the cut), wins in those days are not counted: the probability stays
        conditional on being open at the cut, as the deal is in the initial pipeline."""
        m = self.open_row[self.open_cohort == cohort]
        if not m.size:
            return 0.0, np.zeros(0)
        won = self.open_won_by_day[m, skip_days:]
        per_day = (self._scale(cohort, m, stall_share)[:, None] * won).mean(axis=0)
        p = float(per_day.sum())
        return p, (per_day / p if p > 0 else np.zeros(0))

    def _scale(self, cohort: str, m: np.ndarray, stall_share: float | None) -> np.ndarray:
        """Per open deal (rows ``m``): the factor turning its unconditional won probability on
        a day into the probability given open at the cut with the cohort's stalled share."""
        pim = self.stall_share(cohort) if stall_share is None else stall_share
        pi = self.open_pi[m]
        closing = np.maximum(1 - pi, 1e-300)
        s0 = np.clip((self.open_surv[m] - pi) / closing, 0.0, 1.0)
        den = pim + (1 - pim) * s0
        return np.where(den > 0, (1 - pim) / closing / np.where(den > 0, den, 1.0), 0.0)

    def cohort_window_wins(self, cohort: str, days: int, stall_share: float | None = None
                           ) -> np.ndarray:
        """Per deal of the cohort open at the cut: the probability (unitless) that it is won
        within ``days`` days from the cut (day 0 = the cut), under the model and the cohort's
        stalled share (or ``stall_share``). Summed: the forecast number of wins."""
        m = self.open_row[self.open_cohort == cohort]
        if not m.size:
            return np.zeros(0)
        won = self.open_won_by_day[m, :max(int(days), 0)].sum(axis=1)
        return np.clip(self._scale(cohort, m, stall_share) * won, 0.0, 1.0)

    def new_deal_won_time(self, first: pd.Timestamp, months: int = 12
                          ) -> tuple[list[np.ndarray], list[float], float]:
        """For deals created on each day of the ``months`` months from ``first``, grouped by
        the month of the quarter of their creation day (one group without the calendar): the
        distribution of the won day (day 0 = creation; mean over creation days, normalised),
        P(won) per group, and P(won) over all creation days."""
        start = int((first - self.origin).days)
        stop = int((first + pd.DateOffset(months=months) - self.origin).days)
        created = np.arange(start, stop)
        _, won = self.paths(created)
        groups = self._q(created)
        pooled = won.mean(axis=0)
        dists, p_won = [], []
        for g in range(3 if self.calendar else 1):
            mean = won[groups == g].mean(axis=0)
            p = float(mean.sum())
            # a month whose deals are never won: the pooled won day (only its P(won) is 0)
            dists.append(mean / p if p > 0 else pooled / max(float(pooled.sum()), 1e-300))
            p_won.append(p)
        return dists, p_won, float(won.sum(axis=1).mean())

    def quarter_profile(self) -> dict[str, list[float]] | None:
        """Won and lost closes per deal-day at risk in each month of the quarter, relative to
        their mean (a summary of the calendar effect)."""
        if not self.calendar:
            return None
        out = {}
        for k, N in (("won", self.events_won), ("lost", self.events_lost)):
            rate = N.sum(axis=0) / np.maximum(self.exposure.sum(axis=0), 1e-12)
            out[k] = (rate / rate.mean()).tolist() if rate.mean() > 0 else [1.0, 1.0, 1.0]
        return out

    def to_dict(self) -> dict[str, Any]:
        cols = ["month 1", "month 2", "month 3"] if self.calendar else ["any month"]
        bins = [f"{b * self.bin_days}-{(b + 1) * self.bin_days - 1}" if b < self.n_bins - 1
                else f">={b * self.bin_days}" for b in range(self.n_bins)]

        def tab(h: np.ndarray) -> dict[str, dict[str, float]]:
            return {bins[b]: {cols[q]: float(h[b, q]) for q in range(h.shape[1])}
                    for b in range(self.n_bins)}

        return {
            "model": "discrete-time competing hazards (won, lost) by deal age"
                     + (" x month of the calendar quarter" if self.calendar else "")
                     + "; stalled share per entry month",
            "calendar": self.calendar,
            "bin_days": self.bin_days,
            "hazard_won_per_day": tab(self.h_won),
            "hazard_lost_per_day": tab(self.h_lost),
            "events_won": tab(self.events_won), "events_lost": tab(self.events_lost),
            "exposure_deal_days": tab(self.exposure),
            "loglik": self.loglik, "aic": self.aic,
            "alternative": self.alternative,
            "pooled_stall_share": self.pooled_stall,
            "stall_share_between_cohort_variance": self.stall_tau2,
            "quarter_profile": self.quarter_profile(),
            "new_deals": self.new_deal,
            "deals_left_out": self.dropped,
            "calendar_note": self.calendar_note,
            "pipeline_model_error": self.model_error or None,
            "cohorts": self.stall,
            "loss_rule": self.loss_rule,
        }


def loss_rule_age(deals: DealDays) -> tuple[int | None, dict[str, Any] | None]:
    """The age at which losses stack (a CRM auto-close rule, or a stale rule): the most common
    age of the dated losses, when it holds at least :data:`LOSS_RULE_SHARE` of them and 5 or
    more; with its record (age, losses there, all losses). (None, None) otherwise."""
    lost = ~deals.is_open & (deals.outcome == "lost") & (deals.end >= deals.entry)
    ages = (deals.end - deals.created)[lost]
    if ages.size < 5:
        return None, None
    vals, counts = np.unique(ages, return_counts=True)
    k = int(np.argmax(counts))
    if counts[k] < 5 or counts[k] < LOSS_RULE_SHARE * ages.size:
        return None, None
    return int(vals[k]), {"age_days": int(vals[k]), "losses_at_age": int(counts[k]),
                          "losses": int(ages.size),
                          "rule": f"{counts[k]} of {ages.size} losses happen at age "
                                  f"{int(vals[k])} days: modelled as a rule (every deal still "
                                  "open at that age is lost that day), not as a hazard "
                                  "spread over its age bin"}


def fit_closing_hazards(created: pd.Series, close: pd.Series, outcome: np.ndarray,
                        cut: pd.Timestamp, truncation: pd.Timestamp | None = None, *,
                        bin_days: int = 14, calendar: bool | None = None) -> ClosingHazards:
    """Fit the model of the module docstring to the deals known at ``cut``.

    ``created``/``close``: dates (close NaT for open deals); ``outcome``: won/lost/open. Deals
    without a created date, and won or lost deals without a close date, do not enter (their
    timing is unknown; ``dropped`` on the result counts them). ``truncation``: the export's
    left-truncation date (deals count from it). ``bin_days``: days per age bin. ``calendar``
    None: fit the calendar and the age-only model and keep the lower AIC (age only on a tie);
    the calendar model is fitted only when the history has days in all three months of a
    quarter.
    """
    deals = DealDays.of(created, close, outcome, cut, truncation, bin_days)
    seen_q = deals.quarter_months_seen()
    options = [True, False] if calendar is None else [calendar]
    if calendar is None and seen_q < 3:
        options = [False]  # a month of the quarter never seen: its closing rate is unknown
    loss_age, loss_rule = loss_rule_age(deals)
    fits = {cal: _fit(deals, 3 if cal else 1, loss_age) for cal in options}
    best = min(fits, key=lambda k: (fits[k]["aic"], k))  # a tie goes to age only (False)
    f = fits[best]
    hz = ClosingHazards(
        calendar=best, bin_days=bin_days, n_bins=deals.n_bins, h_won=f["hw"], h_lost=f["hl"],
        exposure=f["E"], events_won=f["Nw"], events_lost=f["Nl"], pooled_stall=0.0, stall={},
        stall_tau2=0.0, loglik=f["loglik"], aic=f["aic"],
        alternative={("calendar" if k else "age_only"): {"loglik": v["loglik"], "aic": v["aic"]}
                     for k, v in fits.items() if k != best},
        origin=deals.origin, moq=deals.moq, dropped=deals.dropped,
        calendar_note=None if seen_q == 3 or calendar is not None else
        "the history before the cut does not cover all three months of a quarter: age only",
        loss_age=loss_age, loss_rule=loss_rule)
    _stalled_shares(hz, deals)
    _forecast(hz, deals)
    return hz


def _fit(deals: DealDays, Q: int, loss_age: int | None = None) -> dict[str, Any]:
    """Hazards = events / deal-days at risk per cell (``Q`` months of the quarter: 3, or 1 for
    age only), and the log-likelihood."""
    c, e, entry, n_bins, moq = deals.created, deals.end, deals.entry, deals.n_bins, deals.moq
    NC = n_bins * Q
    E = _cells(deals, Q)
    closed = ~deals.is_open & (e >= entry)
    ev = e[closed]
    cell = (np.minimum((ev - c[closed]) // deals.bin_days, n_bins - 1) * Q
            + (moq[ev] if Q > 1 else 0))
    won = deals.outcome[closed] == "won"
    lost = ~won
    if loss_age is not None:  # the rule's losses are not hazard events
        lost &= (ev - c[closed]) != loss_age
    Nw = np.bincount(cell[won], minlength=NC).astype(float)
    Nl = np.bincount(cell[lost], minlength=NC).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        hw = np.where(E > 0, Nw / E, 0.0)
        hl = np.where(E > 0, Nl / E, 0.0)
        if Q > 1:  # a cell never at risk: its bin's rate over the other months
            Eb = E.reshape(n_bins, Q).sum(axis=1)
            age_w = np.where(Eb > 0, Nw.reshape(n_bins, Q).sum(axis=1) / Eb, 0.0)
            age_l = np.where(Eb > 0, Nl.reshape(n_bins, Q).sum(axis=1) / Eb, 0.0)
            hw = np.where(E > 0, hw, np.repeat(age_w, Q))
            hl = np.where(E > 0, hl, np.repeat(age_l, Q))
        stay = E - Nw - Nl
        ll = float(np.sum(np.where(Nw > 0, Nw * np.log(hw), 0.0))
                   + np.sum(np.where(Nl > 0, Nl * np.log(hl), 0.0))
                   + np.sum(np.where(stay > 0, stay * np.log1p(-(hw + hl)), 0.0)))
    k = 2 * int(np.count_nonzero(E))  # a won and a lost rate per cell at risk
    return {"hw": hw.reshape(n_bins, Q), "hl": hl.reshape(n_bins, Q), "E": E.reshape(n_bins, Q),
            "Nw": Nw.reshape(n_bins, Q), "Nl": Nl.reshape(n_bins, Q), "loglik": ll,
            "aic": 2 * k - 2 * ll}


def _stalled_shares(hz: ClosingHazards, deals: DealDays) -> None:
    """Pooled and per-entry-month stalled shares (module docstring), into ``hz``."""
    c, cohort, is_open, cut_day = deals.created, deals.cohort, deals.is_open, deals.cut_day
    truncated = deals.entry > c
    days = np.unique(c)
    surv, _ = hz.paths(days)
    row = np.searchsorted(days, c)
    pi = surv[row, -1]
    age = np.minimum(cut_day - c, surv.shape[1] - 1)
    s_cut = surv[row, age]
    s0 = np.clip((s_cut - pi) / np.maximum(1 - pi, 1e-300), 0.0, 1.0)
    free = ~truncated
    pooled = float(np.mean(pi[free] if free.any() else pi))
    raw: dict[str, tuple[float, float]] = {}
    rows: dict[str, dict[str, Any]] = {}
    for m in sorted(set(cohort)):
        sel = cohort == m
        n = int(sel.sum())
        f = float(is_open[sel].mean())
        m0 = float(s0[sel].mean())
        trunc_m = bool(truncated[sel].any())
        informative = not trunc_m and 1 - m0 >= MIN_INFORMATIVE
        ff = min(max(f, 1 / n), 1 - 1 / n) if n > 1 else 0.5
        raw[m] = ((f - m0) / (1 - m0), ff * (1 - ff) / (n * (1 - m0) ** 2)) if informative \
            else (math.nan, math.inf)
        rows[m] = {"deals": n, "open_at_cut": int(is_open[sel].sum()), "open_share_at_cut": f,
                   "expected_open_if_pooled": float(np.mean(s_cut[sel])),
                   "closing_deals_open_at_cut": m0, "left_truncated": trunc_m}
    inf = [(r, v) for r, v in raw.values() if math.isfinite(v)]
    tau2 = 0.0
    if len(inf) >= 2:
        tau2 = max(float(np.var([r for r, _ in inf], ddof=1) - np.mean([v for _, v in inf])),
                   0.0)
    for m, (r, v) in raw.items():
        w = tau2 / (tau2 + v) if math.isfinite(v) and tau2 > 0 else 0.0
        share = float(min(max(pooled + w * ((r if math.isfinite(r) else pooled) - pooled),
                              0.0), 0.99))
        rows[m].update({"raw_stall_share": r if math.isfinite(r) else None, "weight": w,
                        "stall_share": share,
                        "stall_share_se": math.sqrt(w * v) if math.isfinite(v) else 0.0})
    hz.pooled_stall, hz.stall, hz.stall_tau2 = pooled, rows, tau2


def _forecast(hz: ClosingHazards, deals: DealDays) -> None:
    """Per open deal: never-closing share, open probability at the cut, and the won
    probability of each day from the cut to the end of its age range (computed once per
    creation day: deals created on the same day share their path)."""
    coh_open, cut_day = deals.cohort[deals.is_open], deals.cut_day
    days, row = np.unique(deals.created[deals.is_open], return_inverse=True)
    surv, won = hz.paths(days)
    ages = won.shape[1]
    age = np.minimum(cut_day - days, ages)
    j = np.arange(ages)[None, :] + age[:, None]
    inside = j < ages
    jj = np.minimum(j, ages - 1)
    rows = np.arange(days.size)[:, None]
    hz.open_cohort = np.asarray(coh_open, dtype=object)
    hz.open_row = row
    hz.open_pi = surv[:, -1]
    hz.open_surv = surv[np.arange(days.size), age]
    hz.open_won_by_day = np.where(inside, won[rows, jj], 0.0)
