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

4. **Common part.** Cohorts open at the same origin share the hazards and the months ahead, so
   their errors can share a sign (Maven: every inner window over-forecast). A per-cohort frailty
   alone lets those errors average out over cohorts and regions, and the interval of a total is
   then too narrow. With ``u = c_o + w_oc`` (``c_o ~ N(0, s2_c)`` shared by the cohorts of
   origin ``o``, ``w_oc ~ N(0, s2_w)`` independent), ``E[e_c e_c'] = F_c F_c' (exp(s2_c) - 1)``
   for two cohorts of one origin (``e = A - F``), and the marginal
   ``E[e_c^2] = V_c + F_c^2 (exp(s2_c + s2_w) - 1)``. So ``theta_c = sum_o sum_{c != c'} e_c
   e_c' / sum_o sum_{c != c'} F_c F_c'`` (the cross-moments of a cohort with the *other*
   cohorts: independent per-cohort errors add nothing to them), ``s2_c = log(1 + theta_c)``
   (floored at 0), and ``s2_w = s2 - s2_c``. When the cross-moments say more than the marginal
   (``s2_c > s2``: sampling noise with few origins), the constrained estimate is ``s2_w = 0``
   and ``s2_c`` from all pairs, the cohort's own included: ``theta = sum_o ((sum_c e)^2 -
   sum_c V) / sum_o (sum_c F)^2``, the error of the origin's total; the draws' marginal is then
   ``s2_c``, not ``s2``. Origins with one cohort have no pairs and are left out. Standard error
   clustered by origin (with one origin: none); a lower bound, as the windows of successive
   origins overlap. The parameter draws multiply every pipeline cohort's ``P(won | open)`` by
   one common frailty and by its own. A bias shared by every window is a common error too:
   with errors that are all bias, ``theta_c`` is ``(1 - bias_ratio)^2``.

5. **Bias.** ``bias_ratio = sum A / sum F`` over the cohort-windows used (the ratio
   estimator of a multiplicative bias; standard error clustered by origin, none with one
   origin, and a lower bound: the windows of successive origins overlap, so the same wins are
   counted more than once). The calibration scales the won probability of every pipeline
   cohort by it on the days the windows measured, the first ``bias_window_days`` (the longest
   window) after the cut; later wins stay as the model says. It does not when told not to, or
   when no origin's windows forecast ``MIN_BIAS_FORECAST`` wins; ``bias_correction`` records the
   factor applied. The forecast-weighted ``mean_log_ratio`` is reported beside it.

The squared errors behind ``s2`` are taken about the *uncorrected* forecast, so they include the
bias: the interval around the corrected centre keeps the raw error's width, and a model that was
more biased before the cut gets a wider interval (at Maven's 2017-10-01 cut the common part,
log-sd 0.167, is almost all bias: ``sqrt(log(1 + (1 - 0.832)^2)) = 0.1665``). That is deliberate.
The spread of a handful of overlapping inner windows about their own mean understates the
error of a new cut: on Maven (five cuts, 2017-07 to 2017-11) the corrected forecast's realised
log errors (-0.08, +0.04, -0.24, -0.11, +0.02) have a root mean square of 0.13; the spread about
the ratio predicted 0 to 0.08, the raw error 0.14 to 0.24 (``benchmarks/calibration_cuts.py``).
The bias ratio's own standard error is therefore not drawn on top. The windows are at most the
horizon; shorter ones (the most recent origins) also carry timing errors, which a longer
horizon partly averages out, so for a long horizon the estimate leans conservative.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .hazards import ClosingHazards, fit_closing_hazards

__all__ = ["MIN_BIAS_FORECAST", "MIN_CLOSE_MONTHS", "MIN_FORECAST", "bias_correction",
           "bias_ratio", "common_log_variance", "frailty_log_variance", "inner_forecast_errors",
           "inner_origins", "origin_total_error", "pipeline_model_error"]

MIN_CLOSE_MONTHS = 3    # full months of closes an inner origin needs before it
MIN_FORECAST = 5.0      # forecast wins (in the window) a cohort needs to enter the estimate
MAX_ORIGINS = 3
MIN_BIAS_FORECAST = 100.0   # forecast wins (one origin's windows) to apply the bias ratio


