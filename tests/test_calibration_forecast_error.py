"""The open-pipeline forecast's model error, sized before the cut by inner cuts
(``simulator.calibration.forecast_error``): the moment estimator recovers a known frailty
variance within its standard error and gives ~0 without one; on generated CRM histories, the
inner-cut estimate is ~0 when every entry month closes alike and recovers a known per-cohort
frailty on the won share; the parameter draws apply it with the right spread.

Seeded statistical tests (2.576 standard errors, or the stated tolerance)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from simulator.calibration.backtest import cohort_frailty
from simulator.calibration.forecast_error import (
    frailty_log_variance,
    inner_origins,
    pipeline_model_error,
)
from simulator.calibration.hazards import fit_closing_hazards

BIN = 14
# 99%: several estimates are checked at once, and the sandwich SE runs ~15% small at s2 = 0.25
Z = 2.576
# per-day close hazard by 14-day age bin (age only); won and lost share it half and half, so a
# cohort's won share can be scaled (up to 2x) without changing when its deals close
H_CLOSE = np.array([0.05, 0.04, 0.03, 0.03, 0.02, 0.02, 0.02, 0.02, 0.0])
STALL = 0.12
START, CUT = pd.Timestamp("2021-01-01"), pd.Timestamp("2021-11-01")


def _poisson_pairs(rng, n, s2):
    f = rng.uniform(20, 400, n)
    u = rng.normal(0, math.sqrt(s2), n) if s2 > 0 else np.zeros(n)
    a = rng.poisson(f * np.exp(u - s2 / 2))
    return f, a, f.copy()   # Poisson: the noise variance is the forecast


@pytest.mark.parametrize("s2", [0.0, 0.04, 0.25])
def test_moment_estimator_recovers_the_frailty_variance(s2):
    rng = np.random.default_rng(8 + int(100 * s2))
    f, a, v = _poisson_pairs(rng, 300, s2)
    est = frailty_log_variance(f, a, v)
    assert abs(est["log_variance"] - s2) <= Z * est["log_variance_se"] + 1e-3
    if s2 == 0:
        assert est["log_variance"] < 0.005
    # sized right: residuals standardised by noise + frailty have unit variance; by the noise
    # alone (the frailty ignored) they do not when there is one
    theta = math.expm1(est["log_variance"])
    z = (a - f) / np.sqrt(v + theta * f ** 2)
    assert 0.8 < np.var(z) < 1.25
    if s2 > 0:
        assert np.var((a - f) / np.sqrt(v)) > 2.0


def test_negative_estimate_is_floored_and_flagged():
    f = np.array([100.0, 200.0, 50.0])
    est = frailty_log_variance(f, f, f)     # no dispersion at all: theta = -sum V / sum F^2
    assert est["theta_raw"] < 0 and est["floored"] and est["log_variance"] == 0.0


def _generate(rng, won_factor, per_month=1500, months=10):
    """Deals created uniformly over ``months`` from START; each stalls with STALL, else closes
    day by day with H_CLOSE, won with probability 0.5 x its entry month's ``won_factor``.
    Vectorised over deals; followed until the end of the data (CUT + 150 days)."""
    created, cohort = [], []
    for m in range(months):
        first = START + pd.DateOffset(months=m)
        n_days = (first + pd.DateOffset(months=1) - first).days
        created.append((first - START).days + rng.integers(0, n_days, per_month))
        cohort.append(np.full(per_month, m))
    c, k = np.concatenate(created), np.concatenate(cohort)
    until = (CUT - START).days + 150
    open_ = rng.random(c.size) >= STALL
    close = np.full(c.size, -1)
    for day in range(int(c.min()), until):
        live = open_ & (c <= day)
        if not live.any():
            continue
        h = H_CLOSE[np.minimum((day - c[live]) // BIN, len(H_CLOSE) - 1)]
        hit = np.flatnonzero(live)[rng.random(h.size) < h]
        close[hit] = day
        open_[hit] = False
    won = rng.random(c.size) < 0.5 * np.asarray(won_factor)[k]
    outcome = np.where(close < 0, "open", np.where(won, "won", "lost"))
    return pd.DataFrame({"created_date": START + pd.to_timedelta(c, unit="D"),
                         "close_date": pd.to_datetime(np.where(
                             close >= 0, START + pd.to_timedelta(close, unit="D"), pd.NaT)),
                         "outcome": outcome})


def _at(d, cut):
    d = d[d["created_date"] < cut].copy()
    later = d["close_date"] >= cut
    d.loc[later, "outcome"] = "open"
    d.loc[later, "close_date"] = pd.NaT
    return d


def _estimate(d, calendar=None):
    k = _at(d, CUT)
    return pipeline_model_error(k["created_date"], k["close_date"], k["outcome"].to_numpy(),
                                CUT, horizon_months=3, max_origins=5, calendar=calendar)


def test_inner_origins_need_three_months_of_closes():
    close = pd.Series(pd.to_datetime(["2021-03-01", "2021-05-10"]))
    out = np.array(["won", "lost"])
    assert inner_origins(close, out, pd.Timestamp("2021-10-01")) == [
        pd.Timestamp(x) for x in ("2021-07-01", "2021-08-01", "2021-09-01")]
    assert inner_origins(close, out, pd.Timestamp("2021-06-01")) == []
    assert inner_origins(close, out, pd.Timestamp("2021-07-01")) == [pd.Timestamp("2021-06-01")]
    # a left-truncated export counts from its truncation date (closes before it are absent)
    assert inner_origins(close, out, pd.Timestamp("2021-10-01"),
                         pd.Timestamp("2021-04-15")) == [pd.Timestamp("2021-08-01"),
                                                         pd.Timestamp("2021-09-01")]


def test_no_cohort_heterogeneity_gives_no_model_error():
    me = _estimate(_generate(np.random.default_rng(3), np.ones(10)))
    assert me["cohorts_used"] >= 10 and len(me["origins"]) == 5
    assert me["log_variance"] < 0.01
    assert me["log_variance"] <= 2 * me["log_variance_se"] or me["floored"]


FACTOR = np.exp(np.array([0.3, -0.3, 0.45, -0.4, 0.0, 0.35, -0.35, 0.25, -0.3, 0.2]))


def test_recovers_an_injected_cohort_frailty():
    # each entry month's won share scaled by a known factor, its timing unchanged: the pooled
    # age-only hazards cannot see it, so a cohort's forecast is off by its factor over their
    # mean; the estimand is the forecast^2-weighted mean square of the log factors about their
    # weighted mean (the estimator's weights), over the cohort-windows used
    me = _estimate(_generate(np.random.default_rng(5), FACTOR), calendar=False)
    used = pd.DataFrame(me["errors"]).query("used")
    lf = np.log(FACTOR[[int(c[-2:]) - 1 for c in used["cohort"]]])
    w = used["forecast"].to_numpy() ** 2
    truth = float(np.sum(w * (lf - np.average(lf, weights=w)) ** 2) / w.sum())
    assert truth > 0.05
    assert me["log_variance"] > 2 * me["log_variance_se"]
    assert abs(me["log_variance"] - truth) <= Z * me["log_variance_se"]


def test_calendar_model_partly_absorbs_cohort_effects():
    # the calendar model (AIC picks it at the cut on these data: age x month-of-quarter cells
    # partly track entry months) forecasts the cohorts better than the age-only one, so less
    # model error is left to measure; the estimate is that of the model used
    d = _generate(np.random.default_rng(5), FACTOR)
    k = _at(d, CUT)
    assert fit_closing_hazards(k["created_date"], k["close_date"], k["outcome"].to_numpy(),
                               CUT).calendar
    cal, age = _estimate(d, calendar=True), _estimate(d, calendar=False)
    assert 0 < cal["log_variance"] < age["log_variance"]


def test_parameter_draw_frailty_has_mean_p_and_the_log_sd():
    rng = np.random.default_rng(1)
    x = np.array([cohort_frailty(0.4, 0.09, rng) for _ in range(20_000)])
    assert abs(x.mean() - 0.4) < 0.005
    assert abs(np.std(np.log(x)) - 0.3) < 0.01
    assert cohort_frailty(0.9, 4.0, rng) <= 1.0
