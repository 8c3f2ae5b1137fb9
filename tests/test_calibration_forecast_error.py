"""The open-pipeline forecast's model error, sized before the cut by inner cuts
(``salesplan.simulator.calibration.forecast_error``): the moment estimator recovers a known frailty
variance within its standard error and gives ~0 without one; on generated CRM histories, the
inner-cut estimate is ~0 when every entry month closes alike and recovers a known per-cohort
frailty on the won share; the part common to the cohorts of one origin is told from their own
(close-month shocks are common, entry-month factors are not); the bias ratio is recovered; the
parameter draws apply it with the right spread.

Seeded statistical tests (2.576 standard errors, or the stated tolerance)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from salesplan.simulator.calibration.backtest import cohort_frailty
from salesplan.simulator.calibration.forecast_error import (
    MIN_BIAS_FORECAST,
    bias_correction,
    bias_ratio,
    common_log_variance,
    frailty_log_variance,
    inner_origins,
    pipeline_model_error,
)
from salesplan.simulator.calibration.hazards import fit_closing_hazards

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


def _origin_pairs(rng, n_origins, per_origin, s2_common, s2_own, bias=1.0):
    """Poisson wins around ``bias`` x forecasts with a frailty shared by the cohorts of an
    origin (log variance ``s2_common``) times one of their own (``s2_own``)."""
    f = rng.uniform(20, 400, (n_origins, per_origin))
    c = rng.normal(0, math.sqrt(s2_common), (n_origins, 1))
    w = rng.normal(0, math.sqrt(s2_own), (n_origins, per_origin))
    a = rng.poisson(bias * f * np.exp(c + w - (s2_common + s2_own) / 2))
    origin = np.repeat(np.arange(n_origins), per_origin)
    return f.ravel(), a.ravel().astype(float), f.ravel(), origin


@pytest.mark.parametrize(("s2c", "s2w"), [(0.04, 0.0), (0.0, 0.04), (0.03, 0.03)])
def test_common_part_is_told_from_the_cohorts_own(s2c, s2w):
    # cross-moments between the cohorts of one origin see only the shared frailty; the
    # marginal sees both
    rng = np.random.default_rng(int(1000 * s2c + 100 * s2w))
    f, a, v, o = _origin_pairs(rng, 150, 6, s2c, s2w)
    total = frailty_log_variance(f, a, v, o)
    assert abs(total["log_variance"] - (s2c + s2w)) <= Z * total["log_variance_se"] + 1e-3
    est = common_log_variance(f, a, v, o, total["log_variance"])
    assert est["origins"] == 150
    if est["split"] == "none common":           # negative cross-moments: nothing in common
        assert s2c == 0 and est["common_log_variance"] == 0.0
    else:
        assert abs(est["common_log_variance"] - s2c) <= Z * est["common_log_variance_se"] + 1e-3
    if est["split"] == "cross-moments":         # the own part: what the marginal leaves
        se_own = math.hypot(total["log_variance_se"], est["common_log_variance_se"])
        assert abs(est["cohort_log_variance"] - s2w) <= Z * se_own + 1e-3
    if s2c == 0:
        assert est["common_log_variance"] < 0.005
    if s2w == 0:
        assert est["cohort_log_variance"] < 0.005


def test_common_part_branches():
    f = np.array([100.0, 200.0, 100.0, 200.0])
    o = np.array([0, 0, 1, 1])
    # errors of opposite sign within each origin: negative cross-moments, nothing in common
    est = common_log_variance(f, f + np.array([20, -20, -20, 20]), f, o, 0.01)
    assert est["split"] == "none common" and est["common_log_variance"] == 0.0
    assert est["cohort_log_variance"] == 0.01 and est["common_theta_raw"] < 0
    # same sign, and more in common than the marginal: all common, sized by the origin totals
    a = f * np.array([0.7, 0.7, 1.3, 1.3])
    est = common_log_variance(f, a, f, o, 0.01)
    theta = ((-90.0) ** 2 - 300 + 90.0 ** 2 - 300) / (300.0 ** 2 * 2)
    assert est["split"] == "all common" and est["cohort_log_variance"] == 0.0
    assert est["common_log_variance"] == pytest.approx(math.log1p(theta))
    # one origin: errors -30 and -60, cross-moment 2 x 1800 over 2 x 20000 (both orders)
    one = common_log_variance(f[:2], a[:2], f[:2], o[:2], 0.2)
    assert one["split"] == "cross-moments" and one["common_log_variance_se"] is None
    assert one["common_log_variance"] == pytest.approx(math.log1p(0.09))
    assert one["cohort_log_variance"] == pytest.approx(0.2 - math.log1p(0.09))
    # an origin with a single cohort has no pair: it is not counted
    lone = common_log_variance(np.append(f, 50.0), np.append(a, 80.0), np.append(f, 50.0),
                               np.append(o, 2), 0.01)
    assert lone["origins"] == 2 and lone["common_theta_raw"] == est["common_theta_raw"]


def test_bias_ratio_is_recovered_with_a_calibrated_standard_error():
    # 100 seeded data sets: the estimate is centred on the true ratio and its standard error
    # (clustered by origin) standardises the errors to unit spread
    z, est = [], {}
    for seed in range(100):
        f, a, _, o = _origin_pairs(np.random.default_rng(seed), 60, 5, 0.01, 0.01, bias=0.8)
        est = bias_ratio(f, a, o)
        z.append((est["bias_ratio"] - 0.8) / est["bias_ratio_se"])
    assert abs(np.mean(z)) < Z / math.sqrt(100)
    assert 0.8 < np.std(z) < 1.25
    assert est["bias_ratio_se"] < 0.02
    assert bias_ratio(f[:5], a[:5], o[:5])["bias_ratio_se"] is None   # one origin
    assert bias_ratio(np.zeros(2), np.ones(2), np.zeros(2))["bias_ratio"] is None


def test_bias_correction_needs_enough_forecast_wins_at_one_origin():
    me = {"bias_ratio": 0.8, "bias_ratio_se": 0.05, "forecast_total": 400.0,
          "forecast_largest_origin": 150.0, "bias_window_days": 92}
    factor, note = bias_correction(me)
    assert factor == 0.8
    assert note == ("at the inner cuts the realised wins were 0.800 times the forecast (SE "
                    "0.050, a lower bound: the windows overlap); every pipeline cohort's won "
                    "probability in the first 92 days after the cut (the longest inner window) "
                    "is scaled by it")
    factor, note = bias_correction(me, enabled=False)
    assert factor == 1.0 and note.endswith("not applied (the pipeline bias correction is off)")
    # overlapping windows add up to 400, but no one origin forecast 100 distinct wins
    few = {**me, "forecast_largest_origin": MIN_BIAS_FORECAST - 1, "bias_ratio_se": None}
    factor, note = bias_correction(few)
    assert factor == 1.0 and "one inner cut" in note and "fewer than the 100" in note
    assert bias_correction({"bias_ratio": None}) == (1.0, None)
    assert "(SE 0.000" in bias_correction({**me, "bias_ratio_se": 0.0})[1]


def _generate(rng, won_factor, per_month=1500, months=10, close_factor=None):
    """Deals created uniformly over ``months`` from START; each stalls with STALL, else closes
    day by day with H_CLOSE, won with probability 0.5 x its entry month's ``won_factor`` (x its
    close month's ``close_factor``, months counted from START, if given). Vectorised over
    deals; followed until the end of the data (CUT + 150 days)."""
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
    p_won = 0.5 * np.asarray(won_factor)[k]
    if close_factor is not None:
        when = START + pd.to_timedelta(np.maximum(close, 0), unit="D")
        p_won = p_won * np.asarray(close_factor)[(when.year - START.year) * 12 + when.month - 1]
    won = rng.random(c.size) < p_won
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


def test_close_month_shocks_are_common_and_entry_month_factors_are_not():
    # a won share that moves with the month deals close in hits every cohort open at an
    # origin alike: the error is read as common. A won share per entry month is each cohort's
    # own: nothing common.
    shocks = np.exp(np.random.default_rng(11).normal(0, 0.3, 20)).clip(0.5, 1.9)
    by_close = _estimate(_generate(np.random.default_rng(5), np.ones(10), close_factor=shocks),
                         calendar=False)
    assert by_close["log_variance"] > 0.02
    assert by_close["common_log_variance"] > 0.9 * by_close["log_variance"]
    assert by_close["cohort_log_variance"] < 0.1 * by_close["log_variance"]
    by_entry = _estimate(_generate(np.random.default_rng(5), FACTOR), calendar=False)
    assert by_entry["split"] == "none common" and by_entry["common_log_variance"] == 0.0
    assert by_entry["cohort_log_variance"] == by_entry["log_variance"] > 0.02


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
