"""Maximum-likelihood fits with censoring and truncation, and their standard errors.

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
    "DurationFit",
    "OutcomeFit",
    "dist_logpdf",
    "dist_logsf",
    "fit_duration",
    "fit_outcomes",
    "kaplan_meier",
    "numeric_hessian",
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


def _cov(nll: Any, x: np.ndarray) -> np.ndarray:
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


def _wald(log_est: float, se: float) -> tuple[float, float]:
    return (math.exp(log_est - 1.96 * se), math.exp(log_est + 1.96 * se))


def _start(t: np.ndarray) -> np.ndarray:
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
        res = optimize.minimize(nll, _start(t[ev]), method="Nelder-Mead",
                                options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 4000})
        fits[fam] = (res.x, -res.fun, nll)
    best = min(fits, key=lambda f: -2 * fits[f][1] + 4)
    x, ll, nll = fits[best]
    cov = _cov(nll, x)
    se_lm, se_lc = (math.sqrt(max(cov[i, i], 0.0)) for i in (0, 1))
    mean, cv = math.exp(x[0]), math.exp(x[1])
    times, km = kaplan_meier(t, ev, en)
    ks_km = float(np.max(np.abs((1 - km) - dist_cdf(best, times, mean, cv)))) if times.size else 0
    ks_ev = float(stats.kstest(t[ev], lambda z: dist_cdf(best, z, mean, cv)).statistic)
    alts = {f: {"loglik": float(v[1]), "aic": float(-2 * v[1] + 4), "mean": math.exp(v[0][0]),
                "cv": math.exp(v[0][1])} for f, v in fits.items()}
    return DurationFit(best, mean, cv, mean * se_lm, cv * se_lc, _wald(x[0], se_lm),
                       _wald(x[1], se_lc), float(ll), float(-2 * ll + 4), int(ev.sum()),
                       int((~ev).sum()), int(tr.sum()), ks_km, ks_ev, alts)


@dataclass
class OutcomeFit:
    """Competing outcomes with censoring: each deal will be won (probability ``p_won``), lost
    (``p_lost``) or, if ``stall`` is on, never close (``p_stall``); won and lost deals take
    durations from their own fitted distributions. Open deals contribute
    ``p_won S_won(age) + p_lost S_lost(age) + p_stall``: they are never counted as lost."""

    p_won: float
    p_lost: float
    p_stall: float
    p_won_se: float
    p_won_ci: tuple[float, float]
    p_stall_se: float
    win_rate_closed: float
    won: DurationFit
    lost: DurationFit
    stall: bool
    loglik: float
    aic: float
    n_won: int
    n_lost: int
    n_open: int
    models: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k not in ("won", "lost")}
        d["p_won_ci"] = list(self.p_won_ci)
        d["won_duration"] = self.won.to_dict()
        d["lost_duration"] = self.lost.to_dict()
        return d

    def p_won_given_open(self, age: np.ndarray) -> np.ndarray:
        """P(the deal will be won | still open at ``age`` days)."""
        age = np.maximum(np.asarray(age, float), 0.0)
        sw = np.exp(dist_logsf(self.won.family, age, math.log(self.won.mean),
                               math.log(self.won.cv)))
        sl = np.exp(dist_logsf(self.lost.family, age, math.log(self.lost.mean),
                               math.log(self.lost.cv)))
        num = self.p_won * sw
        den = num + self.p_lost * sl + self.p_stall
        return np.where(den > 0, num / np.maximum(den, 1e-300), 0.0)

    def residual_won(self, age: float) -> tuple[float, float]:
        """Mean and CV of the remaining days to close of a deal open at ``age`` that will be won
        (numerical integration of the won distribution beyond ``age``)."""
        fam, m, cv = self.won.family, self.won.mean, self.won.cv
        hi = age + m * (20 + 20 * cv)
        grid = np.linspace(age, hi, 4001)
        s = np.exp(dist_logsf(fam, grid, math.log(m), math.log(cv)))
        s0 = s[0]
        if s0 <= 1e-12:
            return max(m * 0.05, 1.0), 0.5
        r = (grid - age)
        cond = s / s0
        e1 = np.trapezoid(cond, r)
        e2 = 2 * np.trapezoid(r * cond, r)
        var = max(e2 - e1**2, 1e-9)
        return max(float(e1), MIN_DAYS), max(float(math.sqrt(var) / max(e1, 1e-9)), 0.05)


def fit_outcomes(t: np.ndarray, outcome: np.ndarray, entry: np.ndarray | None = None,
                 stall: bool | None = None) -> OutcomeFit:
    """Fit the competing-outcome model. ``t``: days to close (won/lost) or age at the export
    date (open; NaN when unknown); ``outcome``: 'won'/'lost'/'open'; ``entry``: left-truncation
    age (0: none). ``stall`` None tries both with and without a never-closing class and keeps
    the lower AIC. Families are chosen by AIC among the four combinations."""
    t = np.asarray(t, dtype=float)
    o = np.asarray(outcome)
    en = np.zeros(t.size) if entry is None else np.nan_to_num(np.asarray(entry, float))
    w, lo, op = o == "won", o == "lost", o == "open"
    wt, lt = w & np.isfinite(t), lo & np.isfinite(t)
    wn, ln_ = w & ~np.isfinite(t), lo & ~np.isfinite(t)  # closed without a date
    opt = op & np.isfinite(t)
    tt = np.maximum(np.nan_to_num(t, nan=1.0), MIN_DAYS)
    tr = en > 0
    if wt.sum() < 2 or lt.sum() < 2:
        raise ValueError(f"need at least 2 dated won and 2 dated lost deals, got "
                         f"{int(wt.sum())} and {int(lt.sum())}")
    # rows are whole days: collapse identical (kind, t, entry) rows into weights (fast)
    kind = np.select([wt, lt, opt, wn, ln_], [0, 1, 2, 3, 4], -1)
    use = kind >= 0
    key = np.column_stack([kind[use], tt[use], en[use]])
    uniq, cnt = np.unique(key, axis=0, return_counts=True)
    uk, ut, ue, uw = uniq[:, 0].astype(int), uniq[:, 1], uniq[:, 2], cnt.astype(float)
    m_w, m_l, m_o = uk == 0, uk == 1, uk == 2
    n_wn, n_ln = float(uw[uk == 3].sum()), float(uw[uk == 4].sum())
    m_tr = ue > 0
    models = []
    best = None
    late = float(np.quantile(tt[wt | lt], 0.99))
    stall_start = max(float((opt & (tt > late)).sum()), 1.0) / max(float(use.sum()), 1.0)
    combos = [(s_, fw_, fl_) for s_ in ([False] if stall is None else [stall])
              for fw_ in FAMILIES for fl_ in FAMILIES]
    if stall is None:  # families chosen without the stalled share, then the share is tried
        combos.append((True, "", ""))
    for stall_on, fw, fl in combos:
        if not fw:
            fw, fl = best[0]["won_family"], best[0]["lost_family"]  # type: ignore[index]
        def nll(x: np.ndarray, fw: str = fw, fl: str = fl, s_on: bool = stall_on
                ) -> float:
            if np.any(np.abs(x[2:]) > 20) or abs(x[3]) > 5 or abs(x[5]) > 5:
                return 1e12
            z = np.array([x[0], 0.0, x[1] if s_on else -np.inf])
            lp = z - special.logsumexp(z)
            v = (lp[0] * (uw[m_w].sum() + n_wn) + lp[1] * (uw[m_l].sum() + n_ln)
                 + uw[m_w] @ dist_logpdf(fw, ut[m_w], x[2], x[3])
                 + uw[m_l] @ dist_logpdf(fl, ut[m_l], x[4], x[5]))

            def mix(a: np.ndarray) -> np.ndarray:
                parts = [lp[0] + dist_logsf(fw, a, x[2], x[3]),
                         lp[1] + dist_logsf(fl, a, x[4], x[5])]
                if s_on:
                    parts.append(np.full(a.size, lp[2]))
                return special.logsumexp(np.vstack(parts), axis=0)
            if m_o.any():
                v += uw[m_o] @ mix(ut[m_o])
            if m_tr.any():
                v -= uw[m_tr] @ mix(ue[m_tr])
            return float(-v) if np.isfinite(v) else 1e12
        s_w, s_l = _start(tt[wt]), _start(tt[lt])
        p_stall0 = stall_start if stall_on else 0.0
        n_w, n_l = max(w.sum(), 1), max(lo.sum(), 1)
        x0 = np.array([math.log(n_w / n_l),
                       math.log(p_stall0 * (n_w + n_l) / n_l) if stall_on else -30.0,
                       *s_w, *s_l])
        res = optimize.minimize(nll, x0, method="BFGS", options={"gtol": 1e-5})
        if not np.isfinite(res.fun) or res.fun >= 1e11:  # pragma: no cover
            res = optimize.minimize(nll, x0, method="Nelder-Mead",
                                    options={"maxiter": 20000, "maxfev": 20000})
        k = 5 + int(stall_on)
        rec = {"won_family": fw, "lost_family": fl, "stall": stall_on,
               "loglik": float(-res.fun), "aic": float(2 * res.fun + 2 * k)}
        models.append(rec)
        if best is None or rec["aic"] < best[0]["aic"]:
            best = (rec, res.x, nll)
    assert best is not None
    rec, x, nll = best
    s_on = rec["stall"]
    idx = [0, 1, 2, 3, 4, 5] if s_on else [0, 2, 3, 4, 5]
    def f_red(y: np.ndarray) -> float:
        full = x.copy()
        full[idx] = y
        return nll(full)
    cov_r = _cov(f_red, x[idx])
    cov = np.zeros((6, 6))
    cov[np.ix_(idx, idx)] = cov_r

    def probs(xx: np.ndarray) -> np.ndarray:
        z = np.array([xx[0], 0.0, xx[1] if s_on else -np.inf])
        return np.exp(z - special.logsumexp(z))

    p = probs(x)
    J = np.zeros((3, 6))  # noqa: N806
    for j in (0, 1):
        e = np.zeros(6)
        e[j] = 1e-5
        J[:, j] = (probs(x + e) - probs(x - e)) / 2e-5
    pcov = J @ cov @ J.T
    p_se = math.sqrt(max(pcov[0, 0], 0.0))
    # a CI on the logit scale keeps it inside (0, 1)
    lg = math.log(p[0] / (1 - p[0]))
    se_lg = p_se / (p[0] * (1 - p[0]))
    ci = (float(special.expit(lg - 1.96 * se_lg)), float(special.expit(lg + 1.96 * se_lg)))

    def dfit(fam: str, i: int, mask: np.ndarray, n_cens: int) -> DurationFit:
        lm, lc = x[i], x[i + 1]
        se_m, se_c = math.sqrt(max(cov[i, i], 0)), math.sqrt(max(cov[i + 1, i + 1], 0))
        m, cv = math.exp(lm), math.exp(lc)
        ks_ev = float(stats.kstest(tt[mask], lambda z: dist_cdf(fam, z, m, cv)).statistic)
        return DurationFit(fam, m, cv, m * se_m, cv * se_c, _wald(lm, se_m), _wald(lc, se_c),
                           rec["loglik"], rec["aic"], int(mask.sum()), n_cens, int(tr.sum()),
                           float("nan"), ks_ev,
                           note="joint fit of the competing-outcome model (loglik/aic are the "
                                "joint model's); ks_events: KS of this outcome's closed deals")

    won = dfit(rec["won_family"], 2, wt, int(opt.sum()))
    lost = dfit(rec["lost_family"], 4, lt, int(opt.sum()))
    n_closed = int(w.sum() + lo.sum())
    return OutcomeFit(float(p[0]), float(p[1]), float(p[2]), p_se, ci,
                      math.sqrt(max(pcov[2, 2], 0.0)),
                      float(w.sum() / n_closed) if n_closed else float("nan"),
                      won, lost, bool(s_on), rec["loglik"], rec["aic"], int(w.sum()),
                      int(lo.sum()), int(op.sum()), models)


@dataclass
class CumulativeIncidence:
    """Aalen-Johansen estimate of won/lost cumulative incidence with censoring and left
    truncation (risk set at u: entry < u <= t). ``times``: event times; ``cif_won``,
    ``cif_lost``: cumulative incidence after each; ``surv``: P(still open) after each."""

    times: np.ndarray
    cif_won: np.ndarray
    cif_lost: np.ndarray
    surv: np.ndarray

    def _at(self, arr: np.ndarray, a: float, start: float) -> float:
        i = np.searchsorted(self.times, a, side="right") - 1
        return start if i < 0 else float(arr[i])

    @property
    def p_won(self) -> float:
        return float(self.cif_won[-1]) if self.times.size else float("nan")

    def base_survival(self, age: float) -> float:
        """P(still open at ``age``) for a deal that is not stalled: (S(age) - pi) / (1 - pi)
        with pi = S(last close), the pooled never-closing share."""
        pi = float(self.surv[-1]) if self.times.size else 0.0
        if pi >= 1:
            return 1.0
        return max(self._at(self.surv, age, 1.0) - pi, 0.0) / (1 - pi)

    def p_won_given_open(self, age: float, stall_share: float | None = None) -> float:
        """P(won | still open at ``age``): (CIF_won(end) - CIF_won(age)) / S(age); 0 beyond the
        last observed event (no extrapolation). With ``stall_share`` (a cohort's own
        never-closing share) the non-stalled law is re-mixed with it."""
        pi = float(self.surv[-1]) if self.times.size else 0.0
        rest = max(self.p_won - self._at(self.cif_won, age, 0.0), 0.0)
        if stall_share is None or pi >= 1:
            s = self._at(self.surv, age, 1.0)
            return rest / s if s > 0 else 0.0
        num = (1 - stall_share) * rest / (1 - pi)
        den = stall_share + (1 - stall_share) * self.base_survival(age)
        return num / den if den > 0 else 0.0

    def residual_won(self, age: float) -> tuple[list[float], list[float]]:
        """Remaining days (values) and weights of won closes after ``age``."""
        inc = np.diff(np.concatenate([[0.0], self.cif_won]))
        m = (self.times > age) & (inc > 0)
        return (self.times[m] - age).tolist(), inc[m].tolist()


def aalen_johansen(t: np.ndarray, outcome: np.ndarray, entry: np.ndarray | None = None
                   ) -> CumulativeIncidence:
    """Non-parametric competing-risks estimate (won/lost; open rows censored at ``t``)."""
    t = np.asarray(t, float)
    o = np.asarray(outcome)
    ok = np.isfinite(t)
    t, o = np.maximum(t[ok], MIN_DAYS), o[ok]
    en = np.zeros(t.size) if entry is None else np.nan_to_num(np.asarray(entry, float)[ok])
    ev_t = np.unique(t[o != "open"])
    st, ent = np.sort(t), np.sort(en)
    s, cw, cl = 1.0, 0.0, 0.0
    cws, cls, ss = [], [], []
    tw, tl = np.sort(t[o == "won"]), np.sort(t[o == "lost"])
    for u in ev_t:
        n = (t.size - np.searchsorted(st, u, side="left")) - (t.size - np.searchsorted(
            ent, u, side="left"))
        if n <= 0:
            cws.append(cw)
            cls.append(cl)
            ss.append(s)
            continue
        dw = np.searchsorted(tw, u, side="right") - np.searchsorted(tw, u, side="left")
        dl = np.searchsorted(tl, u, side="right") - np.searchsorted(tl, u, side="left")
        cw += s * dw / n
        cl += s * dl / n
        s *= 1 - (dw + dl) / n
        cws.append(cw)
        cls.append(cl)
        ss.append(s)
    return CumulativeIncidence(ev_t, np.array(cws), np.array(cls), np.array(ss))
