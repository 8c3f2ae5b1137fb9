"""Column generation for the territory LP (optimizer/territory/colgen.py, colsolve.py): priced
out, its value is the LP over every eligible pair; the pricing formula is HiGHS's reduced
cost; the Lagrangian bound never exceeds the full LP; plans from the column path hold every
band and assign every account once."""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesplan.optimizer import (
    AlignmentError,
    AlignmentOptions,
    AlignmentProblem,
    BalanceBand,
    haversine_km,
    solve_alignment,
)
from salesplan.optimizer.territory.candidates import candidate_pairs
from salesplan.optimizer.territory.colgen import ColumnLP, allowed_pairs
from salesplan.optimizer.territory.formulation import build_model
from salesplan.optimizer.territory.preparation import prepare
from salesplan.optimizer.territory.reround import tightened
from salesplan.optimizer.territory.search import COLUMN_SCOPE, SearchPolicy
from salesplan.optimizer.territory.solver import SolverSpec

BANDS = (BalanceBand("workload", 0.05), BalanceBand("potential", 0.05))

CASES = {
    "carve": dict(mode="carve", balance=BANDS),
    "carve, capacity": dict(mode="carve", balance=BANDS, max_workload_hours=None),
    "realign, move caps": dict(mode="realign", balance=BANDS, max_moves=40,
                               max_moved_potential=4e6),
}


def instance(seed: int = 3):
    """200 accounts x 8 reps, one region (every pair eligible), owners at random."""
    from salesplan.benchmarks.territory_instances import synthetic_instance
    return synthetic_instance(200, 8, seed=seed, regions=1)


def full_lp(spec, problem, prep) -> float:
    """The LP relaxation over every eligible pair, built with PuLP and solved by HiGHS."""
    pi, pj = candidate_pairs(problem.distance, prep.eligible, prep.owner, problem.locked, None)
    res = SolverSpec().solve(build_model(spec, pi, pj).prob, mip=False, time_limit=60)
    assert res.state == "optimal"
    return float(res.objective)


def start_columns(problem, prep, k: int = 2):
    return candidate_pairs(problem.distance, prep.eligible, prep.owner, problem.locked, k)


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    problem = instance()
    opts = dict(CASES[request.param])
    if request.param == "carve, capacity":
        # a capacity that binds: 3% above the mean workload per rep
        opts["max_workload_hours"] = float(problem.workload.sum() / 8 * 1.03)
    prep = prepare(problem, AlignmentOptions(**opts))
    return problem, prep


def test_priced_out_the_lp_equals_the_lp_over_every_eligible_pair(case) -> None:
    problem, prep = case
    si, sj = start_columns(problem, prep)
    cg = ColumnLP(prep.spec, allowed_pairs(prep.spec, prep.eligible), si, sj)
    res = cg.solve(time.perf_counter() + 60, gap=0.0)
    assert res.state == "optimal" and res.holds
    assert res.added > 0  # the start pairs alone were not enough: pricing did the work
    assert cg.pi.size < int(prep.eligible.sum())  # and not every pair was needed
    full = full_lp(prep.spec, problem, prep)
    assert res.objective == pytest.approx(full, rel=1e-6)
    assert res.bound == pytest.approx(full, rel=1e-6)


def test_the_pricing_formula_is_highs_reduced_cost(case) -> None:
    problem, prep = case
    si, sj = start_columns(problem, prep, k=3)
    cg = ColumnLP(prep.spec, allowed_pairs(prep.spec, prep.eligible), si, sj)
    cg.solve(time.perf_counter() + 60, price=False)
    u, row_dual = cg._duals()
    rc = cg.reduced_costs(np.arange(cg.n), u, row_dual)[cg.pi, cg.pj]
    highs = cg.column_duals()
    scale = np.abs(prep.spec.cost[cg.pi, cg.pj]).max()
    assert np.abs(rc - highs).max() <= 1e-9 * scale
    assert np.abs(highs).max() > 1e-6 * scale  # the check compares something non-trivial


def test_the_lagrangian_bound_is_below_the_full_lp_at_every_round(case) -> None:
    problem, prep = case
    full = full_lp(prep.spec, problem, prep)
    si, sj = start_columns(problem, prep, k=1)
    cg = ColumnLP(prep.spec, allowed_pairs(prep.spec, prep.eligible), si, sj)
    bounds = []
    for _ in range(30):
        res = cg.solve(time.perf_counter() + 60, price=False)
        assert res.state != "failed"
        ii, jj, bound = cg.price()
        bounds.append(bound)
        if not ii.size:
            break
        cg.add(ii, jj)
    assert max(bounds) <= full * (1 + 1e-9)
    assert min(bounds) < full * (1 - 1e-4)  # the early rounds' bounds are strictly below
    assert bounds[-1] == pytest.approx(full, rel=1e-6)  # and the last one meets it


def test_tightened_bands_are_priced_as_the_tightened_lp(case) -> None:
    problem, prep = case
    si, sj = start_columns(problem, prep)
    cg = ColumnLP(prep.spec, allowed_pairs(prep.spec, prep.eligible), si, sj, share=0.3)
    res = cg.solve(time.perf_counter() + 60, gap=0.0)
    assert res.holds
    assert res.objective == pytest.approx(full_lp(tightened(prep.spec, 0.3), problem, prep),
                                          rel=1e-6)


