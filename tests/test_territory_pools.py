"""Pool decomposition (optimizer/territory/decompose.py): each balance pool solved on its own
gives the optimum of the whole model, its bound is the sum of the pools' bounds, a move cap
keeps the model whole, and a pool without a plan is named in the error."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from salesplan.optimizer import (
    AlignmentOptions,
    AlignmentProblem,
    BalanceBand,
    InfeasiblePlanError,
    available_solvers,
    solve_alignment,
)
from salesplan.optimizer.territory.distance import haversine_km

SOLVERS = available_solvers()
UNTIMED = 600.0
"""A time limit (s) far above what the larger solves below need (seconds, on a loaded machine
too): what a test sees is decided by the solver's gap and the algorithm, never by the clock."""
POOL_NOTE = "pools share no account, rep or constraint, so each was solved on its own"


def two_regions(seed: int, per_region: int = 4, reps: int = 2) -> AlignmentProblem:
    """Two regions, each with ``per_region`` accounts and ``reps`` reps, owners random within
    the region."""
    rng = np.random.default_rng(seed)
    n, m = 2 * per_region, 2 * reps
    lat, lon = rng.uniform(40, 44, n), rng.uniform(-90, -84, n)
    r_lat, r_lon = rng.uniform(40, 44, m), rng.uniform(-90, -84, m)
    acc_region = ["North"] * per_region + ["South"] * per_region
    rep_region = ["North"] * reps + ["South"] * reps
    rep_ids = [f"R-{j}" for j in range(m)]
    owner = [rep_ids[(0 if i < per_region else reps) + int(rng.integers(0, reps))]
             for i in range(n)]
    return AlignmentProblem(
        account_ids=[f"A-{i:02d}" for i in range(n)], rep_ids=rep_ids,
        potential=rng.integers(1, 10, n).astype(float) * 1000.0,
        workload=rng.integers(5, 40, n).astype(float),
        distance=haversine_km(lat, lon, r_lat, r_lon), owner=owner,
        locked=np.zeros(n, dtype=bool), account_region=acc_region, rep_region=rep_region,
        account_lat=lat, account_lon=lon, rep_lat=r_lat, rep_lon=r_lon)


def brute_force(p: AlignmentProblem, opts: AlignmentOptions) -> float:
    """The optimum by enumerating every assignment within the regions, with bands around
    each region's mean. Written from the formulation, independently of the model code."""
    n, m = p.n_accounts, p.n_reps
    w = np.maximum(p.potential / p.potential.mean(), opts.weight_floor)
    owner = np.array([p.rep_ids.index(o) for o in p.owner])
    lam = opts.disruption if opts.mode == "realign" else 0.0
    values = {"workload": p.workload, "potential": p.potential, "accounts": np.ones(n)}
    soft_unit = w.sum() / m * opts.soft_penalty
    acc_region, rep_region = np.array(p.account_region), np.array(p.rep_region)
    choices = [np.flatnonzero(rep_region == acc_region[i]) for i in range(n)]
    best = np.inf
    for combo in itertools.product(*choices):
        a = np.array(combo)
        moved = a != owner
        cost = float((w * (p.distance[np.arange(n), a] + lam * moved)).sum())
        ok = True
        for band in opts.balance:
            v = values[band.metric]
            load = np.bincount(a, weights=v, minlength=m)
            for region in ("North", "South"):
                reps = rep_region == region
                mu = v[acc_region == region].sum() / reps.sum()
                over = np.maximum(0, load[reps] - (1 + band.tolerance) * mu)
                under = np.maximum(0, (1 - band.tolerance) * mu - load[reps])
                if opts.soft_balance:
                    cost += float((soft_unit * band.weight / mu * (over + under)).sum())
                elif (over > 1e-9).any() or (under > 1e-9).any():
                    ok = False
        if ok:
            best = min(best, cost)
    return best


