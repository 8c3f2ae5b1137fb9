"""LP diving (optimizer/territory/dive.py): the dive's values are an LP solution that holds
every band with each fixed account whole; its objective never falls below the LP it started
from; the model is the LP again afterwards; a batch the LP cannot hold is undone; the search
rounds from the dive and re-rounds at the shares it is given."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesplan.benchmarks.territory_geo import GeoRecipe, geo_instance
from salesplan.optimizer import AlignmentOptions, BalanceBand, solve_alignment
from salesplan.optimizer.territory import reround as reround_mod
from salesplan.optimizer.territory.candidates import candidate_pairs
from salesplan.optimizer.territory.colgen import ColumnLP, allowed_pairs
from salesplan.optimizer.territory.dive import _largest_pair, account_size, dive
from salesplan.optimizer.territory.preparation import prepare
from salesplan.optimizer.territory.search import SearchPolicy
from salesplan.optimizer.territory.solver import SolverSpec
from salesplan.optimizer.territory.state import SolveTask

BANDS = (BalanceBand("workload", 0.05), BalanceBand("potential", 0.05))


def heavy_tailed(accounts: int = 1_500, reps: int = 20, seed: int = 11):
    """A small real-shape instance (accounts in US counties, lognormal sizes: the largest
    account is a sizeable part of a rep's potential), one pool per census region."""
    return geo_instance(GeoRecipe(f"dive-{accounts}", accounts, reps, seed=seed))


def largest_region(problem, opts: AlignmentOptions):
    """The largest region's accounts and reps as a problem of their own, and its prep."""
    region = max(set(problem.rep_region), key=list(problem.rep_region).count)
    keep = np.flatnonzero(np.asarray(problem.account_region) == region)
    reps = np.flatnonzero(np.asarray(problem.rep_region) == region)
    sub = problem.subset(keep, reps)
    return sub, prepare(sub, opts)


def solved_lp(problem, opts: AlignmentOptions, share: float = 0.05):
    """The LP over every eligible pair of the largest region, bands tightened by ``share``,
    priced out; its prep."""
    sub, prep = largest_region(problem, opts)
    si, sj = candidate_pairs(sub.distance, prep.eligible, prep.owner, sub.locked, 3)
    cg = ColumnLP(prep.spec, allowed_pairs(prep.spec, prep.eligible), si, sj, share=share)
    res = cg.solve(time.perf_counter() + 60, gap=0.0)
    assert res.state == "optimal" and res.holds
    return cg, prep


def fractional_count(cg: ColumnLP, values: np.ndarray) -> int:
    top, _ = _largest_pair(values, cg.pi, cg.pj, cg.n)
    return int((top < 1 - 1e-6).sum())


def assert_lp_point(cg: ColumnLP, values: np.ndarray, share: float) -> None:
    """``values`` assign each account once in total and hold every band tightened by
    ``share`` (to HiGHS's tolerance)."""
    per_account = np.bincount(cg.pi, weights=values, minlength=cg.n)
    assert np.allclose(per_account, 1.0, atol=1e-7)
    assert (values >= -1e-9).all() and (values <= 1 + 1e-9).all()
    for band in cg.spec.bands:
        load = np.bincount(cg.pj, weights=values * band.values[cg.pi], minlength=cg.m)
        ok = band.mu > 0
        rel = load[ok] / band.mu[ok] - 1
        assert np.all(np.abs(rel) <= band.tolerance * (1 - share) + 1e-6), (band.metric, rel)


@pytest.fixture(scope="module")
def lp_case():
    problem = heavy_tailed()
    return solved_lp(problem, AlignmentOptions(mode="carve", balance=BANDS))


def test_a_dive_is_an_lp_point_with_fewer_fractional_accounts_and_no_lower_cost(lp_case):
    cg, _ = lp_case
    start_values, start_obj = cg.values().copy(), cg.objective()
    before = fractional_count(cg, start_values)
    assert before > 0  # the LP splits accounts: there is something to dive on
    res = dive(cg, time.perf_counter() + 60)
    assert res is not None and res.fixed > 0 and res.batches > 0
    assert_lp_point(cg, res.values, 0.05)
    assert res.fractional == fractional_count(cg, res.values)
    assert res.fractional < before
    assert res.objective >= start_obj - 1e-7 * abs(start_obj)  # a restriction of the LP
    # the dive left the model as it was: every pair's upper bound 1, the same LP optimum
    upper = np.asarray(cg.h.getLp().col_upper_)[cg.n_slack:]
    assert (upper == 1.0).all()
    again = cg.solve(time.perf_counter() + 60, price=False)
    assert again.objective == pytest.approx(start_obj, rel=1e-7)


def test_the_largest_fractional_accounts_are_fixed_first(lp_case):
    cg, _ = lp_case
    cg.solve(time.perf_counter() + 60, price=False)
    values = cg.values().copy()
    top, _ = _largest_pair(values, cg.pi, cg.pj, cg.n)
    frac = np.flatnonzero(top < 1 - 1e-6)
    size = account_size(cg.band_coef, cg.n)
    largest = frac[np.argmax(size[frac])]
    # one batch of one account: it is the largest fractional one, and it ends whole
    res = dive(cg, time.perf_counter() + 60, batch=1e-9)
    assert res is not None and res.batches >= 1
    pair = cg.pi == largest
    assert np.isclose(res.values[pair].max(), 1.0)


def test_a_batch_the_lp_cannot_hold_is_undone(lp_case, monkeypatch):
    cg, _ = lp_case
    cg.solve(time.perf_counter() + 60, price=False)
    start_values = cg.values().copy()
    real = ColumnLP.resolve
    calls = {"n": 0}

    def first_fails(self, deadline):
        calls["n"] += 1
        if calls["n"] == 1:  # as if the first batch needed slack: the solve is refused
            real(self, deadline)
            return False
        return real(self, deadline)

    monkeypatch.setattr(ColumnLP, "resolve", first_fails)
    res = dive(cg, time.perf_counter() + 60)
    assert res.backoffs >= 1 and res.batches >= 1
    assert_lp_point(cg, res.values, 0.05)
    assert res.fractional < fractional_count(cg, start_values)


def test_a_single_account_that_cannot_be_fixed_ends_the_dive(lp_case, monkeypatch):
    cg, _ = lp_case
    cg.solve(time.perf_counter() + 60, price=False)
    start = cg.values().copy()
    monkeypatch.setattr(ColumnLP, "resolve", lambda self, deadline: False)
    res = dive(cg, time.perf_counter() + 60)
    assert res.stop == "blocked" and res.batches == 0 and res.fixed == 0
    np.testing.assert_array_equal(res.values, start)  # the LP it started from
    upper = np.asarray(cg.h.getLp().col_upper_)[cg.n_slack:]
    assert (upper == 1.0).all()


def test_no_dive_from_an_lp_that_needs_slack(lp_case):
    cg, _ = lp_case
    cg.slack = 0.5
    try:
        assert dive(cg, time.perf_counter() + 60) is None
    finally:
        cg.solve(time.perf_counter() + 60, price=False)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**16), tol=st.sampled_from([0.03, 0.05, 0.1]))
