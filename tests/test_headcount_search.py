"""The headcount search on synthetic evaluators whose answer is known exactly.

Each evaluator maps a plan (hires per region, their start month) to company bookings:
``BASE + gain(plan) + noise``, where the noise of replication ``i`` depends on the seed only
(common random numbers), optionally plus a small noise of the plan's own (``jitter``), so that a
lift of zero is a real zero-mean paired difference, not an exact zero. Replication ``i`` hits
when its bookings reach the target.
"""

from __future__ import annotations

import itertools
import json
import math
import pickle
import zlib

import numpy as np
import pytest
from _docs import base_doc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesplan.api.planning.headcount import (
    HeadcountError,
    UnreachableTargetError,
    plan_headcount,
)
from salesplan.api.planning.outcome import Outcome
from salesplan.errors import SalesplanError
from salesplan.scenarios import parse_scenario

N = 400
SD = 8_000.0
BASE = 90_000.0
TARGET = 100_000.0
REGIONS = ("East", "West", "Central", "South")
GAIN = {"East": 9_000.0, "West": 6_000.0, "Central": 3_000.0, "South": 1_000.0}


def _scenario(cost_annual: float = 0.0, regions=REGIONS):
    doc = base_doc()  # six months from 2027-01
    doc["regions"] = [{"id": r} for r in regions]
    doc["reps"] = [{"id": f"R-{r}", "region": r, "cost_annual": cost_annual} for r in regions]
    doc["accounts"] = []
    doc["initial_pipeline"] = []
    doc["lead_sources"] = []
    doc["targets"] = {"company": TARGET}
    return parse_scenario(doc)


def _plan_of(sc) -> tuple[dict[str, int], int]:
    """Hires per region and their (common) start month, read back from the scenario."""
    hires: dict[str, int] = {}
    months = set()
    for rep in sc.reps:
        if "-hire-" in rep.id:
            hires[rep.region] = hires.get(rep.region, 0) + 1
            months.add((rep.start_date.year - 2027) * 12 + rep.start_date.month)
    assert len(months) <= 1
    return hires, months.pop() if months else 0


def _evaluator(gain, calls: list | None = None, jitter: float = 0.0):
    """``gain(hires, month)``: expected bookings gain of a plan (month 0 without hires)."""
    def evaluate(sc, seed):
        if calls is not None:
            calls.append(seed)
        hires, month = _plan_of(sc)
        bookings = BASE + gain(hires, month) + np.random.default_rng(seed).normal(0, SD, N)
        if jitter:
            own = zlib.crc32(repr((sorted(hires.items()), month)).encode())
            bookings = bookings + np.random.default_rng([seed, own]).normal(0, jitter, N)
        return Outcome(name="x", scenario=sc, bookings=bookings)

    return evaluate


def _diminishing(hires, month):
    """Separable, diminishing returns by region; independent of the start month."""
    return sum(GAIN[r] * (1 - 0.5 ** n) * 2 for r, n in hires.items())


def _p_hit(gain, hires, month, seed):
    noise = np.random.default_rng(seed).normal(0, SD, N)
    return float((BASE + gain(hires, month) + noise >= TARGET).mean())


# ---- the fewest hires ------------------------------------------------------------------------

def test_reachable_in_two_regions_with_the_fewest_hires_known_by_enumeration():
    plan = plan_headcount(_scenario(), _evaluator(_diminishing), p=0.8, seed=3,
                          replications=N, max_hires=12)
    assert plan.reached and plan.stop_reason == "reached"
    best = next(total for total in range(13) if any(
        _p_hit(_diminishing, dict(zip(GAIN, alloc, strict=True)), 1, 3) >= 0.8
        for alloc in itertools.product(range(total + 1), repeat=4) if sum(alloc) == total))
    assert plan.total_hires == best == 3
    assert plan.hires == {"East": 2, "West": 1}  # one region alone needs 4
    assert plan.p_hit >= 0.8 and plan.start_month == 1
    # the frontier starts at zero hires, every step accepted and rising on a monotone evaluator
    assert plan.frontier[0].total_hires == 0 and all(pt.accepted for pt in plan.frontier)
    assert [pt.added for pt in plan.frontier[1:]] == ["East", "West", "East"]
    ps = [pt.p_hit for pt in plan.frontier]
    assert ps == sorted(ps)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(gains=st.lists(st.floats(1_000, 12_000), min_size=2, max_size=3),
       decays=st.lists(st.floats(0.2, 0.8), min_size=3, max_size=3),
       p=st.sampled_from([0.5, 0.7, 0.9]), seed=st.integers(0, 50))
