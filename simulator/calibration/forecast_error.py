# ruff: noqa: N806  (single capitals follow the model notation: F forecast, A actual, V noise)
"""The model error of the open-pipeline forecast, sized from the calibration data alone by an
internal rolling-origin check (empirical prediction intervals: Williams & Goodman 1971,
"A simple method for the construction of empirical confidence limits for economic forecasts";
rolling-origin evaluation, Tashman 2000).

The closing-hazard model (:mod:`.hazards`) forecasts each entry-month cohort's wins from its
deals open at the cut. Its parameter draws carry the binomial noise of the wins and the standard
error of the cohort's stalled share, but not the error of the model itself: a cohort whose
closing deals close faster (or slower) than the pooled hazards is misread (Maven's July 2017
cohort). Nothing after the cut may be used to size that error, so it is measured *before* the
cut:

1. **Inner origins**: the most recent first-of-months ``o`` before the cut (at most
   ``max_origins``) with at least ``MIN_CLOSE_MONTHS`` full months of closes before them (a
   left-truncated export, whose closes start later than its deals, counts from its first close).
   Older origins would fit the model on less history than the real cut has.
2. At each origin, the model (the specification chosen at the cut: with or without the
   calendar) is fitted on what was known at ``o`` (deals created before it; closes on or after
   it unknown), and forecasts each open cohort's wins ``F`` over the window
   ``[o, min(o + horizon, cut))``; ``A`` is the wins that happened in that window (known at the
   cut). ``V`` is the variance the simulation already carries: the Poisson-binomial variance
   ``sum p (1 - p)`` of the wins plus ``(dF/dpi)^2 se(pi)^2`` from the stalled share's standard
   error.
3. **Frailty model**: ``E[A | u] = F exp(u - s2/2)`` with ``u ~ N(0, s2)`` per cohort and
   origin, so ``E[(A - F)^2] = V + F^2 (exp(s2) - 1)``. Method of moments with weights ``F^2``
   (near-optimal when the noise dominates): ``theta = sum((A - F)^2 - V) / sum(F^2)``,
   ``s2 = log(1 + theta)``, floored at 0 when ``theta < 0`` (noted: the cohorts are no more
   dispersed than the noise). Cohorts forecast to win fewer than ``MIN_FORECAST`` deals in their
   window say nothing about a relative error and are left out. Standard error: cluster-robust
   by cohort (a cohort's windows at successive origins overlap, so they are not independent).

The squared error includes any bias of the forecast (the interval is widened symmetrically on
the log scale; the bias is reported as ``mean_log_ratio``, not corrected). The windows are at most
the horizon; shorter ones (the most recent origins) also carry timing errors, which a longer
horizon partly averages out, so for a long horizon the estimate leans conservative.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .hazards import ClosingHazards, fit_closing_hazards

__all__ = ["MIN_CLOSE_MONTHS", "MIN_FORECAST", "frailty_log_variance", "inner_forecast_errors",
           "inner_origins", "pipeline_model_error"]

MIN_CLOSE_MONTHS = 3    # full months of closes an inner origin needs before it
MIN_FORECAST = 5.0      # forecast wins (in the window) a cohort needs to enter the estimate
MAX_ORIGINS = 3


def inner_origins(close: pd.Series, outcome: np.ndarray, cut: pd.Timestamp,
                  truncation: pd.Timestamp | None = None, max_origins: int = MAX_ORIGINS
                  ) -> list[pd.Timestamp]:
    """The inner origins (first of months before ``cut``, oldest first): the ``max_origins``
    most recent with at least ``MIN_CLOSE_MONTHS`` full months of closes before them. The
    closes start at the first close date in the data (and not before ``truncation``)."""
    closed = (np.asarray(outcome) != "open") & close.notna().to_numpy()
    if not closed.any():
        return []
    first = close[closed].min().normalize()
    if truncation is not None:
        first = max(first, pd.Timestamp(truncation).normalize())
    if first.day != 1:
        first = first + pd.offsets.MonthBegin(1)
    earliest = first + pd.DateOffset(months=MIN_CLOSE_MONTHS)
    last = cut.to_period("M").start_time
    if last >= cut:
        last = last - pd.DateOffset(months=1)
    out = []
    o = last
    while o >= earliest and len(out) < max_origins:
        out.append(o)
        o = o - pd.DateOffset(months=1)
    return out[::-1]


def _stall_variance(hz: ClosingHazards, cohort: str, days: int) -> float:
    """Variance (wins^2) of a cohort's forecast wins in ``days`` from the standard error of its
    stalled share (delta method, central difference); 0 without a standard error."""
    se = (hz.stall.get(cohort) or {}).get("stall_share_se") or 0.0
    if se <= 0:
        return 0.0
    pim, eps = hz.stall_share(cohort), 1e-4
    lo, hi = max(pim - eps, 0.0), min(pim + eps, 0.99)
    if hi <= lo:
        return 0.0
    d = (hz.cohort_window_wins(cohort, days, hi).sum()
         - hz.cohort_window_wins(cohort, days, lo).sum()) / (hi - lo)
    return float((d * se) ** 2)


def inner_forecast_errors(created: pd.Series, close: pd.Series, outcome: np.ndarray,
                          cut: pd.Timestamp, truncation: pd.Timestamp | None = None,
                          horizon_months: int = 3, max_origins: int = MAX_ORIGINS,
                          bin_days: int = 14, calendar: bool | None = None) -> pd.DataFrame:
    """One row per inner origin x entry-month cohort open there: ``forecast`` (expected wins in
    the window, deals), ``actual`` (wins in the window), ``var_noise`` (deals^2: the binomial
    variance plus the stalled share's), ``days`` (window length), ``open_deals``,
    ``stall_share``. The data are as known at ``cut`` (later closes unknown: open); only
    closes before the cut are used. ``calendar``: the hazard model's specification at every
    origin (the calibration passes the one chosen at the cut, so that the error measured is that
    model's; None: chosen by AIC at each origin)."""
    outcome = np.asarray(outcome)
    created = pd.Series(created).reset_index(drop=True)
    close = pd.Series(close).reset_index(drop=True)
    cohort = created.dt.strftime("%Y-%m").to_numpy()
    rows: list[dict[str, Any]] = []
    for o in inner_origins(close, outcome, cut, truncation, max_origins):
        end = min(o + pd.DateOffset(months=horizon_months), cut)
        days = int((end - o).days)
        known = (created < o).to_numpy()
        later = close.notna().to_numpy() & (close >= o).to_numpy()
        out_o = np.where(later, "open", outcome)[known]
        close_o = close.where(~later)[known]
        try:
            hz = fit_closing_hazards(created[known], close_o, out_o, o, truncation, bin_days,
                                     calendar)
        except ValueError:
            continue
        won_in = (known & (outcome == "won") & (close >= o).to_numpy()
                  & (close < end).to_numpy())
        for c in sorted(set(hz.open_cohort)):
            p = hz.cohort_window_wins(c, days)
            rows.append({"origin": o.date().isoformat(), "window_end": end.date().isoformat(),
                         "days": days, "cohort": c, "open_deals": int(p.size),
                         "stall_share": hz.stall_share(c), "forecast": float(p.sum()),
                         "actual": int((won_in & (cohort == c)).sum()),
                         "var_noise": float((p * (1 - p)).sum()) + _stall_variance(hz, c, days)})
    return pd.DataFrame(rows, columns=["origin", "window_end", "days", "cohort", "open_deals",
                                       "stall_share", "forecast", "actual", "var_noise"])


def frailty_log_variance(forecast: np.ndarray, actual: np.ndarray, var_noise: np.ndarray,
                         cluster: np.ndarray | None = None) -> dict[str, Any]:
    """Method-of-moments variance ``s2`` (log scale, unitless) of a mean-one lognormal frailty
    on forecast counts (module docstring): ``theta = sum((A - F)^2 - V) / sum(F^2)``,
    ``s2 = log(1 + max(theta, 0))``. Standard error by the sandwich formula, cluster-robust over
    ``cluster`` (default: every row its own), by the delta method on the log. Returns
    ``log_variance``, ``log_variance_se``, ``theta_raw``, ``floored`` (theta < 0: set to 0),
    ``n``; ``log_variance`` None when no row is informative."""
    F = np.asarray(forecast, dtype=float)
    A = np.asarray(actual, dtype=float)
    V = np.asarray(var_noise, dtype=float)
    g = np.arange(F.size) if cluster is None else np.asarray(cluster)
    if not F.size or not np.any(F > 0):
        return {"log_variance": None, "log_variance_se": None, "theta_raw": None,
                "floored": False, "n": int(F.size), "clusters": 0}
    w = F ** 2
    theta = float(np.sum((A - F) ** 2 - V) / w.sum())
    resid = (A - F) ** 2 - V - theta * w         # w (z - theta), z = ((A - F)^2 - V) / F^2
    per = pd.Series(resid).groupby(g).sum().to_numpy()
    k = per.size
    se_theta = math.sqrt(float(np.sum(per ** 2)) * (k / (k - 1) if k > 1 else 1.0)) / w.sum()
    t = max(theta, 0.0)
    return {"log_variance": math.log1p(t), "log_variance_se": se_theta / (1 + t),
            "theta_raw": theta, "floored": theta < 0, "n": int(F.size), "clusters": int(k)}


def pipeline_model_error(created: pd.Series, close: pd.Series, outcome: np.ndarray,
                         cut: pd.Timestamp, truncation: pd.Timestamp | None = None,
                         horizon_months: int = 3, max_origins: int = MAX_ORIGINS,
                         bin_days: int = 14, calendar: bool | None = None) -> dict[str, Any]:
    """The JSON-ready model-error estimate for the closing-hazard model's pipeline forecast
    (module docstring): the frailty's log variance and its standard error, the inner origins,
    the per-cohort errors, and the bias diagnostic ``mean_log_ratio`` (forecast-weighted mean of
    log((A + 0.5) / (F + 0.5)), not corrected). ``log_variance`` None: not estimated (no inner
    origin with enough history, or no informative cohort): the draws then add nothing."""
    err = inner_forecast_errors(created, close, outcome, cut, truncation, horizon_months,
                                max_origins, bin_days, calendar)
    use = err[err["forecast"] >= MIN_FORECAST]
    est = frailty_log_variance(use["forecast"].to_numpy(), use["actual"].to_numpy(),
                               use["var_noise"].to_numpy(), use["cohort"].to_numpy())
    lr = np.log((use["actual"] + 0.5) / (use["forecast"] + 0.5))
    out: dict[str, Any] = {
        "method": "rolling-origin check before the cut: the model refitted at each inner origin "
                  "forecasts each open entry-month cohort's wins up to min(origin + horizon, "
                  "cut); mean-one lognormal frailty per cohort, method of moments beyond the "
                  "binomial and stalled-share variance, floored at 0",
        **est,
        "log_sd": math.sqrt(est["log_variance"]) if est["log_variance"] is not None else None,
        "origins": sorted(set(err["origin"])),
        "horizon_months": horizon_months,
        "calendar": calendar,
        "window_days": sorted({int(x) for x in err["days"]}),
        "min_forecast_wins": MIN_FORECAST,
        "cohorts_used": len(use),
        "forecast_total": float(use["forecast"].sum()),
        "actual_total": int(use["actual"].sum()),
        "mean_log_ratio": float(np.average(lr, weights=use["forecast"])) if len(use) else None,
        "share_below_forecast": float((use["actual"] < use["forecast"]).mean())
        if len(use) else None,
        "errors": err.assign(used=err["forecast"] >= MIN_FORECAST).to_dict(orient="records"),
    }
    if est["log_variance"] is None:
        out["note"] = (f"not estimated: no inner origin with {MIN_CLOSE_MONTHS} months of "
                       "closes before it, or no cohort forecast to win "
                       f"{MIN_FORECAST:g} deals")
    elif est["floored"]:
        out["note"] = ("the method-of-moments estimate is negative (the inner forecast errors "
                       "are no more dispersed than the binomial noise): floored at 0")
    return out
