"""Maximum-likelihood fits of durations with censoring and truncation, and their standard
errors (the competing-outcome model of a whole cycle is in :mod:`.outcomes`, the Aalen-Johansen
cumulative incidence in :mod:`.incidence`).

Durations are fitted as lognormal or gamma, each parameterised by ``log(mean)`` and ``log(cv)``
(the scenario's parameterisation), so standard errors of the mean and CV come from the inverse
observed information by the delta method. A row contributes

- ``log f(t)`` if its end was observed at ``t`` (an event),
- ``log S(t)`` if it was still open at age ``t`` (right-censored),
- ``- log S(a)`` if it could only be in the data because it lasted beyond ``a`` (left-truncated
  at ``a``; e.g. an export that starts on a close date).

The family with the lower AIC is chosen (both have two parameters, so this is the likelihood).
Goodness of fit: the largest distance between the Kaplan-Meier estimate and the fitted CDF over
the event times (a KS-type statistic that respects censoring), beside the plain KS statistic of
the events alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize, special, stats

__all__ = [
    "FAMILIES",
    "MIN_DAYS",
    "DurationFit",
    "dist_cdf",
    "dist_logpdf",
    "dist_logsf",
    "fit_duration",
    "kaplan_meier",
    "numeric_hessian",
    "observed_covariance",
    "start_values",
    "wald_interval",
]

FAMILIES = ("lognormal", "gamma")
MIN_DAYS = 0.5
"""Durations are whole days in CRM exports; a same-day close is counted as half a day."""


def _ln_params(log_mean: float, log_cv: float) -> tuple[float, float]:
    cv2 = math.exp(2 * log_cv)
    s2 = math.log1p(cv2)
    return log_mean - s2 / 2, math.sqrt(s2)


def dist_logpdf(family: str, t: np.ndarray, log_mean: float, log_cv: float) -> np.ndarray:
    if family == "lognormal":
        mu, s = _ln_params(log_mean, log_cv)
        lt = np.log(t)
        return -lt - math.log(s) - 0.5 * math.log(2 * math.pi) - 0.5 * ((lt - mu) / s) ** 2
    k = math.exp(-2 * log_cv)
    theta = math.exp(log_mean) / k
    return (k - 1) * np.log(t) - t / theta - special.gammaln(k) - k * math.log(theta)


def dist_logsf(family: str, t: np.ndarray, log_mean: float, log_cv: float) -> np.ndarray:
    t = np.asarray(t, dtype=float)
    if family == "lognormal":
        mu, s = _ln_params(log_mean, log_cv)
        with np.errstate(divide="ignore"):
            return special.log_ndtr(-(np.log(np.maximum(t, 1e-300)) - mu) / s)
    k = math.exp(-2 * log_cv)
    theta = math.exp(log_mean) / k
    with np.errstate(divide="ignore"):
        return np.log(np.maximum(special.gammaincc(k, np.maximum(t, 0) / theta), 1e-300))


def dist_cdf(family: str, t: np.ndarray, mean: float, cv: float) -> np.ndarray:
    return 1.0 - np.exp(dist_logsf(family, np.asarray(t, float), math.log(mean), math.log(cv)))


def numeric_hessian(f: Any, x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian of a scalar function."""
    x = np.asarray(x, dtype=float)
    n = x.size
    H = np.empty((n, n))  # noqa: N806
    for i in range(n):
        for j in range(i, n):
            ei, ej = np.zeros(n), np.zeros(n)
            ei[i], ej[j] = h, h
            v = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * h * h)
            H[i, j] = H[j, i] = v
    return H


def observed_covariance(nll: Any, x: np.ndarray) -> np.ndarray:
    """The inverse of the numerical Hessian of ``nll`` at its minimum ``x`` (a pseudo-inverse,
    with absolute variances, when the Hessian is singular or not positive)."""
    H = numeric_hessian(nll, x)  # noqa: N806
    try:
        cov = np.linalg.inv(H)
    except np.linalg.LinAlgError:
        cov = np.linalg.pinv(H)
    if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) < 0):
        cov = np.linalg.pinv(H)
        cov[np.diag_indices_from(cov)] = np.abs(np.diag(cov))
    return cov


