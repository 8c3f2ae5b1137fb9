"""Relays: cost-lowering local search on a plan that holds every hard band.

The shifts and swaps of :mod:`.repair` (``improve_shifts``, ``improve_swaps``) stall on
heavy-tailed accounts under two tight bands: a rep at an edge of its workload or potential band
can neither take nor give one account, and a swap needs two accounts of nearly equal size in
both metrics. Measured on the real-shape geo-33k (Northeast pool, ±5% on workload and
potential): after them the plan was 1.96% above the LP bound, while the LP with bands tightened
to ±4.75%, from which it was rounded, was only 0.40% above it.

A **relay** through rep ``t``: an account ``a`` passes from its rep ``j`` to ``t``, and ``t``
passes an account ``b`` of its own on to a rep ``k`` (``k = j`` is a swap; no ``b`` at all is a
plain shift). For every band row (workload, potential, account count, capacity; the limits of
:func:`.repair.limit_rows`) the loads move by

    j: -v(a)        t: +v(a) - v(b)        k: +v(b)        (j = k: -v(a) + v(b))

so ``t`` changes by a difference of account values, as little as its band needs, while ``j``
only loses and ``k`` only gains. Each step takes, at one intermediate rep ``t``, the relay of
least cost change ``c(a, t) - c(a, j) + c(b, k) - c(b, t)`` among those that keep every row of
``j``, ``t`` and ``k`` within its limits, the first in (a, b) order among equal costs (a's
and b's each sorted by their own cost change). The (a, b) table is not built whole: a relay
that is not a swap needs ``j`` to hold without ``a`` and ``k`` with ``b``, checked once per
side, and among those only the (a, b) whose cost change is negative are scored (for each a,
a prefix of the sorted b); a swap (``k = j``) is checked as a pair, and swaps are few (an
``a`` of ``j`` pairs only with a ``b`` going to ``j``). This makes the same relays in the same
order as scoring the whole table (``salesplan.benchmarks.improve_reference`` keeps that code;
tests/test_territory_improve_equal.py compares the two), 10-25x faster on geo-33k's pools.
Only relays that lower the cost are made, so the plan's cost never rises and every band,
capacity and move cap that held still holds. Accounts move only to their candidates; locked
accounts never move; under a move cap a relay is made only while the caps hold
(:class:`.repair.MoveBudget`).

Costs are in the model's units (weighted distance); ``deadline`` is a
:func:`time.perf_counter` instant in seconds.
"""

from __future__ import annotations

import time

import numpy as np

from .repair import MoveBudget, limit_rows

__all__ = ["relay_improve"]

_MAX_SIDE = 1500
"""At most this many incoming and outgoing shifts per intermediate rep are scored (the
cheapest), bounding a step's arrays at about 1500 x 1500."""
_STEPS_PER_REP = 50
"""At most this many relays through one rep per pass, so every rep gets its turn."""
_LIMIT_EPS = 1e-9
"""A row holds within this fraction of its scale (its target) beyond its limit; far inside
the acceptance tolerance of :mod:`.checks` (1e-6)."""


def relay_improve(spec, pi: np.ndarray, pj: np.ndarray, assign: np.ndarray,
                  deadline: float, *, max_passes: int = 20) -> tuple[np.ndarray, int]:
    """Cost-lowering relays (see the module doc) until a pass makes none, ``max_passes``
    passes, or the ``deadline``. ``assign`` (rep column per account) must hold every hard band;
    ``(pi, pj)`` are the candidate pairs. Returns (plan, relays made); the plan costs at most
    what ``assign`` costs and holds every band, capacity and move cap that ``assign`` held."""
    state = _Relays(spec, pi, pj, assign)
    total = 0
    for _ in range(max_passes):
        made = 0
        for t in range(len(spec.rep_ids)):
            if time.perf_counter() > deadline:
                return state.assign, total + made
            made += state.through(t, deadline)
        total += made
        if made == 0:
            break
    return state.assign, total


