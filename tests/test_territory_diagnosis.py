"""Infeasible territory inputs get a planner-worded diagnosis, before or after solving."""

from __future__ import annotations

import numpy as np
import pytest

from salesplan.optimizer import (
    AlignmentOptions,
    AlignmentProblem,
    BalanceBand,
    InfeasibleInputError,
    InfeasiblePlanError,
    available_solvers,
    solve_alignment,
)

SOLVERS = available_solvers()


def problem(n=10, m=3, workload=None, potential=None, owner=None, locked=None,
            acc_region=None, rep_region=None, acc_segment=None, rep_segments=None,
            distance=None, rep_ids=None):
    rng = np.random.default_rng(0)
    rep_ids = rep_ids or [f"R-{j + 1:02d}" for j in range(m)]
    return AlignmentProblem(
        account_ids=[f"A-{i + 1:04d}" for i in range(n)], rep_ids=rep_ids,
        potential=np.full(n, 100.0) if potential is None else np.asarray(potential, float),
        workload=np.full(n, 10.0) if workload is None else np.asarray(workload, float),
        distance=rng.uniform(10, 100, (n, m)) if distance is None else distance,
        owner=owner or [None] * n,
        locked=np.zeros(n, dtype=bool) if locked is None else np.asarray(locked),
        account_region=acc_region or ["West"] * n, rep_region=rep_region or ["West"] * m,
        account_segment=acc_segment or ["SMB"] * n,
        rep_segments=rep_segments or [()] * m)


def reasons(p, **opts) -> list[str]:
    with pytest.raises(InfeasibleInputError) as exc:
        solve_alignment(p, AlignmentOptions(**opts))
    return exc.value.reasons


def test_region_workload_above_capacity():
    # 31 accounts x 400 h = 12,400 h against 5 reps x 2,200 h = 11,000 h
    p = problem(n=31, m=5, workload=[400.0] * 31)
    got = reasons(p, max_workload_hours=2200.0, balance=())
    assert "region West: workload 12,400 h exceeds the capacity of its 5 reps (11,000 h)" in got


def test_locked_to_rep_without_the_segment():
    n = 4
    p = problem(n=n, m=2, rep_ids=["R-07", "R-08"], acc_segment=["Enterprise"] + ["SMB"] * 3,
                rep_segments=[("SMB",), ()], owner=["R-07", None, None, None],
                locked=[True, False, False, False])
    got = reasons(p, balance=())
    assert ("account A-0001 is locked to R-07, which is not eligible for segment Enterprise"
            in got)


def test_account_with_no_eligible_rep_says_why():
    p = problem(n=3, m=2, acc_region=["West", "West", "North"], rep_region=["West", "West"])
    assert "account A-0003: no rep in region North" in reasons(p, balance=())
    p = problem(n=3, m=2, acc_segment=["SMB", "SMB", "Enterprise"],
                rep_segments=[("SMB",), ("SMB",)])
    assert "account A-0003: no rep in region West serves segment Enterprise" in reasons(
        p, balance=())
    far = np.array([[10.0, 20.0], [10.0, 20.0], [300.0, 250.0]])
    p = problem(n=3, m=2, distance=far)
    assert ("account A-0003: no eligible rep within 200 km (nearest: R-02 at 250 km)"
            in reasons(p, balance=(), max_distance=200.0))


def test_indivisible_account_above_every_band():
    p = problem(n=6, m=3, potential=[1000, 100, 100, 100, 100, 100])
    got = reasons(p, balance=(BalanceBand("potential", 0.05),))
    assert any(r.startswith("account A-0001 (1,000 USD of potential) alone exceeds the upper "
                            "potential band of every eligible rep") and "at least 100.0%" in r
               for r in got), got


def test_account_count_band_with_no_whole_number():
    p = problem(n=10, m=3)
    got = reasons(p, balance=(BalanceBand("accounts", 0.01),))
    assert got == ["region West: an account-count band of ±1% around 3.33 accounts per rep "
                   "contains no whole number; widen it"]


def test_forced_moves_above_the_cap():
    p = problem(n=4, m=2, owner=["R-99", "R-99", "R-99", None])
    got = reasons(p, balance=(), max_moves=2)
    assert ("3 accounts must move (their owner is not an eligible rep), more than the move cap "
            "of 2") in got


def test_options_are_checked():
    with pytest.raises(InfeasibleInputError, match="a move cap needs mode realign"):
        AlignmentOptions(mode="carve", max_moves=3)


@pytest.mark.parametrize("solver", SOLVERS)
def test_after_solving_names_the_family_to_relax(solver):
    # balanced workload needs moves; a cap of 0 moves makes it impossible
    p = problem(n=6, m=2, workload=[10, 10, 10, 10, 10, 10],
                owner=["R-01"] * 5 + ["R-02"])
    with pytest.raises(InfeasiblePlanError) as exc:
        solve_alignment(p, AlignmentOptions(balance=(BalanceBand("workload", 0.1),),
                                            max_moves=0, solver=solver, time_limit=20))
    got = exc.value.reasons
    assert "a plan exists without the move cap (0 moves): raise it" in got
    assert ("a plan exists without the workload balance band (±10.0%): widen its tolerance or "
            "use soft balance") in got
    assert exc.value.status == "no solution"


@pytest.mark.parametrize("solver", SOLVERS)
def test_soft_mode_reports_what_it_let_slip(solver):
    p = problem(n=6, m=3, potential=[1000, 100, 100, 100, 100, 100])
    res = solve_alignment(p, AlignmentOptions(balance=(BalanceBand("potential", 0.05),),
                                              soft_balance=True, solver=solver))
    assert res.metrics.max_band_violation["potential"] > 0.5
    assert any(n.startswith("soft band on potential (±5.0%): ") for n in res.notes)