def kaplan_meier(t: np.ndarray, event: np.ndarray, entry: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Event times and the Kaplan-Meier survival just after each (risk set at u:
    entry < u <= t, so left-truncated rows count only after their entry)."""
    t, event = np.asarray(t, float), np.asarray(event, bool)
    en = np.zeros(t.size) if entry is None else np.asarray(entry, float)
    times = np.unique(t[event])
    st, se_ = np.sort(t), np.sort(en)
    te = np.sort(t[event])
    s, out = 1.0, []
    for u in times:
        at_risk = (t.size - np.searchsorted(st, u, side="left")) - (
            t.size - np.searchsorted(se_, u, side="left"))
        d = np.searchsorted(te, u, side="right") - np.searchsorted(te, u, side="left")
        s *= 1 - d / at_risk if at_risk > 0 else 1.0
        out.append(s)
    return times, np.asarray(out)


@dataclass
class DurationFit:
    """A fitted duration distribution (days). ``mean_ci``/``cv_ci``: 95% Wald intervals on the
    log scale; ``alternatives``: family -> {loglik, aic, mean, cv} of every family tried."""

    family: str
    mean: float
    cv: float
    mean_se: float
    cv_se: float
    mean_ci: tuple[float, float]
    cv_ci: tuple[float, float]
    loglik: float
    aic: float
    n_events: int
    n_censored: int
    n_truncated: int
    ks_km: float
    ks_events: float
    alternatives: dict[str, dict[str, float]] = field(default_factory=dict)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}

    def distribution(self) -> dict[str, Any]:
        """The scenario distribution document ``{dist, mean, cv}``."""
        return {"dist": self.family, "mean": float(self.mean), "cv": float(self.cv)}


def wald_interval(log_est: float, se: float) -> tuple[float, float]:
    """The 95% Wald interval of a positive quantity estimated on the log scale."""
    return (math.exp(log_est - 1.96 * se), math.exp(log_est + 1.96 * se))


def start_values(t: np.ndarray) -> np.ndarray:
    """Starting ``(log mean, log cv)`` from the sample of durations ``t`` (days)."""
    m = float(np.mean(t)) if t.size else 30.0
    cv = float(np.std(t) / m) if t.size > 1 and m > 0 else 1.0
    return np.array([math.log(max(m, 1e-3)), math.log(min(max(cv, 0.05), 5.0))])


def fit_duration(t: np.ndarray, event: np.ndarray | None = None,
                 entry: np.ndarray | None = None, families: tuple[str, ...] = FAMILIES,
                 ) -> DurationFit:
    """Fit durations ``t`` (days); ``event`` False marks right-censored rows; ``entry`` > 0 marks
    left-truncated rows (observed only because the duration exceeded ``entry``)."""
    t = np.maximum(np.asarray(t, dtype=float), MIN_DAYS)
    ev = np.ones(t.size, bool) if event is None else np.asarray(event, bool)
    en = np.zeros(t.size) if entry is None else np.nan_to_num(np.asarray(entry, float))
    tr = en > 0
    if ev.sum() < 2:
        raise ValueError(f"need at least 2 observed durations, got {int(ev.sum())}")
    fits = {}
    for fam in families:
        def nll(x: np.ndarray, fam: str = fam) -> float:
            if abs(x[1]) > 5 or abs(x[0]) > 20:
                return 1e12
            v = dist_logpdf(fam, t[ev], x[0], x[1]).sum() + dist_logsf(fam, t[~ev], x[0],
                                                                        x[1]).sum()
            v -= dist_logsf(fam, en[tr], x[0], x[1]).sum()
            return float(-v) if np.isfinite(v) else 1e12
        res = optimize.minimize(nll, start_values(t[ev]), method="Nelder-Mead",
                                options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 4000})
        fits[fam] = (res.x, -res.fun, nll)
    best = min(fits, key=lambda f: -2 * fits[f][1] + 4)
    x, ll, nll = fits[best]
    cov = observed_covariance(nll, x)
    se_lm, se_lc = (math.sqrt(max(cov[i, i], 0.0)) for i in (0, 1))
    mean, cv = math.exp(x[0]), math.exp(x[1])
    times, km = kaplan_meier(t, ev, en)
    ks_km = float(np.max(np.abs((1 - km) - dist_cdf(best, times, mean, cv)))) if times.size else 0
    ks_ev = float(stats.kstest(t[ev], lambda z: dist_cdf(best, z, mean, cv)).statistic)
    alts = {f: {"loglik": float(v[1]), "aic": float(-2 * v[1] + 4), "mean": math.exp(v[0][0]),
                "cv": math.exp(v[0][1])} for f, v in fits.items()}
    return DurationFit(best, mean, cv, mean * se_lm, cv * se_lc, wald_interval(x[0], se_lm),
                       wald_interval(x[1], se_lc), float(ll), float(-2 * ll + 4), int(ev.sum()),
                       int((~ev).sum()), int(tr.sum()), ks_km, ks_ev, alts)
