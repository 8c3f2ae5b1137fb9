"""The benchmark instance set and the scenario generator: bit-for-bit rebuilds, recipes, stress
cases; the baseline territory heuristics."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salesplan.api.bench.instances import (
    INSTANCE_SET_VERSION,
    INSTANCES,
    SUITES,
    build_instance,
    fingerprint,
    locked_manifest,
)
from salesplan.api.cli import main
from salesplan.optimizer import (
    AlignmentOptions,
    AlignmentProblem,
    BalanceBand,
    greedy_lpt,
    measure_plan,
    nearest_rep,
    solve_alignment,
)
from salesplan.scenarios.generator import GeneratorSpec, generate_scenario


def test_manifest_is_current_for_the_ci_instances():
    locked = locked_manifest()
    assert locked["version"] == INSTANCE_SET_VERSION
    assert set(locked["instances"]) == set(INSTANCES)
    for name in SUITES["small"]["instances"]:
        assert build_instance(name).fingerprint == locked["instances"][name]["fingerprint"], name


@pytest.mark.slow
def test_manifest_is_current_for_the_standard_suite():
    locked = locked_manifest()
    for name in SUITES["standard"]["instances"]:
        assert build_instance(name).fingerprint == locked["instances"][name]["fingerprint"], name


def test_generator_is_a_pure_function_of_spec_and_seed():
    spec = GeneratorSpec("g", reps=8, accounts=150, regions=("South", "West"),
                         leads_per_year=2_000, stages=5)
    a, b = generate_scenario(spec, 7), generate_scenario(spec, 7)
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(generate_scenario(spec, 8)) != fingerprint(a)
    assert len(a.reps) == 8 and len(a.accounts) == 150 and len(a.stages) == 5
    # stage conversions multiply to the win rate (to the rounding of 4 decimals)
    assert np.prod([s.conversion for s in a.stages]) == pytest.approx(spec.win_rate, rel=2e-3)
    # every account's owner is an eligible rep of its region
    reps = {r.id: r for r in a.reps}
    for acc in a.accounts:
        rep = reps[acc.owner]
        assert rep.region == acc.region and (not rep.segments or acc.segment in rep.segments)
    # regions of 4 seats or more get a generalist (any segment), so skill routing has a choice
    assert [r.role for r in a.reps].count("Generalist") == 2


@pytest.mark.parametrize("kwargs, message", [
    ({"stages": 2}, "stages must be 3..8"),
    ({"regions": ("Mars",)}, "census regions"),
    ({"reps": 3}, "at least 2 per region"),
    ({"win_rate": 1.5}, "win_rate"),
])
def test_generator_refuses_bad_specs(kwargs, message):
    base = {"name": "g", "reps": 8, "accounts": 100, "regions": ("East", "West")}
    with pytest.raises(ValueError, match=message):
        GeneratorSpec(**(base | kwargs))


@pytest.mark.parametrize("kwargs, message", [
    # too few county accounts in a region to seat its reps (this used to loop forever)
    ({"reps": 12, "accounts": 12}, "rep seats but only"),
    ({"reps": 8, "accounts": 100_000}, "exceeds the"),
])
def test_generator_refuses_specs_the_counties_cannot_hold(kwargs, message):
    spec = GeneratorSpec(**({"name": "g", "regions": ("East", "West")} | kwargs))
    with pytest.raises(ValueError, match=message):
        generate_scenario(spec, 1)


def test_stress_instances_keep_the_base_target():
    tiny, stressed = build_instance("tiny"), build_instance("tiny-loses-third")
    assert stressed.scenario.targets.company == tiny.scenario.targets.company
    central = [r for r in tiny.scenario.reps if r.region == "Central"]
    left = [r for r in stressed.scenario.reps if r.region == "Central"]
    assert len(left) == len(central) - round(len(central) / 3)
    gone = {r.id for r in central} - {r.id for r in left}
    assert all(a.owner not in gone for a in stressed.scenario.accounts)
    orphans = [a for a in stressed.scenario.accounts if a.owner is None]
    assert orphans and "no owner" in stressed.notes[0]


def test_bench_instances_cli_lists_and_verifies(capsys):
    assert main(["bench", "instances", "--suite", "small", "--verify"]) == 0
    text = capsys.readouterr().out
    assert "tiny" in text and "[ok" in text
    assert main(["bench", "instances", "--suite", "nope"]) == 2


# ---- baseline territory heuristics ----

def _problem(n: int, m: int, seed: int, one_pool: bool = True) -> AlignmentProblem:
    rng = np.random.default_rng(seed)
    regions = ["R"] * m if one_pool else ["R1" if j % 2 else "R2" for j in range(m)]
    acc_regions = ["R"] * n if one_pool else [["R1", "R2"][i % 2] for i in range(n)]
    return AlignmentProblem(
        account_ids=[f"a{i}" for i in range(n)], rep_ids=[f"r{j}" for j in range(m)],
        potential=rng.lognormal(10, 1, n), workload=rng.uniform(5, 50, n),
        distance=rng.uniform(1, 500, (n, m)), owner=[None] * n,
        locked=np.zeros(n, dtype=bool), account_region=acc_regions, rep_region=regions)


@settings(max_examples=25, deadline=None)
@given(st.integers(5, 60), st.integers(2, 6), st.integers(0, 10_000), st.booleans())
def test_heuristics_assign_every_account_once_to_an_eligible_rep(n, m, seed, one_pool):
    p = _problem(n, m, seed, one_pool)
    for result in (nearest_rep(p), greedy_lpt(p)):
        a = result.assignment
        assert len(a) == n and a.account.is_unique
        rep_region = dict(zip(p.rep_ids, p.rep_region, strict=True))
        assert all(rep_region[r] == reg for r, reg in zip(a.rep, a.region, strict=True))


@settings(max_examples=25, deadline=None)
@given(st.integers(5, 60), st.integers(2, 6), st.integers(0, 10_000))
def test_greedy_lpt_keeps_the_list_scheduling_guarantee(n, m, seed):
    """One pool, equal targets: greedy LPT's loads differ by at most the largest item."""
    p = _problem(n, m, seed)
    loads = greedy_lpt(p).territories["potential"].to_numpy()
    assert loads.max() - loads.min() <= p.potential.max() + 1e-6