def test_dives_hold_the_bands_on_random_instances(seed, tol):
    problem = heavy_tailed(500, 16, seed=seed)
    opts = AlignmentOptions(mode="carve", balance=(BalanceBand("workload", tol),
                                                   BalanceBand("potential", tol)))
    try:
        cg, _ = solved_lp(problem, opts)
    except AssertionError:
        return  # the tightened LP itself cannot hold these bands: nothing to dive on
    start_obj = cg.objective()
    res = dive(cg, time.perf_counter() + 30)
    assert res is not None
    assert_lp_point(cg, res.values, 0.05)
    assert res.objective >= start_obj - 1e-7 * abs(start_obj)


def test_the_search_rounds_from_a_dive_and_its_plan_holds_every_band():
    problem = heavy_tailed(1_200, 12, seed=5)
    opts = AlignmentOptions(mode="carve", balance=BANDS, strategy="fix", time_limit=60)
    res = solve_alignment(problem, opts)
    assert any("dived from the LP" in note for note in res.notes), res.notes
    prep = prepare(problem, opts)
    col = {r: j for j, r in enumerate(problem.rep_ids)}
    assign = np.array([col[r] for r in res.assignment["rep"]])
    assert list(res.assignment["account"]) == problem.account_ids
    for band in prep.bands:
        load = np.bincount(assign, weights=band.values, minlength=problem.n_reps)
        ok = band.mu > 0
        assert np.all(np.abs(load[ok] / band.mu[ok] - 1) <= band.tolerance + 1e-6)
    off = solve_alignment(problem, opts, policy=SearchPolicy(dive=False))
    assert not any("dived from the LP" in note for note in off.notes)


def test_rerounding_uses_the_task_shares_in_order_and_no_others():
    problem = heavy_tailed(300, 4, seed=2)
    prep = prepare(problem, AlignmentOptions(mode="carve", balance=BANDS))
    spec = prep.spec
    pi, pj = candidate_pairs(problem.distance, prep.eligible, prep.owner, problem.locked, None)
    asked: list[float] = []

    def relaxation(share):
        asked.append(share)
        return None, 0.0  # "did not solve": re-rounding goes on to the next share

    task = SolveTask(spec, pi, pj, SolverSpec(), time.perf_counter() + 60,
                     relaxation=relaxation, reround_shares=(0.025, 0.0125))
    plan = np.asarray(pj[np.searchsorted(pi, np.arange(problem.n_accounts))])
    reround_mod.reround(task, bound=0.0, assign=plan, lp_seconds=0.0,
                        repair=lambda a, until: (a, 0, 0), notes=[])
    assert asked == [0.025, 0.0125]
    asked.clear()
    reround_mod.reround(replace(task, reround_shares=None), bound=0.0, assign=plan,
                        lp_seconds=0.0, repair=lambda a, until: (a, 0, 0), notes=[])
    assert asked == list(reround_mod.REROUND_SHARES)