def test_greedy_finds_the_minimum_under_separable_diminishing_returns(gains, decays, p, seed):
    """When P(hit) rises with a gain that is a sum of one concave gain per region, the fewest
    hires found is the true minimum (or p is reported unreachable within max_hires, exactly
    when no plan of that size reaches it)."""
    regions = REGIONS[:len(gains)]
    per = {r: (g, d) for r, g, d in zip(regions, gains, decays, strict=False)}

    def gain(hires, month):
        return sum(per[r][0] * (1 - per[r][1] ** n) / (1 - per[r][1]) for r, n in hires.items())

    max_hires = 6
    plan = plan_headcount(_scenario(regions=regions), _evaluator(gain), p=p, seed=seed,
                          max_hires=max_hires)
    feasible = [sum(a) for a in itertools.product(range(max_hires + 1), repeat=len(regions))
                if sum(a) <= max_hires
                and _p_hit(gain, dict(zip(regions, a, strict=True)), 1, seed) >= p]
    if feasible:
        assert plan.reached and plan.total_hires == min(feasible)
    else:
        assert not plan.reached and plan.stop_reason == "max_hires"


def test_no_hires_needed():
    sc = _scenario()
    sc = sc.model_copy(update={"targets": sc.targets.model_copy(update={"company": 50_000.0})})
    plan = plan_headcount(sc, _evaluator(_diminishing), p=0.8, seed=1)
    assert plan.reached and plan.hires == {} and len(plan.frontier) == 1


# ---- stopping honestly -----------------------------------------------------------------------

def test_rising_then_flat_stops_when_the_next_lift_is_not_significant():
    """Bookings rise with the first three hires, then no more: the search stops at the first
    hire whose paired lift is not significantly positive, and says p is out of reach."""
    def saturating(hires, month):
        return 2_000.0 * min(sum(hires.values()), 3)

    plan = plan_headcount(_scenario(), _evaluator(saturating, jitter=500.0), p=0.8, seed=5,
                          max_hires=20)
    assert not plan.reached and plan.stop_reason == "no_significant_lift"
    assert plan.total_hires == 3
    accepted = [pt for pt in plan.frontier if pt.accepted]
    assert [pt.total_hires for pt in accepted] == [0, 1, 2, 3]
    for pt in accepted[1:]:
        assert pt.lift.bookings.ci95[0] > 0
    rejected = plan.frontier[-1]
    assert not rejected.accepted and rejected.total_hires == 4
    lo, hi = rejected.lift.bookings.ci95
    assert lo <= 0 <= hi  # a real zero-mean paired difference, not significant
    assert len(plan.frontier) == 5  # it stopped: no search up to max_hires
    message = str(plan.unreachable_error())
    assert "not reachable with these levers: best P(hit)" in message
    assert f"{plan.p_hit:.1%}" in message and "at 3 hires" in message


def test_hiring_that_never_helps_stops_at_zero_hires():
    """small.yaml today: every hire lowers bookings. The answer is no hires, p out of reach."""
    def harmful(hires, month):
        return -3_000.0 * sum(hires.values())

    plan = plan_headcount(_scenario(), _evaluator(harmful), p=0.8, seed=2, max_hires=20)
    assert not plan.reached and plan.hires == {}
    assert [pt.accepted for pt in plan.frontier] == [True, False]
    assert plan.frontier[1].lift.bookings.mean == pytest.approx(-3_000.0)
    err = plan.unreachable_error()
    assert isinstance(err, UnreachableTargetError) and isinstance(err, SalesplanError)
    assert f"best P(hit) {plan.p_hit:.1%}" in str(err) and "at 0 hires;" in str(err)
    assert str(pickle.loads(pickle.dumps(err))) == str(err)  # survives a worker process


def test_one_useful_hire_then_none_is_the_best_plan_at_one_hire():
    def one_useful(hires, month):
        useful = min(hires.get("West", 0), 1)
        return 2_500.0 * useful - 3_000.0 * (sum(hires.values()) - useful)

    plan = plan_headcount(_scenario(), _evaluator(one_useful), p=0.8, seed=2, max_hires=20)
    assert not plan.reached and plan.hires == {"West": 1}
    assert "at 1 hire (West: 1 from month 1)" in str(plan.unreachable_error())


def test_max_hires_is_a_stop_reason_named_in_the_message():
    plan = plan_headcount(_scenario(), _evaluator(_diminishing), p=0.99, seed=3, max_hires=2)
    assert not plan.reached and plan.stop_reason == "max_hires" and plan.total_hires == 2
    assert "max_hires = 2" in str(plan.unreachable_error())


# ---- start months ----------------------------------------------------------------------------

def _later_is_better(hires, month):
    """The artefact of issue #18: the same hires gain more the later they start."""
    return _diminishing(hires, month) * (0.5 + month / 6)


def test_default_cost_hires_as_early_as_allowed_even_when_later_scores_higher():
    calls: list = []
    plan = plan_headcount(_scenario(cost_annual=120_000.0), _evaluator(_later_is_better, calls),
                          p=0.8, seed=3, start_month=2, max_hires=12)
    assert plan.reached and plan.start_month == 2 and plan.cost == "hires"
    assert {pt.start_month for pt in plan.frontier} == {2}
    assert plan.start_months == []  # no later month is even simulated


