"""Dedicated territories for accounts above every rep's band (``dedicate_oversized``).

Hand-built instances on a line (distance = |x_account - x_rep| km) with exact figures: which
account is dedicated, to which rep, the targets of the other reps, and the optimum against
brute-force enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from salesplan.optimizer import (
    AlignmentOptions,
    AlignmentProblem,
    BalanceBand,
    InfeasibleInputError,
    available_solvers,
    solve_alignment,
)


def line(potential, x_acc, x_rep, owner=None, locked=None, workload=None, holes=(),
         **extra) -> AlignmentProblem:
    """Accounts and reps on a line; ``holes``: (account, rep) pairs made ineligible (a travel
    table without them)."""
    potential = np.asarray(potential, float)
    n, m = potential.size, len(x_rep)
    rep_ids = [f"R-{j}" for j in range(m)]
    dist = np.abs(np.subtract.outer(np.asarray(x_acc, float), np.asarray(x_rep, float)))
    for i, j in holes:
        dist[i, j] = np.nan
    return AlignmentProblem(
        account_ids=[f"A-{i}" for i in range(n)], rep_ids=rep_ids, potential=potential,
        workload=np.full(n, 10.0) if workload is None else np.asarray(workload, float),
        distance=dist, owner=owner or [None] * n,
        locked=np.zeros(n, dtype=bool) if locked is None else np.asarray(locked, bool),
        **extra)


def opts(**kw) -> AlignmentOptions:
    base = dict(mode="carve", balance=(BalanceBand("potential", 0.10),), candidates=None,
                strategy="exact", time_limit=20, gap=0.0)
    base.update(kw)
    return AlignmentOptions(**base)


# A-0 (500) is above the band of 4 reps (mean 235, upper 258.5); once it has a rep of its own,
# the mean of the other 3 is 146.7 (upper 161.3) and A-1 (240) is above that too; the 20 small
# accounts (10 each) then go 10 and 10 to the last two reps (mean 100, band 90-110).
CASCADE = dict(potential=[500, 240] + [10] * 20,
               x_acc=[0.0, 30.0, *np.linspace(40, 100, 20)],
               x_rep=[10.0, 100.0, 25.0, 60.0])


def test_without_the_option_the_diagnosis_names_it() -> None:
    p = line(**CASCADE)
    with pytest.raises(InfeasibleInputError) as err:
        solve_alignment(p, opts())
    text = str(err.value)
    assert "account A-0" in text and "alone exceeds the upper potential band" in text
    assert "dedicated territory" in text and "--dedicate-oversized" in text


@pytest.mark.parametrize("solver", available_solvers())
def test_cascade_dedicates_both_and_balances_the_rest(solver: str) -> None:
    p = line(**CASCADE)
    res = solve_alignment(p, opts(dedicate_oversized=True, solver=solver))
    a = res.assignment.set_index("account")["rep"]
    # A-0 (x=0) to its nearest rep, R-0 (x=10); A-1 (x=30) to the nearest one left, R-2 (x=25)
    assert a["A-0"] == "R-0"
    assert a["A-1"] == "R-2"
    t = res.territories.set_index("rep")
    assert t.loc["R-0", "accounts"] == 1 and t.loc["R-0", "dedicated_to"] == "A-0"
    assert t.loc["R-2", "accounts"] == 1 and t.loc["R-2", "dedicated_to"] == "A-1"
    # the other two: mean 100 each, within ±10%
    for rep in ("R-1", "R-3"):
        assert t.loc[rep, "potential_target"] == pytest.approx(100.0)
        assert 90.0 - 1e-9 <= t.loc[rep, "potential"] <= 110.0 + 1e-9
        assert pd_isna(t.loc[rep, "dedicated_to"])
    # dedicated reps have no band: no target, no deviation, out of the balance figures
    assert t.loc["R-0", "potential_target"] == 0.0 and np.isnan(t.loc["R-0", "potential_dev"])
    bal = res.metrics.balance["potential"]
    loads = t.loc[["R-1", "R-3"], "potential"].to_numpy() / 100.0
    assert bal["max_over_mean"] == pytest.approx(loads.max())
    assert bal["min_over_mean"] == pytest.approx(loads.min())
    notes = " ".join(res.notes)
    assert "account A-0 (2.13 x the mean potential" in notes
    assert "account A-1 (1.64 x the mean potential" in notes
    assert "rep R-0 serves it alone" in notes


def pd_isna(v) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v))


@pytest.mark.parametrize("solver", available_solvers())
def test_optimum_matches_brute_force(solver: str) -> None:
    # one oversized account (A-0: 400 of 640, 3 reps: mean 213, upper 235) and 8 small ones;
    # after dedication, 2 reps share 240 (120 each, band 108-132)
    pot = [400, 20, 40, 30, 30, 50, 20, 25, 25]
    x_acc = [5.0, 12, 18, 33, 40, 47, 61, 70, 88]
    x_rep = [0.0, 30.0, 70.0]
    p = line(pot, x_acc, x_rep)
    res = solve_alignment(p, opts(dedicate_oversized=True, solver=solver))
    assert res.status == "optimal"
    # brute force: A-0 alone with R-0 (its nearest); the rest to within the band
    pot_a = np.asarray(pot, float)
    best = np.inf
    for combo in itertools.product((1, 2), repeat=8):
        load = np.bincount(combo, weights=pot_a[1:], minlength=3)
        if not all(108 - 1e-9 <= load[j] <= 132 + 1e-9 for j in (1, 2)):
            continue
        w = pot_a / pot_a.mean()
        cost = w[0] * abs(x_acc[0] - x_rep[0]) + sum(
            w[i + 1] * abs(x_acc[i + 1] - x_rep[j]) for i, j in enumerate(combo))
        best = min(best, cost)
    assert np.isfinite(best)
    assert res.metrics.objective == pytest.approx(best, rel=1e-7)
    assert res.metrics.weighted_distance == pytest.approx(best, rel=1e-7)


def test_locked_account_keeps_its_owner_and_owners_of_locks_are_skipped() -> None:
    owner = ["R-3"] + [None] * 21
    locked = [True] + [False] * 21
    # R-3 owns locked A-0: it is dedicated to it although R-0 is nearer
    res = solve_alignment(line(**CASCADE, owner=owner, locked=locked),
                          opts(dedicate_oversized=True))
    t = res.territories.set_index("rep")
    assert t.loc["R-3", "dedicated_to"] == "A-0"
    # A-1's nearest rep R-2 owns a locked small account: A-1 goes to the next one
    owner = [None, None, "R-2"] + [None] * 19
    locked = [False, False, True] + [False] * 19
    res = solve_alignment(line(**CASCADE, owner=owner, locked=locked),
                          opts(dedicate_oversized=True))
    t = res.territories.set_index("rep")
    assert t.loc["R-0", "dedicated_to"] == "A-0"
    assert t.loc["R-2", "dedicated_to"] is None or pd_isna(t.loc["R-2", "dedicated_to"])
    assert t.loc["R-2", "accounts"] > 1
    ded = t["dedicated_to"].dropna()
    assert sorted(ded.tolist()) == ["A-0", "A-1"] and "R-2" not in ded.index


def test_realign_prefers_the_owner() -> None:
    owner = ["R-1"] + [None] * 21
    res = solve_alignment(line(**CASCADE, owner=owner),
                          opts(mode="realign", dedicate_oversized=True, disruption=1000.0))
    assert res.territories.set_index("rep").loc["R-1", "dedicated_to"] == "A-0"
    assert res.metrics.moves == 0


def test_no_rep_can_be_dedicated_is_reported() -> None:
    # two reps, both own a locked small account: no rep qualifies for A-0; the diagnosis
    # still names A-0, and the note says why no territory could be dedicated
    p = line([500, 10, 10, 10], [0, 1, 2, 3], [0.0, 5.0], owner=[None, "R-0", "R-1", None],
             locked=[False, True, True, False])
    with pytest.raises(InfeasibleInputError) as err:
        solve_alignment(p, opts(dedicate_oversized=True))
    assert "account A-0" in str(err.value)
    from salesplan.optimizer.territory.preparation import prepare

    prep = prepare(p, opts(dedicate_oversized=True))
    assert prep.dedicated == ()
    assert any("no rep can be dedicated to it" in note for note in prep.notes)


def test_no_oversized_account_changes_nothing() -> None:
    p = line([10] * 12, np.linspace(0, 100, 12), [10.0, 90.0])
    a = solve_alignment(p, opts(dedicate_oversized=True))
    b = solve_alignment(p, opts())
    assert a.assignment["rep"].tolist() == b.assignment["rep"].tolist()
    assert a.metrics.objective == pytest.approx(b.metrics.objective)
    assert a.territories["dedicated_to"].isna().all()


def test_a_rep_without_the_capacity_is_passed_over() -> None:
    # A-0 needs 100 h; its nearest rep R-0 may carry 50 h: R-2 (next nearest) serves it
    workload = [100.0, 10.0] + [10.0] * 20
    res = solve_alignment(line(**CASCADE, workload=workload),
                          opts(dedicate_oversized=True, max_workload_hours={"R-0": 50.0}))
    t = res.territories.set_index("rep")
    assert t.loc["R-2", "dedicated_to"] == "A-0"
    assert t.loc["R-0", "workload_hours"] <= 50.0 + 1e-9


def test_the_most_constrained_account_goes_first() -> None:
    # A-1 (300) may only go to owns a locked account: only R-0 qualifies
    # for it. A-0 (500, nearest R-0) goes elsewhere; largest-first would give and
    # leave A-1 with no rep
    pot = [500, 300] + [10] * 12
    x_acc = [0.0, 1.0, *np.linspace(20, 60, 12)]
    x_rep = [0.0, 10.0, 40.0, 60.0]
    owner = [None, None, "R-1"] + [None] * 11
    locked = [False, False, True] + [False] * 11
    p = line(pot, x_acc, x_rep, owner=owner, locked=locked, holes=[(1, 2), (1, 3)])
    res = solve_alignment(p, opts(dedicate_oversized=True, balance=(
        BalanceBand("potential", 0.3),)))
    t = res.territories.set_index("rep")
    assert t.loc["R-0", "dedicated_to"] == "A-1"
    assert t["dedicated_to"].dropna().tolist().count("A-0") == 1
    assert "R-1" not in t["dedicated_to"].dropna().index


def test_a_rep_that_could_serve_only_that_account_is_preferred() -> None:
    # R-3 is eligible for A-0 alone; R-0 is nearer to A-0 but has other accounts to serve
    holes = [(i, 3) for i in range(1, 22)]
    res = solve_alignment(line(**CASCADE, holes=holes), opts(dedicate_oversized=True))
    t = res.territories.set_index("rep")
    assert t.loc["R-3", "dedicated_to"] == "A-0"
    assert not any("empty territory" in n for n in res.notes)


def test_account_count_band_dedicates_nothing() -> None:
    from salesplan.optimizer.territory.preparation import prepare

    p = line([10, 10, 10], [0, 1, 2], [0.0, 1.0, 2.0, 3.0])
    prep = prepare(p, opts(dedicate_oversized=True, balance=(BalanceBand("accounts", 0.1),)))
    assert prep.dedicated == ()


def test_the_remaining_pool_keeps_its_name() -> None:
    p = line(**CASCADE, account_region=["North"] * 22, rep_region=["North"] * 4)
    res = solve_alignment(p, opts(dedicate_oversized=True))
    pools = set(res.territories["pool"])
    assert pools == {"region North", "dedicated to A-0", "dedicated to A-1"}


def test_measuring_a_plan_ignores_dedication() -> None:
    # a plan giving R-0 the large account and small ones too is measured like any other
    from salesplan.optimizer import measure_plan

    p = line(**CASCADE)
    plan = ["R-0"] * 9 + ["R-1"] * 5 + ["R-2"] * 4 + ["R-3"] * 4
    m = measure_plan(p, plan, opts(dedicate_oversized=True))
    assert m.territories["dedicated_to"].isna().all()
    assert not np.isnan(m.territories.set_index("rep").loc["R-0", "potential_dev"])
    assert m.metrics.balance["potential"]["max_over_mean"] == pytest.approx(
        (500 + 240 + 70) / 235)
