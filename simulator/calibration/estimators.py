"""Estimators beside the duration fits: lead arrivals, stage conversion from transitions, deal
sizes and per-rep productivity with empirical-Bayes shrinkage.

Every estimate carries its uncertainty (a standard error and a 95% interval) and the number of
observations behind it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from .fits import fit_duration

__all__ = [
    "ArrivalFit",
    "PoissonFit",
    "fit_arrivals",
    "fit_deal_size",
    "fit_poisson",
    "jeffreys_interval",
    "rep_productivity",
]

DAYS_PER_MONTH = 365.25 / 12


def jeffreys_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Jeffreys interval for a binomial proportion (Beta(k + 1/2, n - k + 1/2) quantiles)."""
    if n == 0:
        return (0.0, 1.0)
    a = (1 - level) / 2
    lo = 0.0 if k == 0 else float(stats.beta.ppf(a, k + 0.5, n - k + 0.5))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - a, k + 0.5, n - k + 0.5))
    return lo, hi


@dataclass
class ArrivalFit:
    """Leads per month of one group: a Poisson log-linear model
    ``E[count_m] = exposure_m x level x exp(trend x (m - m_ref) / 12) x season[calendar month]``
    with exposure = days in month / (365.25/12). ``level``: leads per month at the reference
    month (the first month after the data); ``annual_growth`` = exp(trend) - 1; seasonality is
    only estimated from at least 24 months. Standard errors are scaled by the Pearson
    dispersion when it exceeds 1 (over-dispersed counts)."""

    group: dict[str, str]
    months: list[str]
    counts: list[int]
    level: float
    level_se: float
    level_ci: tuple[float, float]
    annual_growth: float
    growth_ci: tuple[float, float] | None
    growth_used: bool
    seasonality: list[float]
    seasonality_ci: list[tuple[float, float]] | None
    seasonality_used: bool
    dispersion: float
    mean_level: float
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["level_ci"] = list(self.level_ci)
        d["growth_ci"] = list(self.growth_ci) if self.growth_ci else None
        d["seasonality_ci"] = ([list(c) for c in self.seasonality_ci]
                               if self.seasonality_ci else None)
        return d


def _month_exposure(periods: pd.PeriodIndex) -> np.ndarray:
    return np.asarray(periods.days_in_month, dtype=float) / DAYS_PER_MONTH


@dataclass(frozen=True)
class PoissonFit:
    """A Poisson log-linear fit of monthly counts: coefficients ``b`` (intercept, [trend per
    year], [11 season contrasts]), their covariance (scaled by the dispersion when it exceeds
    1) and the Pearson ``dispersion`` (1 without residual degrees of freedom)."""

    b: np.ndarray
    cov: np.ndarray
    dispersion: float


def _arrival_design(periods: pd.PeriodIndex, use_trend: bool, use_season: bool) -> np.ndarray:
    """The design matrix: intercept, [years from the month after the data], [indicators of
    February..December]."""
    n_m = len(periods)
    tm = (np.arange(n_m) - n_m) / 12.0  # the reference: the month after the data
    cal = np.asarray(periods.month) - 1
    cols = [np.ones(n_m)]
    if use_trend:
        cols.append(tm)
    if use_season:
        for c in range(1, 12):
            cols.append((cal == c).astype(float))
    return np.column_stack(cols)


def fit_poisson(X: np.ndarray, y: np.ndarray, expo: np.ndarray) -> PoissonFit:  # noqa: N803
    """Maximum-likelihood Poisson regression of counts ``y`` on ``X`` with exposure ``expo``
    (BFGS from the mean rate), with the inverse information scaled by the dispersion."""
    def nll(b: np.ndarray) -> float:
        eta = X @ b + np.log(expo)
        return float(np.sum(np.exp(eta) - y * eta))
    def grad(b: np.ndarray) -> np.ndarray:
        mu = np.exp(X @ b + np.log(expo))
        return X.T @ (mu - y)
    b0 = np.zeros(X.shape[1])
    b0[0] = math.log(max(y.sum(), 0.5) / expo.sum())
    res = optimize.minimize(nll, b0, jac=grad, method="BFGS")
    b = res.x
    mu = np.exp(X @ b + np.log(expo))
    info = X.T @ (mu[:, None] * X)
    cov = np.linalg.pinv(info)
    n_m = len(y)
    dof = max(n_m - X.shape[1], 1)
    disp = float(np.sum((y - mu) ** 2 / np.maximum(mu, 1e-9)) / dof) if n_m > X.shape[1] else 1.0
    return PoissonFit(b=b, cov=cov * max(disp, 1.0), dispersion=disp)