def test_payroll_cost_keeps_the_earliest_month_when_a_later_one_is_not_cheaper():
    """Zero-cost hires: every month reaches p and costs the same, so the earliest wins."""
    plan = plan_headcount(_scenario(cost_annual=0.0), _evaluator(_diminishing), p=0.8, seed=3,
                          max_hires=12, cost="payroll")
    assert plan.reached and plan.start_month == 1 and plan.payroll == 0.0
    assert all(m.reaches for m in plan.start_months) and len(plan.start_months) == 6


def test_payroll_cost_takes_a_later_month_only_while_every_month_up_to_it_reaches_p():
    def fading(hires, month):  # later hires ramp less; from month 5 on, too little
        return _diminishing(hires, month) * (1.0 - 0.02 * month if month <= 4 else 0.5)

    sc = _scenario(cost_annual=120_000.0)
    plan = plan_headcount(sc, _evaluator(fading), p=0.8, seed=3, max_hires=12, cost="payroll")
    assert plan.reached and plan.start_month == 4 and plan.hires == {"East": 2, "West": 1}
    scan = {m.start_month: m for m in plan.start_months}
    assert sorted(scan) == [1, 2, 3, 4, 5]  # month 5 fails p: the scan ends there
    assert all(scan[m].reaches for m in range(1, 5)) and not scan[5].reaches
    assert [scan[m].payroll for m in range(1, 6)] == sorted(
        (scan[m].payroll for m in range(1, 6)), reverse=True)
    assert plan.payroll < scan[1].payroll and plan.p_hit >= 0.8
    assert plan.notes == []  # the later hires book less, as they should
    # payroll: each hire's annual cost for the days from its start to the horizon's end
    days = (sc.horizon.end - sc.horizon.month_starts()[plan.start_month - 1]).days
    assert plan.payroll == pytest.approx(plan.total_hires * 120_000.0 * days / 365.25)


def test_payroll_scan_stops_at_the_first_month_that_fails():
    """A later month that scores higher than an earlier failing one is never chosen."""
    def dip(hires, month):
        return _diminishing(hires, month) * (0.3 if month == 3 else 1.0 + 0.1 * month)

    plan = plan_headcount(_scenario(cost_annual=120_000.0), _evaluator(dip), p=0.8, seed=3,
                          max_hires=12, cost="payroll")
    assert plan.reached and plan.start_month == 2
    assert [m.start_month for m in plan.start_months] == [1, 2, 3]
    assert not plan.start_months[-1].reaches
    assert any("the hires book no less from month 2 than from month 1" in n for n in plan.notes)


# ---- what is reported ------------------------------------------------------------------------

def test_verification_uses_a_fresh_seed_and_agrees_within_monte_carlo_error():
    calls: list = []
    plan = plan_headcount(_scenario(), _evaluator(_diminishing, calls), p=0.8, seed=3,
                          max_hires=12)
    assert plan.verify_seed != plan.seed and plan.verify_seed in calls
    se = (0.8 * 0.2 / N) ** 0.5
    assert plan.verified_p_hit >= 0.8 - 3 * se


def test_frontier_carries_wilson_intervals_and_paired_lifts():
    plan = plan_headcount(_scenario(), _evaluator(_diminishing, jitter=300.0), p=0.8, seed=3,
                          max_hires=12)
    table = plan.frontier_table()
    assert len(table) == len(plan.frontier)
    assert {"p_hit", "p_hit_ci95_lo", "p_hit_ci95_hi", "p_hit_lift", "p_hit_lift_ci95_lo",
            "p_hit_lift_ci95_hi", "bookings_lift", "bookings_lift_ci95_lo",
            "bookings_lift_ci95_hi", "accepted", "hires_East", "hires_South"} <= set(table)
    assert (table.p_hit_ci95_lo <= table.p_hit).all() and (table.p_hit <= table.p_hit_ci95_hi).all()
    rest = table.iloc[1:]
    assert (rest.bookings_lift_ci95_lo <= rest.bookings_lift).all()
    assert (rest.bookings_lift <= rest.bookings_lift_ci95_hi).all()
    assert math.isnan(table.p_hit_lift.iloc[0])  # the start has no step before it
    # the lift is the paired difference of consecutive points
    diffs = np.diff(table.bookings_mean.to_numpy())
    assert np.allclose(rest.bookings_lift.to_numpy(), diffs)
    json.dumps(plan.as_dict(), allow_nan=False)


def test_bad_options_are_user_errors():
    sc = _scenario()
    ev = _evaluator(_diminishing)
    with pytest.raises(HeadcountError, match="p must be in"):
        plan_headcount(sc, ev, p=1.5)
    with pytest.raises(HeadcountError, match="unknown region"):
        plan_headcount(sc, ev, regions=["Mars"])
    with pytest.raises(HeadcountError, match="start month must be within"):
        plan_headcount(sc, ev, start_month=40)
    with pytest.raises(HeadcountError, match="cost must be one of hires, payroll, got 'seats'"):
        plan_headcount(sc, ev, cost="seats")
    with pytest.raises(HeadcountError, match="max_hires must be >= 0"):
        plan_headcount(sc, ev, max_hires=-1)
    no_target = sc.model_copy(update={"targets": None})
    with pytest.raises(HeadcountError, match="no target"):
        plan_headcount(no_target, ev)
