"""Two-for-one exchanges: the last repair of an account-count band under tight value bands.

The band repair (:mod:`.repair`) moves one account (a shift) or trades one for one (a swap).
A rep one account above its count band must lose an account, but when its potential band is
narrower than any of its accounts (±0.025% of 8.5M is a window of 4,300; its smallest account is
15,000), every shift takes it out of that band, and a swap leaves the count where it is. Measured
on one 12,473-account region of the 50k x 400 instance at ±0.025% potential, ±3.5% workload and
±1% accounts: the repair ended with 2 reps at 126 accounts against a band of 124-125, each
within its potential band, and fix-and-resolve MILPs over up to 10,000 free accounts did not
move them (a hard-band MILP over 1,720 of them found no plan in 60 s either).

An **exchange** between a rep ``g`` (the giver) and a neighbouring rep ``t`` (the taker): ``g``
gives two accounts ``x, v`` to ``t`` and takes one account ``u`` of ``t``. The giver's count falls
by one and the taker's rises by one; every other metric moves by

    delta_r = v_r(u) - v_r(x) - v_r(v)      at the giver, and -delta_r at the taker,

which can be as small as the band needs, since it is a difference of account values. A rep over
its count band is a giver with, as taker, each neighbour that has room for one more account; a
rep under it is a taker with each neighbour that can spare one. Among the exchanges that keep
every band and capacity at both reps, the one of least cost change is taken. ``x``, ``v`` must
have ``t`` among their candidates and ``u`` must have ``g``; locked accounts never move; under a
move cap an exchange is taken only if the caps still hold (:class:`.repair.MoveBudget`).
"""

from __future__ import annotations

import copy
import time

import numpy as np
from scipy import sparse

from .repair import COUNT_METRIC, MoveBudget, band_limits, limit_rows

__all__ = ["exchange_counts"]

_MAX_PAIRS = 20_000
"""At most this many account pairs of a giver are tried per taker (the cheapest to move)."""
_MAX_TAKEN = 200
"""At most this many accounts of a taker are tried per giver (the cheapest to move)."""


def exchange_counts(spec, pi: np.ndarray, pj: np.ndarray, assign: np.ndarray,
                    deadline: float) -> tuple[np.ndarray, int]:
    """Return (plan, exchanges made): two-for-one exchanges until no rep is outside its
    account-count band, no exchange helps, or the deadline (a :func:`time.perf_counter`
    instant) passes. Other bands and capacity are kept wherever they held; a plan without a
    count band is returned unchanged.

    The extra account travels: a rep over its band passes it to a neighbour with room when an
    exchange with one holds every band, else to a neighbour at its upper count that is fewer
    exchange steps from a rep with room (which then passes it on); a rep under its band
    likewise takes from a neighbour that can spare one, or from one nearer to a rep that can.
    Steps are counted over the reps an exchange can join (two accounts of one have the other
    among their candidates, and one account of the other has it)."""
    count_band = next((b for b in spec.bands if b.metric == COUNT_METRIC), None)
    if count_band is None:
        return assign, 0
    ex = _Exchanges(spec, pi, pj, assign, count_band)
    made = 0
    stuck: set[int] = set()
    while time.perf_counter() < deadline:
        off = [j for j in np.flatnonzero(~ex.in_band()) if j not in stuck]
        if not off:
            break
        j = max(off, key=ex.excess)
        saved = ex.snapshot()
        chain = ex.chain_from(j, deadline)
        if ex.in_band()[chain[-1]] and len(chain) > 1:
            made += len(chain) - 1
            stuck.clear()  # loads changed: a rep stuck before may now find a chain
        else:  # dead end: undo the chain
            ex.restore(saved)
            stuck.add(j)
    return ex.assign, made