def _seasonal_level(fit: PoissonFit, use_season: bool
                    ) -> tuple[float, np.ndarray, list[tuple[float, float]] | None]:
    """The log level at the reference month with a flat season (the season contrasts
    re-centred), the 12 seasonal factors (mean 1 on the log scale) and their 95% intervals
    (relative to January, re-centred approximately; None without seasonality)."""
    b, cov = fit.b, fit.cov
    if not use_season:
        return b[0], np.ones(12), None
    season_log = np.concatenate([[0.0], b[-11:]])
    centre = np.mean(season_log)
    se_s = np.concatenate([[0.0], np.sqrt(np.maximum(np.diag(cov)[-11:], 0))])
    season_ci = [(float(math.exp(s - centre - 1.96 * e)), float(math.exp(s - centre
                                                                         + 1.96 * e)))
                 for s, e in zip(season_log, se_s, strict=True)]
    return b[0] + centre, np.exp(season_log - centre), season_ci


def _growth(fit: PoissonFit) -> tuple[float, tuple[float, float], bool]:
    """Annual growth ``exp(trend) - 1`` (0 when the trend is not significant at 5%), its 95%
    interval, and whether it is significant (used)."""
    g, se_g = fit.b[1], math.sqrt(max(fit.cov[1, 1], 0))
    growth_used = abs(g) > 1.96 * se_g
    growth_ci = (math.expm1(g - 1.96 * se_g), math.expm1(g + 1.96 * se_g))
    return (math.expm1(g) if growth_used else 0.0), growth_ci, growth_used


def fit_arrivals(dates: pd.Series, first: pd.Period, last: pd.Period, group: dict[str, str],
                 min_months_growth: int = 12, min_months_season: int = 24,
                 last_days: int | None = None) -> ArrivalFit:
    """Fit monthly counts of ``dates`` over the fully observed months ``first``..``last``
    (:class:`ArrivalFit`): seasonality from ``min_months_season`` months of at least 5 leads a
    month on average, a trend from ``min_months_growth`` months and 30 leads. ``last_days``:
    the month ``last`` is observed for its first ``last_days`` days only (its exposure)."""
    periods = pd.period_range(first, last, freq="M")
    counts = (dates.dt.to_period("M").value_counts().reindex(periods, fill_value=0)
              .to_numpy(dtype=float))
    expo = _month_exposure(periods)
    if last_days is not None:
        expo[-1] = last_days / DAYS_PER_MONTH
    n_m = len(periods)
    notes: list[str] = []
    per_month = counts.sum() / max(n_m, 1)
    use_season = n_m >= min_months_season and per_month >= 5
    use_trend = n_m >= min_months_growth and counts.sum() >= 30
    if not use_season:
        notes.append(f"seasonality not identified from {n_m} months of {per_month:.1f} leads "
                     f"on average (needs {min_months_season} months of >= 5): flat profile used")
    fit = fit_poisson(_arrival_design(periods, use_trend, use_season), counts, expo)
    level_log, season, season_ci = _seasonal_level(fit, use_season)
    se_level_log = math.sqrt(max(fit.cov[0, 0], 0))
    growth, growth_ci, growth_used = 0.0, None, False
    if use_trend:
        growth, growth_ci, growth_used = _growth(fit)
        if not growth_used:
            notes.append("trend not significant at 5%: annual growth 0 used in the scenario")
            # refit the level without the trend: the mean rate over the window
            level_log = math.log(max(counts.sum(), 0.5) / expo.sum())
            se_level_log = math.sqrt(max(fit.dispersion, 1.0) / max(counts.sum(), 0.5))
    else:
        notes.append(f"trend not estimated from {n_m} months / {int(counts.sum())} leads "
                     f"(needs {min_months_growth} months and 30 leads); annual growth 0 used")
    level = math.exp(level_log)
    level_ci = (math.exp(level_log - 1.96 * se_level_log),
                math.exp(level_log + 1.96 * se_level_log))
    return ArrivalFit(group, [str(p) for p in periods], [int(c) for c in counts], level,
                      level * se_level_log, level_ci, growth, growth_ci, growth_used,
                      [float(s) for s in season], season_ci, use_season, fit.dispersion,
                      float(counts.sum() / expo.sum()), notes)


EMPIRICAL_POINTS = 200
"""The most values an empirical deal-size distribution keeps (quantiles of the amounts)."""


