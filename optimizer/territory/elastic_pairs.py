"""Missing candidate pairs: make the k-nearest candidates able to hold the bands by adding only
the pairs that are missing, found with the elastic LP relaxation.

The elastic LP (:func:`.formulation.build_model` with ``elastic=True``) has every hard band
soft at a large penalty, so it always solves; a rep left under a band gets its nearest eligible
accounts as candidates, and the accounts of a rep left over a band get more candidate reps,
doubling each round; then the LP is solved again. When the elastic LP closes every band it *is*
the LP relaxation over those candidates, and the search (:mod:`.search`) goes on from it.
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


def add_missing_pairs(problem: AlignmentProblem, prep: Prepared, task: SolveTask, k: int,
                      notes: list[str], *, rounds: int = 4
                      ) -> tuple[np.ndarray, np.ndarray, tuple[BuiltModel, SolveOutcome] | None]:
    """Widen ``task``'s pairs (the ``k`` nearest candidates) until the elastic LP closes every
    band, for at most ``rounds`` rounds. Returns the pairs (pi, pj) and, when the elastic LP
    closes every band, (its model, its outcome), else None (also when the LP stops early: its
    slacks then say nothing reliable). A note says how many pairs were added."""
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
        under, over = _outside_bands(model, problem.rep_ids)
        if not (under.any() or over.any()):
            if added_total:
                notes.append(f"{added_total} candidate pairs were added so that the {k} "
                             "nearest reps can hold the bands")
            return pi, pj, (model, lp)
        before = pi.size
        pi, pj = _with_more_pairs(pi, pj, dist, under=under, over=over,
                                  locked=task.spec.locked, reps_per_account=2 ** (r + 1) * k,
                                  grow=2 ** (r + 1))
        added_total += pi.size - before
        log.info("  %d reps under and %d over their bands: %d pairs added", int(under.sum()),
                 int(over.sum()), pi.size - before)
    return pi, pj, None


def _outside_bands(model: BuiltModel, rep_ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the reps the elastic LP left under / over a band (slack above 1e-7)."""
    m = len(rep_ids)
    under = np.zeros(m, dtype=bool)
    over = np.zeros(m, dtype=bool)
    index = {rep: j for j, rep in enumerate(rep_ids)}
    for (side, _metric, rep), var in model.slack.items():
        if (var.varValue or 0.0) > 1e-7:
            (over if side == "over" else under)[index[rep]] = True
    return under, over


def _with_more_pairs(pi: np.ndarray, pj: np.ndarray, dist: np.ndarray, *, under: np.ndarray,
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
    ii = np.concatenate([pi, *new_i])
    jj = np.concatenate([pj, *new_j])
    key = np.unique(ii.astype(np.int64) * m + jj)
    ii, jj = key // m, key % m
    order = np.lexsort((dist[ii, jj], ii))
    return ii[order], jj[order]
