"""Candidate reps per account: the k nearest eligible reps (the largest speed lever).

Every account keeps its current owner among its candidates when the owner is eligible (so that
staying is always possible); a locked account has its owner as its only candidate. The
restriction can make a feasible instance infeasible (tight bands need some accounts to go far):
:mod:`.alignment` detects that from the LP relaxation and widens k, up to every eligible rep.
"""

from __future__ import annotations

import numpy as np

__all__ = ["candidate_pairs"]


def candidate_pairs(
    distance: np.ndarray,
    eligible: np.ndarray,
    owner: np.ndarray,
    locked: np.ndarray,
    k: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate (account, rep) index pairs, sorted by account then distance.

    ``owner`` is the owner's column (-1: none); ``k`` None or >= the number of reps means every
    eligible rep.
    """
    _n, m = eligible.shape
    dist = np.where(eligible, distance, np.inf)
    if k is None or k >= m:
        keep = eligible.copy()
    else:
        nearest = np.argpartition(dist, k - 1, axis=1)[:, :k]
        keep = np.zeros_like(eligible)
        np.put_along_axis(keep, nearest, True, axis=1)
        keep &= eligible
    has_owner = owner >= 0
    rows = np.flatnonzero(has_owner)
    keep[rows, owner[rows]] |= eligible[rows, owner[rows]]
    lock_rows = np.flatnonzero(locked & has_owner)
    keep[lock_rows, :] = False
    keep[lock_rows, owner[lock_rows]] = eligible[lock_rows, owner[lock_rows]]
    ii, jj = np.nonzero(keep)
    order = np.lexsort((dist[ii, jj], ii))
    return ii[order], jj[order]