def empirical_distribution(a: np.ndarray, points: int = EMPIRICAL_POINTS) -> dict[str, Any]:
    """The amounts ``a`` as an empirical distribution: every distinct value with its count, or
    ``points`` equally weighted quantiles (the mean of each slice of the sorted amounts, so the
    mean is kept) when there are more distinct values."""
    a = np.sort(np.asarray(a, dtype=float))
    vals, counts = np.unique(a, return_counts=True)
    if vals.size <= points:
        return {"dist": "empirical", "values": [float(v) for v in vals],
                "weights": [float(c) for c in counts]}
    slices = np.array_split(a, points)
    return {"dist": "empirical", "values": [float(s.mean()) for s in slices],
            "weights": [float(s.size) for s in slices]}


def _sample_mean_ci(a: np.ndarray) -> list[float]:
    """The normal 95% interval of the mean of ``a`` (its standard error ``sd / sqrt(n)``)."""
    se = float(np.std(a, ddof=1) / math.sqrt(a.size)) if a.size > 1 else 0.0
    return [float(a.mean()) - 1.96 * se, float(a.mean()) + 1.96 * se]


def fit_deal_size(amounts: np.ndarray, zeros: int = 0) -> dict[str, Any]:
    """Lognormal or gamma (lower AIC) fitted to positive won amounts, with the mean's 95%
    interval (from the fit) and the sample mean; ``zeros``: won deals of amount 0 that are
    real (free) deals.

    Tail check: the parametric fit is kept only when the sample mean lies inside its mean's
    95% interval. A heavy or capped tail makes a lognormal overshoot (or a gamma undershoot)
    the data's mean; then the empirical distribution of the amounts is used
    (:func:`empirical_distribution`), and ``tail_check`` says why. Free zeros also make the
    distribution empirical (a point mass at 0 beside the positive amounts)."""
    a = np.asarray(amounts, dtype=float)
    a = a[np.isfinite(a) & (a > 0)]
    if a.size < 2:
        raise ValueError("need at least 2 positive amounts")
    sample_mean = float(a.mean())
    if np.ptp(a) <= 1e-9 * a.mean():
        out = {"dist": {"dist": "fixed", "value": sample_mean}, "n": int(a.size),
               "mean": sample_mean, "mean_ci": [sample_mean] * 2, "cv": 0.0,
               "family": "fixed", "sample_mean": sample_mean}
    else:
        f = fit_duration(a)
        out = {"dist": f.distribution(), "n": int(a.size), "mean": f.mean,
               "mean_ci": list(f.mean_ci), "cv": f.cv, "cv_ci": list(f.cv_ci),
               "family": f.family, "sample_mean": sample_mean, "ks": f.ks_events,
               "alternatives": f.alternatives}
        lo, hi = f.mean_ci
        if not lo <= sample_mean <= hi:
            out.update(dist=empirical_distribution(a), family="empirical",
                       parametric_mean=f.mean, mean=sample_mean, mean_ci=_sample_mean_ci(a),
                       tail_check=f"the {f.family} fit's mean {f.mean:,.6g} (95% CI "
                                  f"{lo:,.6g}-{hi:,.6g}) misses the data's mean "
                                  f"{sample_mean:,.6g}: the tail does not fit; the empirical "
                                  "distribution of the amounts is used")
    if zeros:
        both = np.concatenate([np.zeros(int(zeros)), a])
        out.update(dist=empirical_distribution(both), family="empirical", zeros=int(zeros),
                   mean=float(both.mean()), mean_ci=_sample_mean_ci(both),
                   zero_note=f"{int(zeros)} free (zero) deals beside {a.size} positive "
                             "amounts: the empirical distribution with its point mass at 0")
    return out