class _Relays:
    """The plan, its loads per limit row, the candidate pairs (indexed by rep and by account)
    and the move budget."""

    def __init__(self, spec, pi: np.ndarray, pj: np.ndarray, assign: np.ndarray) -> None:
        n, m = len(spec.account_ids), len(spec.rep_ids)
        self.spec = spec
        self.cost = spec.cost
        self.assign = np.asarray(assign, dtype=np.int64).copy()
        rows = limit_rows(spec)
        self.vals = np.array([np.asarray(r[0], dtype=float) for r in rows])  # (rows, n)
        self.lo = np.array([r[1] - _LIMIT_EPS * r[3] for r in rows])  # (rows, m)
        self.hi = np.array([r[2] + _LIMIT_EPS * r[3] for r in rows])
        self.loads = np.array([np.bincount(self.assign, weights=v, minlength=m)
                               for v in self.vals]).reshape(len(rows), m)
        self.movable = ~np.asarray(spec.locked, dtype=bool)
        keep = self.movable[pi]
        self.pi, self.pj = pi[keep].astype(np.int64), pj[keep].astype(np.int64)
        self.budget = MoveBudget(spec, self.assign)
        # the pairs of each rep, and of each account, in pair order
        by_rep = np.argsort(self.pj, kind="stable")
        rep_ptr = np.searchsorted(self.pj[by_rep], np.arange(m + 1))
        self.pairs_of_rep = [by_rep[rep_ptr[r]:rep_ptr[r + 1]] for r in range(m)]
        self.by_account = np.argsort(self.pi, kind="stable")
        self.account_ptr = np.searchsorted(self.pi[self.by_account], np.arange(n + 1))

    def _shifts_into(self, t: int):
        """(accounts, their reps, cost change) of the shifts into ``t``, in pair order."""
        idx = self.pairs_of_rep[t]
        a = self.pi[idx]
        j = self.assign[a]
        sel = j != t
        a, j = a[sel], j[sel]
        return a, j, self.cost[a, t] - self.cost[a, j]

    def _shifts_out(self, t: int):
        """(accounts, destination reps, cost change) of the shifts out of ``t``, in pair
        order."""
        at_t = np.flatnonzero(self.assign == t)
        start = self.account_ptr[at_t]
        size = self.account_ptr[at_t + 1] - start
        # the pair positions of the accounts at t: each account's run, in pair order
        run = np.repeat(start - np.cumsum(size) + size, size) + np.arange(int(size.sum()))
        idx = np.sort(self.by_account[run])
        idx = idx[self.pj[idx] != t]
        b, k = self.pi[idx], self.pj[idx]
        return b, k, self.cost[b, k] - self.cost[b, t]

    def through(self, t: int, deadline: float) -> int:
        """Make the cheapest cost-lowering relays through ``t``, one at a time, until none
        is left, ``_STEPS_PER_REP`` or the deadline. Returns the relays made."""
        made = 0
        while made < _STEPS_PER_REP and time.perf_counter() < deadline:
            best = self._best(t)
            if best is None:
                break
            self._apply(t, *best)
            made += 1
        return made

    def _best(self, t: int):
        """The cheapest cost-lowering relay through ``t`` that keeps every row: (a, j, b, k),
        with ``b = -1`` for a plain shift; or None. Among relays of equal cost, the one with
        the cheapest ``a`` shift, then the cheapest ``b`` shift (no ``b`` first).

        The (a, b) table is never built whole: a relay that is not a swap needs ``j`` to
        keep its rows without ``a`` and ``k`` with ``b`` (one check per side), so only those
        rows and columns are crossed; a swap (``k = j``) is checked as a pair, and the swaps
        are few (an ``a`` of rep ``j`` pairs only with the ``b`` going to ``j``)."""
        a, j, da = self._shifts_into(t)
        b, k, db = self._shifts_out(t)
        if a.size == 0:
            return None
        # a relay lowers the cost only if da + db < 0, and db >= min(db) (0 for no b)
        floor_b = min(0.0, float(db.min())) if b.size else 0.0
        ok_a = da + floor_b < -1e-9
        a, j, da = a[ok_a], j[ok_a], da[ok_a]
        if a.size == 0:
            return None
        ok_b = db + float(da.min()) < -1e-9
        b, k, db = b[ok_b], k[ok_b], db[ok_b]
        a, j, da = _cheapest(_MAX_SIDE, da, a, j)
        b, k, db = _cheapest(_MAX_SIDE, db, b, k)
        # column 0: no b (a plain shift into t)
        b = np.concatenate([[-1], b])
        k = np.concatenate([[-1], k])
        db = np.concatenate([[0.0], db])
        vals, lo, hi, load = self.vals, self.lo, self.hi, self.loads
        va = vals[:, a]  # (rows, A)
        vb = np.where(b >= 0, vals[:, np.maximum(b, 0)], 0.0)  # (rows, B)
        # j loses a; k gains b (checked per side); a swap (k == j) is checked as a pair
        side_a = ((load[:, j] - va >= lo[:, j]) & (load[:, j] - va <= hi[:, j])).all(axis=0)
        kk = np.maximum(k, 0)
        side_b = (b < 0) | ((load[:, kk] + vb >= lo[:, kk])
                            & (load[:, kk] + vb <= hi[:, kk])).all(axis=0)
        # the relays to score, those that lower the cost: every (x, y) with both sides
        # holding, then the swaps that are not among them
        xs1, ys1 = _lowering(da, db, np.flatnonzero(side_a), np.flatnonzero(side_b))
        xs2, ys2 = _same_rep(da, db, j, k)
        keep = ~(side_a[xs2] & side_b[ys2])
        xs = np.concatenate([xs1, xs2[keep]])
        ys = np.concatenate([ys1, ys2[keep]])
        total = da[xs] + db[ys]
        ok = total < -1e-9
        xs, ys, total = xs[ok], ys[ok], total[ok]
        if not xs.size:
            return None
        same = np.flatnonzero(j[xs] == k[ys])
        js = j[xs[same]]
        ok = np.ones(xs.size, dtype=bool)
        for r in range(vals.shape[0]):
            d = va[r][xs] - vb[r][ys]
            new_t = load[r, t] + d
            ok &= (new_t >= lo[r, t]) & (new_t <= hi[r, t])
            new_j = load[r, js] - d[same]
            ok[same] &= (new_j >= lo[r, js]) & (new_j <= hi[r, js])
        if self.budget.capped:
            # no b: a leg from t to t, which moves nothing
            ok &= np.asarray(self.budget.allows(
                [(a[xs], j[xs], t),
                 (np.maximum(b, 0)[ys], t, np.where(b >= 0, k, t)[ys])]))
        if not ok.any():
            return None
        xs, ys, total = xs[ok], ys[ok], total[ok]
        # the least cost; among equal costs the first in (a, b) order, as np.argmin would
        tie = np.flatnonzero(total == total.min())
        first = tie[np.lexsort((ys[tie], xs[tie]))[0]]
        x, y = xs[first], ys[first]
        return int(a[x]), int(j[x]), int(b[y]), int(k[y])

    def _apply(self, t: int, a: int, j: int, b: int, k: int) -> None:
        """Move ``a`` from ``j`` to ``t`` and (when ``b >= 0``) ``b`` from ``t`` to ``k``."""
        legs = [(a, t)] + ([(b, k)] if b >= 0 else [])
        self.budget.apply(legs, self.assign)
        for i, to in legs:
            frm = self.assign[i]
            self.loads[:, frm] -= self.vals[:, i]
            self.loads[:, to] += self.vals[:, i]
            self.assign[i] = to


