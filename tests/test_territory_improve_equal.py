"""The fast improving moves make the same moves as the old ones (issue #24).

``improve_shifts``, ``improve_swaps`` (optimizer/territory/repair.py) and ``relay_improve``
(optimizer/territory/relay.py) were rewritten for speed; their old code is kept verbatim in
``salesplan.benchmarks.improve_reference``. On random instances (bands on potential, workload
and account count, capacity, locked accounts, re-align move caps; integer distances and values
so that equal costs and equal loads, where tie-breaking decides, are common) each new function
returns the same plan and the same move count as its reference, after one pass, two passes and
to the end; relays also with small caps on the side size and the steps per rep, so the cuts
they make are exercised. An equal plan after every prefix of passes is a move-for-move check of
the order the passes make their moves in."""

from __future__ import annotations

import math
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesplan.benchmarks import improve_reference as reference
from salesplan.optimizer import AlignmentOptions, AlignmentProblem, BalanceBand
from salesplan.optimizer.territory import relay
from salesplan.optimizer.territory.candidates import candidate_pairs
from salesplan.optimizer.territory.preparation import prepare
from salesplan.optimizer.territory.repair import improve_shifts, improve_swaps

PAIRS = (
    (reference.improve_shifts, improve_shifts),
    (reference.improve_swaps, improve_swaps),
    (reference.relay_improve, relay.relay_improve),
)


def instance(seed: int, n: int, m: int, *, mode: str, margin: float, counts: bool,
             capacity: bool, locked_share: float, cap_slack: int | None, ties: bool,
             line: int | None = None):
    """(spec, candidate pairs, plan): a random plan of ``n`` accounts over ``m`` reps, bands
    as wide as the plan's largest deviation plus ``margin`` (so the plan holds them when
    ``margin >= 0``), capacity a little above the plan's largest workload, a share of the
    accounts locked at their owner, and in re-align mode a move cap ``cap_slack`` above the
    moves the plan has. ``line``: accounts and reps on a line, each account's candidates its
    ``line`` nearest reps and the plan one of them at random, so that reps have few neighbours
    (as on a map); else random distances, 30% of the pairs ineligible."""
    rng = np.random.default_rng(seed)
    if line is not None:
        line = min(line, m)
        where = rng.uniform(0.0, 100.0, size=n)
        reps_at = np.sort(rng.uniform(0.0, 100.0, size=m))
        dist = np.abs(where[:, None] - reps_at[None, :])
        if ties:
            dist = np.ceil(dist / 5.0)
        nearest = np.argsort(dist, axis=1, kind="stable")[:, :line]
        plan = nearest[np.arange(n), rng.integers(0, line, size=n)]
        plan[:m] = nearest[:m, 0]
    else:
        plan = rng.integers(0, m, size=n)
        plan[:m] = np.arange(m)
        dist = (rng.integers(1, 8, size=(n, m)).astype(float) if ties
                else rng.uniform(1.0, 50.0, size=(n, m)))
        dist[rng.random((n, m)) < 0.3] = np.inf
        dist[np.arange(n), plan] = np.where(np.isfinite(dist[np.arange(n), plan]),
                                            dist[np.arange(n), plan], 5.0)
    if ties:
        potential = rng.integers(1, 6, size=n).astype(float) * 10.0
        workload = rng.integers(1, 4, size=n).astype(float)
    else:
        potential = np.round(rng.lognormal(3.0, 1.0, size=n), 1)
        workload = np.round(rng.uniform(1.0, 10.0, size=n), 1)
    owner = rng.integers(0, m, size=n) if mode == "realign" else plan
    locked = (rng.random(n) < locked_share) & (owner == plan)
    bands = []
    metrics = [("potential", potential), ("workload", workload)]
    if counts:
        metrics.append(("accounts", np.ones(n)))
    for metric, vals in metrics:
        load = np.bincount(plan, weights=vals, minlength=m)
        worst = float(np.max(np.abs(load / load.mean() - 1)))
        bands.append(BalanceBand(metric, max(0.0, worst + margin)))
    reps = [f"R-{j}" for j in range(m)]
    hours = None
    if capacity:
        hours = float(np.bincount(plan, weights=workload, minlength=m).max()) * 1.02
    cap = None
    if mode == "realign" and cap_slack is not None:
        cap = int((owner != plan).sum()) + cap_slack
    p = AlignmentProblem(
        account_ids=[f"A-{i}" for i in range(n)], rep_ids=reps, potential=potential,
        workload=workload, distance=dist, owner=[reps[j] for j in owner], locked=locked)
    opts = AlignmentOptions(mode=mode, balance=tuple(bands), max_moves=cap,
                            max_workload_hours=hours, candidates=None)
    prep = prepare(p, opts)
    pi, pj = candidate_pairs(p.distance, prep.eligible, prep.owner, p.locked, line)
    return prep.spec, pi, pj, plan


