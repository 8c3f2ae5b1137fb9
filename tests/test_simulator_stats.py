"""Statistical checks against closed forms. Tolerances come from standard errors; seeds are
fixed, so each test is deterministic, and each also checks it has the power to fail."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from salesplan.scenarios.calendar import DAYS_PER_YEAR, expected_leads_by_month
from salesplan.simulator import RAMP_START, simulate
from salesplan.simulator.plan import DAYS_PER_MONTH

ZERO = {"dist": "fixed", "value": 0.0}


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _logit(p):
    return math.log(p) - math.log1p(-p)


def test_uncapacitated_wins_match_product_of_rates(make_scenario):
    """Wins = leads x sum_g share_g prod_k sigmoid(logit p_k + log m_g), within 3 SE."""
    rates = [0.6, 0.5, 0.8]
    grades = [("A", 0.3, 2.0), ("B", 0.5, 1.0), ("C", 0.2, 0.5)]
    sc = make_scenario(
        stages=[{"name": f"s{k}", "conversion": p, "duration": ZERO}
                for k, p in enumerate(rates)],
        grades=[{"grade": g, "share": s, "conversion_multiplier": m} for g, s, m in grades],
    )
    res = simulate(sc, 20, seed=11, workers=1)
    p_win = sum(s * np.prod([_sigmoid(_logit(p) + math.log(m)) for p in rates])
                for _, s, m in grades)
    leads = res.stack("leads").sum()
    won = res.total_won().sum()
    se = math.sqrt(leads * p_win * (1 - p_win))
    assert abs(won - leads * p_win) < 3 * se
    # power: ignoring the grade multipliers would be detected
    p_naive = float(np.prod(rates))
    assert abs(won - leads * p_naive) > 3 * se


def _erlang_c(c: int, a: float) -> float:
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


@pytest.mark.slow
def test_erlang_c_waits_and_littles_law(make_scenario):
    """M/M/c: one rep with capacity c (its slots are the c pooled servers), one stage with
    conversion 1 and exponential durations: mean queue wait = C(c, a) / (c mu - lambda)."""
    c, lam, mu = 3, 2.4, 1.0  # per day; rho = 0.8
    sc = make_scenario(
        horizon={"start": "2020-01-01", "months": 120},
        stages=[{"name": "s1", "conversion": 1.0,
                 "duration": {"dist": "exponential", "mean": 1.0 / mu}}],
        lead_sources=[{"id": "src", "region": "N", "segment": "SMB",
                       "leads_per_month": lam * DAYS_PER_YEAR / 12}],
        reps=[{"id": "R1", "region": "N", "capacity": c}],
        policies={"warmup_months": 1},
    )
    res = simulate(sc, 120, seed=2024, workers=2)
    wq = _erlang_c(c, lam / mu) / (c * mu - lam)
    waits = res.stack("wait_sum")[:, 0] / res.stack("wait_n")[:, 0]
    se = waits.std(ddof=1) / math.sqrt(waits.size)
    assert 3 * se < 0.05 * wq                      # the run is long enough to judge 5%
    assert abs(waits.mean() - wq) < 0.05 * wq
    # Little's law: work in progress sampled at month ends = lambda x (wait + service)
    wip = res.stack("open_count").ravel()
    little = lam * (waits.mean() + 1.0 / mu)
    se_wip = wip.std(ddof=1) / math.sqrt(wip.size)
    assert abs(wip.mean() - little) < 4 * se_wip + 0.02 * little
    # utilisation = rho
    assert res.reps.loc[0, "utilisation"] == pytest.approx(lam / (c * mu), rel=0.02)


def test_monthly_arrivals_follow_seasonality(make_scenario):
    season = [0.5, 0.6, 0.8, 1.0, 1.2, 1.4, 1.4, 1.2, 1.0, 0.8, 1.5, 0.6]
    src = {"id": "src", "region": "N", "segment": "SMB", "leads_per_month": 150.0,
           "seasonality": season, "annual_growth": 0.3}
    sc = make_scenario(lead_sources=[src], stages=[{"name": "s", "conversion": 0.5,
                                                    "duration": ZERO}])
    n = 20
    d = simulate(sc, n, seed=8, workers=1, keep_deals=n).deals
    edges = np.cumsum([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    counts = np.histogram(d["created_date"], bins=edges)[0]
    expected = n * expected_leads_by_month(sc.lead_sources[0], sc.horizon)
    # independent Poisson counts with known means: sum (O - E)^2 / E ~ chi2(12)
    def p_value(mean):
        return stats.chi2.sf(np.sum((counts - mean) ** 2 / mean), df=mean.size)

    assert p_value(expected) > 1e-3
    flat = expected.sum() * np.diff(edges) / edges[-1]  # same volume, no seasonality
    assert p_value(flat) < 1e-6


def test_ramping_rep_converts_less(make_scenario):
    """A rep ramping from RAMP_START over 6 months vs a ramped one, each alone in a region
    with the same lead flow; the ramping rep's win rate matches the ramp's closed form."""
    ramp_m = 6.0
    sc = make_scenario(
        regions=[{"id": "N"}, {"id": "S"}],
        stages=[{"name": "a", "conversion": 0.5, "duration": ZERO},
                {"name": "b", "conversion": 0.5, "duration": ZERO}],
        lead_sources=[{"id": s, "region": s, "segment": "SMB", "leads_per_month": 200.0}
                      for s in ("N", "S")],
        reps=[{"id": "ramped", "region": "N", "capacity": 100000},
              {"id": "new", "region": "S", "capacity": 100000, "start_date": "2027-01-01",
               "ramp_months": ramp_m}],
    )
    res = simulate(sc, 10, seed=5, workers=1)
    f = res.flow.groupby("rep")[["created", "won"]].sum()
    rate = f["won"] / f["created"]
    # closed form: win = (f/(1+f))^2 with f(t) the ramp factor, t uniform over the year
    t = np.linspace(0, sc.horizon.days, 200001)
    fac = RAMP_START + (1 - RAMP_START) * np.minimum(1.0, t / (ramp_m * DAYS_PER_MONTH))
    p_new = float(np.mean((fac / (1 + fac)) ** 2))
    n_new = f.loc["new", "created"]
    se = math.sqrt(p_new * (1 - p_new) / n_new)
    assert abs(rate["new"] - p_new) < 3 * se
    assert rate["ramped"] == pytest.approx(0.25, abs=3 * math.sqrt(0.25 * 0.75 / n_new))
    assert rate["ramped"] - rate["new"] > 6 * se


def test_decay_lowers_first_stage_conversion(make_scenario):
    """First-stage pass probability is p x 2^(-wait / half_life): the observed number of
    first-stage passes matches the sum of those probabilities over the recorded waits, and
    conversion falls as waits grow."""
    p, hl = 0.7, 3.0
    stages = [{"name": "first", "conversion": p, "duration": {"dist": "exponential",
                                                               "mean": 1.5}},
              {"name": "second", "conversion": 1.0, "duration": ZERO}]
    kw = dict(stages=stages, reps=[{"id": "R1", "region": "N", "capacity": 2}],
              lead_sources=[{"id": "src", "region": "N", "segment": "SMB",
                             "leads_per_month": 1.25 * DAYS_PER_YEAR / 12}])
    sc = make_scenario(**kw, policies={"response_half_life_days": hl})
    d = simulate(sc, 8, seed=21, workers=1, keep_deals=8).deals
    d = d[d.outcome.isin(["won", "lost"])]
    passed = (d.outcome == "won").to_numpy()  # stage 2 converts surely: won = passed stage 1
    q = p * 2.0 ** (-d.wait_time.to_numpy() / hl)
    se = math.sqrt(np.sum(q * (1 - q)))
    assert abs(passed.sum() - q.sum()) < 3 * se
    assert abs(passed.sum() - p * passed.size) > 6 * se  # decay is visible at these waits
    short = d.wait_time < d.wait_time.quantile(0.3)
    long = d.wait_time > d.wait_time.quantile(0.7)
    assert passed[short.to_numpy()].mean() > passed[long.to_numpy()].mean() + 0.1
    # same seed without decay (common random numbers): more wins, never fewer per lead path
    nodecay = simulate(make_scenario(**kw), 8, seed=21, workers=1)
    assert nodecay.total_won().sum() > simulate(sc, 8, seed=21, workers=1).total_won().sum()
