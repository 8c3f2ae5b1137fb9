"""The landing model fitted at the as-of date: how the open pipeline closes, how many new deals
arrive and win, and what a win is worth. :mod:`.landing` draws from it.

- **Open deals** go on from their age: the calibration's closing-hazard model (won and lost
  hazards by deal age and month of the quarter, a stalled share per entry month;
  :func:`~salesplan.simulator.calibration.fit_closing_hazards`) fitted on what was known at the
  cut gives each open deal its won probability on every later day, given open at the cut. The
  bias the model showed at inner cuts before the as-of date, and its model error (a mean-one
  lognormal frailty common to all cohorts and one per entry-month cohort,
  :func:`~salesplan.simulator.calibration.pipeline_model_error`), come with it.
- **New deals** arrive per rep (the rep-sourced and routed deals alike: the export's created
  deals) at the rate of the trailing ``ARRIVAL_WINDOW_DAYS`` days, its uncertainty the gamma
  posterior of a Poisson rate (reference prior ``1/rate``: none observed, none expected);
  each follows the same hazards from its creation day. Its cell (product, segment) follows
  the rep's won mix. Arrivals swing from month to month beyond Poisson noise, and reps
  convert better or worse than the pool (:mod:`.heterogeneity`); a rep's open pipeline may
  close more or less than the pooled model says (:mod:`.rep_pipeline`).
- **Values**: a known amount is used as is; an unknown one (a flat export hides it until the
  close) is drawn from the won amounts of the deal's product before the cut.

History exports (stage changes) use the same whole-cycle model by age; an open deal's won
probability is then moved between deals by its stage's win rate (:func:`_stage_factor`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from salesplan.simulator.calibration import fit_closing_hazards, pipeline_model_error
from salesplan.simulator.calibration.forecast_error import MIN_CLOSE_MONTHS, bias_correction

from .errors import TrackingError
from .heterogeneity import heterogeneity
from .periods import month_index
from .rep_pipeline import rep_pipeline
from .standing import stage_win_rates
from .state import AsOfState

__all__ = ["ARRIVAL_WINDOW_DAYS", "MIN_CLOSED", "LandingModel", "fit_landing_model"]

ARRIVAL_WINDOW_DAYS = 91
"""Trailing days (before the cut) whose created deals give each rep's arrival rate."""

BEYOND_DAYS = 92
"""Days simulated after the last tracked month (their wins count in no period): what a
pull-forward action can bring into the period."""

MIN_CLOSED = 10
"""The fewest won or lost deals with dates before the cut the closing rates need."""

FALLBACK_CLOSE_MONTHS = 1
"""Months of closes an inner cut needs before it when the export has no inner cut with the
calibration's three (``MIN_CLOSE_MONTHS``): the least that leaves a model to refit. A
model refitted on less history errs more than the one at the as-of date, so the error measured
there leans wide; without it the intervals carry no model error and are known to be too
narrow."""


@dataclass
class LandingModel:
    """What :func:`~.landing.simulate_landing` needs (arrays; ``H`` horizon days from the cut,
    ``M`` months of the tracking window).

    ``months``: the calendar months tracked; ``day_month``: month index of each horizon day
    (-1 before the window); open deals: ``open_cell``, ``open_cum`` (``[n, H]`` cumulative won
    probability by day, given open at the cut, bias corrected), ``open_cohort`` (codes),
    ``open_amount`` (NaN: unknown), ``open_product`` (index into ``pools``), ``open_id``;
    ``common_log_var``, ``cohort_log_var``: the model error; arrivals per unit (a rep, or "" for
    deals without an owner): ``unit``, ``unit_count`` (deals created in the window),
    ``unit_exposure`` (days), ``unit_cells`` / ``unit_mix`` (the cells of its new wins and their
    shares), ``new_kernel`` (``[M]`` expected wins per unit of daily arrival rate in each
    month); ``pools``: sorted won amounts per product index; ``cell_product``; ``won_actual``
    (``[cells, M]``: won before the cut); ``open_unit``: each open deal's arrival unit (its
    rep); ``unit_win_ratio`` / ``unit_win_ratio_sd`` and the arrival swings' log variances:
    :mod:`.heterogeneity`."""

    months: list[pd.Period]
    day_month: np.ndarray
    open_cell: np.ndarray
    open_cum: np.ndarray
    open_cohort: np.ndarray
    open_amount: np.ndarray
    open_product: np.ndarray
    open_id: np.ndarray
    common_log_var: float
    cohort_log_var: float
    unit: list[str]
    unit_count: np.ndarray
    unit_exposure: float
    unit_cells: list[np.ndarray]
    unit_mix: list[np.ndarray]
    new_kernel: np.ndarray
    pools: list[np.ndarray]
    cell_product: np.ndarray
    won_actual: np.ndarray
    open_unit: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    unit_win_ratio: np.ndarray = field(default_factory=lambda: np.zeros(0))
    unit_win_ratio_sd: np.ndarray = field(default_factory=lambda: np.zeros(0))
    arrival_common_log_var: float = 0.0
    arrival_own_log_var: float = 0.0
    unit_pipe_log_factor: np.ndarray = field(default_factory=lambda: np.zeros(0))
    unit_pipe_log_sd: np.ndarray = field(default_factory=lambda: np.zeros(0))
    facts: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def n_cells(self) -> int:
        return self.won_actual.shape[0]

    @property
    def horizon(self) -> int:
        return self.day_month.size