def _lowering(da: np.ndarray, db: np.ndarray, rows: np.ndarray, cols: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """Every (x, y) of ``rows`` x ``cols`` (increasing positions) with
    ``da[x] + db[y] < -1e-9``; ``db[1:]`` ascends, so past column 0 those of a row are a
    prefix (:func:`_prefix_ends`)."""
    xs0 = rows[da[rows] + db[0] < -1e-9] if cols.size and cols[0] == 0 else rows[:0]
    rest = cols[cols > 0]
    ends = _prefix_ends(da[rows], db[rest], np.zeros(rows.size, dtype=np.int64),
                        np.full(rows.size, rest.size))
    return (np.concatenate([xs0, np.repeat(rows, ends)]),
            np.concatenate([np.zeros(xs0.size, dtype=np.int64), rest[_ranges(0 * ends, ends)]]))


def _same_rep(da: np.ndarray, db: np.ndarray, j: np.ndarray, k: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """Every (x, y) with ``j[x] == k[y]`` (``k = -1``, no b, matches nothing) and
    ``da[x] + db[y] < -1e-9``: the ``y`` of one rep, in order, have ascending ``db``, so
    those of a row are a prefix of them."""
    order = np.argsort(k, kind="stable")
    ks = k[order]
    starts = np.searchsorted(ks, j, side="left")
    ends = _prefix_ends(da, db[order], starts, np.searchsorted(ks, j, side="right"))
    return np.repeat(np.arange(j.size), ends - starts), order[_ranges(starts, ends)]


def _prefix_ends(d: np.ndarray, keys: np.ndarray, lo: np.ndarray, hi: np.ndarray
                 ) -> np.ndarray:
    """Per row r, the end e of the run ``lo[r] <= p < e`` with ``d[r] + keys[p] < -1e-9``
    (as numpy computes the sum), ``keys`` ascending within each ``[lo[r], hi[r])``: a
    floating-point sum never falls as a term grows, so the run is a prefix, found by
    bisection."""
    lo, hi = lo.copy(), hi.copy()
    while True:
        open_ = lo < hi
        if not open_.any():
            return lo
        mid = (lo + hi) // 2  # an open row's mid is a key (hi <= keys.size); clip the rest
        below = open_ & (d + keys[np.minimum(mid, keys.size - 1)] < -1e-9)
        lo = np.where(open_ & below, mid + 1, lo)
        hi = np.where(open_ & ~below, mid, hi)


def _ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The positions ``starts[r] <= p < ends[r]`` of every row r, concatenated."""
    size = ends - starts
    return np.repeat(starts - np.cumsum(size) + size, size) + np.arange(int(size.sum()))


def _cheapest(limit: int, delta: np.ndarray, *arrays: np.ndarray):
    """``delta`` and ``arrays`` cut to the ``limit`` entries of least ``delta`` (in order)."""
    if delta.size > limit:
        keep = np.argsort(delta, kind="stable")[:limit]
    else:
        keep = np.argsort(delta, kind="stable")
    return (*(x[keep] for x in arrays), delta[keep])