@contextmanager
def relay_limits(side: int, steps: int):
    """Both relay modules with ``_MAX_SIDE = side`` and ``_STEPS_PER_REP = steps``."""
    saved = [(mod, mod._MAX_SIDE, mod._STEPS_PER_REP) for mod in (relay, reference)]
    try:
        for mod, _, _ in saved:
            mod._MAX_SIDE, mod._STEPS_PER_REP = side, steps
        yield
    finally:
        for mod, s, k in saved:
            mod._MAX_SIDE, mod._STEPS_PER_REP = s, k


def assert_same_moves(spec, pi, pj, plan) -> int:
    """Each new function against its reference from ``plan``, after 1 and 2 passes and to
    the end; then the chain the solver runs (shifts, swaps, shifts, relays). Returns the
    moves the chain made."""
    for old, new in PAIRS:
        for passes in (1, 2, None):
            kw = {} if passes is None else {"max_passes": passes}
            want, want_k = old(spec, pi, pj, plan, math.inf, **kw)
            got, got_k = new(spec, pi, pj, plan, math.inf, **kw)
            assert got_k == want_k, (new.__name__, passes)
            assert got.tolist() == want.tolist(), (new.__name__, passes)
    made = 0
    want = got = plan
    for old, new in (PAIRS[0], PAIRS[1], PAIRS[0], PAIRS[2]):
        want, want_k = old(spec, pi, pj, want, math.inf)
        got, got_k = new(spec, pi, pj, got, math.inf)
        assert (got_k, got.tolist()) == (want_k, want.tolist()), new.__name__
        made += got_k
    return made


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(6, 40), m=st.integers(2, 6),
       mode=st.sampled_from(["carve", "realign"]),
       margin=st.sampled_from([-0.05, 0.0, 0.02, 0.2]), counts=st.booleans(),
       capacity=st.booleans(), locked_share=st.sampled_from([0.0, 0.2]),
       cap_slack=st.sampled_from([None, 0, 2]), ties=st.booleans(),
       side=st.sampled_from([1500, 3]), steps=st.sampled_from([50, 1]),
       line=st.sampled_from([None, 2, 3]))
def test_the_same_moves_as_the_reference_on_random_instances(
        seed, n, m, mode, margin, counts, capacity, locked_share, cap_slack, ties, side,
        steps, line) -> None:
    spec, pi, pj, plan = instance(seed, n, m, mode=mode, margin=margin, counts=counts,
                                  capacity=capacity, locked_share=locked_share,
                                  cap_slack=cap_slack, ties=ties, line=line)
    with relay_limits(side, steps):
        assert_same_moves(spec, pi, pj, plan)


@pytest.mark.parametrize(("seed", "mode", "ties", "side", "line"), [
    (1, "carve", True, 1500, None), (2, "carve", False, 1500, None),
    (3, "realign", True, 1500, None), (4, "realign", False, 40, None),
    (5, "carve", True, 40, None), (6, "carve", False, 1500, 3), (7, "carve", True, 1500, 2),
    (8, "realign", False, 1500, 3)])
def test_the_same_moves_as_the_reference_on_larger_instances(seed, mode, ties, side,
                                                             line) -> None:
    # 600 accounts x 12 reps (on a line: 30 reps, 3 neighbours each): many moves of every
    # kind, so the test can fail
    spec, pi, pj, plan = instance(seed, 600, 12 if line is None else 30, mode=mode,
                                  margin=0.03,
                                  counts=seed % 2 == 1, capacity=seed % 2 == 0,
                                  locked_share=0.1, cap_slack=40, ties=ties, line=line)
    with relay_limits(side, 50):
        made = assert_same_moves(spec, pi, pj, plan)
    assert made > 20