def fit_landing_model(state: AsOfState, months: list[pd.Period]) -> LandingModel:
    """Fit the model of the module docstring at ``state.cut`` for the calendar ``months``."""
    d = state.deals
    closed = d["outcome"].ne("open") & d["close_date"].notna() & d["created_date"].notna()
    if int(closed.sum()) < MIN_CLOSED:
        raise TrackingError(f"only {int(closed.sum())} won or lost deals with dates before "
                            f"{state.cut.date()}: the closing rates need at least {MIN_CLOSED}")
    trunc = d.attrs.get("truncation_date")
    hz = fit_closing_hazards(d["created_date"], d["close_date"], d["outcome"].to_numpy(),
                             state.cut, trunc)
    me, close_months = _model_error(d, state.cut, trunc, hz.calendar)
    me["bias_correction"], bias_note = bias_correction(me, enabled=close_months ==
                                                       MIN_CLOSE_MONTHS)
    hz.model_error = me
    end = months[-1].end_time.normalize() + pd.Timedelta(days=BEYOND_DAYS)
    horizon = max(int((end - state.cut).days) + 1, 0)
    days = state.cut + pd.to_timedelta(np.arange(horizon), unit="D")
    day_month = month_index(months, pd.Series(days))
    products = sorted(set(state.cells["product"]))
    pools = [_pool(d, p) for p in products]
    cell_product = np.array([products.index(p) for p in state.cells["product"]])
    model = LandingModel(
        months=months, day_month=day_month, **_open_deals(state, hz, horizon, products),
        common_log_var=hz.common_log_var, cohort_log_var=hz.cohort_log_var,
        **_arrivals(state, hz, horizon, day_month, len(months)), pools=pools,
        cell_product=cell_product, won_actual=_won_actual(state, months))
    het = heterogeneity(state, model.unit)
    model.open_unit = np.array([model.unit.index(r) for r in
                                state.cells["rep"].to_numpy()[model.open_cell]], dtype=np.int64)
    model.unit_win_ratio, model.unit_win_ratio_sd = het.win_ratio, het.win_ratio_sd
    model.arrival_common_log_var = het.arrival_common_log_var
    model.arrival_own_log_var = het.arrival_own_log_var
    rp = rep_pipeline(state, model.unit, hz.calendar, _window_wins, close_months)
    model.unit_pipe_log_factor, model.unit_pipe_log_sd = rp.log_factor, rp.log_sd
    model.facts = {"closing_model": "age x month of quarter" if hz.calendar else "age only",
                   "pooled_stall_share": hz.pooled_stall,
                   "bias_correction": hz.pipeline_bias,
                   "bias_window_days": me.get("bias_window_days"),
                   "inner_cut_close_months": close_months,
                   "model_error_common_log_sd": math.sqrt(hz.common_log_var),
                   "model_error_cohort_log_sd": math.sqrt(hz.cohort_log_var),
                   "arrival_window_days": model.unit_exposure, **het.facts, **rp.facts}
    model.notes += [n for n in (bias_note, hz.calendar_note) if n] + het.notes
    if close_months < MIN_CLOSE_MONTHS and me.get("log_variance") is not None:
        model.notes.append(
            f"the export has fewer than {MIN_CLOSE_MONTHS} months of closes before any "
            f"inner cut: the open-pipeline model error is measured at cuts with "
            f"{close_months} month(s) of closes before them, where the model knew less than "
            "it does now (the intervals lean wide rather than narrow)")
    if me.get("log_variance") is None:
        model.notes.append(f"open-pipeline model error {me.get('note')}: the landing "
                           "intervals carry no model error and are too narrow")
    elif me.get("note"):
        model.notes.append(f"open-pipeline model error: {me['note']}")
    return model


