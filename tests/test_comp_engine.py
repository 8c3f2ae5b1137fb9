"""The pay engine against hand-computed payouts (every tier, threshold, cap, true-up, clawback,
draw, SPIF and weighting case written out), against the numerical integral of the pay curve
under normally distributed attainment, and its invariants under Hypothesis.

The reference plan: one rep, a 12-month horizon from 2027-01, quota 100 a month (1,200 a year,
300 a quarter), on-target earnings 24,000 a year with a 50/50 mix, so the target variable is
1,000 a month (12,000 a year) and the base salary 12,000 a year.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from salesplan.optimizer.compensation import (
    PayTerms,
    Sales,
    commission_fraction,
    compute_payouts,
    payout_periods,
)
from salesplan.scenarios import Scenario
from salesplan.scenarios.compensation import PayPlan

M = 12


def scenario(plan: dict | None = None, spifs: list | None = None, months: int = M,
             start_date: str | None = None, products: int = 2) -> Scenario:
    plan = {"role": "AE", "ote": 24_000.0, "mix": 0.5, "rates": [{"above": 0.0, "rate": 1.0}],
            "period": "year"} | (plan or {})
    return Scenario.model_validate({
        "name": "pay", "horizon": {"start": "2027-01-01", "months": months},
        "regions": [{"id": "X"}], "segments": [{"id": "S1"}, {"id": "S2"}],
        "products": [{"id": f"p{i + 1}", "deal_size": {"dist": "fixed", "value": 100.0}}
                     for i in range(products)],
        "stages": [{"name": "lead", "conversion": 0.5,
                    "duration": {"dist": "fixed", "value": 1.0}}],
        "reps": [{"id": "R1", "region": "X", "start_date": start_date}],
        "compensation": {"plans": [plan], "spifs": spifs or []},
    })


def terms(sc: Scenario, quota_per_month: float = 100.0, seated: float = 1.0,
          start_month: float = math.nan) -> PayTerms:
    months = sc.horizon.months
    r = len(sc.reps)
    return PayTerms([x.id for x in sc.reps], [sc.compensation.plan_for(x.role) for x in sc.reps],
                    np.full((r, months), quota_per_month), np.full((r, months), seated),
                    np.full(r, start_month))


def sales(monthly: list[float] | np.ndarray, product: int = 0, won: float | None = None,
          products: int = 2, seated_days: float = 365.25) -> Sales:
    """One replication, one rep: bookings by month all in ``product`` (deals of 100 each)."""
    v = np.asarray(monthly, dtype=float)
    bp = np.zeros((1, 1, products, v.size))
    bp[0, 0, product] = v
    wp = bp / 100.0 if won is None else np.full_like(bp, won)
    return Sales(bp, wp, bp.copy(), wp.copy(), np.array([[seated_days]]))


def pay(sc: Scenario, monthly, **kw):
    t = kw.pop("t", None) or terms(sc)
    return compute_payouts(sc, t, sales(monthly, **kw))


def even(year_total: float) -> np.ndarray:
    return np.full(M, year_total / M)


# ---- the curve ----

def test_curve_tiers_threshold_and_cap_by_hand():
    plan = PayPlan(role="AE", ote=1.0, threshold=0.5, cap=2.0, rates=[
        {"above": 0.0, "rate": 1.0}, {"above": 1.0, "rate": 2.0}, {"above": 1.5, "rate": 0.5}])
    a = np.array([0.0, 0.49, 0.5, 0.8, 1.0, 1.25, 1.5, 1.7, 3.0, 10.0])
    # below 0.5: gated; 0.5-1: slope 1; 1-1.5: slope 2 (f(1.5) = 2); above 1.5: slope 0.5, cap 2
    expected = [0, 0, 0.5, 0.8, 1.0, 1.5, 2.0, 2.0, 2.0, 2.0]
    np.testing.assert_allclose(commission_fraction(plan, a), expected)


def test_curve_decelerator_uncapped_by_hand():
    plan = PayPlan(role="AE", ote=1.0, rates=[
        {"above": 0.0, "rate": 1.0}, {"above": 1.0, "rate": 2.0}, {"above": 1.5, "rate": 0.5}])
    np.testing.assert_allclose(commission_fraction(plan, np.array([2.0, 3.0])),
                               [1.0 + 1.0 + 0.25, 1.0 + 1.0 + 0.75])


def test_curve_first_tier_above_zero_pays_nothing_below_it():
    plan = PayPlan(role="AE", ote=1.0, rates=[{"above": 0.3, "rate": 1.0}])
    np.testing.assert_allclose(commission_fraction(plan, np.array([0.2, 0.3, 1.0])),
                               [0.0, 0.0, 0.7])


# ---- payouts by hand ----

@pytest.mark.parametrize(("year_bookings", "commission"), [
    (1200.0, 12_000.0),   # at quota: exactly the target variable
    (600.0, 6_000.0),     # half: half
    (0.0, 0.0),
])
def test_linear_plan_pays_target_variable_at_quota(year_bookings, commission):
    p = pay(scenario(), even(year_bookings))
    assert p.commission[0, 0] == pytest.approx(commission)
    assert p.base[0, 0] == pytest.approx(12_000.0)
    assert p.total[0, 0] == pytest.approx(12_000.0 + commission)


def test_threshold_gates_the_whole_curve():
    sc = scenario({"threshold": 0.5})
    assert pay(sc, even(540.0)).commission[0, 0] == 0.0            # 45%
    assert pay(sc, even(660.0)).commission[0, 0] == pytest.approx(6_600.0)  # 55%: from $1


def test_accelerator_decelerator_and_cap_by_hand():
    tiers = [{"above": 0.0, "rate": 1.0}, {"above": 1.0, "rate": 2.0},
             {"above": 1.5, "rate": 0.5}]
    sc = scenario({"rates": tiers})
    # 150%: 12,000 x (1 + 2 x 0.5) = 24,000
    assert pay(sc, even(1800.0)).commission[0, 0] == pytest.approx(24_000.0)
    # 200%: 12,000 x (1 + 1 + 0.5 x 0.5) = 27,000
    assert pay(sc, even(2400.0)).commission[0, 0] == pytest.approx(27_000.0)
    capped = scenario({"rates": tiers, "cap": 2.0})
    assert pay(capped, even(2400.0)).commission[0, 0] == pytest.approx(24_000.0)


def test_quarterly_true_up_pays_year_end_earnings_once():
    # linear plan; 600 in January, nothing until 600 in December
    monthly = np.zeros(M)
    monthly[0], monthly[11] = 600.0, 600.0
    p = pay(scenario({"period": "quarter"}), monthly)
    # Q1: 600/300 = 200% -> earned 3,000 x 2 = 6,000; Q2: 600/600 -> 6,000, pays 0;
    # Q3: 600/900 -> 9,000 x 2/3 = 6,000, pays 0; Q4: 1200/1200 -> 12,000, pays 6,000
    np.testing.assert_allclose(p.commission_by_period[0, 0], [6_000, 0, 0, 6_000])
    assert p.commission[0, 0] == pytest.approx(12_000.0)


def test_true_up_with_accelerator_keeps_an_early_overpayment_without_clawback():
    tiers = [{"above": 0.0, "rate": 1.0}, {"above": 1.0, "rate": 2.0}]
    monthly = np.zeros(M)
    monthly[0] = 600.0  # 200% of Q1's quota, then nothing: 50% for the year
    kept = pay(scenario({"period": "quarter", "rates": tiers}), monthly)
    # Q1 earned 3,000 x (1 + 2) = 9,000; later earned to date falls to 6,000: nothing more
    np.testing.assert_allclose(kept.commission_by_period[0, 0], [9_000, 0, 0, 0])
    back = pay(scenario({"period": "quarter", "rates": tiers, "clawback": True}), monthly)
    # with clawback Q2 takes back 3,000 (earned 6,000 at 100% of the half-year quota)
    np.testing.assert_allclose(back.commission_by_period[0, 0], [9_000, -3_000, 0, 0])
    assert back.commission[0, 0] == pytest.approx(6_000.0)  # year-end earned exactly


def test_monthly_period_pays_each_month_its_increment():
    p = pay(scenario({"period": "month"}), even(1200.0))
    np.testing.assert_allclose(p.commission_by_period[0, 0], np.full(M, 1_000.0))


def test_plan_year_restarts_cumulation():
    sc = scenario({"period": "quarter"}, months=24)
    monthly = np.zeros(24)
    monthly[:12] = 200.0  # 200% in year 1 (linear: 24,000), nothing in year 2
    p = compute_payouts(sc, terms(sc), sales(monthly))
    assert payout_periods(24, "quarter")[4] == (12, 14)
    assert p.commission[0, 0] == pytest.approx(24_000.0)
    np.testing.assert_allclose(p.commission_by_period[0, 0, 4:], 0.0)


@pytest.mark.parametrize(("recoverable", "commission", "draw"), [
    (False, 12_000.0, 3_000.0),  # kept: the draw is on top
    (True, 9_000.0, 3_000.0),    # advanced: December's payout pays it back
])
def test_draw_guarantees_the_first_quarter(recoverable, commission, draw):
    sc = scenario({"period": "quarter",
                   "draw": {"months": 3, "share": 1.0, "recoverable": recoverable}},
                  start_date="2027-01-01")
    monthly = np.zeros(M)
    monthly[11] = 1200.0  # nothing until December, then exactly the year's quota
    p = compute_payouts(sc, terms(sc, start_month=0.0), sales(monthly))
    assert p.draw[0, 0] == pytest.approx(draw)  # Q1: 3,000 guaranteed, 0 earned
    assert p.commission[0, 0] == pytest.approx(commission)
    assert p.variable[0, 0] == pytest.approx(commission + draw)


def test_no_draw_for_a_rep_seated_before_the_horizon():
    sc = scenario({"period": "quarter", "draw": {"months": 3}})
    assert pay(sc, np.zeros(M)).draw[0, 0] == 0.0


def test_spif_per_deal_and_rate_in_its_window_only():
    spifs = [{"name": "q2", "product": "p2", "start": "2027-04", "end": "2027-06",
              "per_deal": 50.0, "rate": 0.1}]
    sc = scenario(spifs=spifs)
    in_window = np.zeros(M)
    in_window[4] = 1000.0  # May: 10 deals of 100
    assert pay(sc, in_window, product=1).spif[0, 0] == pytest.approx(10 * 50.0 + 0.1 * 1000.0)
    assert pay(sc, in_window, product=0).spif[0, 0] == 0.0  # another product
    outside = np.zeros(M)
    outside[8] = 1000.0
    assert pay(sc, outside, product=1).spif[0, 0] == 0.0  # September


def test_product_weights_credit_the_measure():
    sc = scenario({"product_weights": {"p2": 0.5}})
    p = pay(sc, even(1200.0), product=1)  # all bookings in p2, credited at half
    assert p.credit[0, 0] == pytest.approx(600.0)
    assert p.commission[0, 0] == pytest.approx(6_000.0)


def test_partial_seating_prorates_target_variable_and_base_follows_seated_days():
    sc = scenario()
    p = compute_payouts(sc, terms(sc, seated=0.5, quota_per_month=50.0),
                        sales(even(600.0), seated_days=365.25 / 2))
    assert p.target_variable[0] == pytest.approx(6_000.0)
    assert p.commission[0, 0] == pytest.approx(6_000.0)
    assert p.base[0, 0] == pytest.approx(6_000.0)


def test_zero_quota_earns_no_commission():
    sc = scenario()
    p = compute_payouts(sc, terms(sc, quota_per_month=0.0), sales(even(1200.0)))
    assert p.commission[0, 0] == 0.0
    assert math.isnan(p.attainment[0, 0])


# ---- closed form: normal attainment ----

def test_expected_payout_matches_the_integral_of_the_pay_curve():
    """A ~ Normal(0.95, 0.3) for the year: E[commission] = TV x int f(a) phi(a) da, within 3
    standard errors of the simulated mean (20,000 replications, fixed seed)."""
    plan = {"threshold": 0.5, "cap": 2.5, "rates": [
        {"above": 0.0, "rate": 1.0}, {"above": 1.0, "rate": 1.8}, {"above": 1.6, "rate": 0.6}]}
    sc = scenario(plan)
    n, mu, sd = 20_000, 0.95, 0.3
    a = np.random.default_rng(7).normal(mu, sd, n)
    bp = np.zeros((n, 1, 2, M))
    bp[:, 0, 0, :] = (a * 1200.0 / M)[:, None]
    s = Sales(bp, bp / 100.0, bp.copy(), bp / 100.0, np.full((n, 1), 365.25))
    p = compute_payouts(sc, terms(sc), s)
    f = sc.compensation.plans[0]
    exact, _ = integrate.quad(lambda x: float(commission_fraction(f, np.array([x]))[0])
                              * stats.norm.pdf(x, mu, sd), mu - 8 * sd, mu + 8 * sd,
                              points=[0.5, 1.0, 1.6], limit=200)
    exact *= 12_000.0
    c = p.commission[:, 0]
    se = c.std(ddof=1) / math.sqrt(n)
    assert abs(c.mean() - exact) < 3 * se, (c.mean(), exact, se)


# ---- invariants ----

tiers_st = st.lists(st.tuples(st.floats(0.0, 3.0), st.floats(0.0, 4.0)), min_size=1,
                    max_size=4, unique_by=lambda t: round(t[0], 3)).map(
    lambda ts: [{"above": round(a, 3), "rate": r} for a, r in sorted(ts)])

plans_st = st.fixed_dictionaries({
    "rates": tiers_st,
    "threshold": st.sampled_from([0.0, 0.3, 0.5, 0.8]),
    "cap": st.sampled_from([None, 1.0, 1.5, 2.5]),
    "period": st.sampled_from(["month", "quarter", "year"]),
    "clawback": st.booleans(),
    "mix": st.sampled_from([0.3, 0.5, 1.0]),
})
monthly_st = st.lists(st.floats(0.0, 400.0), min_size=M, max_size=M)


@settings(max_examples=150, deadline=None)
@given(plans_st, monthly_st, st.integers(0, M - 1), st.floats(1.0, 500.0))
def test_pay_never_falls_when_bookings_rise(plan, monthly, month, extra):
    """Without a non-recoverable draw, more bookings in any month never pay less (every year's
    commission is the running maximum, or with clawback the last value, of non-decreasing
    earned-to-date amounts)."""
    sc = scenario(plan)
    before = pay(sc, monthly)
    more = np.array(monthly)
    more[month] += extra
    after = pay(sc, more)
    assert after.total[0, 0] >= before.total[0, 0] - 1e-6


@settings(max_examples=150, deadline=None)
@given(plans_st, monthly_st)
def test_cap_true_up_and_parts(plan, monthly):
    sc = scenario(plan)
    p = pay(sc, monthly)
    f = sc.compensation.plans[0]
    tv = f.target_variable
    if f.cap is not None:
        assert p.commission[0, 0] <= f.cap * tv + 1e-6
    # the true-up never pays a unit twice: the year pays its largest earned-to-date amount
    # (no clawback) or its final one (clawback), never the sum of period amounts
    quotas = np.cumsum(np.full(M, 100.0))
    credit = np.cumsum(monthly)
    ends = [last for _, last in payout_periods(M, f.period)]
    earned = [tv * (k + 1) / M * float(commission_fraction(f, np.array([credit[k] / quotas[k]]))[0])
              for k in ends]
    expected = earned[-1] if f.clawback else max(earned)
    assert p.commission[0, 0] == pytest.approx(expected, abs=1e-6)
    np.testing.assert_allclose(p.commission_by_period[0, 0].sum(), p.commission[0, 0])
    assert p.total[0, 0] == pytest.approx(p.base[0, 0] + p.commission[0, 0] + p.draw[0, 0]
                                          + p.spif[0, 0])


@settings(max_examples=100, deadline=None)
@given(plans_st, monthly_st, st.integers(0, 5), st.floats(1.0, 500.0), st.booleans())
def test_draws_bound_what_earlier_bookings_can_cost(plan, monthly, month, extra, recoverable):
    """A recoverable draw keeps pay monotone; a non-recoverable one can pay less when bookings
    rise in its window (commission then replaces a guarantee the rep would have kept: the
    known incentive to hold deals until a guarantee ends), but never by more than the
    guarantee."""
    plan = plan | {"draw": {"months": 6, "share": 1.0, "recoverable": recoverable}}
    sc = scenario(plan, start_date="2027-01-01")
    t = terms(sc, start_month=0.0)
    before = pay(sc, monthly, t=t)
    more = np.array(monthly)
    more[month] += extra
    after = pay(sc, more, t=t)
    guarantee = 6 * sc.compensation.plans[0].target_variable / 12
    floor = 0.0 if recoverable else guarantee
    assert after.total[0, 0] >= before.total[0, 0] - floor - 1e-6


# ---- the worked example of docs/compensation.md ----

def _docs_example() -> tuple[Scenario, PayTerms]:
    sc = scenario({"ote": 60_000.0, "mix": 0.5, "threshold": 0.5, "cap": 3.0,
                   "period": "quarter",
                   "rates": [{"above": 0.0, "rate": 1.0}, {"above": 1.0, "rate": 1.5}]})
    return sc, terms(sc, quota_per_month=22_500.0)


@pytest.mark.parametrize(("year_bookings", "commission"), [
    (108_000.0, 0.0), (216_000.0, 24_000.0), (270_000.0, 30_000.0), (405_000.0, 52_500.0),
    (810_000.0, 90_000.0)])
def test_docs_worked_example_by_attainment(year_bookings, commission):
    sc, t = _docs_example()
    p = compute_payouts(sc, t, sales(even(year_bookings)))
    assert p.commission[0, 0] == pytest.approx(commission)
    assert p.total[0, 0] == pytest.approx(30_000.0 + commission)


def test_docs_worked_example_quarterly_true_up():
    sc, t = _docs_example()
    monthly = np.array([40, 30, 30, 10, 10, 10, 20, 20, 20, 30, 30, 40]) * 1000.0
    p = compute_payouts(sc, t, sales(monthly))
    np.testing.assert_allclose(p.commission_by_period[0, 0],
                               [12_916.67, 1_527.78, 6_666.67, 12_222.22], atol=0.01)
    assert p.commission[0, 0] == pytest.approx(33_333.33, abs=0.01)
