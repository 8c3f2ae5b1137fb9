"""Candidate reps per account: the k nearest eligible reps (the largest speed lever).

Every account keeps its current owner among its candidates when the owner is eligible (so that
staying is always possible); a locked account has its owner as its only candidate. The
restriction can make a feasible instance infeasible (tight bands need some accounts to go far):
:mod:`.search` detects that from the LP relaxation and widens k, up to every eligible rep.
"""

from __future__ import annotations

import numpy as np

__all__ = ["candidate_pairs", "ensure_reach"]


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


def ensure_reach(
    pair_i: np.ndarray,
    pair_j: np.ndarray,
    distance: np.ndarray,
    eligible: np.ndarray,
    needs: list[tuple[np.ndarray, np.ndarray]],
    *,
    factor: float = 2.0,
    always: bool = False,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Add pairs so that every rep can reach its lower bands.

    ``needs`` holds (values per account, lower band per rep) for each hard band. A rep whose
    candidate accounts carry less than ``factor`` x its lower band on some metric (a rep in a
    sparse corner is few accounts' nearest) gets its nearest eligible accounts added until they
    do. ``always``: give every rep its nearest accounts carrying ``factor`` x its band centre
    (pass the centre as the need), whether or not its candidates already do. Returns the new
    pairs (sorted by account, then distance) and a note per widened rep.
    """
    m = eligible.shape[1]
    extra_i, extra_j, notes = [], [], []
    for j in range(m):
        mine = pair_i[pair_j == j]
        short = [(v, lo[j]) for v, lo in needs
                 if lo[j] > 0 and (always or v[mine].sum() < factor * lo[j])]
        if not short:
            continue
        cand = np.flatnonzero(eligible[:, j])
        cand = cand[np.argsort(distance[cand, j], kind="stable")]
        take = np.zeros(cand.size, dtype=bool)
        for v, lo in short:
            cum = np.cumsum(v[cand])
            k = int(np.searchsorted(cum, factor * lo)) + 1
            take[:k] = True
        add = np.setdiff1d(cand[take], mine)
        if add.size:
            extra_i.append(add)
            extra_j.append(np.full(add.size, j))
            notes.append(str(j))
    if not extra_i:
        return pair_i, pair_j, []
    ii = np.concatenate([pair_i, *extra_i])
    jj = np.concatenate([pair_j, *extra_j])
    order = np.lexsort((np.where(eligible[ii, jj], distance[ii, jj], np.inf), ii))
    return ii[order], jj[order], notes