def test_nearest_rep_is_the_distance_minimum():
    p = _problem(40, 5, 1)
    res = nearest_rep(p)
    assert res.assignment.distance.sum() == pytest.approx(p.distance.min(axis=1).sum())


def test_measure_plan_agrees_with_the_solver_on_its_own_plan():
    p = _problem(60, 4, 2)
    opts = AlignmentOptions(mode="carve", balance=(BalanceBand("potential", 0.2),))
    solved = solve_alignment(p, opts)
    again = measure_plan(p, solved.assignment.rep.tolist(), opts)
    assert again.metrics.weighted_distance == pytest.approx(solved.metrics.weighted_distance)
    assert again.metrics.balance == solved.metrics.balance
    assert again.metrics.moves == solved.metrics.moves


def test_measure_plan_refuses_incomplete_plans():
    from salesplan.optimizer import InfeasibleInputError

    p = _problem(10, 3, 4)
    with pytest.raises(InfeasibleInputError, match="one rep to every account"):
        measure_plan(p, np.array([0] * 9))
    with pytest.raises(InfeasibleInputError, match="not in the problem"):
        measure_plan(p, ["ghost"] * 10)


def test_heuristics_say_why_an_account_has_no_rep():
    from salesplan.optimizer import InfeasibleInputError

    p = _problem(10, 4, 5, one_pool=False)
    p = AlignmentProblem(**{**p.__dict__, "account_region": ["R3", *p.account_region[1:]]})
    for heuristic in (nearest_rep, greedy_lpt):
        with pytest.raises(InfeasibleInputError, match="account a0: no rep in region R3"):
            heuristic(p)
