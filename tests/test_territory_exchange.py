"""Two-for-one exchanges (optimizer/territory/exchange.py): a rep one account over its count
band, whose potential band is narrower than any of its accounts, is fixed by giving two accounts
and taking one, directly or along a chain of reps; nothing else is broken, locked accounts stay,
and the move cap holds."""

from __future__ import annotations

import math

import numpy as np

from salesplan.optimizer import AlignmentOptions, AlignmentProblem, BalanceBand
from salesplan.optimizer.territory.candidates import candidate_pairs
from salesplan.optimizer.territory.checks import holds
from salesplan.optimizer.territory.exchange import exchange_counts
from salesplan.optimizer.territory.preparation import prepare

BANDS = (BalanceBand("potential", 0.01), BalanceBand("accounts", 0.1))


def problem(potential, plan, allowed, locked=None, owner=None) -> AlignmentProblem:
    """Accounts with ``potential``, the current ``plan`` (rep index per account) and
    ``allowed[i]``: the reps account i may go to (distance 1 to its planned rep, 2 to the
    others, inf elsewhere)."""
    n, m = len(potential), max(max(a) for a in allowed) + 1
    dist = np.full((n, m), np.inf)
    for i, reps in enumerate(allowed):
        dist[i, list(reps)] = 2.0
        dist[i, plan[i]] = 1.0
    reps = [f"R-{j}" for j in range(m)]
    return AlignmentProblem(
        account_ids=[f"A-{i}" for i in range(n)], rep_ids=reps,
        potential=np.asarray(potential, dtype=float), workload=np.ones(n), distance=dist,
        owner=owner or [reps[j] for j in plan],
        locked=np.zeros(n, dtype=bool) if locked is None else np.asarray(locked))


def run(p, plan, opts):
    prep = prepare(p, opts)
    pi, pj = candidate_pairs(p.distance, prep.eligible, prep.owner, p.locked, None)
    plan = np.asarray(plan)
    return prep.spec, pi, pj, plan


def test_one_exchange_fixes_a_count_and_keeps_the_potential_band() -> None:
    # 5 accounts (10, 10, 10, 10, 20), R-1: 3 (20, 20, 20); both 60 of potential, the
    # mean. The count band is exactly 4; ±1% potential is 59.4-60.6. Any single shift moves at
    # least 10 of potential, and a swap keeps the counts; R-0 gives two 10s and takes a 20
    plan = [0, 0, 0, 0, 0, 1, 1, 1]
    p = problem([10, 10, 10, 10, 20, 20, 20, 20], plan, [(0, 1)] * 8)
    spec, pi, pj, start = run(p, plan, AlignmentOptions(mode="carve", balance=BANDS))
    assert not holds(spec, start)
    fixed, made = exchange_counts(spec, pi, pj, start, math.inf)
    assert made == 1 and holds(spec, fixed)
    assert np.bincount(fixed).tolist() == [4, 4]
    assert np.bincount(fixed, weights=p.potential).tolist() == [60.0, 60.0]


def test_the_extra_account_travels_along_a_chain() -> None:
    # R-0 (5 accounts) can reach only R-1, R-2 (3) only R-1: R-0 gives to R-1, which passes
    # the extra account on to R-2 (two exchanges)
    plan = [0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2]
    pot = [10, 10, 10, 10, 20, 20, 10, 10, 20, 20, 20, 20]
    allowed = [(0, 1)] * 5 + [(0, 1, 2)] * 4 + [(1, 2)] * 3
    p = problem(pot, plan, allowed)
    spec, pi, pj, start = run(p, plan, AlignmentOptions(mode="carve", balance=BANDS))
    fixed, made = exchange_counts(spec, pi, pj, start, math.inf)
    assert made == 2 and holds(spec, fixed)
    assert np.bincount(fixed).tolist() == [4, 4, 4]
    cand = {(i, j) for i, j in zip(pi.tolist(), pj.tolist(), strict=True)}
    assert all((i, int(j)) in cand for i, j in enumerate(fixed))


def test_locked_accounts_and_the_move_cap_are_kept() -> None:
    # as the first case, but R-1's 20s are locked: R-0 has nothing to take, so nothing moves
    plan = [0, 0, 0, 0, 0, 1, 1, 1]
    pot = [10, 10, 10, 10, 20, 20, 20, 20]
    locked = [False] * 5 + [True] * 3
    p = problem(pot, plan, [(0, 1)] * 8, locked=locked)
    spec, pi, pj, start = run(p, plan, AlignmentOptions(mode="carve", balance=BANDS))
    fixed, made = exchange_counts(spec, pi, pj, start, math.inf)
    assert made == 0 and (fixed == start).all()
    # a cap of 2 moves (an exchange moves 3 accounts from their owners): nothing moves
    p = problem(pot, plan, [(0, 1)] * 8)
    opts = AlignmentOptions(mode="realign", balance=BANDS, max_moves=2)
    spec, pi, pj, start = run(p, plan, opts)
    fixed, made = exchange_counts(spec, pi, pj, start, math.inf)
    assert made == 0 and (fixed == start).all()
    spec, pi, pj, start = run(p, plan, AlignmentOptions(mode="realign", balance=BANDS,
                                                        max_moves=3))
    fixed, made = exchange_counts(spec, pi, pj, start, math.inf)
    assert made == 1 and (fixed != start).sum() == 3


def test_a_dead_end_chain_is_undone() -> None:
    # R-0 over its count, R-1 at it, R-2 under. R-0 can give two 10s to R-1 for its 20, but
    # R-1 then has no two accounts R-2 may take that add up to R-2's 20 (15 + 15, 15 + 10):
    # the chain ends there, the first exchange is undone, and the plan comes back as it was
    plan = [0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2]
    pot = [10, 10, 10, 10, 20, 20, 15, 15, 10, 20, 20, 20]
    allowed = [(0, 1)] * 5 + [(0, 1, 2)] * 4 + [(1, 2)] * 3
    p = problem(pot, plan, allowed)
    spec, pi, pj, start = run(p, plan, AlignmentOptions(mode="carve", balance=BANDS))
    fixed, made = exchange_counts(spec, pi, pj, start, math.inf)
    assert made == 0 and (fixed == start).all()