def _model_error(d: pd.DataFrame, cut: pd.Timestamp, trunc, calendar: bool
                 ) -> tuple[dict, int]:
    """The open pipeline's model error at inner cuts
    (:func:`~salesplan.simulator.calibration.pipeline_model_error`) and the months of closes
    each inner cut had before it: the calibration's ``MIN_CLOSE_MONTHS``, or, when the
    export has no inner cut with that much history, ``FALLBACK_CLOSE_MONTHS``."""
    args = (d["created_date"], d["close_date"], d["outcome"].to_numpy(), cut, trunc)
    me = pipeline_model_error(*args, horizon_months=3, calendar=calendar)
    if me.get("origins"):
        return me, MIN_CLOSE_MONTHS
    fallback = pipeline_model_error(*args, horizon_months=3, calendar=calendar,
                                    min_close_months=FALLBACK_CLOSE_MONTHS)
    if not fallback.get("origins"):
        return me, MIN_CLOSE_MONTHS
    return fallback, FALLBACK_CLOSE_MONTHS


def _pool(d: pd.DataFrame, product: str) -> np.ndarray:
    """Won amounts (> 0) of ``product`` before the cut, sorted; all won amounts when the
    product has fewer than 5."""
    won = d[d["outcome"].eq("won") & d["amount"].gt(0)]
    a = won.loc[won["product"].eq(product), "amount"].to_numpy(float)
    if a.size < 5:
        a = won["amount"].to_numpy(float)
    if a.size == 0:
        raise TrackingError("no won deal with an amount before the as-of date: the value of "
                            "future wins cannot be estimated")
    return np.sort(a)


def _open_deals(state: AsOfState, hz, horizon: int, products: list[str]) -> dict:
    """Per open deal (in the hazard fit's order): cell, cumulative won probability by day from
    the cut (given open then; bias corrected within the bias window), cohort, amount."""
    d = state.deals
    dated = d[d["created_date"].notna() & ~(d["outcome"].ne("open") & d["close_date"].isna())]
    op = dated[dated["outcome"].eq("open")]
    per_day = hz.open_won_by_day[hz.open_row] * _scale(hz)[:, None]
    per_day *= _stage_factor(state, op)[:, None]
    r, window = hz.pipeline_bias, int(hz.model_error.get("bias_window_days") or 0)
    if r != 1.0:
        per_day[:, :window] *= r
    won = np.zeros((len(op), horizon))
    k = min(horizon, per_day.shape[1])
    won[:, :k] = per_day[:, :k]
    cum = np.minimum(np.cumsum(won, axis=1), 1.0)
    _, codes = np.unique(np.asarray(hz.open_cohort, dtype=str), return_inverse=True)
    return {"open_cell": op["cell"].to_numpy(np.int64), "open_cum": cum,
            "open_cohort": codes.astype(np.int64),
            "open_amount": op["amount"].to_numpy(float),
            "open_product": np.array([products.index(p) for p in op["product"]], dtype=np.int64),
            "open_id": op["id"].astype(str).to_numpy()}


def _stage_factor(state: AsOfState, op: pd.DataFrame) -> np.ndarray:
    """History exports: each open deal's won probability relative to its stage, ``w_s / w``,
    with ``w_s`` its stage's win rate (:func:`~.standing.stage_win_rates`) and ``w`` their mean
    over the open deals. The pooled model's total for the pipeline stays; the stage moves it
    between deals (a deal in negotiation wins more often than one in prospecting of the same
    age). Flat exports: 1."""
    if state.flat or op.empty:
        return np.ones(len(op))
    rates = stage_win_rates(state)
    stages = list(state.known.mapping.scenario_stages)
    w = op["stage"].where(op["stage"].isin(stages), stages[0]).map(rates).to_numpy(float)
    mean = float(np.nanmean(w)) if np.isfinite(w).any() else 0.0
    if mean <= 0:
        return np.ones(len(op))
    return np.nan_to_num(w / mean, nan=1.0)


