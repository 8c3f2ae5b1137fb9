"""Missing candidate pairs: make the k-nearest candidates able to hold the bands by adding only
the pairs that are missing, found with the elastic LP relaxation.

The elastic LP (:func:`.formulation.build_model` with ``elastic=True``) has every hard band
soft at a large penalty, so it always solves; its slacks say which reps cannot hold a band and
by how much. By default (the doubling rule) a rep left under a band gets its nearest eligible
accounts (at least 50, 2^r x as many as it has) and each account of a rep left over a band its
2^r x k nearest reps. The targeted rule (``SearchPolicy(targeted_widening=True)``) follows the
slacks' amounts: a rep left under a band by s (a
fraction of its target mu) gets as candidates its nearest eligible accounts not yet its
candidates carrying ``_UNDER_MARGIN`` x s x mu (at least ``_MIN_ADDED`` accounts), and each
account of a rep left over a band gets its next ``_OVER_REPS`` nearest eligible reps; both
grow by ``grow`` (2, 4, 8) each round; then the LP is solved again. (Measured on the real-shape
geo-33k instance, South pool: the former rule, each under rep's nearest max(50, 2^r x its
candidates) accounts and 2^r x k reps for each account of an over rep, took the LP from 103,000
to 359,000 pairs in two rounds, 28 s for the third LP; the targeted rule kept the Midwest pool
at 85,000 pairs but did not close its bands in four rounds, and that pool then found no plan in
its time, where the doubling rule closed them at 128,000 pairs in three: so the doubling rule
stays the default.) When the elastic LP closes every band it
*is* the LP relaxation over those candidates, and the search (:mod:`.search`) goes on from it.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from .formulation import BuiltModel, build_model
from .preparation import Prepared
from .problem import AlignmentProblem
from .solver import SolveOutcome
from .state import SolveTask, seconds_left

__all__ = ["add_missing_pairs"]

log = logging.getLogger(__name__)

_UNDER_MARGIN = 3.0
"""A rep under a band by s x mu gets nearest accounts carrying this many times s x mu (x the
round's growth): the LP needs choice, since those accounts have other uses too."""
_MIN_ADDED = 10
"""At least this many accounts (x the round's growth) are added to a rep under a band."""
_OVER_REPS = 2
"""Each account of a rep over a band gets its next this many (x the round's growth) nearest
eligible reps."""


def add_missing_pairs(problem: AlignmentProblem, prep: Prepared, task: SolveTask, k: int,
                      notes: list[str], *, rounds: int = 4, report: dict | None = None,
                      targeted: bool = False
                      ) -> tuple[np.ndarray, np.ndarray, tuple[BuiltModel, SolveOutcome] | None]:
    """Widen ``task``'s pairs (the ``k`` nearest candidates) until the elastic LP closes every
    band, for at most ``rounds`` rounds. Returns the pairs (pi, pj) and, when the elastic LP
    closes every band, (its model, its outcome), else None (also when the LP stops early: its
    slacks then say nothing reliable). A note says how many pairs were added. ``targeted``:
    the targeted rule of the module doc, else the doubling rule. ``report``, when
    given, receives the last elastic LP's ``pairs``, ``reps`` out of a band and ``worst`` slack
    (fraction of the target), for the message when no plan comes."""
    dist = np.where(prep.eligible, problem.distance, np.inf)
    pi, pj = task.pi, task.pj
    added_total = 0
    for r in range(rounds):
        t0 = time.perf_counter()
        model = build_model(task.spec, pi, pj, name="territory_lp_elastic", elastic=True)
        lp = task.solver.solve(model.prob, mip=False, time_limit=seconds_left(task.deadline))
        log.info("elastic LP %d: %d pairs, %s in %.1f s (built in %.1f s)", r + 1, pi.size,
                 lp.state, lp.seconds, time.perf_counter() - t0 - lp.seconds)
        if lp.state != "optimal":  # stopped early: its slacks say nothing reliable
            return pi, pj, None
        under, over, deficit = _outside_bands(model, problem.rep_ids, prep)
        if report is not None:
            report.update(pairs=int(pi.size), reps=int((under | over).sum()),
                          worst=max((v.varValue or 0.0 for v in model.slack.values()),
                                    default=0.0))
        if not (under.any() or over.any()):
            if added_total:
                notes.append(f"{added_total} candidate pairs were added so that the {k} "
                             "nearest reps can hold the bands")
            return pi, pj, (model, lp)
        before = pi.size
        if targeted:
            pi, pj = _with_more_pairs(pi, pj, dist, under=under, over=over, deficit=deficit,
                                      locked=task.spec.locked, grow=2 ** (r + 1))
        else:
            pi, pj = _with_doubled_pairs(pi, pj, dist, under=under, over=over,
                                         locked=task.spec.locked,
                                         reps_per_account=2 ** (r + 1) * k, grow=2 ** (r + 1))
        added_total += pi.size - before
        log.info("  %d reps under and %d over their bands: %d pairs added", int(under.sum()),
                 int(over.sum()), pi.size - before)
    return pi, pj, None


def _outside_bands(model: BuiltModel, rep_ids: list[str], prep: Prepared
                   ) -> tuple[np.ndarray, np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """Masks of the reps the elastic LP left under / over a band (slack above 1e-7), and per
    band (values per account, shortfall per rep in those values: slack x mu)."""
    m = len(rep_ids)
    under = np.zeros(m, dtype=bool)
    over = np.zeros(m, dtype=bool)
    index = {rep: j for j, rep in enumerate(rep_ids)}
    short = {b.metric: np.zeros(m) for b in prep.bands}
    for (side, metric, rep), var in model.slack.items():
        value = var.varValue or 0.0
        if value > 1e-7:
            j = index[rep]
            (over if side == "over" else under)[j] = True
            if side == "under":
                short[metric][j] = max(short[metric][j], value)
    deficit = [(np.asarray(b.values, dtype=float), short[b.metric] * b.mu) for b in prep.bands]
    return under, over, deficit


def _with_more_pairs(pi: np.ndarray, pj: np.ndarray, dist: np.ndarray, *, under: np.ndarray,
                     over: np.ndarray, deficit: list[tuple[np.ndarray, np.ndarray]],
                     locked: np.ndarray, grow: int) -> tuple[np.ndarray, np.ndarray]:
    """The pairs plus, for each rep ``under`` a band, its nearest eligible accounts that are
    not yet its candidates, carrying ``grow`` x ``_UNDER_MARGIN`` x its shortfall on each band
    (``deficit``: values per account, shortfall per rep) and at least ``grow`` x
    ``_MIN_ADDED`` of them; and for each account of a rep ``over`` a band (unlocked), its
    nearest eligible reps up to ``grow`` x ``_OVER_REPS`` more than it has. ``dist``:
    distance, inf where ineligible. Sorted by account, then distance."""
    m = dist.shape[1]
    new_i, new_j = [], []
    for j in np.flatnonzero(under):
        cand = np.flatnonzero(np.isfinite(dist[:, j]))
        cand = np.setdiff1d(cand, pi[pj == j])
        cand = cand[np.argsort(dist[cand, j], kind="stable")]
        take = min(cand.size, grow * _MIN_ADDED)
        for values, short in deficit:
            if short[j] > 0:
                need = grow * _UNDER_MARGIN * short[j]
                take = max(take, int(np.searchsorted(np.cumsum(values[cand]), need)) + 1)
        take = cand[:take]
        new_i.append(take)
        new_j.append(np.full(take.size, j))
    if over.any():
        rows = np.unique(pi[over[pj]])
        have = np.bincount(pi, minlength=dist.shape[0])[rows]
        want = np.minimum(m, have + grow * _OVER_REPS)
        kk = int(want.max())
        d = dist[rows]
        near = np.argpartition(d, kk - 1, axis=1)[:, :kk] if kk < m else \
            np.tile(np.arange(m), (rows.size, 1))
        near = np.take_along_axis(near, np.argsort(np.take_along_axis(d, near, axis=1),
                                                   axis=1, kind="stable"), axis=1)
        rank_ok = np.arange(near.shape[1])[None, :] < want[:, None]
        ii = np.repeat(rows, near.shape[1])
        jj = near.ravel()
        ok = rank_ok.ravel() & np.isfinite(dist[ii, jj]) & ~locked[ii]
        new_i.append(ii[ok])
        new_j.append(jj[ok])
    return _sorted_union(pi, pj, new_i, new_j, dist)


def _with_doubled_pairs(pi: np.ndarray, pj: np.ndarray, dist: np.ndarray, *, under: np.ndarray,
                     over: np.ndarray, locked: np.ndarray, reps_per_account: int, grow: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The pairs plus, for each rep ``under`` its band, its nearest eligible accounts (at
    least 50, ``grow`` x as many as it has), and for each account of a rep ``over`` its band
    (unlocked), its ``reps_per_account`` nearest eligible reps. ``dist``: distance, inf where
    ineligible. Sorted by account, then distance."""
    m = dist.shape[1]
    new_i, new_j = [], []
    for j in np.flatnonzero(under):
        cand = np.flatnonzero(np.isfinite(dist[:, j]))
        have = int((pj == j).sum())
        take = cand[np.argsort(dist[cand, j], kind="stable")[:max(50, grow * have)]]
        new_i.append(take)
        new_j.append(np.full(take.size, j))
    if over.any():
        rows = np.unique(pi[over[pj]])
        kk = min(m, reps_per_account)
        near = np.argpartition(dist[rows], kk - 1, axis=1)[:, :kk] if kk < m else \
            np.tile(np.arange(m), (rows.size, 1))
        ii = np.repeat(rows, near.shape[1])
        jj = near.ravel()
        ok = np.isfinite(dist[ii, jj]) & ~locked[ii]
        new_i.append(ii[ok])
        new_j.append(jj[ok])
    return _sorted_union(pi, pj, new_i, new_j, dist)


def _sorted_union(pi: np.ndarray, pj: np.ndarray, new_i: list[np.ndarray],
                  new_j: list[np.ndarray], dist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pairs and the new ones, each once, sorted by account then ``dist`` (n x m)."""
    m = dist.shape[1]
    ii = np.concatenate([pi, *new_i])
    jj = np.concatenate([pj, *new_j])
    key = np.unique(ii.astype(np.int64) * m + jj)
    ii, jj = key // m, key % m
    order = np.lexsort((dist[ii, jj], ii))
    return ii[order], jj[order]
