"""The candidate search pool by pool (:mod:`.decompose`), and the plans joined into one.

The objectives and the LP bounds add up; the plan is optimal when every pool's is. The time
left is shared in proportion to each pool's candidate pairs, smallest pool first, so time a
pool does not use passes to the larger ones. Pools without a plan in their share, then pools
holding only their constructive plan, are searched again with the time left, each from where
it stopped (:class:`~.incumbent.SearchMemory`). A pool without a plan after that stops the
search, and its error says which pool it was.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import numpy as np

from .decompose import PoolPart, restrict
from .errors import AlignmentError, NoSolutionError
from .incumbent import SearchMemory
from .options import AlignmentOptions
from .preparation import Prepared
from .problem import AlignmentProblem
from .search import SearchContext, SearchResult, scope_text, search
from .state import Outcome

__all__ = ["search_pools"]

log = logging.getLogger(__name__)


def search_pools(problem: AlignmentProblem, prep: Prepared, opts: AlignmentOptions,
                 ctx: SearchContext, parts: list[PoolPart]) -> SearchResult:
    """Search each pool of ``parts`` on its own (see the module doc) and join the plans.

    A plan first, then improvement: every pool is searched with its share of the time first.
    Then, with the time left (shared by size again), pools that found no plan are searched
    again from where they stopped, and then pools whose share ran out with only their
    constructive plan (the incumbent, :mod:`.incumbent`), which they keep if nothing better
    comes. A pool that fails twice ends the alignment, its name in the error. (Before, a pool
    retried at once with all the time left: on the real-shape geo-33k the Midwest pool's
    retry used the West pool's time, and the alignment ended with no plan.)"""
    size = _pool_pairs(prep, opts, parts)
    order = np.argsort(size, kind="stable")
    left = float(sum(size))
    total = left
    found: dict[int, SearchResult] = {}
    failed: dict[int, AlignmentError] = {}
    pools: dict[int, _Pool] = {}
    for pos, g in enumerate(order):
        done = 1.0 - left / total if total > 0 else pos / len(order)
        pool_ctx = replace(ctx, phases=ctx.phases.part(
            done, done + (size[g] / total if total > 0 else 1.0 / len(order)),
            f"pool {parts[g].name} ({pos + 1} of {len(order)})"))
        now = time.perf_counter()
        share = size[g] / left if left > 0 else 1.0
        left -= size[g]
        pools[g] = _Pool(problem, prep, opts, pool_ctx, parts[g], others=int(total - size[g]))
        try:
            found[g] = pools[g].first(now=now, share=share)
        except NoSolutionError as err:
            failed[g] = err
    # pools without a plan first, then those holding only their constructive plan
    again = [g for g in order if g in failed] + [g for g in order
                                                 if g in found and found[g].outcome.incumbent]
    left = float(sum(size[g] for g in again))
    for g in again:
        now = time.perf_counter()
        share = size[g] / left if left > 0 else 1.0
        left -= size[g]
        if g in failed:
            found[g] = pools[g].retry(max(now + (ctx.deadline - now) * share,
                                          min(ctx.deadline, now + 5.0)), failed[g])
        elif ctx.deadline - now >= 5.0:
            found[g] = pools[g].improve(now + (ctx.deadline - now) * share, found[g])
    return _joined(problem, parts, order, found)


def _joined(problem: AlignmentProblem, parts: list[PoolPart], order: np.ndarray,
            found: dict[int, SearchResult]) -> SearchResult:
    """The pools' plans as one: objectives and bounds summed, notes named by pool."""
    assign = np.full(problem.n_accounts, -1, dtype=np.int64)
    objective, bound, optimal, incumbent = 0.0, 0.0, True, False
    strategies, ks, scopes, notes = [], [], [], []
    for g in order:
        part, out = parts[g], found[g].outcome
        log.info("pool %s: plan %.1f, bound %s (%s)", part.name, float(out.objective),
                 "none" if out.bound is None else f"{out.bound:.1f}", found[g].scope)
        assign[part.accounts] = part.reps[out.assign]
        objective += float(out.objective)
        bound = None if bound is None or out.bound is None else bound + out.bound
        optimal &= out.solver_optimal
        incumbent |= out.incumbent
        strategies.append(out.strategy)
        ks.append(found[g].candidates)
        scopes.append(found[g].scope)
        notes += [f"{part.name}: {note}" for note in found[g].notes]
    restricted = [x for x in ks if x is not None]
    k = max(restricted) if restricted else None
    notes.insert(0, f"the {len(parts)} pools share no account, rep or constraint, so each was "
                    "solved on its own; the objective and the LP bound are their sums")
    strategy = strategies[0] if len(set(strategies)) == 1 else "/".join(dict.fromkeys(
        strategies))
    outcome = Outcome("optimal" if optimal else "feasible", assign, objective, bound, optimal,
                      strategy, incumbent=incumbent)
    return SearchResult(outcome, k, _pooled_scope(parts, order, ks, scopes), notes)


def _pool_pairs(prep: Prepared, opts: AlignmentOptions, parts: list[PoolPart]) -> list[float]:
    """Candidate pairs of each pool: eligible pairs, at most k per account."""
    k_cap = opts.candidates if opts.candidates else None
    return [float(np.minimum(prep.eligible[np.ix_(pt.accounts, pt.reps)].sum(axis=1),
                             k_cap or np.inf).sum()) for pt in parts]


class _Pool:
    """One pool's searches: restricted problem, and the :class:`SearchMemory` its searches
    share (so a retry resumes from the pairs, widening and incumbent of the last). An error
    names the pool."""

    def __init__(self, problem: AlignmentProblem, prep: Prepared, opts: AlignmentOptions,
                 ctx: SearchContext, part: PoolPart, *, others: int) -> None:
        self.sub_problem, self.sub_prep = restrict(problem, prep, part)
        self.opts, self.ctx, self.part, self.others = opts, ctx, part, others
        self.memory = SearchMemory()

    def _attempt(self, until: float) -> SearchResult:
        return search(self.sub_problem, self.sub_prep, self.opts,
                      replace(self.ctx, deadline=until), others=self.others,
                      memory=self.memory)

    def _named(self, err: AlignmentError) -> AlignmentError:
        part = self.part
        where = (f"in {part.name} ({part.accounts.size} accounts, {part.reps.size} "
                 "reps; each pool is solved on its own):")
        return type(err)([where, *err.reasons], err.headline)

    def first(self, *, now: float, share: float) -> SearchResult:
        """Search with ``share`` of the time left at ``now``. An error other than no plan in
        the time (a proven infeasibility) names the pool and ends the alignment."""
        ctx, part = self.ctx, self.part
        log.info("pool %s: %d accounts, %d reps, %.0f s", part.name, part.accounts.size,
                 part.reps.size, (ctx.deadline - now) * share)
        try:
            return self._attempt(now + max(ctx.deadline - now, 0.0) * share)
        except NoSolutionError:
            raise
        except AlignmentError as err:
            raise self._named(err) from None

    def retry(self, until: float, err: NoSolutionError) -> SearchResult:
        """After every pool had its share: search again until ``until`` from where the first
        search stopped (its candidates, widening and closest plan); no plan then ends the
        alignment with the pool named (the later error, which saw the most)."""
        log.info("pool %s: searched again for %.0f s (no plan in its share)", self.part.name,
                 until - time.perf_counter())
        if until - time.perf_counter() < 2.0:
            raise self._named(err) from None
        try:
            return self._attempt(until)
        except AlignmentError as again:
            raise self._named(again) from None

    def improve(self, until: float, found: SearchResult) -> SearchResult:
        """Search again until ``until`` from where the last search stopped; keep ``found``
        (the incumbent) if that gives nothing better."""
        log.info("pool %s: searched again for %.0f s from its incumbent", self.part.name,
                 until - time.perf_counter())
        try:
            return self._attempt(until)
        except NoSolutionError:
            return found


def _pooled_scope(parts: list[PoolPart], order: np.ndarray, ks: list[int | None],
                  scopes: list[str]) -> str:
    """The bound's scope: one phrase when every pool kept the same k (and scope), else pool by
    pool; a pool whose bound is not an LP's (no LP finished) says so in its own words."""
    if len(set(scopes)) == 1:
        return scopes[0]
    if len(set(ks)) == 1 and all(sc == scope_text(k) for sc, k in zip(scopes, ks, strict=True)):
        restricted = [x for x in ks if x is not None]
        return scope_text(max(restricted) if restricted else None)
    return "bound by pool: " + "; ".join(
        f"{parts[g].name} {scopes[i]}" for i, g in enumerate(order))