class _Exchanges:
    """The state of the exchanges on one plan: the plan, the account counts and their integer
    band, the other band and capacity rows (:func:`.repair.limit_rows`) with their loads, the
    candidate matrix and the move budget."""

    def __init__(self, spec, pi: np.ndarray, pj: np.ndarray, assign: np.ndarray,
                 count_band) -> None:
        n, m = len(spec.account_ids), len(spec.rep_ids)
        self.spec = spec
        self.assign = assign.copy()
        self.c_lo, self.c_hi, _ = band_limits(count_band)
        self.rows = [(v, lo, hi) for v, lo, hi, _ in limit_rows(spec, skip=COUNT_METRIC)]
        self.loads = [np.bincount(self.assign, weights=v, minlength=m) for v, _, _ in self.rows]
        self.count = np.bincount(self.assign, minlength=m)
        self.cand = sparse.csr_matrix((np.ones(pi.size, dtype=bool), (pi, pj)), shape=(n, m))
        self.movable = ~np.asarray(spec.locked, dtype=bool)
        self.budget = MoveBudget(spec, self.assign)

    def in_band(self) -> np.ndarray:
        """Per rep, whether its account count is inside its count band."""
        return ~((self.count > self.c_hi) | (self.count < self.c_lo))

    def excess(self, r: int) -> float:
        """Accounts by which rep ``r`` is outside its count band."""
        return max(self.count[r] - self.c_hi[r], self.c_lo[r] - self.count[r])

    def snapshot(self):
        return (self.assign.copy(), [x.copy() for x in self.loads], self.count.copy(),
                copy.copy(self.budget))

    def restore(self, saved) -> None:
        self.assign, self.loads, self.count, self.budget = saved

    def chain_from(self, j: int, deadline: float) -> list[int]:
        """Pass rep ``j``'s extra (or missing) account along a chain of exchanges toward a
        rep with room (one that can spare one); returns the chain of reps, ``j`` first."""
        n, m = self.assign.size, self.count.size
        over = bool(self.count[j] > self.c_hi[j])
        # edge[g, t]: an exchange can take an account from g to t
        own = sparse.csr_matrix((np.ones(n), (np.arange(n), self.assign)), shape=(n, m))
        reach = np.asarray((own[self.movable].T @ self.cand[self.movable]).todense())
        edge = (reach >= 2) & (reach.T >= 1)
        np.fill_diagonal(edge, False)
        # the extra account moves along edges j -> t toward a rep with room; a missing one
        # comes along edges g -> j from a rep that can spare one
        hops = (_hops(edge, self.count < self.c_hi) if over
                else _hops(edge.T, self.count > self.c_lo))
        chain, at = [j], j
        while time.perf_counter() < deadline and len(chain) <= m:
            best = self._next_exchange(at, over, edge, hops, chain)
            if best is None:
                break
            _, giver, taker, x, v, u, k = best
            self._apply([(x, taker), (v, taker), (u, giver)])
            chain.append(k)
            at = k
            if self.c_lo[k] <= self.count[k] <= self.c_hi[k]:
                break
        return chain

    def _next_exchange(self, at: int, over: bool, edge: np.ndarray, hops: np.ndarray,
                       chain: list[int]):
        """The cheapest exchange of ``at`` with a partner off the chain, among the partners
        fewest steps from a rep with room: (cost change, giver, taker, x, v, u, partner), or
        None."""
        partners = np.flatnonzero(edge[at] if over else edge[:, at])
        partners = partners[(hops[partners] <= hops[at]) & ~np.isin(partners, chain)]
        best = None
        for level in sorted({float(h) for h in hops[partners]}):
            for k in partners[hops[partners] == level]:
                giver, taker = (at, k) if over else (k, at)
                found = _best_exchange(self, giver, taker)
                if found is not None and (best is None or found[0] < best[0]):
                    best = (*found, k)
            if best is not None:
                break
        return best

    def _apply(self, legs: list[tuple[int, int]]) -> None:
        """Move each (account, to rep) of ``legs``: budget, loads, counts, plan."""
        assign = self.assign
        self.budget.apply(legs, assign)
        for i, to in legs:
            frm = assign[i]
            for r, (vals, _, _) in enumerate(self.rows):
                self.loads[r][frm] -= vals[i]
                self.loads[r][to] += vals[i]
            self.count[frm] -= 1
            self.count[to] += 1
            assign[i] = to


def _hops(edge: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per rep, the fewest steps along ``edge[a, b]`` (a -> b) from it to a rep in
    ``target`` (0 for those; inf when none is reachable)."""
    m = target.size
    hops = np.where(target, 0.0, np.inf)
    frontier = np.flatnonzero(target)
    level = 0
    while frontier.size:
        level += 1
        nxt = np.flatnonzero(edge[:, frontier].any(axis=1) & ~np.isfinite(hops))
        hops[nxt] = level
        frontier = nxt
        if level > m:
            break
    return hops


def _best_exchange(ex: _Exchanges, giver: int, taker: int):
    """The cheapest exchange (cost change, giver, taker, x, v, u) that keeps every band row at
    both reps, or None."""
    cost, assign, cand, movable = ex.spec.cost, ex.assign, ex.cand, ex.movable
    rows, loads, budget = ex.rows, ex.loads, ex.budget
    xs = np.flatnonzero((assign == giver) & movable)
    xs = xs[np.asarray(cand[xs, taker].todense()).ravel()]
    us = np.flatnonzero((assign == taker) & movable)
    us = us[np.asarray(cand[us, giver].todense()).ravel()]
    if xs.size < 2 or us.size < 1:
        return None
    gain_x = cost[xs, taker] - cost[xs, giver]  # cost change of moving x to the taker
    if xs.size * (xs.size - 1) // 2 > _MAX_PAIRS:
        keep = np.argsort(gain_x, kind="stable")[:int(np.sqrt(2 * _MAX_PAIRS)) + 1]
        xs, gain_x = xs[keep], gain_x[keep]
    if us.size > _MAX_TAKEN:  # bounds the (pairs x taken) arrays (about 20,000 x 200)
        keep = np.argsort(cost[us, giver] - cost[us, taker], kind="stable")[:_MAX_TAKEN]
        us = us[keep]
    a, b = np.triu_indices(xs.size, k=1)
    ok = np.ones((a.size, us.size), dtype=bool)
    for r, (vals, lo, hi) in enumerate(rows):
        delta = vals[us][None, :] - (vals[xs[a]] + vals[xs[b]])[:, None]
        g_new = loads[r][giver] + delta
        t_new = loads[r][taker] - delta
        tol = 1e-9 * max(1.0, abs(loads[r][giver]))
        ok &= (g_new >= lo[giver] - tol) & (g_new <= hi[giver] + tol)
        ok &= (t_new >= lo[taker] - tol) & (t_new <= hi[taker] + tol)
        if not ok.any():
            return None
    pa, uu = np.nonzero(ok)
    x, v, u = xs[a[pa]], xs[b[pa]], us[uu]
    allowed = budget.allows([(x, giver, taker), (v, giver, taker), (u, taker, giver)])
    if allowed is not True:
        x, v, u = x[allowed], v[allowed], u[allowed]
        if not x.size:
            return None
    change = (cost[x, taker] - cost[x, giver] + cost[v, taker] - cost[v, giver]
              + cost[u, giver] - cost[u, taker])
    best = int(np.argmin(change))
    return float(change[best]), giver, taker, int(x[best]), int(v[best]), int(u[best])