def inner_origins(close: pd.Series, outcome: np.ndarray, cut: pd.Timestamp,
                  truncation: pd.Timestamp | None = None, max_origins: int = MAX_ORIGINS,
                  min_close_months: int = MIN_CLOSE_MONTHS) -> list[pd.Timestamp]:
    """The inner origins (first of months before ``cut``, oldest first): the ``max_origins``
    most recent with at least ``min_close_months`` full months of closes before them. The
    closes start at the first close date in the data (and not before ``truncation``)."""
    closed = (np.asarray(outcome) != "open") & close.notna().to_numpy()
    if not closed.any():
        return []
    first = close[closed].min().normalize()
    if truncation is not None:
        first = max(first, pd.Timestamp(truncation).normalize())
    if first.day != 1:
        first = first + pd.offsets.MonthBegin(1)
    earliest = first + pd.DateOffset(months=min_close_months)
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
                          cut: pd.Timestamp, truncation: pd.Timestamp | None = None, *,
                          horizon_months: int = 3, max_origins: int = MAX_ORIGINS,
                          bin_days: int = 14, calendar: bool | None = None,
                          min_close_months: int = MIN_CLOSE_MONTHS) -> pd.DataFrame:
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
    for o in inner_origins(close, outcome, cut, truncation, max_origins, min_close_months):
        end = min(o + pd.DateOffset(months=horizon_months), cut)
        days = int((end - o).days)
        known = (created < o).to_numpy()
        later = close.notna().to_numpy() & (close >= o).to_numpy()
        out_o = np.where(later, "open", outcome)[known]
        close_o = close.where(~later)[known]
        try:
            hz = fit_closing_hazards(created[known], close_o, out_o, o, truncation,
                                     bin_days=bin_days, calendar=calendar)
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


def _ratio_se(num: np.ndarray, den: np.ndarray) -> tuple[float, float | None]:
    """``theta = sum(num) / sum(den)`` over clusters and its cluster-robust (sandwich) standard
    error; None with one cluster."""
    theta = float(num.sum() / den.sum())
    k = num.size
    if k < 2:
        return theta, None
    r = num - theta * den
    return theta, math.sqrt(float(np.sum(r ** 2)) * k / (k - 1)) / float(den.sum())


def bias_ratio(forecast: np.ndarray, actual: np.ndarray, origin: np.ndarray
               ) -> dict[str, float | None]:
    """The multiplicative bias of the forecast (module docstring, step 5): ``bias_ratio =
    sum(actual) / sum(forecast)`` (unitless) and ``bias_ratio_se``, clustered by origin (None
    with one origin); both None without a positive forecast."""
    f = pd.Series(np.asarray(forecast, dtype=float)).groupby(np.asarray(origin)).sum()
    a = pd.Series(np.asarray(actual, dtype=float)).groupby(np.asarray(origin)).sum()
    if not len(f) or f.sum() <= 0:
        return {"bias_ratio": None, "bias_ratio_se": None}
    r, se = _ratio_se(a.to_numpy(), f.to_numpy())
    return {"bias_ratio": r, "bias_ratio_se": se}


def bias_correction(model_error: dict[str, Any], enabled: bool = True
                    ) -> tuple[float, str | None]:
    """The factor the calibration applies to the pipeline cohorts' ``P(won | open)`` and a note
    saying why: the bias ratio when ``enabled`` and at least one inner origin's windows
    forecast ``MIN_BIAS_FORECAST`` wins (``forecast_largest_origin``: the windows of one origin
    hold distinct wins, those of successive origins overlap; below it the ratio's Poisson noise
    alone is above 10%, and a noisy correction would add error rather than remove it); else 1.
    No note without a ratio."""
    r = model_error.get("bias_ratio")
    if r is None:
        return 1.0, None
    se = model_error.get("bias_ratio_se")
    said = (f"at the inner cuts the realised wins were {r:.3f} times the forecast"
            + (f" (SE {se:.3f}, a lower bound: the windows overlap)" if se is not None
               else " (one inner cut: no standard error)"))
    largest = float(model_error.get("forecast_largest_origin") or 0.0)
    if not enabled:
        return 1.0, said + "; not applied (the pipeline bias correction is off)"
    if largest < MIN_BIAS_FORECAST:
        return 1.0, (said + f"; not applied: the largest inner cut forecast {largest:.0f} wins, "
                     f"fewer than the {MIN_BIAS_FORECAST:.0f} needed to measure it")
    days = model_error.get("bias_window_days")
    return float(r), (said + "; every pipeline cohort's won probability in the first "
                      f"{days} days after the cut (the longest inner window) is scaled by it")


