"""Re-rounding (optimizer/territory/reround.py): plans from LPs with tighter bands, rounded,
repaired and improved, replace the given plan only when cheaper; every band still holds; no
time, no change."""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np
import pytest

from salesplan.optimizer import AlignmentOptions, BalanceBand
from salesplan.optimizer.territory.candidates import candidate_pairs
from salesplan.optimizer.territory.checks import holds
from salesplan.optimizer.territory.fix import FixAndResolve
from salesplan.optimizer.territory.formulation import build_model
from salesplan.optimizer.territory.incumbent import greedy_over_pairs
from salesplan.optimizer.territory.preparation import prepare
from salesplan.optimizer.territory.reround import REROUND_SHARES, reround, tightened
from salesplan.optimizer.territory.solver import SolverSpec
from salesplan.optimizer.territory.state import SolveTask

BANDS = (BalanceBand("workload", 0.05), BalanceBand("potential", 0.05))


@pytest.fixture(scope="module")
def case():
    """A 1,500 x 12 generated instance over its 4 nearest candidates, its LP bound, and a
    plan holding both ±5% bands: greedy LPT repaired (far above the bound)."""
    from salesplan.benchmarks.territory_instances import synthetic_instance
    p = synthetic_instance(1_500, 12, seed=3)
    prep = prepare(p, AlignmentOptions(mode="carve", balance=BANDS))
    pi, pj = candidate_pairs(p.distance, prep.eligible, prep.owner, p.locked, 4)
    task = SolveTask(prep.spec, pi, pj, SolverSpec(), math.inf)
    lp = SolverSpec().solve(build_model(prep.spec, pi, pj).prob, mip=False, time_limit=60)
    assert lp.state == "optimal"
    plan, _, _ = FixAndResolve(task, None, -np.inf).repair(
        greedy_over_pairs(prep.spec, pi, pj), time.perf_counter() + 30)
    assert holds(prep.spec, plan)
    return task, lp.objective, plan


def cost(task, plan) -> float:
    return float(task.spec.cost[np.arange(task.n_accounts), plan].sum())


def repair_of(task):
    return FixAndResolve(task, None, -np.inf).repair


def test_a_reround_plan_is_kept_only_when_cheaper_and_holds(case) -> None:
    task, bound, plan = case
    notes: list[str] = []
    start = cost(task, plan)
    assert start > bound * 1.01  # the start is far above the bound: there is room
    better = reround(task, bound, plan, 0.0, repair_of(task), notes)
    assert holds(task.spec, better)
    assert cost(task, better) < start
    assert len(notes) >= 1 and "re-rounded from an LP with bands tightened by" in notes[0]
    # pinned: the first share held back (20% of each tolerance) takes it within 1%
    assert cost(task, better) <= bound * 1.01
    assert REROUND_SHARES[0] == 0.2


def test_no_time_left_or_a_plan_near_the_bound_is_returned_unchanged(case) -> None:
    task, bound, plan = case
    notes: list[str] = []
    # a minute left, and the last tightened LP took an hour: no re-rounding starts
    soon = replace(task, deadline=time.perf_counter() + 60.0)
    same = reround(soon, bound, plan, 3600.0, repair_of(soon), notes)
    assert same is plan and notes == []
    # within 1% of the bound already: nothing to do
    same = reround(task, cost(task, plan) / 1.005, plan, 0.0, repair_of(task), notes)
    assert same is plan and notes == []


def test_with_cheap_lps_the_share_grows_only_while_it_pays(case) -> None:
    # column generation gives the task its LPs (task.relaxation): after REROUND_SHARES, the
    # share grows by REROUND_STEP while the last one gave the cheapest plan, up to REROUND_MAX
    from salesplan.optimizer.territory.reround import REROUND_MAX, REROUND_STEP
    task, bound, plan = case
    asked: list[float] = []

    def relaxation(share):
        asked.append(share)
        model = build_model(tightened(task.spec, share), task.pi, task.pj)
        res = SolverSpec().solve(model.prob, mip=False, time_limit=60)
        return (model.values() if res.state == "optimal" else None), 0.1

    cheap = replace(task, relaxation=relaxation)
    notes: list[str] = []
    # a bound far below every plan, so that no plan stops the re-rounding early
    better = reround(cheap, bound / 1.5, plan, 0.0, repair_of(cheap), notes)
    assert asked[:2] == list(REROUND_SHARES)
    kept = {round(float(n.split("tightened by ")[1].split("%")[0]) / 100, 2) for n in notes}
    for share in asked[2:]:
        assert round(share - REROUND_STEP, 2) in kept  # grown only after the last one paid
        assert share <= REROUND_MAX + 1e-9
    assert holds(task.spec, better)
    assert cost(task, better) <= cost(task, plan)
    assert (len(asked) > 2) == (round(REROUND_SHARES[-1], 2) in kept)
