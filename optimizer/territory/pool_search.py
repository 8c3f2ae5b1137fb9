"""The candidate search pool by pool (:mod:`.decompose`), and the plans joined into one.

The objectives and the LP bounds add up; the plan is optimal when every pool's is. The time
left is shared in proportion to each pool's candidate pairs, smallest pool first, so time a
pool does not use passes to the larger ones. A pool without a plan stops the search, and its
error says which pool it was.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import numpy as np

from .decompose import PoolPart, restrict
from .errors import AlignmentError, NoSolutionError
from .options import AlignmentOptions
from .preparation import Prepared
from .problem import AlignmentProblem
from .search import SearchContext, SearchResult, scope_text, search
from .state import Outcome

__all__ = ["search_pools"]

log = logging.getLogger(__name__)


def search_pools(problem: AlignmentProblem, prep: Prepared, opts: AlignmentOptions,
                 ctx: SearchContext, parts: list[PoolPart]) -> SearchResult:
    """Search each pool of ``parts`` on its own (see the module doc) and join the plans."""
    assign = np.full(problem.n_accounts, -1, dtype=np.int64)
    size = _pool_pairs(prep, opts, parts)
    order = np.argsort(size, kind="stable")
    left = float(sum(size))
    total = left
    objective, bound, optimal = 0.0, 0.0, True
    strategies, ks, notes = [], [], []
    for pos, g in enumerate(order):
        part = parts[g]
        done = 1.0 - left / total if total > 0 else pos / len(order)
        pool_ctx = replace(ctx, phases=ctx.phases.part(
            done, done + (size[g] / total if total > 0 else 1.0 / len(order)),
            f"pool {part.name} ({pos + 1} of {len(order)})"))
        now = time.perf_counter()
        share = size[g] / left if left > 0 else 1.0
        left -= size[g]
        found = _search_pool(problem, prep, opts, pool_ctx, part, now=now, share=share,
                             reserve=float(len(order) - pos - 1), others=int(total - size[g]))
        out = found.outcome
        assign[part.accounts] = part.reps[out.assign]
        objective += float(out.objective)
        bound = None if bound is None or out.bound is None else bound + out.bound
        optimal &= out.solver_optimal
        strategies.append(out.strategy)
        ks.append(found.candidates)
        notes += [f"{part.name}: {note}" for note in found.notes]
    restricted = [x for x in ks if x is not None]
    k = max(restricted) if restricted else None
    notes.insert(0, f"the {len(parts)} pools share no account, rep or constraint, so each was "
                    "solved on its own; the objective and the LP bound are their sums")
    strategy = strategies[0] if len(set(strategies)) == 1 else "/".join(dict.fromkeys(
        strategies))
    outcome = Outcome("optimal" if optimal else "feasible", assign, objective, bound, optimal,
                      strategy)
    return SearchResult(outcome, k, _pooled_scope(parts, order, ks), notes)


def _pool_pairs(prep: Prepared, opts: AlignmentOptions, parts: list[PoolPart]) -> list[float]:
    """Candidate pairs of each pool: eligible pairs, at most k per account."""
    k_cap = opts.candidates if opts.candidates else None
    return [float(np.minimum(prep.eligible[np.ix_(pt.accounts, pt.reps)].sum(axis=1),
                             k_cap or np.inf).sum()) for pt in parts]


def _search_pool(problem: AlignmentProblem, prep: Prepared, opts: AlignmentOptions,
                 ctx: SearchContext, part: PoolPart, *, now: float, share: float,
                 reserve: float, others: int) -> SearchResult:
    """Search one pool with its ``share`` of the time left at ``now``; when that runs out,
    once more with the time left less ``reserve`` seconds (1 s per pool to come: a small
    pool's share can be too short for any solve). An error names the pool."""
    sub_problem, sub_prep = restrict(problem, prep, part)
    log.info("pool %s: %d accounts, %d reps, %.0f s", part.name, part.accounts.size,
             part.reps.size, (ctx.deadline - now) * share)

    def attempt(until: float) -> SearchResult:
        return search(sub_problem, sub_prep, opts, replace(ctx, deadline=until), others=others)

    try:
        try:
            return attempt(now + max(ctx.deadline - now, 0.0) * share)
        except NoSolutionError:
            if ctx.deadline - reserve - time.perf_counter() < 2.0:
                raise
            return attempt(ctx.deadline - reserve)
    except AlignmentError as err:
        where = (f"in {part.name} ({part.accounts.size} accounts, {part.reps.size} "
                 "reps; each pool is solved on its own):")
        raise type(err)([where, *err.reasons], err.headline) from None


def _pooled_scope(parts: list[PoolPart], order: np.ndarray, ks: list[int | None]) -> str:
    """The bound's scope: one phrase when every pool kept the same k, else pool by pool."""
    if len(set(ks)) == 1:
        restricted = [x for x in ks if x is not None]
        return scope_text(max(restricted) if restricted else None)
    return "candidates by pool: " + ", ".join(
        f"{parts[g].name} {'all eligible reps' if ks[i] is None else f'{ks[i]} nearest'}"
        for i, g in enumerate(order)) + " (+ rep reach)"