def origin_total_error(forecast: np.ndarray, actual: np.ndarray, var_noise: np.ndarray,
                       origin: np.ndarray, centre: float = 1.0) -> tuple[float, float | None]:
    """The relative error of the origins' totals about ``centre`` x the forecast:
    ``theta = sum_o ((sum_c A - centre sum_c F)^2 - sum_c V) / sum_o (centre sum_c F)^2``
    (unitless; ``log(1 + theta)`` is a log variance when positive) and its standard error
    clustered by origin (None with one origin). With ``centre = 1``, the "all common" estimate
    of :func:`common_log_variance`."""
    t = pd.DataFrame({"F": centre * np.asarray(forecast, dtype=float),
                      "A": np.asarray(actual, dtype=float),
                      "V": np.asarray(var_noise, dtype=float)}).groupby(np.asarray(origin)).sum()
    return _ratio_se(((t["A"] - t["F"]) ** 2 - t["V"]).to_numpy(), (t["F"] ** 2).to_numpy())


def common_log_variance(forecast: np.ndarray, actual: np.ndarray, var_noise: np.ndarray,
                        origin: np.ndarray, log_variance: float) -> dict[str, Any]:
    """Split a per-cohort frailty's log variance ``log_variance`` (:func:`frailty_log_variance`,
    the marginal) into a part shared by the cohorts of one origin and an independent part
    (module docstring, step 4). Returns ``common_log_variance`` and its standard error (None
    with one origin), ``common_theta_raw`` (the cross-moment ratio before any floor),
    ``cohort_log_variance`` (the independent part), ``split`` (``"cross-moments"``,
    ``"none common"``: the cross-moments are not positive, or ``"all common"``: they exceed the
    marginal, and the origins' totals give the estimate) and ``origins``."""
    df = pd.DataFrame({"F": np.asarray(forecast, dtype=float),
                       "e": np.asarray(actual, dtype=float) - np.asarray(forecast, dtype=float),
                       "o": np.asarray(origin)})
    df["F2"], df["e2"] = df["F"] ** 2, df["e"] ** 2
    g = df.groupby("o").sum()
    cross_num = (g["e"] ** 2 - g["e2"]).to_numpy()
    cross_den = (g["F"] ** 2 - g["F2"]).to_numpy()
    pairs = cross_den > 0                     # origins with two cohorts or more
    out: dict[str, Any] = {"common_log_variance": 0.0, "common_log_variance_se": None,
                           "common_theta_raw": None, "cohort_log_variance": log_variance,
                           "split": "none common", "origins": int(pairs.sum())}
    if not pairs.any():
        return out
    theta, se = _ratio_se(cross_num[pairs], cross_den[pairs])
    out["common_theta_raw"] = theta
    if theta <= 0:
        return out
    s2c = math.log1p(theta)
    if s2c <= log_variance:
        out.update(common_log_variance=s2c, cohort_log_variance=log_variance - s2c,
                   split="cross-moments",
                   common_log_variance_se=None if se is None else se / (1 + theta))
        return out
    theta_t, se_t = origin_total_error(forecast, actual, var_noise, origin)
    if theta_t <= 0:
        return out
    out.update(common_log_variance=math.log1p(theta_t), cohort_log_variance=0.0,
               split="all common",
               common_log_variance_se=None if se_t is None else se_t / (1 + theta_t))
    return out


METHOD = ("rolling-origin check before the cut: the model refitted at each inner origin "
          "forecasts each open entry-month cohort's wins up to min(origin + horizon, cut); "
          "mean-one lognormal frailty per cohort, method of moments beyond the binomial and "
          "stalled-share variance, floored at 0; split into a part common to the cohorts of one "
          "origin (cross-moments between cohorts) and an independent part")


