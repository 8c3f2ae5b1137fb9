"""Rep-sourced deals in the calibration: where the export says who sourced a deal, the rate per
seated rep-month is recovered within its interval and those deals leave the arrivals; where it
cannot say, the calibration says so and sourcing stays off.

Seeded statistical tests: an estimate is checked as |estimate - truth| <= 2.576 reported
standard errors; an interval's coverage over generated data sets within 2.576 binomial standard
errors of its level."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from salesplan.scenarios.crm import read_history
from salesplan.scenarios.io import load_scenario
from salesplan.simulator.calibration import backtest, calibrate, write_calibration
from salesplan.simulator.calibration.draws import perturbed_scenario
from salesplan.simulator.calibration.sourcing import fit_sourcing_rate

Z = 2.576
RATE, ROUTED, MONTHS = 3.0, 40.0, 24
START = pd.Timestamp("2025-01-01")
CUT = "2027-01-01"
REPS = {f"{r}{i}": r for r in ("North", "South") for i in range(1, 6)}
JOINER, JOINS = "South5", START + pd.DateOffset(months=6)
BLANKS = 10
MAPPING = (
    "preset: maven\n"
    "columns: {id: opportunity_id, created: engage_date, close: close_date, stage: deal_stage,\n"
    "          amount: close_value, owner: sales_agent, account: account, product: product,\n"
    "          sourced_by: lead_source}\n"
    "rep_sourced: [Outbound, Referral, Expansion]\n"
    "routed: [Inbound, Web]\n")


def _deals(rng: np.random.Generator) -> pd.DataFrame:
    """Routed leads (Poisson, ROUTED a month per region, to a random seated rep of the region)
    and rep-sourced deals (Poisson, RATE a month per seated rep); one rep joins in month 7."""
    rows = []
    for m in range(MONTHS):
        m0 = START + pd.DateOffset(months=m)
        days = ((m0 + pd.DateOffset(months=1)) - m0).days
        scale = days / (365.25 / 12)
        seated = [r for r in REPS if r != JOINER or m0 >= JOINS]
        for reg in ("North", "South"):
            pool = [r for r in seated if REPS[r] == reg]
            for _ in range(rng.poisson(ROUTED * scale)):
                rows.append((pool[rng.integers(len(pool))], m0 + pd.Timedelta(
                    days=int(rng.integers(days))), ["Inbound", "Web"][rng.integers(2)]))
        for r in seated:
            for _ in range(rng.poisson(RATE * scale)):
                rows.append((r, m0 + pd.Timedelta(days=int(rng.integers(days))),
                             ["Outbound", "Referral", "expansion"][rng.integers(3)]))
    df = pd.DataFrame(rows, columns=["rep", "created", "src"])
    return df.sort_values("created", kind="stable").reset_index(drop=True)


def _export(tmp: Path, seed: int = 1) -> tuple[Path, Path, Path, pd.DataFrame]:
    """A flat export of :func:`_deals` with a lead_source column (BLANKS of them blank) saying
    who sourced each deal; every rep wins every other deal it closes (the same win rate, so
    every productivity is 1 and the truth is RATE per rep-month at productivity 1)."""
    rng = np.random.default_rng(seed)
    df = _deals(rng)
    end = START + pd.DateOffset(months=MONTHS)
    close = df["created"] + pd.to_timedelta(rng.integers(5, 60, len(df)), unit="D")
    won = df.groupby("rep").cumcount() % 2 == 0
    closed = close < end
    stage = np.where(~closed, "Engaging", np.where(won, "Won", "Lost"))
    df["src"] = df["src"].where(~np.isin(np.arange(len(df)),
                                         rng.choice(len(df), BLANKS, replace=False)), "")
    hist = pd.DataFrame({
        "opportunity_id": [f"D{i}" for i in range(len(df))], "sales_agent": df["rep"],
        "product": np.where(rng.random(len(df)) < 0.7, "basic", "premium"), "account": "",
        "deal_stage": stage, "engage_date": df["created"].dt.strftime("%Y-%m-%d"),
        "close_date": close.dt.strftime("%Y-%m-%d").where(closed, ""),
        "close_value": np.where(stage == "Won", 1000 + rng.integers(0, 500, len(df)),
                                np.where(stage == "Lost", 0, np.nan)),
        "lead_source": df["src"]})
    f, t, m = tmp / "history.csv", tmp / "teams.csv", tmp / "mapping.yaml"
    hist.to_csv(f, index=False)
    pd.DataFrame({"sales_agent": list(REPS), "regional_office": list(REPS.values())}).to_csv(
        t, index=False)
    m.write_text(MAPPING)
    return f, t, m, df.assign(id=hist["opportunity_id"])


@pytest.fixture(scope="module")
def sourced(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sourcing")
    f, t, m, truth = _export(tmp)
    h = read_history(f, m, teams=t)
    return calibrate(h, cutoff=CUT, horizon_months=6), truth, h, tmp


def _within(est: float, se: float, truth: float) -> None:
    assert se > 0
    assert abs(est - truth) <= Z * se, f"{est:.4g} vs truth {truth:.4g} (se {se:.3g})"


def _in_window(truth: pd.DataFrame, window: list[str]) -> pd.DataFrame:
    month = truth["created"].dt.to_period("M")
    return truth[(month >= pd.Period(window[0])) & (month <= pd.Period(window[1]))]


def test_rep_sourced_rate_recovered(sourced):
    cal, truth, _, _ = sourced
    s = cal.estimates["sourcing"]
    assert s["estimable"] and s["column"] == "lead_source"
    _within(s["per_rep_per_month"], s["se"], RATE)
    assert s["ci"][0] <= RATE <= s["ci"][1]
    # exactly the rep-sourced deals of the window (spelling 'expansion' matches 'Expansion')
    win = _in_window(truth, s["window"])
    assert s["deals"] == int(win["src"].isin(["Outbound", "Referral", "expansion"]).sum())
    assert s["deals_unknown_source"] == int(win["src"].eq("").sum())
    # the joiner is seated from its first deal, not over the whole window
    by_rep = {r["rep"]: r for r in s["by_rep"]}
    assert by_rep[JOINER]["seated_from"] == str(JOINS.to_period("M"))
    months = (pd.Period(s["window"][1]) - pd.Period(s["window"][0])).n + 1
    assert by_rep["North1"]["seated_months"] == months
    assert s["rep_months"] == 9 * months + by_rep[JOINER]["seated_months"]


def test_arrivals_count_the_routed_deals_only(sourced):
    cal, truth, _, _ = sourced
    arr = cal.estimates["arrivals"]
    assert {a["group"]["region"] for a in arr} == {"North", "South"}
    for a in arr:  # every deal in the arrivals would give about ROUTED + 5 x RATE
        _within(a["level"], a["level_se"], ROUTED)
    win = _in_window(truth, cal.estimates["sourcing"]["window"])
    counted = sum(sum(a["counts"]) for a in arr) + cal.estimates["sourcing"]["deals"]
    assert counted == len(win)  # every deal counted once


def test_calibrated_scenario_carries_the_rate(sourced):
    cal, _, _, tmp = sourced
    s = cal.estimates["sourcing"]
    sc = cal.scenario
    assert sc.policies.sourcing.per_rep_per_month == pytest.approx(s["per_rep_per_month"],
                                                                  abs=5e-5)
    assert sc.policies.sourcing.entry_stage is None
    assert all(r.sourcing_per_month is None for r in sc.reps)  # pooled: no per-rep override
    write_calibration(cal, tmp / "out")
    back = load_scenario(tmp / "out" / "scenario.yaml")
    assert back.policies.sourcing == sc.policies.sourcing
    html = (tmp / "out" / "report.html").read_text()
    assert "Rep-sourced deals" in html and "poisson" in html
    assert any(n.startswith("rep-sourced deals:") for n in cal.estimates["notes"])
    assert not any("rep-sourced rate not estimable" in n
                   for n in cal.estimates["not_estimated"])


def test_unknown_sources_are_reported(sourced):
    _, _, h, _ = sourced
    f = h.report.frame()
    blank = f[f["kind"] == "missing_sourced_by"]
    assert len(blank) == BLANKS and set(blank["action"]) == {"kept"}
    assert set(blank["field"]) == {"sourced_by"}
    assert h.deals["rep_sourced"].isna().sum() == BLANKS


def test_parameter_draws_carry_the_rate_uncertainty(sourced):
    cal, _, _, _ = sourced
    s = cal.estimates["sourcing"]
    rng = np.random.default_rng(11)
    draws = np.array([perturbed_scenario(cal, rng).policies.sourcing.per_rep_per_month
                      for _ in range(300)])
    rate = cal.scenario.policies.sourcing.per_rep_per_month
    sd_log = s["se"] / s["per_rep_per_month"]
    assert abs(draws.mean() - rate) <= Z * rate * sd_log / math.sqrt(len(draws))
    sd = np.log(draws).std(ddof=1)  # a chi-square band for the log-sd of 300 draws
    assert sd_log * (1 - Z / math.sqrt(2 * 299)) <= sd <= sd_log * (1 + Z / math.sqrt(2 * 299))


def _coverage(rng: np.random.Generator, shape: float | None, reps: int, n: int = 600
              ) -> tuple[float, float]:
    """Coverage of RATE by the interval of :func:`fit_sourcing_rate` and by the exact Poisson
    interval alone, over ``n`` data sets: ``reps`` reps seated 6-24 months, productivity
    0.7-1.4, each with rate RATE (``shape`` None) or a gamma rate of mean RATE."""
    hit = hit_poisson = 0
    for _ in range(n):
        months = rng.integers(6, 25, reps).astype(float)
        prod = rng.uniform(0.7, 1.4, reps)
        lam = RATE if shape is None else rng.gamma(shape, RATE / shape, reps)
        k = rng.poisson(lam * prod * months)
        fit = fit_sourcing_rate(k, prod * months)
        hit += fit.ci[0] <= RATE <= fit.ci[1]
        big_k, e = k.sum(), (prod * months).sum()
        lo = stats.chi2.ppf(0.025, 2 * big_k) / 2 / e if big_k else 0.0
        hit_poisson += lo <= RATE <= stats.chi2.ppf(0.975, 2 * big_k + 2) / 2 / e
    return hit / n, hit_poisson / n


@pytest.mark.parametrize(("shape", "reps"), [(None, 5), (None, 12), (4.0, 20)])
def test_interval_covers_the_rate(shape, reps):
    cov, cov_poisson = _coverage(np.random.default_rng(2027 + reps), shape, reps)
    se = math.sqrt(0.95 * 0.05 / 600)
    assert cov >= 0.95 - Z * se
    if shape is not None:  # reps that differ: the Poisson interval alone is far too narrow
        assert cov_poisson < 0.7


def test_rate_weights_months_by_productivity():
    fit = fit_sourcing_rate(np.array([12, 0, 30]), np.array([6.0, 0.0, 15.0]))
    assert fit.rate == pytest.approx(42 / 21) and fit.reps == 2 and fit.deals == 42
    assert fit.method == "poisson-exact"  # 12 / 6 == 30 / 15: no over-dispersion
    none = fit_sourcing_rate(np.array([0, 0]), np.array([10.0, 10.0]))
    assert none.rate == 0 and none.ci[0] == 0 and none.ci[1] == pytest.approx(
        stats.chi2.ppf(0.975, 2) / 2 / 20)
    with pytest.raises(ValueError, match="no exposure"):
        fit_sourcing_rate(np.array([1]), np.array([0.0]))


def _not_estimable(tmp: Path, mapping: str, **edits) -> dict:
    f, t, _, _ = _export(tmp, seed=3)
    if "sales_agent" in edits:  # no owner: no team table either (its reps would own nothing)
        t = None
    hist = pd.read_csv(f, dtype=str, keep_default_na=False)
    for col, value in edits.items():
        if value is None:
            hist = hist.drop(columns=col)
        else:
            hist[col] = value
    hist.to_csv(f, index=False)
    m = tmp / "m.yaml"
    m.write_text(mapping)
    cal = calibrate(read_history(f, m, teams=t), cutoff=CUT, horizon_months=3)
    s = cal.estimates["sourcing"]
    assert not s["estimable"] and s["per_rep_per_month"] == 0.0
    assert cal.scenario.policies.sourcing.per_rep_per_month == 0.0
    assert s["note"] in cal.estimates["not_estimated"]
    assert s["note"].endswith("every opportunity is treated as a routed lead, sourcing off")
    # every deal of the window is an arrival
    win = sum(s.get("deals_in_window_by_value", {}).values())
    assert not win or sum(sum(a["counts"]) for a in cal.estimates["arrivals"]) == win
    return s


@pytest.mark.parametrize(("mapping", "edits", "reason"), [
    ("preset: maven\n", {}, "the export does not say who sourced a deal;"),
    (MAPPING, {"lead_source": None}, "column 'lead_source', mapped to sourced_by, is not in"),
    (MAPPING, {"lead_source": ""}, "is blank on every deal created in the window"),
    (MAPPING, {"sales_agent": None}, "names no deal owner"),
], ids=["no-column-mapped", "column-absent", "all-blank", "no-owner"])
def test_says_why_the_rate_is_not_estimable(tmp_path, mapping, edits, reason):
    s = _not_estimable(tmp_path, mapping, **edits)
    assert s["note"].startswith("rep-sourced rate not estimable: ")
    assert reason in s["note"]


def test_backtest_counts_the_rep_sourced_deals_after_the_cut(sourced):
    _, truth, h, _ = sourced
    bt = backtest(h, "2026-10-01", replications=4, draws=2, seed=5, months=2)
    after = truth[(truth["created"] >= "2026-10-01") & (truth["created"] < "2026-12-01")]
    dec = bt.summary["decomposition"]
    assert dec["rep_sourced_after_cut_actual"] == int(
        after["src"].isin(["Outbound", "Referral", "expansion"]).sum()) > 0
    assert dec["leads_after_cut_actual"] == len(after)
    assert bt.calibration.scenario.policies.sourcing.per_rep_per_month > 0
