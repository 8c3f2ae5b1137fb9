"""The peer comparisons behind an early warning: intervals that say how sure they are."""

from __future__ import annotations

import numpy as np
import pytest

from salesplan.api.planning.tracking.errors import TrackingError
from salesplan.api.planning.tracking.peers import proportion_gap, rate_ratio, velocity_ratio
from salesplan.api.planning.tracking.periods import parse_period, working_days


def test_a_clear_gap_is_sure_and_a_small_sample_is_not():
    c = proportion_gap("win rate", 30, 100, 600, 1000, low_is_bad=True)
    assert c.diff == pytest.approx(-0.3) and c.sure and c.ci95[1] < 0
    c = proportion_gap("win rate", 2, 5, 600, 1000, low_is_bad=True)
    assert not c.sure and c.ci95[0] < c.diff < c.ci95[1]
    assert proportion_gap("win rate", 0, 0, 5, 10, low_is_bad=True) is None


def test_rates_and_velocity():
    c = rate_ratio("new opportunities per day", 10, 91, 300, 91 * 10)
    assert c.diff == pytest.approx(1 / 3) and c.sure
    assert not rate_ratio("new", 9, 91, 10, 91).sure
    rng = np.random.default_rng(0)
    slow = velocity_ratio(rng.lognormal(4, 0.3, 60), rng.lognormal(3, 0.3, 300))
    assert slow.diff == pytest.approx(np.e, rel=0.15) and slow.sure
    assert velocity_ratio(np.array([10.0]), np.array([5.0, 6, 7])) is None


@pytest.mark.parametrize(("text", "start", "end", "kind"), [
    ("2017Q4", "2017-10-01", "2017-12-31", "quarter"), ("2017-q1", "2017-01-01",
                                                        "2017-03-31", "quarter"),
    ("2017-11", "2017-11-01", "2017-11-30", "month"), ("2016-2", "2016-02-01", "2016-02-29",
                                                       "month"),
    ("2017", "2017-01-01", "2017-12-31", "year")])
def test_periods(text, start, end, kind):
    p = parse_period(text)
    assert (str(p.start.date()), str(p.end.date()), p.kind) == (start, end, kind)


@pytest.mark.parametrize("bad", ["2017Q5", "2017-00", "17Q1", "Q4", "", "2017-11-01"])
def test_bad_periods(bad):
    with pytest.raises(TrackingError, match="does not parse"):
        parse_period(bad)


def test_working_days_and_elapsed_share():
    import pandas as pd

    q = parse_period("2017Q4")
    assert working_days(q.start, q.end) == 65
    assert q.elapsed_share(pd.Timestamp("2017-09-30")) == 0
    assert q.elapsed_share(pd.Timestamp("2018-01-05")) == 1
    assert q.elapsed_share(pd.Timestamp("2017-11-15")) == pytest.approx(33 / 65)


def test_rep_pipeline_factors_are_shrunk_toward_the_pool():
    from salesplan.api.planning.tracking.rep_pipeline import _shrink

    units = [f"R{i}" for i in range(10)]
    forecast = np.full(10, 50.0)
    even = _shrink(forecast, forecast.copy(), units, 3)
    assert np.allclose(even.log_factor, 0) and np.allclose(even.log_sd, 0)
    actual = np.where(np.arange(10) % 2 == 0, 20.0, 80.0)
    split = _shrink(forecast, actual, units, 3)
    raw = np.log((actual + 0.5) / (forecast + 0.5))
    assert (np.sign(split.log_factor) == np.sign(raw)).all()
    assert (np.abs(split.log_factor) < np.abs(raw)).all()
    assert (split.log_sd > 0).all()
    assert split.facts["rep_pipeline_between_log_sd"] > 0.5


def test_a_plans_targets_by_quarter_and_region():
    from pathlib import Path

    from salesplan.api.planning.tracking.targets import targets_from_plan
    from salesplan.scenarios.io import load_scenario

    plan = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "examples"
                         / "small.yaml")
    t = targets_from_plan(plan)
    company = t[t["level"] == "company"]
    assert company["target"].sum() == pytest.approx(plan.targets.company)
    assert {p.kind for p in company["period"]} == {"quarter"} and len(company) == 4
    regions = t[t["level"] == "region"]
    assert regions["target"].sum() == pytest.approx(plan.targets.company)


def test_counter_based_uniforms_are_uniform_and_repeatable():
    from scipy import stats

    from salesplan.api.planning.tracking.landing import deal_uniforms, win_uniforms

    key = np.random.SeedSequence(5).generate_state(1, np.uint64)[0]
    u = np.concatenate([deal_uniforms(key, 2000, d, p) for d in range(5) for p in range(3)])
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    assert np.array_equal(deal_uniforms(key, 50, 3, 1), deal_uniforms(key, 50, 3, 1))
    assert not np.array_equal(deal_uniforms(key, 50, 3, 1), deal_uniforms(key, 50, 3, 2))
    r, k = np.repeat(np.arange(100), 20), np.tile(np.arange(20), 100)
    w = win_uniforms(key, r, 7, k, 0)
    assert stats.kstest(w, "uniform").pvalue > 1e-3 and ((w >= 0) & (w < 1)).all()
    # the k-th win's number does not depend on which other wins are asked for
    assert win_uniforms(key, np.array([3]), 7, np.array([5]), 0)[0] == w[3 * 20 + 5]
    # neighbouring counters are not correlated
    assert abs(np.corrcoef(w[:-1], w[1:])[0, 1]) < 0.05