def rep_productivity(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per-rep win-rate and speed multipliers with empirical-Bayes shrinkage.

    ``frame``: one row per closed deal with ``owner``, ``won`` (bool) and ``days`` (cycle time,
    NaN if unknown). Win rate: a beta-binomial model; the prior Beta(a, b) is fitted by maximum
    marginal likelihood over reps, then centred on the pooled rate ``K / N`` (same strength
    ``a + b``); each rep's posterior mean ``(a + wins) / (a + b + n)`` is the shrunk win rate,
    and the multiplier is its odds over the pooled rate's odds (the team). Open
    deals do not enter (they are neither wins nor losses). Speed: log cycle times of won deals;
    a normal-normal model shrinks each rep's mean log time toward the team's with weight
    ``tau^2 / (tau^2 + s^2 / n)`` (tau^2 by the method of moments); the multiplier is
    ``exp(shrunk - team)`` (> 1: slower).

    Returns the per-rep frame (rep, closed, won, raw_win_rate, win_rate, win_rate_ci_lo/hi,
    productivity, productivity_ci_lo/hi, won_dated, speed_multiplier, shrinkage) and the prior.
    """
    g = frame.groupby("owner", sort=True)
    n = g["won"].size().to_numpy(dtype=float)
    k = g["won"].sum().to_numpy(dtype=float)
    reps = list(g.size().index)
    a0, b0, capped = beta_binomial_prior(n, k)
    # shrink towards the pooled (deal-weighted) rate, the rate the multipliers act on, not the
    # prior's mean (about the plain mean of the reps' rates): the latter biases every rep high
    # or low by the difference
    team = float(k.sum() / max(n.sum(), 1))
    a, b = (a0 + b0) * team, (a0 + b0) * (1 - team)
    post = (a + k) / (a + b + n)
    lo = stats.beta.ppf(0.025, a + k, b + n - k)
    hi = stats.beta.ppf(0.975, a + k, b + n - k)

    def odds(p: np.ndarray | float) -> np.ndarray:
        return np.asarray(p) / (1 - np.asarray(p))

    out = pd.DataFrame({"rep": reps, "closed": n.astype(int), "won": k.astype(int),
                        "raw_win_rate": k / np.maximum(n, 1), "win_rate": post,
                        "win_rate_ci_lo": lo, "win_rate_ci_hi": hi,
                        "productivity": odds(post) / odds(team),
                        "productivity_ci_lo": odds(lo) / odds(team),
                        "productivity_ci_hi": odds(hi) / odds(team)})
    sg, shrink, speed, tau2, s2 = _speed_shrinkage(frame)
    out["won_dated"] = out["rep"].map(sg["size"]).fillna(0).astype(int)
    out["speed_multiplier"] = out["rep"].map(speed).fillna(1.0)
    out["speed_shrinkage"] = out["rep"].map(shrink).fillna(0.0)
    prior = {"a": float(a), "b": float(b), "team_win_rate": float(team),
             "prior_mean_of_reps": float(a0 / (a0 + b0)),
             "prior_strength": float(a + b), "complete_pooling": capped,
             "speed_tau2": tau2, "speed_within_var": s2}
    return out, prior


def beta_binomial_prior(n: np.ndarray, k: np.ndarray) -> tuple[float, float, bool]:
    """The Beta(a, b) prior of the reps' win rates by maximum marginal likelihood (``n`` closed
    and ``k`` won deals per rep), and whether it was capped at complete pooling (a + b > 1e5:
    no detectable between-rep variation; then a + b = 1e5 at the team's rate)."""
    def nll(x: np.ndarray) -> float:
        a, b = np.exp(x)
        return -float(np.sum(special.betaln(k + a, n - k + b) - special.betaln(a, b)))

    p0 = k.sum() / max(n.sum(), 1)
    res = optimize.minimize(nll, np.log([p0 * 20, (1 - p0) * 20]), method="Nelder-Mead",
                            options={"xatol": 1e-6, "fatol": 1e-9, "maxiter": 4000})
    a, b = np.exp(res.x)
    capped = False
    if a + b > 1e5:  # no detectable between-rep variation: complete pooling
        a, b, capped = p0 * 1e5, (1 - p0) * 1e5, True
    return a, b, capped


def _speed_shrinkage(frame: pd.DataFrame
                     ) -> tuple[pd.DataFrame, pd.Series, pd.Series, float, float]:
    """The normal-normal shrinkage of each rep's mean log cycle time of won deals toward the
    team's: per rep (``mean``, ``size``), the shrinkage weight, the speed multiplier; tau^2 and
    the within-rep variance s^2 (log days squared)."""
    wd = frame[frame["won"] & frame["days"].notna()].copy()
    wd["ly"] = np.log(np.maximum(wd["days"].to_numpy(dtype=float), 0.5))
    team_ly = float(wd["ly"].mean()) if len(wd) else 0.0
    s2 = float(wd.groupby("owner")["ly"].var().mean()) if len(wd) > 2 else 1.0
    sg = wd.groupby("owner")["ly"].agg(["mean", "size"])
    if len(sg) > 1:
        v = float(np.var(sg["mean"], ddof=1) - np.mean(s2 / sg["size"]))
        tau2 = max(v, 0.0)
    else:
        tau2 = 0.0
    shrink = tau2 / (tau2 + s2 / sg["size"]) if len(sg) else pd.Series(dtype=float)
    speed = np.exp(shrink * (sg["mean"] - team_ly))
    return sg, shrink, speed, tau2, s2