def _windows_used(err: pd.DataFrame, use: pd.DataFrame) -> dict[str, Any]:
    """What the inner windows held: their lengths (days), the cohorts used (forecast at least
    ``MIN_FORECAST`` wins), the forecast (in all and at the largest origin) and actual wins,
    and the longest window used (the bias window)."""
    return {
        "window_days": sorted({int(x) for x in err["days"]}),
        "min_forecast_wins": MIN_FORECAST,
        "cohorts_used": len(use),
        "forecast_total": float(use["forecast"].sum()),
        "forecast_largest_origin": float(use.groupby("origin")["forecast"].sum().max())
        if len(use) else 0.0,
        "bias_window_days": int(use["days"].max()) if len(use) else 0,
        "actual_total": int(use["actual"].sum()),
    }


def _forecast_bias(use: pd.DataFrame) -> dict[str, Any]:
    """The forecast's bias over the cohorts used: the forecast-weighted ``mean_log_ratio`` of
    log((A + 0.5) / (F + 0.5)), the ``bias_ratio`` (:func:`bias_ratio`) and the share of
    cohorts below their forecast."""
    lr = np.log((use["actual"] + 0.5) / (use["forecast"] + 0.5))
    ratio = bias_ratio(use["forecast"].to_numpy(), use["actual"].to_numpy(),
                       use["origin"].to_numpy())
    return {
        "mean_log_ratio": float(np.average(lr, weights=use["forecast"])) if len(use) else None,
        **ratio,
        "share_below_forecast": float((use["actual"] < use["forecast"]).mean())
        if len(use) else None,
    }


def pipeline_model_error(created: pd.Series, close: pd.Series, outcome: np.ndarray,
                         cut: pd.Timestamp, truncation: pd.Timestamp | None = None, *,
                         horizon_months: int = 3, max_origins: int = MAX_ORIGINS,
                         bin_days: int = 14, calendar: bool | None = None,
                         min_close_months: int = MIN_CLOSE_MONTHS) -> dict[str, Any]:
    """The JSON-ready model-error estimate for the closing-hazard model's pipeline forecast
    (module docstring): the frailty's log variance and its standard error, the inner origins,
    the per-cohort errors, the common and own parts of the error (step 4), the bias ratio and
    the longest window it was measured over (step 5), and the diagnostic ``mean_log_ratio``
    (forecast-weighted mean of log((A + 0.5) / (F + 0.5))). ``log_variance`` None: not
    estimated (no inner origin with enough history, or no informative cohort): the draws then
    add nothing."""
    err = inner_forecast_errors(created, close, outcome, cut, truncation,
                                horizon_months=horizon_months, max_origins=max_origins,
                                bin_days=bin_days, calendar=calendar,
                                min_close_months=min_close_months)
    use = err[err["forecast"] >= MIN_FORECAST]
    est = frailty_log_variance(use["forecast"].to_numpy(), use["actual"].to_numpy(),
                               use["var_noise"].to_numpy(), use["cohort"].to_numpy())
    common = common_log_variance(use["forecast"].to_numpy(), use["actual"].to_numpy(),
                                 use["var_noise"].to_numpy(), use["origin"].to_numpy(),
                                 est["log_variance"] or 0.0)
    out: dict[str, Any] = {
        "method": METHOD,
        **est,
        "log_sd": math.sqrt(est["log_variance"]) if est["log_variance"] is not None else None,
        **({k: v for k, v in common.items() if k != "origins"}
           if est["log_variance"] is not None else {}),
        "origins": sorted(set(err["origin"])),
        "horizon_months": horizon_months,
        "calendar": calendar,
        **_windows_used(err, use),
        **_forecast_bias(use),
        "errors": err.assign(used=err["forecast"] >= MIN_FORECAST).to_dict(orient="records"),
    }
    if est["log_variance"] is None:
        out["note"] = (f"not estimated: no inner origin with {min_close_months} months of "
                       "closes before it, or no cohort forecast to win "
                       f"{MIN_FORECAST:g} deals")
    elif est["floored"]:
        out["note"] = ("the method-of-moments estimate is negative (the inner forecast errors "
                       "are no more dispersed than the binomial noise): floored at 0")
    return out
