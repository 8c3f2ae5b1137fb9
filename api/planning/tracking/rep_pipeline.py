# ruff: noqa: N803, N806  (F forecast, A actual: the notation of forecast_error)
"""Reps whose open pipeline closes more or less than the pooled model says, measured at inner
cuts before the as-of date (the rolling-origin check of
:mod:`salesplan.simulator.calibration.forecast_error`, per rep instead of per cohort).

At each inner origin ``o`` (the same first-of-months the calibration uses:
:func:`~salesplan.simulator.calibration.forecast_error.inner_origins`), the closing-hazard model
is refitted on what was known at ``o`` and gives each deal open then its probability of being
won in the window ``[o, min(o + 3 months, cut))``. Summed per rep over the origins: ``F_r``
(forecast wins) and ``A_r`` (wins that happened, known at the cut). The pool's ratio
``A / F`` is the bias the calibration already corrects; what is left per rep is
``y_r = log((A_r + 0.5) / (F_r A / F + 0.5))``, with sampling variance about ``1 / (F_r A / F)``
(Poisson; a lower bound, since the windows of successive origins overlap). Empirical Bayes:
the between-rep variance ``tau2 = max(var(y) - mean(v), 0)`` over reps forecast at least
``MIN_FORECAST`` wins, each rep's log factor shrunk to ``w y_r`` (``w = tau2 / (tau2 + v_r)``)
with posterior standard deviation ``sqrt(w v_r)``. The landing multiplies each rep's open deals'
won probability by ``exp(w y_r + sd z)`` (``z`` per rep and replication). Without an inner
origin, or with ``tau2 = 0``, every factor is 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from salesplan.simulator.calibration import fit_closing_hazards, history_at
from salesplan.simulator.calibration.forecast_error import MIN_CLOSE_MONTHS, inner_origins

from .state import AsOfState

__all__ = ["MIN_FORECAST", "RepPipeline", "rep_pipeline"]

MIN_FORECAST = 5.0
WINDOW_MONTHS = 3


@dataclass
class RepPipeline:
    """Per arrival unit: ``log_factor`` (posterior mean) and ``log_sd``; ``facts``."""

    log_factor: np.ndarray
    log_sd: np.ndarray
    facts: dict = field(default_factory=dict)


def rep_pipeline(state: AsOfState, units: list[str], calendar: bool,
                 per_deal_window_wins, min_close_months: int = MIN_CLOSE_MONTHS) -> RepPipeline:
    """The estimate of the module docstring. ``per_deal_window_wins(hz, days)``: each open
    deal's probability (in the hazard fit's order) of being won within ``days`` of the fit's
    cut; ``min_close_months``: the months of closes an inner origin needs before it (those of
    the model error's origins)."""
    d = state.deals
    trunc = d.attrs.get("truncation_date")
    origins = inner_origins(d["close_date"], d["outcome"].to_numpy(), state.cut, trunc,
                            min_close_months=min_close_months)
    F = pd.Series(0.0, index=units)
    A = pd.Series(0.0, index=units)
    rep_of = d.set_index("id")["rep"]
    won_on = d.loc[d["outcome"].eq("won"), ["id", "close_date"]].set_index("id")["close_date"]
    for o in origins:
        end = min(o + pd.DateOffset(months=WINDOW_MONTHS), state.cut)
        k = history_at(state.known, o).deals
        try:
            hz = fit_closing_hazards(k["created_date"], k["close_date"],
                                     k["outcome"].to_numpy(), o, trunc, calendar=calendar)
        except ValueError:
            continue
        dated = k[k["created_date"].notna()
                  & ~(k["outcome"].ne("open") & k["close_date"].isna())]
        op = dated[dated["outcome"].eq("open")]
        p = per_deal_window_wins(hz, int((end - o).days))
        reps = op["id"].map(rep_of).fillna("").to_numpy()
        close = op["id"].map(won_on)
        hit = (close.ge(o) & close.lt(end)).to_numpy(float)
        F = F.add(pd.Series(p).groupby(reps).sum(), fill_value=0.0).reindex(units,
                                                                              fill_value=0.0)
        A = A.add(pd.Series(hit).groupby(reps).sum(), fill_value=0.0).reindex(units,
                                                                                fill_value=0.0)
    return _shrink(F.to_numpy(), A.to_numpy(), units, len(origins))


def _shrink(F: np.ndarray, A: np.ndarray, units: list[str], n_origins: int) -> RepPipeline:
    out = RepPipeline(np.zeros(len(units)), np.zeros(len(units)),
                      {"rep_pipeline_origins": n_origins})
    if F.sum() <= 0 or A.sum() <= 0:
        return out
    scaled = F * A.sum() / F.sum()
    ok = (F >= MIN_FORECAST) & (np.array(units) != "")
    if ok.sum() < 3:
        return out
    y = np.log((A + 0.5) / (scaled + 0.5))
    v = 1.0 / np.maximum(scaled, 0.5)
    tau2 = max(float(np.var(y[ok], ddof=1) - np.mean(v[ok])), 0.0)
    out.facts["rep_pipeline_between_log_sd"] = math.sqrt(tau2)
    if tau2 == 0:
        return out
    w = np.where(ok, tau2 / (tau2 + v), 0.0)
    out.log_factor = w * y
    out.log_sd = np.sqrt(w * v)
    return out
