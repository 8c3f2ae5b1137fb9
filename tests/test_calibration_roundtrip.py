"""Round trip: simulate a known scenario, export its deals as a CRM history, calibrate, and
recover the conversion, arrival and duration parameters within their reported uncertainty.

Seeded statistical test: each check is |estimate - truth| <= 2.576 reported standard errors
(a 99% interval; several parameters are checked at once)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from salesplan.scenarios.crm import read_history
from salesplan.scenarios.model import Scenario
from salesplan.simulator import simulate
from salesplan.simulator.calibration import calibrate

Z = 2.576
P_WON, MEAN, CV, LEADS = 0.45, 30.0, 0.6, 60.0
START = dt.date(2027, 1, 1)


def _truth() -> Scenario:
    return Scenario.model_validate({
        "name": "truth",
        "horizon": {"start": START.isoformat(), "months": 12},
        "regions": [{"id": "North"}, {"id": "South"}],
        "segments": [{"id": "all"}],
        "products": [
            {"id": "basic", "deal_size": {"dist": "gamma", "mean": 2000.0, "cv": 0.3}},
            {"id": "premium", "deal_size": {"dist": "lognormal", "mean": 9000.0, "cv": 0.4}},
        ],
        "stages": [{"name": "engaging", "conversion": P_WON,
                    "duration": {"dist": "lognormal", "mean": MEAN, "cv": CV}}],
        "lead_sources": [
            {"id": f"{r}-src", "region": r, "segment": "all", "leads_per_month": LEADS,
             "product_mix": {"basic": 0.7, "premium": 0.3}} for r in ("North", "South")],
        "reps": [{"id": f"{r}{i}", "region": r, "capacity": 10_000}
                 for r in ("North", "South") for i in (1, 2)],
        "policies": {"routing": "least_loaded"},
    })


def _export(sc: Scenario, tmp_path) -> tuple:
    res = simulate(sc, replications=1, seed=20270101, workers=1, keep_deals=1)
    d = res.deals
    day0 = pd.Timestamp(START)
    created = day0 + pd.to_timedelta(np.floor(d["created_date"]), unit="D")
    closed = day0 + pd.to_timedelta(np.floor(d["closed_date"]), unit="D")
    stage = d["outcome"].map({"won": "Won", "lost": "Lost", "open": "Engaging"})
    hist = pd.DataFrame({
        "opportunity_id": d["deal_id"], "sales_agent": d["rep"], "product": d["product"],
        "account": "", "deal_stage": stage,
        "engage_date": created.dt.strftime("%Y-%m-%d"),
        "close_date": closed.dt.strftime("%Y-%m-%d").where(d["outcome"] != "open", ""),
        "close_value": d["value"].round(2).where(d["outcome"] == "won",
                                                 np.where(d["outcome"] == "lost", 0, np.nan)),
    })
    f = tmp_path / "history.csv"
    hist.to_csv(f, index=False)
    teams = tmp_path / "teams.csv"
    pd.DataFrame({"sales_agent": [r.id for r in sc.reps],
                  "regional_office": [r.region for r in sc.reps]}).to_csv(teams, index=False)
    return f, teams, d


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    sc = _truth()
    f, teams, deals = _export(sc, tmp_path_factory.mktemp("rt"))
    h = read_history(f, "maven", teams=teams)
    return calibrate(h, cutoff="2028-01-01", horizon_months=6), deals, h


def _within(est: float, se: float, truth: float) -> None:
    assert se > 0
    assert abs(est - truth) <= Z * se, f"{est:.4g} vs truth {truth:.4g} (se {se:.3g})"


@pytest.mark.slow
def test_conversion_recovered(calibrated):
    cal, _, _ = calibrated
    o = cal.estimates["outcomes"]
    _within(o["p_won"], o["p_won_se"], P_WON)
    assert o["n_open"] > 0  # censoring is exercised
    assert o["p_stall"] < 0.02
    # the naive win rate among closed deals is biased when open deals are dropped or lost
    naive_lost = o["n_won"] / (o["n_won"] + o["n_lost"] + o["n_open"])
    assert naive_lost < o["p_won_ci"][0]


@pytest.mark.slow
@pytest.mark.parametrize("outcome", ["won_duration", "lost_duration"])
def test_durations_recovered(calibrated, outcome):
    cal, _, _ = calibrated
    f = cal.estimates["outcomes"][outcome]
    _within(f["mean"], f["mean_se"], MEAN)
    _within(f["cv"], f["cv_se"], CV)
    assert f["family"] == "lognormal"


@pytest.mark.slow
def test_arrivals_recovered(calibrated):
    cal, _, _ = calibrated
    arr = cal.estimates["arrivals"]
    assert {a["group"]["region"] for a in arr} == {"North", "South"}
    for a in arr:
        _within(a["level"], a["level_se"], LEADS)
        assert a["level_ci"][0] <= LEADS <= a["level_ci"][1]


@pytest.mark.slow
def test_deal_sizes_and_reps(calibrated):
    cal, _, _ = calibrated
    for p, truth in (("basic", 2000.0), ("premium", 9000.0)):
        s = cal.estimates["deal_sizes"][p]["all"]
        assert s["mean_ci"][0] <= truth <= s["mean_ci"][1]
    # identical reps: shrinkage pulls every multiplier close to 1
    assert all(abs(r["productivity"] - 1) < 0.15 for r in cal.estimates["reps"])


@pytest.mark.slow
def test_calibrated_scenario_runs(calibrated):
    cal, _, _ = calibrated
    sc = cal.scenario
    # the stage converts at the closing-hazard model's P(won), which recovers the truth; the
    # truth has no month-of-quarter effect and the model says so (age only wins on AIC)
    hz = cal.estimates["closing_hazards"]
    assert not hz["calendar"] and sc.stages[0].duration_by_quarter_month is None
    assert sc.stages[0].conversion == pytest.approx(hz["new_deals"]["p_won"], abs=1e-6)
    _within(hz["new_deals"]["p_won"], hz["new_deals"]["p_won_se"], P_WON)
    assert len(sc.initial_pipeline) > 0
    res = simulate(sc, replications=3, seed=1, workers=1)
    assert res.total_won().mean() > 0


@pytest.mark.slow
def test_parameter_draws_are_centred_on_the_estimates(calibrated):
    from salesplan.simulator.calibration.backtest import perturbed_scenario

    cal, _, _ = calibrated
    rng = np.random.default_rng(0)
    draws = [perturbed_scenario(cal, rng) for _ in range(40)]
    conv = np.array([sc.stages[0].conversion for sc in draws])
    p, se = cal.estimates["outcomes"]["p_won"], cal.estimates["outcomes"]["p_won_se"]
    assert conv.std() == pytest.approx(se, rel=0.5)
    assert abs(conv.mean() - p) < 4 * se / np.sqrt(len(conv))
    lv = np.array([sc.lead_sources[0].leads_per_month for sc in draws])
    assert abs(lv.mean() / cal.scenario.lead_sources[0].leads_per_month - 1) < 0.05


@pytest.mark.slow
def test_parameter_draws_carry_the_pipeline_model_error(calibrated):
    # each pipeline cohort's P(won | open) gets a mean-one lognormal frailty of the estimated
    # log variance on top of its stalled-share draw; without an estimate, none
    from salesplan.simulator.calibration.backtest import perturbed_scenario

    cal, _, _ = calibrated
    hz = cal.hazards
    saved = hz.model_error
    assert saved.get("origins")            # estimated from inner cuts before the cut

    def log_conv(s2: float | None) -> np.ndarray:
        hz.model_error = {"log_variance": s2} if s2 is not None else {}
        rng = np.random.default_rng(4)
        draws = [perturbed_scenario(cal, rng) for _ in range(150)]
        return np.log(np.array([[o.conversion for o in sc.stages[0].overrides
                                 if o.segment.startswith("pipeline-")] for sc in draws]))

    try:
        base, extra = log_conv(None), log_conv(0.09)
    finally:
        hz.model_error = saved
    live = np.isfinite(base).all(axis=0) & (base.mean(axis=0) < np.log(0.8))
    assert live.any()
    added = extra[:, live].var(axis=0) - base[:, live].var(axis=0)
    assert np.median(added) == pytest.approx(0.09, rel=0.35)


@pytest.mark.slow
def test_parameter_draws_share_the_common_error(calibrated):
    # the common part of the model error moves every pipeline cohort together (covariance of
    # two cohorts' log P(won | open) over draws = its log variance); the cohorts' own part does
    # not
    from salesplan.simulator.calibration.backtest import perturbed_scenario

    cal, _, _ = calibrated
    hz = cal.hazards
    saved = hz.model_error

    def log_conv(me: dict) -> np.ndarray:
        hz.model_error = me
        rng = np.random.default_rng(7)
        draws = [perturbed_scenario(cal, rng) for _ in range(300)]
        return np.log(np.array([[o.conversion for o in sc.stages[0].overrides
                                 if o.segment.startswith("pipeline-")] for sc in draws]))

    try:
        base = log_conv({})
        common = log_conv({"log_variance": 0.09, "common_log_variance": 0.09,
                           "cohort_log_variance": 0.0})
        own = log_conv({"log_variance": 0.09, "cohort_log_variance": 0.09})
    finally:
        hz.model_error = saved
    live = np.isfinite(base).all(axis=0) & (base.max(axis=0) < np.log(0.8))
    assert live.sum() >= 2
    i, j = np.flatnonzero(live)[:2]

    def added_cov(x: np.ndarray) -> float:
        return float(np.cov(x[:, i], x[:, j])[0, 1] - np.cov(base[:, i], base[:, j])[0, 1])

    assert added_cov(common) == pytest.approx(0.09, abs=0.03)
    assert abs(added_cov(own)) < 0.03
    assert (common[:, live].var(axis=0) - base[:, live].var(axis=0)) == pytest.approx(
        0.09, abs=0.035)
