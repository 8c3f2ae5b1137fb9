"""A plan early, and the best plan kept: the incumbent of one (pool) search.

The LP relaxation of a large pool can take minutes, and a time limit that ends the search
before fix-and-resolve holds the bands left the planner with no plan at all (issue #24). So
each attempt of the candidate search (:mod:`.search`) first builds a **constructive plan** over
its candidate pairs in seconds:

1. greedy LPT over the candidates (locked accounts at their owners; the other accounts, largest
   first by their largest share of a band's upper limit, each to the candidate rep whose
   fullest band or capacity row would be the least full after taking it, the nearest among
   equals), the ``b2b-territory-optimization`` peer's rule restricted to the candidates;
2. repaired into the bands by the same shifts, swaps and two-for-one exchanges as a rounded
   LP (:meth:`.fix.FixAndResolve.repair`);
3. when every band holds, made cheaper by cost-improving shifts and swaps that keep every band
   (:func:`.polish.improve`, without relays: slow on a greedy plan), within the same budget
   (at least ``IMPROVE_SECONDS``).

:class:`SearchMemory` keeps, across the attempts of one search and across the retry of a pool
whose time share ran out (:mod:`.pool_search`): the best plan holding every band found so far
(the *incumbent*), the largest candidate set (so that a retry or a wider attempt starts from
the pairs the elastic LPs added instead of recomputing them), the widening state, and the last
LP bound. When the search ends with no plan of its own, the incumbent is returned, flagged
(``Outcome.incumbent``), with its honest gap: to the last LP relaxation that finished over a
superset of its pairs, else to the bound every plan has (each account at its cheapest eligible
rep).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from .checks import holds, violated_reps, worst_violation
from .polish import improve
from .repair import limit_rows
from .state import SolveTask

__all__ = ["SearchMemory", "constructive_plan", "greedy_over_pairs", "union_pairs"]

log = logging.getLogger(__name__)

CONSTRUCT_SHARE = 0.1
"""Share of the time left that a constructive plan may use (at most ``CONSTRUCT_SECONDS``)."""
CONSTRUCT_SECONDS = 20.0
IMPROVE_SECONDS = 5.0
"""At least this long for the improving moves on a constructive plan that holds, even when
its repair used up its budget (``until`` of :func:`constructive_plan`)."""
FIRST_TRY_SECONDS = 5.0
"""At most this long for the constructive plan before the LP relaxation has said whether the
candidates can hold the bands (measured on geo-33k, Midwest pool: over the 8 nearest
candidates, which cannot, the repair moved accounts for 7.7 s to no avail)."""


@dataclass
class SearchMemory:
    """What one (pool) search keeps across its attempts and retries (see the module doc).
    ``pi``/``pj``: the largest candidate set so far; ``k``/``reach``: the widening state;
    ``assign``/``objective``/``source``: the incumbent (None: none yet); ``bound``/
    ``bound_k``: the last finished LP relaxation over a superset of the incumbent's pairs;
    ``tried``: pair-set sizes a constructive plan was already tried on."""

    pi: np.ndarray | None = None
    pj: np.ndarray | None = None
    k: int | None = None
    reach: float | None = None
    resumed: bool = False
    assign: np.ndarray | None = None
    objective: float = np.inf
    source: str = ""
    bound: float | None = None
    bound_k: int | None = None
    tried: set[int] = field(default_factory=set)
    elastic: dict = field(default_factory=dict)
    """The last elastic LP: ``pairs``, ``reps`` out of a band, ``worst`` slack (fraction of
    the target)."""
    miss: tuple[float, int, int] | None = None
    """The closest whole-account plan that missed the bands: (worst excess over a band as a
    fraction of the target, reps out of band, candidate pairs)."""
    lp_seconds: float = 0.0
    """Building and solving the last LP relaxation that finished (seconds)."""
    bound_scope: str | None = None
    """The bound's scope in words when it is not the k nearest candidates' (column
    generation: every eligible pair)."""

    def scope(self) -> str:
        """The scope of ``bound`` in words."""
        if self.bound_scope is not None:
            return self.bound_scope
        return ("all eligible pairs" if self.bound_k is None
                else f"{self.bound_k} nearest candidates (+ rep reach)")

    def missed(self, worst: float, reps: int, pairs: int) -> None:
        """Record a repaired plan that missed the bands, if it is the closest so far."""
        if self.miss is None or (reps, worst) < (self.miss[1], self.miss[0]):
            self.miss = (worst, reps, pairs)

    def offer(self, assign: np.ndarray, objective: float, source: str) -> bool:
        """Keep ``assign`` as the incumbent when it is cheaper than the one kept."""
        if objective < self.objective - 1e-9:
            self.assign, self.objective, self.source = assign.copy(), float(objective), source
            return True
        return False


def union_pairs(pi: np.ndarray, pj: np.ndarray, qi: np.ndarray | None, qj: np.ndarray | None,
                m: int, dist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The union of two candidate sets, sorted by account then ``dist`` (n x m)."""
    if qi is None or qi.size == 0:
        return pi, pj
    key = np.unique(np.concatenate([pi.astype(np.int64) * m + pj, qi.astype(np.int64) * m + qj]))
    ii, jj = key // m, key % m
    order = np.lexsort((dist[ii, jj], ii))
    return ii[order], jj[order]