CASES = [
    dict(mode="carve", balance=(BalanceBand("workload", 0.3),)),
    dict(mode="realign", disruption=50.0, balance=(BalanceBand("potential", 0.4),)),
    dict(mode="carve", soft_balance=True, soft_penalty=300.0,
         balance=(BalanceBand("workload", 0.05), BalanceBand("potential", 0.05, 2.0))),
]


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pools_solved_apart_reach_the_whole_optimum(solver: str, case: int, seed: int) -> None:
    p = two_regions(seed)
    opts = AlignmentOptions(**CASES[case], strategy="exact", candidates=None, gap=0.0,
                            solver=solver, time_limit=30)
    best = brute_force(p, opts)
    if not np.isfinite(best):
        with pytest.raises(InfeasiblePlanError, match="in region"):
            solve_alignment(p, opts)
        return
    res = solve_alignment(p, opts)
    assert any(POOL_NOTE in n for n in res.notes)
    assert res.metrics.objective == pytest.approx(best, rel=1e-6, abs=1e-6)
    assert res.metrics.bound <= best * (1 + 1e-7) + 1e-6
    assert res.status == "optimal"
    whole = solve_alignment(p, AlignmentOptions(**CASES[case], strategy="exact",
                                                candidates=None, gap=0.0, solver=solver,
                                                time_limit=30, split_pools=False))
    assert not any(POOL_NOTE in n for n in whole.notes)
    assert whole.metrics.objective == pytest.approx(best, rel=1e-6, abs=1e-6)


def test_the_bound_is_the_sum_of_the_pools_lp_bounds() -> None:
    # fix strategy reports the LP relaxation's optimum as the bound; the LP is block-diagonal
    # by pool, so the four regions' LP optima add up to the whole LP's
    from salesplan.benchmarks.territory_instances import synthetic_instance

    p = synthetic_instance(800, 16, seed=2)
    kw = dict(mode="carve", balance=(BalanceBand("potential", 0.02),
                                     BalanceBand("workload", 0.05)),
              strategy="fix", candidates=None, time_limit=UNTIMED)
    split = solve_alignment(p, AlignmentOptions(**kw))
    whole = solve_alignment(p, AlignmentOptions(**kw, split_pools=False))
    assert any(POOL_NOTE in n for n in split.notes)
    assert split.metrics.bound == pytest.approx(whole.metrics.bound, rel=1e-7)
    a = split.assignment
    rep_region = dict(zip(p.rep_ids, p.rep_region, strict=True))
    assert len(a) == p.n_accounts and a["account"].is_unique
    assert (a["rep"].map(rep_region) == a["region"]).all()
    for metric, tol in (("potential", 0.02), ("workload", 0.05)):
        assert (split.territories[f"{metric}_dev"].abs() <= tol + 1e-9).all()


def test_a_move_cap_keeps_the_model_whole() -> None:
    p = two_regions(4)
    opts = AlignmentOptions(mode="realign", max_moves=2, candidates=None,
                            balance=(BalanceBand("workload", 0.5),))
    res = solve_alignment(p, opts)
    assert not any(POOL_NOTE in n for n in res.notes)
    assert res.metrics.moves <= 2


def test_a_pool_without_a_plan_is_named() -> None:
    # South: 3 accounts of equal potential over 2 reps cannot meet a ±1% potential band;
    # North (1000, 1000, 2000) can. Nothing before solving sees it; the solver proves it in
    # South's model, the second one solved
    p = two_regions(5, per_region=3)
    potential = p.potential.copy()
    potential[:3] = [1000.0, 1000.0, 2000.0]
    potential[3:] = 1000.0
    p = AlignmentProblem(**{**p.__dict__, "potential": potential})
    opts = AlignmentOptions(mode="carve", candidates=None,
                            balance=(BalanceBand("potential", 0.01),))
    with pytest.raises(InfeasiblePlanError) as err:
        solve_alignment(p, opts)
    assert err.value.reasons[0].startswith("in region South (3 accounts, 2 reps")


def test_auto_picks_the_strategy_of_the_whole_model() -> None:
    # 1,200 x 40 in 4 pools with 8 candidates: about 9,600 pairs in all, 2,400 a pool. With
    # exact allowed up to 5,000 pairs, each pool alone would go to the exact MILP; the whole
    # model is past it, so every pool takes the fix path
    from salesplan.benchmarks.territory_instances import synthetic_instance

    p = synthetic_instance(1200, 40, seed=4)
    opts = AlignmentOptions(mode="carve", balance=(BalanceBand("potential", 0.05),),
                            exact_max_pairs=5000, time_limit=UNTIMED)
    res = solve_alignment(p, opts)
    assert any(POOL_NOTE in n for n in res.notes)
    assert res.metrics.strategy == "fix"
    small = solve_alignment(p, AlignmentOptions(mode="carve", time_limit=UNTIMED,
                                                balance=(BalanceBand("potential", 0.05),),
                                                exact_max_pairs=20_000))
    assert small.metrics.strategy == "exact"