def test_a_warm_solve_after_the_bands_change_is_the_cold_solve(lp_case):
    cg, _ = lp_case
    cg.set_share(0.025)
    warm = cg.solve(time.perf_counter() + 60, price=False, warm=True)
    warm_values = cg.values().copy()
    cold = cg.solve(time.perf_counter() + 60, price=False)
    cg.set_share(0.05)
    cg.solve(time.perf_counter() + 60, price=False)
    assert warm.state == cold.state == "stopped"  # no pricing: the LP over the model's pairs
    assert warm.objective == pytest.approx(cold.objective, rel=1e-9)
    assert_lp_point(cg, warm_values, 0.025)


def test_the_tightened_lps_duals_bound_the_real_lp(lp_case):
    # any duals with their rows' signs give a Lagrangian bound; with b the real bands, those
    # of the LP with bands 5% tighter bound the real LP over every eligible pair, near it
    cg, _ = lp_case
    cg.set_share(0.05)
    tight = cg.solve(time.perf_counter() + 60, gap=0.0)
    from_tight = cg.lagrangian_bound(share=0.0)
    assert from_tight < tight.objective  # not the tightened LP's own value
    cg.set_share(0.0)
    real = cg.solve(time.perf_counter() + 60, gap=0.0)
    assert real.state == "optimal"
    assert from_tight <= real.objective * (1 + 1e-9)
    assert from_tight >= real.objective - 2 * (tight.objective - real.objective)
    cg.set_share(0.05)
    cg.solve(time.perf_counter() + 60, gap=0.0)


def test_a_warm_solve_after_a_stopped_one_goes_on_from_the_last_optimal_basis(lp_case):
    import highspy

    cg, _ = lp_case
    cg.set_share(0.0)
    cold = cg.solve(time.perf_counter() + 60, price=False)
    # a run the time limit stops at once: HiGHS's basis is then no optimum's
    cg.set_share(0.05)
    cg.h.clearSolver()
    cg.h.setOptionValue("time_limit", cg.h.getRunTime() + 1e-9)
    cg.h.run()
    assert cg.h.getModelStatus() != highspy.HighsModelStatus.kOptimal
    warm = cg.solve(time.perf_counter() + 60, price=False, warm=True)
    warm_iterations = cg.h.getInfo().simplex_iteration_count
    assert warm.state == "stopped" and warm.objective is not None
    again = cg.solve(time.perf_counter() + 60, price=False)  # cold, the same LP
    cold_iterations = cg.h.getInfo().simplex_iteration_count
    assert warm.objective == pytest.approx(again.objective, rel=1e-9)
    assert cold.objective < again.objective  # the bands did change
    # from the real LP's optimal basis, not from scratch
    assert warm_iterations < cold_iterations / 2, (warm_iterations, cold_iterations)


def test_after_a_stopped_round_the_pairs_it_added_are_dropped_and_the_basis_is_optimal():
    import highspy

    sub, prep = largest_region(heavy_tailed(), AlignmentOptions(mode="carve", balance=BANDS))
    si, sj = candidate_pairs(sub.distance, prep.eligible, prep.owner, sub.locked, 2)
    cg = ColumnLP(prep.spec, allowed_pairs(prep.spec, prep.eligible), si, sj)
    first = cg.solve(time.perf_counter() + 60, price=False)
    before = cg.pi.size
    ii, jj, _ = cg.price()
    assert cg.add(ii, jj) > 0  # a pricing round's pairs
    cg.h.setOptionValue("time_limit", cg.h.getRunTime() + 1e-9)
    cg.h.run()  # the round's LP, stopped by the time limit at once
    assert cg.h.getModelStatus() != highspy.HighsModelStatus.kOptimal
    assert cg.back_to_last_optimum() == ii.size
    assert cg.pi.size == before and int(cg.in_model.sum()) == before
    assert cg.h.getNumCol() == cg.n_slack + before
    # from the last optimum's basis, the same LP at once; bands 5% tighter in few iterations
    again = cg.solve(time.perf_counter() + 60, price=False, warm=True)
    assert again.objective == pytest.approx(first.objective, rel=1e-9)
    assert cg.h.getInfo().simplex_iteration_count == 0
    cg.set_share(0.05)
    cg.solve(time.perf_counter() + 60, price=False, warm=True)
    warm_iterations = cg.h.getInfo().simplex_iteration_count
    cg.solve(time.perf_counter() + 60, price=False)
    assert warm_iterations < cg.h.getInfo().simplex_iteration_count / 2
    assert cg.back_to_last_optimum() == 0  # optimal now: nothing to drop
