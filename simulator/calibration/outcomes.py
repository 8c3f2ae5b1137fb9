"""The competing-outcome model of a deal's whole cycle, with censoring and left truncation.

Each deal will be won (probability ``p_won``), lost (``p_lost``) or, if the data call for it,
never close (``p_stall``); won and lost deals take durations (days) from their own lognormal or
gamma distribution. A row contributes ``log p_won + log f_won(t)`` (won at ``t``), ``log p_lost +
log f_lost(t)`` (lost at ``t``), ``log(p_won S_won(a) + p_lost S_lost(a) + p_stall)`` (open at
age ``a``: never counted as lost), ``log p_won`` or ``log p_lost`` (closed without a date), less
the same mixture at the entry age of a left-truncated row. The outcome probabilities are a
softmax of ``(x0, 0, x1)``; durations use ``(log mean, log cv)`` as in :mod:`.fits`.

:func:`fit_outcomes` collapses identical rows (:class:`OutcomeRows`), fits the four family
combinations without the stalled share, then the best with it (when not told), keeps the lowest
AIC, and derives standard errors from the observed information (delta method for the
probabilities).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize, special, stats

from .fits import (
    FAMILIES,
    MIN_DAYS,
    DurationFit,
    dist_cdf,
    dist_logpdf,
    dist_logsf,
    observed_covariance,
    start_values,
    wald_interval,
)

__all__ = ["OutcomeFit", "OutcomeRows", "fit_outcomes"]


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


@dataclass(frozen=True, eq=False)
class OutcomeRows:
    """The deals of a fit. Per deal: ``days`` (NaN read as 1, at least ``MIN_DAYS``), masks of
    ``won``/``lost``/``open`` and of those with a known time (``*_dated``), ``truncated``
    (entry > 0). Collapsed (rows are whole days: identical (kind, days, entry) rows become one
    with a weight): ``kind`` (0 won, 1 lost, 2 open, 3 won without a date, 4 lost without a
    date), ``u_days``, ``u_entry``, ``weight``; ``used``: deals that enter the likelihood."""

    days: np.ndarray
    won: np.ndarray
    lost: np.ndarray
    open: np.ndarray
    won_dated: np.ndarray
    lost_dated: np.ndarray
    open_dated: np.ndarray
    truncated: np.ndarray
    used: np.ndarray
    kind: np.ndarray
    u_days: np.ndarray
    u_entry: np.ndarray
    weight: np.ndarray

    @classmethod
    def collapse(cls, t: np.ndarray, outcome: np.ndarray, entry: np.ndarray | None
                 ) -> OutcomeRows:
        """The rows of :func:`fit_outcomes`'s arguments; raise with fewer than 2 dated won or
        2 dated lost deals."""
        t = np.asarray(t, dtype=float)
        o = np.asarray(outcome)
        en = np.zeros(t.size) if entry is None else np.nan_to_num(np.asarray(entry, float))
        w, lo, op = o == "won", o == "lost", o == "open"
        wt, lt = w & np.isfinite(t), lo & np.isfinite(t)
        wn, ln_ = w & ~np.isfinite(t), lo & ~np.isfinite(t)  # closed without a date
        opt = op & np.isfinite(t)
        tt = np.maximum(np.nan_to_num(t, nan=1.0), MIN_DAYS)
        if wt.sum() < 2 or lt.sum() < 2:
            raise ValueError(f"need at least 2 dated won and 2 dated lost deals, got "
                             f"{int(wt.sum())} and {int(lt.sum())}")
        kind = np.select([wt, lt, opt, wn, ln_], [0, 1, 2, 3, 4], -1)
        use = kind >= 0
        key = np.column_stack([kind[use], tt[use], en[use]])
        uniq, cnt = np.unique(key, axis=0, return_counts=True)
        return cls(days=tt, won=w, lost=lo, open=op, won_dated=wt, lost_dated=lt,
                   open_dated=opt, truncated=en > 0, used=use, kind=uniq[:, 0].astype(int),
                   u_days=uniq[:, 1], u_entry=uniq[:, 2], weight=cnt.astype(float))

    def stall_start(self) -> float:
        """A starting stalled share: the share of open deals older than 99% of the closes."""
        late = float(np.quantile(self.days[self.won_dated | self.lost_dated], 0.99))
        return (max(float((self.open_dated & (self.days > late)).sum()), 1.0)
                / max(float(self.used.sum()), 1.0))


@dataclass(frozen=True, eq=False)
class OutcomeLikelihood:
    """The negative log-likelihood (module docstring) of ``x = (x0, x1, log mean_won, log
    cv_won, log mean_lost, log cv_lost)`` for the won and lost families, with or without the
    stalled share (without it ``x1`` is unused); 1e12 outside the search box."""

    rows: OutcomeRows
    won_family: str
    lost_family: str
    stall: bool

    def __call__(self, x: np.ndarray) -> float:
        r, fw, fl, s_on = self.rows, self.won_family, self.lost_family, self.stall
        uk, ut, ue, uw = r.kind, r.u_days, r.u_entry, r.weight
        m_w, m_l, m_o, m_tr = uk == 0, uk == 1, uk == 2, ue > 0
        n_wn, n_ln = float(uw[uk == 3].sum()), float(uw[uk == 4].sum())
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


def _fit_model(nll: OutcomeLikelihood, stall_start: float
               ) -> tuple[dict[str, Any], np.ndarray]:
    """Minimise ``nll`` (BFGS; Nelder-Mead if BFGS fails) from the empirical start: the record
    of the model (families, stall, loglik, aic) and the estimate."""
    r = nll.rows
    s_w, s_l = start_values(r.days[r.won_dated]), start_values(r.days[r.lost_dated])
    p_stall0 = stall_start if nll.stall else 0.0
    n_w, n_l = max(r.won.sum(), 1), max(r.lost.sum(), 1)
    x0 = np.array([math.log(n_w / n_l),
                   math.log(p_stall0 * (n_w + n_l) / n_l) if nll.stall else -30.0,
                   *s_w, *s_l])
    res = optimize.minimize(nll, x0, method="BFGS", options={"gtol": 1e-5})
    if not np.isfinite(res.fun) or res.fun >= 1e11:  # pragma: no cover
        res = optimize.minimize(nll, x0, method="Nelder-Mead",
                                options={"maxiter": 20000, "maxfev": 20000})
    k = 5 + int(nll.stall)
    rec = {"won_family": nll.won_family, "lost_family": nll.lost_family, "stall": nll.stall,
           "loglik": float(-res.fun), "aic": float(2 * res.fun + 2 * k)}
    return rec, res.x


def _select_model(rows: OutcomeRows, stall: bool | None
                  ) -> tuple[list[dict[str, Any]], dict[str, Any], np.ndarray,
                             OutcomeLikelihood]:
    """Fit every family combination (``stall`` None: without the stalled share, then the best
    families with it) and keep the lowest AIC: every model's record, the best's record,
    estimate and likelihood."""
    stall_start = rows.stall_start()
    combos = [(s_, fw_, fl_) for s_ in ([False] if stall is None else [stall])
              for fw_ in FAMILIES for fl_ in FAMILIES]
    if stall is None:  # families chosen without the stalled share, then the share is tried
        combos.append((True, "", ""))
    models = []
    best = None
    for stall_on, fw, fl in combos:
        if not fw:
            fw, fl = best[0]["won_family"], best[0]["lost_family"]  # type: ignore[index]
        nll = OutcomeLikelihood(rows, fw, fl, stall_on)
        rec, x = _fit_model(nll, stall_start)
        models.append(rec)
        if best is None or rec["aic"] < best[0]["aic"]:
            best = (rec, x, nll)
    assert best is not None
    return models, *best


def _softmax_probabilities(x: np.ndarray, stall: bool) -> np.ndarray:
    """(p_won, p_lost, p_stall) of the estimate ``x``."""
    z = np.array([x[0], 0.0, x[1] if stall else -np.inf])
    return np.exp(z - special.logsumexp(z))


def _covariance(x: np.ndarray, nll: OutcomeLikelihood) -> np.ndarray:
    """The 6 x 6 covariance of ``x`` from the observed information of the parameters in use
    (zero rows and columns for ``x1`` without the stalled share)."""
    idx = [0, 1, 2, 3, 4, 5] if nll.stall else [0, 2, 3, 4, 5]

    def f_red(y: np.ndarray) -> float:
        full = x.copy()
        full[idx] = y
        return nll(full)
    cov = np.zeros((6, 6))
    cov[np.ix_(idx, idx)] = observed_covariance(f_red, x[idx])
    return cov


def _probability_covariance(x: np.ndarray, cov: np.ndarray, stall: bool) -> np.ndarray:
    """The 3 x 3 covariance of (p_won, p_lost, p_stall) by the delta method (central
    differences of the softmax)."""
    J = np.zeros((3, 6))  # noqa: N806
    for j in (0, 1):
        e = np.zeros(6)
        e[j] = 1e-5
        J[:, j] = (_softmax_probabilities(x + e, stall)
                   - _softmax_probabilities(x - e, stall)) / 2e-5
    return J @ cov @ J.T


def _duration_fit(rec: dict[str, Any], x: np.ndarray, cov: np.ndarray, rows: OutcomeRows,
                  outcome: str) -> DurationFit:
    """The won or lost (``outcome``) duration of the joint fit, with its standard errors and
    the KS statistic of that outcome's dated deals."""
    fam, i, mask = ((rec["won_family"], 2, rows.won_dated) if outcome == "won"
                    else (rec["lost_family"], 4, rows.lost_dated))
    lm, lc = x[i], x[i + 1]
    se_m, se_c = math.sqrt(max(cov[i, i], 0)), math.sqrt(max(cov[i + 1, i + 1], 0))
    m, cv = math.exp(lm), math.exp(lc)
    ks_ev = float(stats.kstest(rows.days[mask], lambda z: dist_cdf(fam, z, m, cv)).statistic)
    return DurationFit(fam, m, cv, m * se_m, cv * se_c, wald_interval(lm, se_m),
                       wald_interval(lc, se_c), rec["loglik"], rec["aic"], int(mask.sum()),
                       int(rows.open_dated.sum()), int(rows.truncated.sum()), float("nan"),
                       ks_ev,
                       note="joint fit of the competing-outcome model (loglik/aic are the "
                            "joint model's); ks_events: KS of this outcome's closed deals")