def _window_wins(hz, days: int) -> np.ndarray:
    """Each open deal's probability of being won within ``days`` of the fit's cut (in the
    fit's order of open deals)."""
    won = hz.open_won_by_day[hz.open_row, :max(days, 0)].sum(axis=1)
    return np.clip(_scale(hz) * won, 0.0, 1.0)


def _scale(hz) -> np.ndarray:
    """Per open deal: the factor that turns its unconditional won probability on a day into
    the probability given open at the cut, with its cohort's stalled share (the formula of
    :mod:`salesplan.simulator.calibration.hazards`: ``(1 - pi_m) / (1 - pi_c) /
    (pi_m + (1 - pi_m) S0_c(a))``)."""
    pim = np.array([hz.stall_share(c) for c in hz.open_cohort], dtype=float)
    pi = hz.open_pi[hz.open_row]
    closing = np.maximum(1 - pi, 1e-300)
    s0 = np.clip((hz.open_surv[hz.open_row] - pi) / closing, 0.0, 1.0)
    den = pim + (1 - pim) * s0
    return np.where(den > 0, (1 - pim) / closing / np.where(den > 0, den, 1.0), 0.0)


def _arrivals(state: AsOfState, hz, horizon: int, day_month: np.ndarray, n_months: int
              ) -> dict:
    """Arrival units (reps, and "" for deals without an owner), their created deals in the
    trailing window, the cells of their new wins, and the new-deal kernel."""
    d = state.deals
    trunc = d.attrs.get("truncation_date")
    start = state.cut - pd.Timedelta(days=ARRIVAL_WINDOW_DAYS)
    if trunc is not None and start < trunc:
        start = pd.Timestamp(trunc)
    exposure = float(max((state.cut - start).days, 1))
    recent = d[d["created_date"].ge(start) & d["created_date"].lt(state.cut)]
    units = sorted(set(state.cells["rep"]))
    count = recent.groupby("rep").size().reindex(units, fill_value=0).to_numpy(float)
    won = d[d["outcome"].eq("won")]
    unit_cells, unit_mix = [], []
    for u in units:
        mine = won.loc[won["rep"].eq(u), "cell"]
        if mine.empty:
            mine = d.loc[d["rep"].eq(u), "cell"]
        if mine.empty:
            mine = pd.Series(np.flatnonzero(state.cells["rep"].eq(u).to_numpy()))
        vc = mine.value_counts().sort_index()
        unit_cells.append(vc.index.to_numpy(np.int64))
        unit_mix.append(vc.to_numpy(float) / vc.sum())
    return {"unit": units, "unit_count": count, "unit_exposure": exposure,
            "unit_cells": unit_cells, "unit_mix": unit_mix,
            "new_kernel": _new_kernel(hz, state, horizon, day_month, n_months)}


def _new_kernel(hz, state: AsOfState, horizon: int, day_month: np.ndarray, n_months: int
                ) -> np.ndarray:
    """Expected wins in each month per unit of daily arrival rate: a deal created on each day
    from the cut to the horizon end, followed through the hazards (stalled share included)."""
    kernel = np.zeros(n_months)
    if horizon == 0:
        return kernel
    cut_day = int((state.cut - hz.origin).days)
    _, won = hz.paths(cut_day + np.arange(horizon))
    ages = won.shape[1]
    for d in range(horizon):
        k = min(ages, horizon - d)
        m = day_month[d:d + k]
        ok = m >= 0
        kernel += np.bincount(m[ok], weights=won[d, :k][ok], minlength=n_months)
    return kernel


def _won_actual(state: AsOfState, months: list[pd.Period]) -> np.ndarray:
    """Won amounts before the cut per cell and tracked month (``[cells, M]``)."""
    d = state.deals
    won = d[d["outcome"].eq("won") & d["close_date"].notna()]
    m = month_index(months, won["close_date"])
    ok = m >= 0
    out = np.zeros((len(state.cells), len(months)))
    np.add.at(out, (won["cell"].to_numpy()[ok], m[ok]), won["amount"].fillna(0).to_numpy()[ok])
    return out
