"""Calibrate and backtest from the command line: the Maven export (cut 2017-10-01) gives a
scenario that validates and runs; a Salesforce-style history gives per-stage estimates; the
backtest writes its table and summary."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from salesplan.api.cli import main
from salesplan.scenarios.io import load_scenario
from salesplan.simulator import simulate

DATA = Path(__file__).parent / "data"
MAVEN = DATA / "maven_crm"


@pytest.fixture(scope="module")
def maven_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("maven")
    code = main(["calibrate", str(MAVEN / "sales_pipeline.csv.gz"), "--mapping", "maven",
                 "--teams", str(MAVEN / "sales_teams.csv"), "--products",
                 str(MAVEN / "products.csv"), "--cutoff", "2017-10-01", "--months", "3",
                 "--out", str(out)])
    assert code == 0
    return out


def test_calibrate_writes_the_three_files(maven_out):
    for name in ("scenario.yaml", "calibration.json", "report.html"):
        assert (maven_out / name).is_file()
    html = (maven_out / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 3  # self-contained figures
    assert "cleaning report" in html


def test_maven_scenario_validates_and_runs(maven_out):
    sc = load_scenario(maven_out / "scenario.yaml")
    assert sc.horizon.start.isoformat() == "2017-10-01"
    assert sc.region_ids == ["Central", "East", "West"]
    assert len(sc.reps) == 35
    assert {p.id for p in sc.products} >= {"GTX Pro", "GTX Basic"}  # GTXPro was merged
    assert "GTXPro" not in sc.product_ids
    res = simulate(sc, replications=2, seed=3, workers=1)
    assert res.total_bookings().min() > 0


def test_maven_estimates(maven_out):
    e = json.loads((maven_out / "calibration.json").read_text())
    o = e["outcomes"]
    assert o["n_open"] > 2000  # open at the cut: censored, not lost
    assert o["p_won_ci"][0] < o["p_won"] < o["p_won_ci"][1]
    # open deals are not lost: the win probability exceeds won / (won + lost + open)
    assert o["p_won"] > o["n_won"] / (o["n_won"] + o["n_lost"] + o["n_open"])
    assert e["cleaning"]["rows_dropped"] == 500
    assert any("left truncation" in n for n in e["notes"])
    assert len(e["arrivals"]) == 3
    for a in e["arrivals"]:
        assert a["level_ci"][0] < a["level"] < a["level_ci"][1]
        assert a["months"][0] == "2017-03" and a["months"][-1] == "2017-09"
    # pipeline cohorts by entry month, oldest first: deals open beyond the longest observed
    # cycle are not won; the stalled share is estimated per month
    ovs = load_scenario(maven_out / "scenario.yaml").stages[0].overrides
    assert [o.segment for o in ovs][-1] == "pipeline-2017-09"
    assert ovs[0].conversion == 0.0 < ovs[-1].conversion
    hz = e["closing_hazards"]
    assert 0 < hz["pooled_stall_share"] < 0.3
    # the July cohort is 50% larger than its neighbours and far more of it is still open:
    # its stalled share is estimated above the pool
    assert hz["cohorts"]["2017-07"]["stall_share"] > hz["pooled_stall_share"]
    assert [c["left_truncated"] for m, c in sorted(hz["cohorts"].items())][:2] == [True, True]
    # Maven's end-of-quarter bunching: the calendar model wins by a wide AIC margin, wins
    # crowd into the third month of a quarter and losses out of it
    assert hz["calendar"] and hz["alternative"]["age_only"]["aic"] > hz["aic"] + 100
    prof = hz["quarter_profile"]
    assert prof["won"][2] > 1.2 > 0.8 > prof["won"][0]
    assert prof["lost"][2] < 0.6
    stage = load_scenario(maven_out / "scenario.yaml").stages[0]
    assert stage.duration_by_quarter_month is not None
    # new deals arrive at any time of a day: a win j days later is a duration of j whole days;
    # pipeline deals start at day 0.0: the middle of their won day
    for dist in stage.duration_by_quarter_month:
        assert all(float(v).is_integer() for v in dist.values)
    assert all(float(v) % 1 == 0.5 for v in stage.overrides[-1].duration.values)
    # the stage converts at the hazard model's P(won) (stalled deals never win), below the
    # parametric model's, which lets the lost-time tail absorb the stalled deals
    nd = hz["new_deals"]
    assert stage.conversion == pytest.approx(nd["p_won"], abs=1e-6)
    assert nd["p_won"] < nd["parametric_p_won"]
    reps = pd.DataFrame(e["reps"])
    assert (reps["win_rate"].std() < reps["raw_win_rate"].std())  # shrinkage


def test_user_errors_exit_2(tmp_path, capsys):
    assert main(["calibrate", str(MAVEN / "sales_pipeline.csv.gz"), "--mapping", "nosuch",
                 "--out", str(tmp_path)]) == 2
    assert "neither a preset" in capsys.readouterr().err
    f = tmp_path / "dirty.csv"
    f.write_text("opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,"
                 "close_value\nA,x,p,a,Won,2017-01-01,2016-01-01,5\n")
    assert main(["calibrate", str(f), "--strict", "--out", str(tmp_path / "o")]) == 2
    assert "close_before_created" in capsys.readouterr().err


def _salesforce_like(tmp_path: Path) -> Path:
    """A synthetic Opportunity + OpportunityHistory pair with real stage transitions."""
    rng = np.random.default_rng(4)
    stages = ["Prospecting", "Qualification", "Proposal/Price Quote"]
    conv = [0.6, 0.7, 0.5]
    opp, hist = [], []
    start = pd.Timestamp("2023-01-01")
    for i in range(600):
        t = start + pd.Timedelta(days=int(rng.integers(0, 365)))
        created = t
        final = None
        for s, p in zip(stages, conv, strict=True):
            hist.append((f"O{i}", t, s))
            t = t + pd.Timedelta(days=int(rng.gamma(2, 5)) + 1)
            if t > pd.Timestamp("2024-01-01"):
                final = s
                break
            if rng.random() > p:
                final = "Closed Lost"
                break
        else:
            final = "Closed Won"
        if final in ("Closed Won", "Closed Lost"):
            hist.append((f"O{i}", t, final))
        opp.append((f"O{i}", final, 1000 + int(rng.integers(0, 500)), created.date(), t.date(),
                    f"rep{i % 4}", "Web" if i % 2 else "Partner"))
    pd.DataFrame(opp, columns=["Id", "StageName", "Amount", "CreatedDate", "CloseDate",
                               "OwnerId", "LeadSource"]).to_csv(tmp_path / "Opportunity.csv",
                                                                index=False)
    pd.DataFrame(hist, columns=["OpportunityId", "CreatedDate", "StageName"]).to_csv(
        tmp_path / "OpportunityHistory.csv", index=False)
    (tmp_path / "teams.csv").write_text("rep,region\nrep0,North\nrep1,North\nrep2,South\n"
                                        "rep3,South\n")
    return tmp_path / "Opportunity.csv"


def test_salesforce_history_gives_stage_estimates(tmp_path):
    f = _salesforce_like(tmp_path)
    out = tmp_path / "out"
    assert main(["calibrate", str(f), "--mapping", "salesforce", "--teams",
                 str(tmp_path / "teams.csv"), "--cutoff", "2024-01-01", "--out",
                 str(out)]) == 0
    e = json.loads((out / "calibration.json").read_text())
    st = e["stages"]
    assert list(st) == ["Prospecting", "Qualification", "Proposal/Price Quote"]
    for name, truth in zip(st, [0.6, 0.7, 0.5], strict=True):
        lo, hi = st[name]["conversion_ci"]
        assert lo <= truth <= hi
        assert st[name]["open"] >= 0
    sc = load_scenario(out / "scenario.yaml")
    assert sc.stage_names == list(st)
    assert {d.stage for d in sc.initial_pipeline} <= set(st)


MAVEN_NO_SOURCING = ("rep-sourced rate not estimable: the export does not say who sourced a "
                     "deal; every opportunity is treated as a routed lead, sourcing off")


def test_maven_cannot_estimate_the_rep_sourced_rate(maven_out):
    e = json.loads((maven_out / "calibration.json").read_text())
    assert e["sourcing"] == {"estimable": False, "per_rep_per_month": 0.0,
                             "note": MAVEN_NO_SOURCING}
    assert MAVEN_NO_SOURCING in e["not_estimated"]
    sc = load_scenario(maven_out / "scenario.yaml")
    assert sc.policies.sourcing.per_rep_per_month == 0.0
    assert all(r.sourcing_per_month is None for r in sc.reps)
    assert MAVEN_NO_SOURCING in (maven_out / "report.html").read_text()


def test_salesforce_demo_fixture_through_a_yaml_mapping(tmp_path):
    m = tmp_path / "sf.yaml"
    m.write_text("preset: salesforce\ncolumns:\n  id: Id\n  created: Opp Creation Date_Simulated\n"
                 "  close: Opp Close Date_Simulated\n  stage: StageName\n  amount: Amount\n"
                 "  source: LeadSource\ndate_format: '%m/%d/%y'\n")
    out = tmp_path / "out"
    assert main(["calibrate", str(DATA / "salesforce_demo" / "Opportunity.csv"), "--mapping",
                 str(m), "--cutoff", "2024-05-01", "--out", str(out)]) == 0
    sc = load_scenario(out / "scenario.yaml")
    assert [r.id for r in sc.reps] == ["team-all"]


@pytest.mark.slow
def test_backtest_cli(tmp_path):
    out = tmp_path / "bt"
    assert main(["backtest", str(MAVEN / "sales_pipeline.csv.gz"), "--cutoff", "2017-10-01",
                 "--teams", str(MAVEN / "sales_teams.csv"), "--replications", "20", "--seed",
                 "1", "--draws", "4", "--out", str(out)]) == 0
    s = json.loads((out / "summary.json").read_text())
    for k in ("coverage_50", "coverage_80", "mape_region_quarter", "cutoff"):
        assert k in s
    assert s["cutoff"] == "2017-10-01"
    assert s["months"] == ["2017-10", "2017-11", "2017-12"]
    t = pd.read_csv(out / "backtest.csv")
    assert len(t) == 3 * 3 * 2  # region x month x (bookings, won_deals)
    assert set(t.columns) >= {"actual", "p10", "p25", "p50", "p75", "p90", "pit"}
    assert (t["p10"] <= t["p90"]).all()
    assert t["in_80_share"].between(0, 1).all() and t["in_50_share"].between(0, 1).all()
    mc = s["monte_carlo"]
    assert mc["unit"] == "parameter draw" and mc["units"] == 4 and mc["resamples"] == 200
    for m in ("", "_won", "_pooled"):
        for level in ("80", "50"):
            lo, hi = mc[f"coverage_{level}{m}_range"]
            assert 0 <= lo <= hi <= 1
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "Monte Carlo error of the coverage" in html


def test_unusable_export_is_a_user_error(capsys):
    # the Salesforce demo records were created (loaded) in 2026 with close dates in 2024:
    # every closed deal is dropped, so nothing can be estimated; a clear error, exit 2
    code = main(["calibrate", str(DATA / "salesforce_demo" / "Opportunity.csv"), "--mapping",
                 "salesforce", "--out", "/nonexistent/never-written"])
    assert code == 2
    assert "cannot be estimated" in capsys.readouterr().err


def test_generic_team_table_columns(tmp_path):
    teams = tmp_path / "teams.csv"
    src = pd.read_csv(MAVEN / "sales_teams.csv")
    pd.DataFrame({"rep": src["sales_agent"], "region": src["regional_office"]}).to_csv(
        teams, index=False)
    from salesplan.scenarios.crm import read_history
    h = read_history(MAVEN / "sales_pipeline.csv.gz", "maven", teams=teams)
    assert set(h.deals["region"]) == {"Central", "East", "West"}


def test_maven_pipeline_model_error_uses_only_pre_cut_data(maven_out):
    me = json.loads((maven_out / "calibration.json").read_text())[
        "closing_hazards"]["pipeline_model_error"]
    # the three most recent month starts with 3 months of closes (closes start 2017-03-01)
    assert me["origins"] == ["2017-07-01", "2017-08-01", "2017-09-01"]
    assert all(r["window_end"] <= "2017-10-01" for r in me["errors"])
    assert me["log_variance"] > 2 * me["log_variance_se"] > 0 and not me["floored"]
    # every inner cohort-window was over-forecast (corrected by the bias ratio, below)
    assert me["mean_log_ratio"] < 0 and me["share_below_forecast"] == 1.0
    assert "Model error of the pipeline forecast" in (maven_out / "report.html").read_text()
    # the error is shared by the cohorts of an origin (all of them over-forecast together):
    # more in the cross-moments than in the marginal, so all of it is common, sized by the
    # origins' totals
    used = pd.DataFrame(me["errors"]).query("used")
    tot = used.groupby("origin")[["forecast", "actual", "var_noise"]].sum()
    theta = float((((tot["actual"] - tot["forecast"]) ** 2 - tot["var_noise"]).sum())
                  / (tot["forecast"] ** 2).sum())
    assert me["split"] == "all common" and me["cohort_log_variance"] == 0.0
    assert me["common_theta_raw"] > math.expm1(me["log_variance"])
    assert me["common_log_variance"] == pytest.approx(math.log1p(theta))


def test_maven_pipeline_bias_scales_the_open_pipeline(maven_out):
    from salesplan.scenarios.crm import read_history
    from salesplan.simulator.calibration import calibrate as run_calibrate
    from salesplan.simulator.calibration.backtest import perturbed_scenario

    hz = json.loads((maven_out / "calibration.json").read_text())["closing_hazards"]
    me = hz["pipeline_model_error"]
    # realised over forecast wins at the inner cuts (before the cut): below 1
    used = pd.DataFrame(me["errors"]).query("used")
    assert me["bias_ratio"] == pytest.approx(used["actual"].sum() / used["forecast"].sum())
    assert me["bias_ratio"] < 0.9 and me["bias_correction"] == me["bias_ratio"]
    assert me["bias_window_days"] == 92 and me["forecast_largest_origin"] >= 100
    scaled = {f"pipeline-{c}": v["p_won_given_open"] for c, v in hz["cohorts"].items()
              if "p_won_given_open" in v}
    assert len(scaled) > 5
    # the ratio scales the wins of the first 92 days after the cut, which hold all but a
    # sliver (< 0.1%) of each cohort's won probability
    for v in hz["cohorts"].values():
        if "p_won_given_open" in v:
            raw_p = v["p_won_given_open_uncorrected"]
            assert me["bias_ratio"] * raw_p - 1e-12 <= v["p_won_given_open"] <= raw_p
            assert v["p_won_given_open"] == pytest.approx(me["bias_ratio"] * raw_p, rel=1e-3)
    sc = load_scenario(maven_out / "scenario.yaml")
    for ov in sc.stages[0].overrides:
        if ov.segment in scaled:
            assert ov.conversion == pytest.approx(scaled[ov.segment], abs=1e-6)
    # without the correction: the model's forecast; the ratio is still reported. The parameter
    # draws differ by the factor alone (same random stream)
    h = read_history(MAVEN / "sales_pipeline.csv.gz", "maven", teams=MAVEN / "sales_teams.csv")
    on = run_calibrate(h, cutoff="2017-10-01", horizon_months=3)
    off = run_calibrate(h, cutoff="2017-10-01", horizon_months=3, pipeline_bias=False)
    assert off.hazards.pipeline_bias == 1.0
    assert off.hazards.model_error["bias_ratio"] == pytest.approx(me["bias_ratio"])
    raw = {f"pipeline-{c}": v["p_won_given_open_uncorrected"] for c, v in hz["cohorts"].items()
           if "p_won_given_open" in v}
    for ov in off.scenario.stages[0].overrides:
        if ov.segment in raw:
            assert ov.conversion == pytest.approx(raw[ov.segment], abs=1e-6)

    def pipeline(cal):
        sc = perturbed_scenario(cal, np.random.default_rng(3))
        return np.array([o.conversion for o in sc.stages[0].overrides if o.segment in raw])

    # (almost) every pipeline win falls in the 92-day window: the draws differ by the factor
    assert np.allclose(pipeline(on), pipeline(off) * me["bias_ratio"], rtol=1e-3)


def test_bias_correction_covers_the_measured_days_and_caps_at_one():
    from salesplan.scenarios.crm import read_history
    from salesplan.simulator.calibration import calibrate as run_calibrate

    h = read_history(MAVEN / "sales_pipeline.csv.gz", "maven", teams=MAVEN / "sales_teams.csv")
    hz = run_calibrate(h, cutoff="2017-10-01", horizon_months=3).hazards
    c = "2017-08"
    p, per_day = hz.cohort_p_won(c)
    won = p * per_day
    for ratio, window, skip in ((0.8, 92, 0), (0.8, 30, 0), (0.8, 30, 10), (1.3, 0, 0)):
        hz.model_error.update(bias_correction=ratio, bias_window_days=window)
        q, dist = hz.corrected_p_won(c, skip_days=skip)
        p_s, per_s = hz.cohort_p_won(c, skip_days=skip)
        w = p_s * per_s
        cut_at = max(window - skip, 0)
        assert q == pytest.approx(ratio * w[:cut_at].sum() + w[cut_at:].sum())
        assert dist.sum() == pytest.approx(1.0)
    assert won[:30].sum() < p                     # the 30-day window leaves later wins alone
    hz.model_error.update(bias_correction=50.0, bias_window_days=92)
    q, dist = hz.corrected_p_won(c)
    assert q == 1.0 and np.allclose(dist, per_day)  # capped; the won days keep their shape


def test_bias_correction_is_not_applied_on_a_small_history():
    from salesplan.scenarios.crm import read_history
    from salesplan.simulator.calibration import calibrate as run_calibrate

    h = read_history(MAVEN / "sales_pipeline.csv.gz", "maven", teams=MAVEN / "sales_teams.csv")
    owner = h.deals["owner"].value_counts().index[0]
    h.deals = h.deals[h.deals["owner"].eq(owner)].reset_index(drop=True)
    cal = run_calibrate(h, cutoff="2017-10-01", horizon_months=3)
    me = cal.hazards.model_error
    assert me["bias_ratio"] is not None and me["forecast_largest_origin"] < 100
    assert me["bias_correction"] == 1.0
    assert any("not applied: the largest inner cut forecast" in n
               for n in cal.estimates["notes"])
    for m, v in cal.hazards.stall.items():
        if "p_won_given_open" in v:
            assert v["p_won_given_open"] == v["p_won_given_open_uncorrected"], m