def fit_outcomes(t: np.ndarray, outcome: np.ndarray, entry: np.ndarray | None = None,
                 stall: bool | None = None) -> OutcomeFit:
    """Fit the competing-outcome model. ``t``: days to close (won/lost) or age at the export
    date (open; NaN when unknown); ``outcome``: 'won'/'lost'/'open'; ``entry``: left-truncation
    age (0: none). ``stall`` None tries both with and without a never-closing class and keeps
    the lower AIC. Families are chosen by AIC among the four combinations."""
    rows = OutcomeRows.collapse(t, outcome, entry)
    models, rec, x, nll = _select_model(rows, stall)
    s_on = rec["stall"]
    cov = _covariance(x, nll)
    p = _softmax_probabilities(x, s_on)
    pcov = _probability_covariance(x, cov, s_on)
    p_se = math.sqrt(max(pcov[0, 0], 0.0))
    # a CI on the logit scale keeps it inside (0, 1)
    lg = math.log(p[0] / (1 - p[0]))
    se_lg = p_se / (p[0] * (1 - p[0]))
    ci = (float(special.expit(lg - 1.96 * se_lg)), float(special.expit(lg + 1.96 * se_lg)))
    won, lost = _duration_fit(rec, x, cov, rows, "won"), _duration_fit(rec, x, cov, rows, "lost")
    w, lo = rows.won, rows.lost
    n_closed = int(w.sum() + lo.sum())
    return OutcomeFit(float(p[0]), float(p[1]), float(p[2]), p_se, ci,
                      math.sqrt(max(pcov[2, 2], 0.0)),
                      float(w.sum() / n_closed) if n_closed else float("nan"),
                      won, lost, bool(s_on), rec["loglik"], rec["aic"], int(w.sum()),
                      int(lo.sum()), int(rows.open.sum()), models)
