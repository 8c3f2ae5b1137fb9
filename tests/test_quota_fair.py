"""The fair method: every rep the same probability of reaching quota.

Bookings are drawn here with numpy (lognormal or normal per rep, known parameters), so the
property is checked exactly on the draws the plan used, within Monte Carlo error on fresh draws,
and against closed forms (the exact lognormal quantiles; the normal approximation
``Q_r = mu_r + z sigma_r``). The scenario gives every rep the same territory potential while their
bookings differ, so potential-proportional quotas are visibly unequal in P(attainment).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats
from test_quota_support import lognormal_samples, scenario

from salesplan.optimizer.quotas import (
    QuotaError,
    allocate_quotas,
    attainment,
    equal_chance_quotas,
    normal_fair_quotas,
)

MEANS = np.array([200e3, 300e3, 450e3, 600e3, 250e3, 350e3, 500e3, 700e3])
CVS = np.array([0.10, 0.45, 0.20, 0.60, 0.30, 0.15, 0.50, 0.25])
REPS = [f"R{i}" for i in range(8)]
TARGET = 3_000_000
OVER = 1.1
N = 20_000


def fair_scenario():
    reps = [{"id": r, "region": "North" if i < 4 else "South"} for i, r in enumerate(REPS)]
    accounts = [{"id": f"a{i}", "region": rep["region"], "segment": "SMB", "lat": 0, "lon": 0,
                 "potential": 500_000, "owner": rep["id"]} for i, rep in enumerate(reps)]
    return scenario(reps=reps, accounts=accounts, initial_pipeline=[],
                    targets={"company": TARGET, "by_region": {"North": 0.5, "South": 0.5}})


@pytest.fixture(scope="module")
def draws() -> pd.DataFrame:
    return pd.DataFrame(lognormal_samples(MEANS, CVS, N, seed=2027), columns=REPS)


@pytest.fixture(scope="module")
def fresh() -> pd.DataFrame:
    return pd.DataFrame(lognormal_samples(MEANS, CVS, N, seed=99), columns=REPS)


@pytest.fixture(scope="module")
def fair_plan(draws):
    return allocate_quotas(fair_scenario(), "fair", samples=draws, over_assign=OVER, rounding=1,
                           by=("month",))


def test_fair_quotas_sum_to_target_times_over_assignment(fair_plan) -> None:
    assert fair_plan.reps["quota"].sum() == round(TARGET * OVER)
    assert fair_plan.quotas["quota"].sum() == round(TARGET * OVER)
    assert fair_plan.summary["target"] == TARGET
    assert fair_plan.summary["total_quota"] == round(TARGET * OVER)


def test_fair_probability_is_equal_on_the_draws_used(fair_plan) -> None:
    p = fair_plan.reps["p_attain"]
    # one common quantile level: equal up to the draws within a currency unit of a quota
    assert p.max() - p.min() <= 3 / N
    assert fair_plan.summary["p_attain_spread"] <= 3 / N
    assert 0.05 < p.mean() < 0.95


def test_fair_probability_is_equal_on_fresh_draws_and_potential_is_not(fair_plan, fresh,
                                                                       draws) -> None:
    p = attainment(fair_plan.reps["quota"].astype(float), fresh)["p_attain"]
    pbar = p.mean()
    # independent draws (binomial) plus the quantile estimated from the first N draws
    se = np.sqrt(pbar * (1 - pbar) / N) * np.sqrt(2.0)
    assert (p - pbar).abs().max() < 4.5 * se, p
    pot = allocate_quotas(fair_scenario(), "potential", samples=draws, over_assign=OVER,
                          rounding=1, by=())
    p_pot = attainment(pot.reps["quota"].astype(float), fresh)["p_attain"]
    assert p_pot.max() - p_pot.min() > 0.5  # visibly unequal
    assert pot.summary["p_attain_spread"] > 40 * fair_plan.summary["p_attain_spread"] + 0.1
    # equal potential: the potential method's quota/potential ratio is flat, fair's is not
    assert pot.summary["quota_potential_gini"] < 0.01 < fair_plan.summary["quota_potential_gini"]


def test_fair_matches_the_exact_lognormal_quantiles(fair_plan) -> None:
    sig = np.sqrt(np.log1p(CVS**2))
    mu = np.log(MEANS) - sig**2 / 2

    def total(z: float) -> float:
        return float(np.exp(mu + sig * z).sum()) - TARGET * OVER

    z = optimize.brentq(total, -8, 8)
    exact = np.exp(mu + sig * z)
    tau = stats.norm.cdf(z)
    dens = stats.lognorm.pdf(exact, s=sig, scale=np.exp(mu))
    se = np.sqrt(tau * (1 - tau) / N) / dens  # standard error of a sample quantile
    got = fair_plan.reps["quota"].to_numpy(dtype=float)
    assert np.all(np.abs(got - exact) < 6 * se + 1), (got, exact, se)
    assert abs(fair_plan.reps["p_attain"].mean() - (1 - tau)) < 6 * np.sqrt(tau * (1 - tau) / N)


def test_fair_matches_the_normal_approximation_on_normal_bookings() -> None:
    rng = np.random.default_rng(5)
    mu, sd = MEANS, MEANS * CVS
    x = mu + sd * rng.standard_normal((N, len(mu)))
    total = 3_500_000.0
    q, tau = equal_chance_quotas(x, total)
    closed = normal_fair_quotas(mu, sd, total)
    z = (total - mu.sum()) / sd.sum()
    assert tau is not None and abs(q.sum() - total) < 1e-6 * total
    assert closed.sum() == pytest.approx(total, rel=1e-12)
    assert np.allclose(closed, mu + z * sd)
    se = sd * np.sqrt(tau * (1 - tau) / N) / stats.norm.pdf(z)
    assert np.all(np.abs(q - closed) < 6 * se), (q, closed, se)
    assert tau == pytest.approx(stats.norm.cdf(z), abs=6 * np.sqrt(tau * (1 - tau) / N))


def test_equal_chance_outside_the_simulated_range_uses_the_normal_approximation() -> None:
    x = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])
    q, tau = equal_chance_quotas(x, 100.0)
    assert tau is None
    assert np.allclose(q, normal_fair_quotas(x.mean(0), x.std(0, ddof=1), 100.0))
    q, tau = equal_chance_quotas(x, 22.0)  # exactly the middle order statistics
    assert tau == 0.5 and np.allclose(q, [2.0, 20.0])


def test_fair_with_region_targets_is_equal_within_each_region(draws) -> None:
    plan = allocate_quotas(fair_scenario(), "fair", samples=draws, over_assign=OVER, rounding=1,
                           by=(), region_split="targets")
    assert list(plan.regions["target"]) == [TARGET // 2, TARGET // 2]
    for _, grp in plan.reps.groupby("region"):
        assert grp["p_attain"].max() - grp["p_attain"].min() <= 3 / N
    assert plan.summary["region_split"] == "targets"


def test_fair_needs_samples_for_every_rep(draws) -> None:
    sc = fair_scenario()
    with pytest.raises(QuotaError, match="needs simulated bookings"):
        allocate_quotas(sc, "fair")
    with pytest.raises(QuotaError, match=r"missing for 1 rep\(s\): R7"):
        allocate_quotas(sc, "fair", samples=draws.drop(columns=["R7"]))


def test_samples_in_long_form_give_the_same_plan(draws, fair_plan) -> None:
    long = draws.reset_index(names="replication").melt(
        id_vars="replication", var_name="rep", value_name="bookings")
    plan = allocate_quotas(fair_scenario(), "fair", samples=long, over_assign=OVER, rounding=1,
                           by=("month",))
    assert plan.reps["quota"].equals(fair_plan.reps["quota"])


def test_a_rep_without_quota_has_no_probability_of_attainment():
    import numpy as np
    import pandas as pd

    from salesplan.optimizer.quotas.fairness import attainment

    quotas = pd.Series({"R1": 100.0, "R2": 0.0})
    samples = pd.DataFrame({"R1": [50.0, 150.0, 120.0, 90.0], "R2": [0.0, 0.0, 10.0, 0.0]})
    att = attainment(quotas, samples)
    assert att.loc["R1", "p_attain"] == 0.5
    assert np.isnan(att.loc["R2", "p_attain"]) and np.isnan(att.loc["R2", "expected_attainment"])
