"""Relays (optimizer/territory/relay.py): an account passes from j to t while t passes one of its
own on to k. An exact case that shifts and swaps cannot improve; properties on random plans:
every band, capacity and move cap that held still holds, every account stays at one of its
candidates, locked accounts stay, and the cost never rises."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesplan.optimizer import AlignmentOptions, AlignmentProblem, BalanceBand
from salesplan.optimizer.territory.candidates import candidate_pairs
from salesplan.optimizer.territory.checks import holds
from salesplan.optimizer.territory.preparation import prepare
from salesplan.optimizer.territory.relay import relay_improve
from salesplan.optimizer.territory.repair import improve_shifts, improve_swaps


def setup(potential, workload, dist, plan, opts, locked=None):
    """(spec, candidate pairs, plan) of accounts with ``dist`` (inf: not eligible)."""
    n, m = dist.shape
    reps = [f"R-{j}" for j in range(m)]
    p = AlignmentProblem(
        account_ids=[f"A-{i}" for i in range(n)], rep_ids=reps,
        potential=np.asarray(potential, dtype=float), workload=np.asarray(workload, float),
        distance=dist, owner=[reps[j] for j in plan],
        locked=np.zeros(n, dtype=bool) if locked is None else np.asarray(locked))
    prep = prepare(p, opts)
    pi, pj = candidate_pairs(p.distance, prep.eligible, prep.owner, p.locked, None)
    return prep.spec, pi, pj, np.asarray(plan)


def cost(spec, plan) -> float:
    return float(spec.cost[np.arange(plan.size), plan].sum())


def test_a_relay_lowers_the_cost_where_no_shift_or_swap_can() -> None:
    # potential mean 100 per rep, ±1%: 99-101. R-0 holds 101 (a = 2, cheaper at R-1, and 99),
    # R-1 100 (b = 2, cheaper at R-2, and 98), R-2 99. Shifting a to R-1 takes R-1 to 102,
    # shifting b to R-2 takes it to 98; b cannot go to R-0, so no swap. The relay: a to R-1,
    # b on to R-2: 99, 100, 101
    inf = np.inf
    dist = np.array([[5.0, 1.0, inf],
                     [1.0, inf, inf],
                     [inf, 5.0, 1.0],
                     [inf, 1.0, inf],
                     [inf, inf, 1.0]])
    plan = [0, 0, 1, 1, 2]
    opts = AlignmentOptions(mode="carve", balance=(BalanceBand("potential", 0.01),))
    spec, pi, pj, start = setup([2, 99, 2, 98, 99], np.ones(5), dist, plan, opts)
    assert holds(spec, start)
    for step in (improve_shifts, improve_swaps):
        assert step(spec, pi, pj, start, math.inf)[1] == 0
    better, made = relay_improve(spec, pi, pj, start, math.inf)
    assert made == 1
    assert better.tolist() == [1, 0, 2, 1, 2]
    assert holds(spec, better)
    assert cost(spec, better) < cost(spec, start)
    assert np.bincount(better, weights=[2, 99, 2, 98, 99]).tolist() == [99.0, 100.0, 101.0]


def test_locked_accounts_block_the_relay() -> None:
    inf = np.inf
    dist = np.array([[5.0, 1.0, inf], [1.0, inf, inf], [inf, 5.0, 1.0], [inf, 1.0, inf],
                     [inf, inf, 1.0]])
    opts = AlignmentOptions(mode="carve", balance=(BalanceBand("potential", 0.01),))
    spec, pi, pj, start = setup([2, 99, 2, 98, 99], np.ones(5), dist, [0, 0, 1, 1, 2], opts,
                                locked=[False, False, True, False, False])
    better, made = relay_improve(spec, pi, pj, start, math.inf)
    assert made == 0 and better.tolist() == start.tolist()


@st.composite
def plans(draw):
    """A random instance with a plan that holds its bands: bands as wide as the plan's
    largest deviation plus a random margin; random eligibility (the planned rep always),
    random locks, and in re-align mode a move cap at the moves the plan already has or more."""
    n = draw(st.integers(6, 24))
    m = draw(st.integers(2, 5))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    plan = rng.integers(0, m, size=n)
    plan[:m] = np.arange(m)  # every rep holds an account
    potential = np.round(rng.lognormal(3.0, 1.0, size=n), 1)
    workload = np.round(rng.uniform(1.0, 10.0, size=n), 1)
    dist = rng.uniform(1.0, 50.0, size=(n, m))
    dist[rng.random((n, m)) < 0.3] = np.inf
    dist[np.arange(n), plan] = rng.uniform(1.0, 50.0, size=n)
    locked = rng.random(n) < draw(st.sampled_from([0.0, 0.2]))
    mode = draw(st.sampled_from(["carve", "realign"]))
    bands = []
    for metric, vals in (("potential", potential), ("workload", workload)):
        load = np.bincount(plan, weights=vals, minlength=m)
        worst = float(np.max(np.abs(load / load.mean() - 1)))
        bands.append(BalanceBand(metric, worst + draw(st.sampled_from([0.0, 0.02, 0.2]))))
    owner = rng.integers(0, m, size=n) if mode == "realign" else plan
    moves = int((owner != plan).sum())
    cap = moves + draw(st.integers(0, 3)) if mode == "realign" else None
    return potential, workload, dist, plan, owner, locked, mode, tuple(bands), cap


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans())
def test_relays_keep_bands_candidates_locks_and_never_cost_more(case) -> None:
    potential, workload, dist, plan, owner, locked, mode, bands, cap = case
    n, m = dist.shape
    reps = [f"R-{j}" for j in range(m)]
    locked = locked & (owner == plan)  # a locked account sits at its owner
    p = AlignmentProblem(
        account_ids=[f"A-{i}" for i in range(n)], rep_ids=reps, potential=potential,
        workload=workload, distance=dist, owner=[reps[j] for j in owner], locked=locked)
    opts = AlignmentOptions(mode=mode, balance=bands, max_moves=cap)
    prep = prepare(p, opts)
    pi, pj = candidate_pairs(p.distance, prep.eligible, prep.owner, p.locked, None)
    spec = prep.spec
    cand = {(i, j) for i, j in zip(pi.tolist(), pj.tolist(), strict=True)}
    if not holds(spec, plan) or not all((i, int(j)) in cand for i, j in enumerate(plan)):
        return  # the start must be a plan over the candidates that holds
    better, made = relay_improve(spec, pi, pj, plan, math.inf)
    assert better.shape == plan.shape  # one rep per account
    assert all((i, int(j)) in cand for i, j in enumerate(better))
    assert holds(spec, better)
    assert (better[locked] == plan[locked]).all()
    assert cost(spec, better) <= cost(spec, plan) + 1e-9
    assert (made == 0) == (better.tolist() == plan.tolist())
