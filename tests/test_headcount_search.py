"""The headcount search on a synthetic evaluator whose answer is known exactly.

The evaluator maps hires per region to bookings with common random numbers: replication i of
every plan shares the same noise draw, so P(hit) is a deterministic, monotone function of the
plan and the true minimum can be enumerated.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from _docs import base_doc

from salesplan.api.planning.headcount import HeadcountError, plan_headcount
from salesplan.api.planning.outcome import Outcome
from salesplan.scenarios import parse_scenario

N = 400
GAIN = {"East": 9_000.0, "West": 6_000.0, "Central": 3_000.0, "South": 1_000.0}


def _scenario():
    doc = base_doc()
    doc["reps"] = [{"id": f"R-{r}", "region": r} for r in GAIN]
    doc["accounts"] = []
    doc["initial_pipeline"] = []
    doc["targets"] = {"company": 100_000.0}
    return parse_scenario(doc)


def _evaluator(calls: list):
    def evaluate(sc, seed):
        calls.append(seed)
        noise = np.random.default_rng(seed).normal(0, 8_000, N)
        hires = {}
        for rep in sc.reps:
            if "hire" in rep.id:
                hires[rep.region] = hires.get(rep.region, 0) + 1
        month = min((rep.start_date.month for rep in sc.reps if rep.start_date), default=1)
        # diminishing returns per region; later start months earn less
        gain = sum(GAIN[r] * (1 - 0.5 ** n) * 2 for r, n in hires.items())
        gain *= (13 - month) / 12
        return Outcome(name="x", scenario=sc, bookings=90_000.0 + gain + noise)

    return evaluate


def _p_hit(hires: dict, month: int, seed: int) -> float:
    noise = np.random.default_rng(seed).normal(0, 8_000, N)
    gain = sum(GAIN[r] * (1 - 0.5 ** n) * 2 for r, n in hires.items()) * (13 - month) / 12
    return float((90_000.0 + gain + noise >= 100_000.0).mean())


def test_finds_the_fewest_hires_known_by_enumeration():
    sc = _scenario()
    plan = plan_headcount(sc, _evaluator([]), p=0.8, seed=3, replications=N, max_hires=12)
    assert plan.reached
    # brute force: smallest total over all allocations (start month 1)
    best = None
    for total in range(13):
        for alloc in itertools.product(range(total + 1), repeat=4):
            if sum(alloc) != total:
                continue
            hires = dict(zip(GAIN, alloc, strict=True))
            if _p_hit(hires, 1, 3) >= 0.8:
                best = total
                break
        if best is not None:
            break
    assert plan.total_hires == best
    assert plan.p_hit >= 0.8
    # the frontier starts at zero hires and is non-decreasing in P(hit) (monotone evaluator)
    ps = [pt.p_hit for pt in plan.frontier]
    assert plan.frontier[0].total_hires == 0 and ps == sorted(ps)


def test_latest_start_month_still_reaches_p():
    plan = plan_headcount(_scenario(), _evaluator([]), p=0.8, seed=3, max_hires=12)
    assert _p_hit(plan.hires, plan.start_month, 3) >= 0.8
    if plan.start_month < _scenario().horizon.months:
        assert _p_hit(plan.hires, plan.start_month + 1, 3) < 0.8


def test_verification_uses_a_fresh_seed_and_agrees_within_monte_carlo_error():
    calls: list = []
    plan = plan_headcount(_scenario(), _evaluator(calls), p=0.8, seed=3, max_hires=12)
    assert plan.verify_seed != plan.seed and plan.verify_seed in calls
    se = (0.8 * 0.2 / N) ** 0.5
    assert plan.verified_p_hit >= 0.8 - 3 * se


def test_unreachable_target_is_reported_not_hidden():
    plan = plan_headcount(_scenario(), _evaluator([]), p=0.99, seed=3, max_hires=2)
    assert not plan.reached and plan.total_hires == 2


def test_no_hires_needed():
    sc = _scenario()
    sc = sc.model_copy(update={"targets": sc.targets.model_copy(update={"company": 50_000.0})})
    plan = plan_headcount(sc, _evaluator([]), p=0.8, seed=1)
    assert plan.reached and plan.hires == {} and len(plan.frontier) == 1


def test_bad_options_are_user_errors():
    sc = _scenario()
    with pytest.raises(HeadcountError, match="p must be in"):
        plan_headcount(sc, _evaluator([]), p=1.5)
    with pytest.raises(HeadcountError, match="unknown region"):
        plan_headcount(sc, _evaluator([]), regions=["Mars"])
    with pytest.raises(HeadcountError, match="start month must be within"):
        plan_headcount(sc, _evaluator([]), start_month=40)


def test_a_falling_frontier_is_reported():
    def evaluate(sc, seed):
        noise = np.random.default_rng(seed).normal(0, 8_000, N)
        hires = sum("hire" in r.id for r in sc.reps)
        return Outcome(name="x", scenario=sc, bookings=101_000.0 - 3_000.0 * hires + noise)

    plan = plan_headcount(_scenario(), evaluate, p=0.9, seed=2, max_hires=2)
    assert not plan.reached
    assert plan.notes and "monotonicity assumption does not hold" in plan.notes[0]
