"""Estimators against known truths (seeded; tolerances from the reported standard errors)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from salesplan.simulator.calibration import (
    aalen_johansen,
    fit_arrivals,
    fit_deal_size,
    fit_duration,
    jeffreys_interval,
    rep_productivity,
)

Z = 2.576  # 99%: several checks per test


def _within(est, se, truth):
    assert abs(est - truth) <= Z * se, f"{est:.4g} vs {truth:.4g} (se {se:.3g})"


@pytest.mark.parametrize("family", ["lognormal", "gamma"])
def test_censored_truncated_fit_recovers_parameters(family):
    rng = np.random.default_rng(7)
    n, mean, cv = 3000, 40.0, 0.7
    if family == "gamma":
        k = 1 / cv**2
        t = rng.gamma(k, mean / k, n)
    else:
        s = math.sqrt(math.log1p(cv**2))
        t = rng.lognormal(math.log(mean) - s * s / 2, s, n)
    # left truncation: half the deals are only seen if they lasted beyond 10 days
    entry = np.where(rng.random(n) < 0.5, 10.0, 0.0)
    seen = t > entry
    t, entry = t[seen], entry[seen]
    c = rng.uniform(0, 120, t.size)  # right censoring (open at the export date)
    obs, ev = np.minimum(t, c), t <= c
    f = fit_duration(obs, ev, entry)
    assert f.family == family
    assert f.n_censored > 300 and f.n_truncated > 1000
    _within(f.mean, f.mean_se, mean)
    _within(f.cv, f.cv_se, cv)
    assert f.ks_km < 0.03  # Kaplan-Meier vs fitted CDF
    # ignoring censoring (open deals as closed at their age) biases the mean down
    naive = fit_duration(obs)
    assert naive.mean < f.mean_ci[0]


def test_aalen_johansen_without_censoring_is_the_empirical_share():
    rng = np.random.default_rng(3)
    n = 500
    out = np.where(rng.random(n) < 0.3, "won", "lost")
    t = rng.integers(1, 60, n).astype(float)
    cif = aalen_johansen(t, out)
    assert cif.p_won == pytest.approx((out == "won").mean())
    assert cif.surv[-1] == pytest.approx(0.0, abs=1e-12)
    assert cif.p_won_given_open(1e6) == 0.0  # beyond the last close: no extrapolation


def test_aalen_johansen_open_deals_are_not_lost():
    # 100 won at day 10; 100 open at day 5 that would be won later; 100 lost at day 20
    t = np.r_[np.full(100, 10.0), np.full(100, 5.0), np.full(100, 20.0)]
    o = np.r_[["won"] * 100, ["open"] * 100, ["lost"] * 100]
    cif = aalen_johansen(t, o)
    assert cif.p_won == pytest.approx(0.5)
    assert cif.cif_lost[-1] == pytest.approx(0.5)


def test_arrivals_level_trend_and_seasonality():
    rng = np.random.default_rng(11)
    months = pd.period_range("2020-01", "2022-12", freq="M")
    season = np.array([0.8, 0.9, 1.0, 1.1, 1.2, 1.0, 0.9, 0.8, 1.0, 1.1, 1.2, 1.0])
    season = season / season.mean()
    growth = 0.10
    dates = []
    ref = len(months)
    for i, p in enumerate(months):
        lam = 100 * season[p.month - 1] * (1 + growth) ** ((i - ref) / 12) * (
            p.days_in_month / (365.25 / 12))
        k = rng.poisson(lam)
        days = rng.integers(0, p.days_in_month, k)
        dates += [p.start_time + pd.Timedelta(days=int(d)) for d in days]
    f = fit_arrivals(pd.Series(pd.to_datetime(dates)), months[0], months[-1], {"region": "X"})
    assert f.seasonality_used and f.growth_ci is not None
    _within(f.level, f.level_se, 100.0)
    assert f.growth_ci[0] <= growth <= f.growth_ci[1]
    # each month's factor relative to January: |log ratio error| within Z standard errors
    fit = np.asarray(f.seasonality)
    for c in range(1, 12):
        lo, hi = f.seasonality_ci[c]
        se = math.log(hi / lo) / (2 * 1.96)
        assert abs(math.log(fit[c] / fit[0]) - math.log(season[c] / season[0])) <= Z * se


def test_short_history_reports_what_it_cannot_estimate():
    dates = pd.Series(pd.to_datetime(["2021-01-05", "2021-02-03", "2021-02-20", "2021-03-01"]))
    f = fit_arrivals(dates, pd.Period("2021-01", "M"), pd.Period("2021-03", "M"), {})
    assert not f.seasonality_used and not f.growth_used
    assert any("seasonality not identified" in n for n in f.notes)
    assert any("trend not estimated" in n for n in f.notes)


def test_small_rep_is_shrunk_toward_the_team():
    rng = np.random.default_rng(5)
    rows = []
    for r in range(20):  # 20 ordinary reps with 200 deals each, true win rate 0.3-0.4
        p = 0.3 + 0.1 * rng.random()
        rows += [(f"R{r:02d}", bool(w), 30.0) for w in rng.random(200) < p]
    rows += [("Star", True, 30.0)] * 10 + [("Star", False, 30.0)] * 2  # 10 of 12
    f = pd.DataFrame(rows, columns=["owner", "won", "days"])
    out, prior = rep_productivity(f)
    star = out.set_index("rep").loc["Star"]
    assert star["raw_win_rate"] == pytest.approx(10 / 12)
    assert star["win_rate"] < 0.5  # a rep with 12 deals is not called a star
    assert star["productivity_ci_lo"] < 1 < star["productivity_ci_hi"]
    assert 0.3 < prior["team_win_rate"] < 0.4
    big = out[out["rep"] != "Star"]
    # reps with 200 deals keep most of their own signal
    assert np.corrcoef(big["raw_win_rate"], big["win_rate"])[0, 1] > 0.9


def test_deal_size_and_jeffreys():
    rng = np.random.default_rng(2)
    a = rng.gamma(4, 250, 2000)
    s = fit_deal_size(a)
    assert s["mean_ci"][0] <= 1000 <= s["mean_ci"][1]
    assert s["family"] == "gamma"
    lo, hi = jeffreys_interval(30, 100)
    assert lo < 0.3 < hi and hi - lo < 0.2
    assert jeffreys_interval(0, 10)[0] == 0.0