def greedy_over_pairs(spec, pi: np.ndarray, pj: np.ndarray) -> np.ndarray:
    """Greedy LPT over the candidate pairs (step 1 of the module doc); pairs sorted by account,
    then distance. Returns the rep column per account."""
    n = len(spec.account_ids)
    m = len(spec.rep_ids)
    rows = limit_rows(spec)
    vals = [np.asarray(r[0], dtype=float) for r in rows]
    inv_hi = [np.where(np.isfinite(r[2]) & (r[2] > 0), 1.0 / np.where(r[2] > 0, r[2], 1.0), 0.0)
              for r in rows]
    assign = np.full(n, -1, dtype=np.int64)
    lock = np.asarray(spec.locked, dtype=bool) & (spec.owner >= 0)
    assign[lock] = spec.owner[lock]
    held = assign >= 0
    loads = [np.bincount(assign[held], weights=v[held], minlength=m) for v in vals]
    starts = np.searchsorted(pi, np.arange(n), side="left")
    ends = np.searchsorted(pi, np.arange(n), side="right")
    mean_inv = [float(np.mean(h[h > 0])) if (h > 0).any() else 0.0 for h in inv_hi]
    size = np.max([v * h for v, h in zip(vals, mean_inv, strict=True)], axis=0) \
        if vals else np.zeros(n)
    for i in np.argsort(-size, kind="stable").tolist():
        if assign[i] >= 0 or starts[i] == ends[i]:
            continue
        reps = pj[starts[i]:ends[i]]
        fill = np.zeros(reps.size)
        for v, load, h in zip(vals, loads, inv_hi, strict=True):
            fill = np.maximum(fill, (load[reps] + v[i]) * h[reps])
        j = int(reps[int(np.argmin(fill))])
        assign[i] = j
        for v, load in zip(vals, loads, strict=True):
            load[j] += v[i]
    return assign


def constructive_plan(task: SolveTask, fix_cls, until: float,
                      memory: SearchMemory | None = None) -> np.ndarray | None:
    """Greedy LPT over ``task``'s pairs, repaired into the bands (``fix_cls(...).repair``)
    and improved, by ``until`` (a :func:`time.perf_counter` instant); None when the bands do
    not hold (or an account has no candidate); the miss is then recorded in ``memory``."""
    t0 = time.perf_counter()
    start = greedy_over_pairs(task.spec, task.pi, task.pj)
    if (start < 0).any():
        return None
    plan, steps, exchanges = fix_cls(task, None, -np.inf).repair(start, until)
    ok = holds(task.spec, plan)
    log.info("constructive plan: greedy LPT + %d repair steps and %d exchanges in %.1f s, "
             "%s", steps, exchanges, time.perf_counter() - t0,
             "holds every band" if ok else "bands not held")
    if not ok:
        if memory is not None:
            memory.missed(worst_violation(task.spec, plan),
                          int(violated_reps(task.spec, plan).sum()), int(task.pi.size))
        return None
    # the improvement shares the constructive plan's budget (at least IMPROVE_SECONDS): with
    # a minute each, the incumbents of geo-33k's four pools took 240 of the 300 s, and the
    # Midwest and West pools' LP paths started with no time left
    plan, _ = improve(task, plan, until=max(until, time.perf_counter() + IMPROVE_SECONDS),
                      relays=False)
    return plan