def test_a_locked_account_is_priced_only_at_its_owner() -> None:
    problem = instance()
    prep = prepare(problem, AlignmentOptions(mode="carve", balance=BANDS))
    spec = prep.spec
    locked = np.zeros(problem.n_accounts, dtype=bool)
    locked[:5] = True
    owner = np.arange(problem.n_accounts) % 8
    spec_locked = replace(spec, locked=locked, owner=owner)
    allowed = allowed_pairs(spec_locked, prep.eligible)
    assert (allowed[:5].sum(axis=1) == 1).all()
    assert allowed[np.arange(5), owner[:5]].all()
    assert (allowed[5:] == prep.eligible[5:]).all()


def test_the_search_uses_the_column_path_and_its_bound_covers_every_pair() -> None:
    from salesplan.benchmarks.territory_instances import synthetic_instance
    problem = synthetic_instance(1_500, 12, seed=3, regions=1)
    opts = AlignmentOptions(mode="carve", balance=BANDS, strategy="fix", time_limit=60)
    res = solve_alignment(problem, opts)
    assert res.metrics.bound_scope == COLUMN_SCOPE
    assert res.metrics.bound <= res.metrics.objective
    prep = prepare(problem, opts)
    # the bound is the full LP's (or a Lagrangian bound within CG_GAP below it)
    full = full_lp(prep.spec, problem, prep)
    assert full * (1 - 2e-4) <= res.metrics.bound <= full * (1 + 1e-9)
    # the elastic path, for comparison: its bound is over the candidates only
    old = solve_alignment(problem, opts, policy=SearchPolicy(column_generation=False))
    assert old.metrics.bound_scope != COLUMN_SCOPE


@st.composite
def small_instances(draw):
    n = draw(st.integers(20, 60))
    m = draw(st.integers(2, 5))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    lat, lon = rng.uniform(30, 45, n), rng.uniform(-100, -80, n)
    r_lat, r_lon = rng.uniform(30, 45, m), rng.uniform(-100, -80, m)
    dist = haversine_km(lat, lon, r_lat, r_lon)
    rep_ids = [f"R-{j}" for j in range(m)]
    owner = [rep_ids[int(rng.integers(m))] for _ in range(n)]
    locked = rng.random(n) < 0.1
    problem = AlignmentProblem(
        account_ids=[f"A-{i:03d}" for i in range(n)], rep_ids=rep_ids,
        potential=np.round(rng.lognormal(9, 0.7, n), 0), workload=rng.uniform(5, 50, n),
        distance=dist, owner=owner, locked=locked, account_region=["R"] * n,
        account_segment=["SMB"] * n, rep_region=["R"] * m, rep_segments=[()] * m)
    tol = draw(st.sampled_from([0.1, 0.2, 0.4]))
    options = dict(mode=draw(st.sampled_from(["carve", "realign"])),
                   balance=(BalanceBand("workload", tol), BalanceBand("potential", tol)),
                   candidates=draw(st.sampled_from([1, 2, 3])), strategy="fix",
                   time_limit=20)
    return problem, options


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_instances())
def test_column_path_plans_hold_every_band_and_assign_every_account_once(data) -> None:
    problem, options = data
    opts = AlignmentOptions(**options)
    try:
        res = solve_alignment(problem, opts)
    except AlignmentError:
        return  # no plan: said so (the bands may not hold with whole accounts)
    a = res.assignment
    assert list(a["account"]) == problem.account_ids  # each account once
    assert a["rep"].isin(problem.rep_ids).all()
    prep = prepare(problem, opts)
    col = {r: j for j, r in enumerate(problem.rep_ids)}
    assign = np.array([col[r] for r in a["rep"]])
    assert prep.eligible[np.arange(problem.n_accounts), assign].all()
    for band in prep.bands:
        load = np.bincount(assign, weights=band.values, minlength=problem.n_reps)
        ok = band.mu > 0
        rel = load[ok] / band.mu[ok] - 1
        assert np.all(np.abs(rel) <= band.tolerance + 1e-9), (band.metric, rel)
    lock = np.asarray(problem.locked) & (prep.owner >= 0)
    assert (assign[lock] == prep.owner[lock]).all()
    if options["mode"] == "realign" and opts.max_moves is not None:
        assert res.metrics.moves <= opts.max_moves
    # the column path ran, or said why the elastic path took over
    assert res.metrics.bound_scope == COLUMN_SCOPE or any(
        "column generation needs elastic slack" in note for note in res.notes)
    m = res.metrics
    assert m.bound is None or m.bound <= m.objective * (1 + 1e-9) or math.isclose(
        m.bound, m.objective)


def test_a_stopped_solve_reports_a_bound_between_the_floor_and_the_full_lp(case) -> None:
    # stopped after the first round (gap 100%): the bound is the larger of the first L(y)
    # and the cheapest-rep floor, never above the LP over every eligible pair
    problem, prep = case
    full = full_lp(prep.spec, problem, prep)
    si, sj = start_columns(problem, prep, k=1)
    cg = ColumnLP(prep.spec, allowed_pairs(prep.spec, prep.eligible), si, sj)
    res = cg.solve(time.perf_counter() + 60, gap=1.0)
    assert res.state == "stopped" and res.rounds == 1
    floor = float(np.where(prep.eligible, prep.spec.cost, np.inf).min(axis=1).sum())
    assert cg.floor == pytest.approx(floor)
    assert floor - 1e-9 <= res.bound <= full * (1 + 1e-9)
    assert res.bound < res.objective  # not priced out: the bound is below the LP it had
