"""Reference copies of the territory improving moves as they were before they were made
faster (issue #24): ``improve_shifts``, ``improve_swaps`` (optimizer/territory/repair.py) and
``relay_improve`` (optimizer/territory/relay.py), kept verbatim so that
tests/test_territory_improve_equal.py and :mod:`.improve_bench` can prove the fast versions
make the same moves in the same order. Used by no solver."""

from __future__ import annotations

import time

import numpy as np

from salesplan.optimizer.territory.repair import MoveBudget, limit_rows

__all__ = ["improve_shifts", "improve_swaps", "relay_improve"]


def improve_shifts(spec, pi: np.ndarray, pj: np.ndarray, assign: np.ndarray,
                   deadline: float, *, max_passes: int = 20) -> tuple[np.ndarray, int]:
    """Cost-improving shifts that keep every hard band and capacity held: each pass takes the
    candidate moves that lower the cost, cheapest first, and applies those still feasible
    given the loads so far. Under a move cap, a shift is applied only while the moves (and
    moved potential) stay within the caps; locked accounts never move. Returns (plan, moves)."""
    m = len(spec.rep_ids)
    assign = assign.copy()
    bands = [b for b in spec.bands if (b.mu > 0).any()]
    vals = [b.values for b in bands]
    lo = [np.where(b.mu > 0, (1 - b.tolerance) * b.mu, -np.inf) for b in bands]
    hi = [np.where(b.mu > 0, (1 + b.tolerance) * b.mu, np.inf) for b in bands]
    loads = [np.bincount(assign, weights=v, minlength=m) for v in vals]
    work = np.bincount(assign, weights=spec.workload, minlength=m)
    budget = MoveBudget(spec, assign)
    total = 0
    for _ in range(max_passes):
        if time.perf_counter() > deadline:
            break
        cur = assign[pi]
        delta = spec.cost[pi, pj] - spec.cost[pi, cur]
        ok = (delta < -1e-9) & (pj != cur) & ~spec.locked[pi]
        idx = np.flatnonzero(ok)
        if idx.size == 0:
            break
        idx = idx[np.argsort(delta[idx], kind="stable")]
        moved = np.zeros(len(spec.account_ids), dtype=bool)
        applied = 0
        for t in idx.tolist():
            i, dst = int(pi[t]), int(pj[t])
            if moved[i]:
                continue
            src = int(assign[i])
            feasible = work[dst] + spec.workload[i] <= spec.capacity[dst] + 1e-9
            for a in range(len(bands)):
                v = vals[a][i]
                if loads[a][src] - v < lo[a][src] - 1e-9 or loads[a][dst] + v > hi[a][dst] + 1e-9:
                    feasible = False
                    break
            if not feasible or not budget.allows([(i, src, dst)]):
                continue
            budget.apply([(i, dst)], assign)
            for a in range(len(bands)):
                loads[a][src] -= vals[a][i]
                loads[a][dst] += vals[a][i]
            work[src] -= spec.workload[i]
            work[dst] += spec.workload[i]
            assign[i] = dst
            moved[i] = True
            applied += 1
        total += applied
        if applied == 0:
            break
    return assign, total


def improve_swaps(spec, pi: np.ndarray, pj: np.ndarray, assign: np.ndarray,
                  deadline: float, *, max_passes: int = 5) -> tuple[np.ndarray, int]:
    """Cost-improving swaps between neighbouring reps (accounts i at j and i' at t trade
    places) that keep every hard band and capacity held. Locked accounts never move; with a
    move cap, accounts at their owner stay. Returns (plan, swaps)."""
    m = len(spec.rep_ids)
    assign = assign.copy()
    bands = [b for b in spec.bands if (b.mu > 0).any()]
    vals = [b.values for b in bands] + [spec.workload]
    lo = [np.where(b.mu > 0, (1 - b.tolerance) * b.mu, -np.inf) for b in bands] \
        + [np.full(m, -np.inf)]
    hi = [np.where(b.mu > 0, (1 + b.tolerance) * b.mu, np.inf) for b in bands] \
        + [spec.capacity]
    loads = [np.bincount(assign, weights=v, minlength=m) for v in vals]
    capped = spec.max_moves is not None or spec.max_moved_potential is not None
    movable = ~spec.locked
    if capped:
        movable &= ~(spec.has_owner & (assign == spec.owner))
    # candidate lookup: is rep t a candidate of account i
    is_cand = {}
    for i, j in zip(pi.tolist(), pj.tolist(), strict=True):
        is_cand.setdefault(i, set()).add(j)
    pairs = np.unique(np.stack([assign[pi], pj], axis=1), axis=0)
    pairs = pairs[pairs[:, 0] < pairs[:, 1]]
    total = 0
    cost = spec.cost
    for _ in range(max_passes):
        applied = 0
        for j, t in pairs.tolist():
            if time.perf_counter() > deadline:
                return assign, total + applied
            a_j = np.array([i for i in np.flatnonzero((assign == j) & movable).tolist()
                            if t in is_cand.get(i, ())], dtype=np.int64)
            if a_j.size == 0:
                continue
            a_t = np.array([i for i in np.flatnonzero((assign == t) & movable).tolist()
                            if j in is_cand.get(i, ())], dtype=np.int64)
            if a_t.size == 0:
                continue
            dc = (cost[a_j, t][:, None] + cost[a_t, j][None, :]
                  - cost[a_j, j][:, None] - cost[a_t, t][None, :])
            ok = dc < -1e-9
            if not ok.any():
                continue
            for a in range(len(vals)):
                d = vals[a][a_t][None, :] - vals[a][a_j][:, None]  # change at j
                ok &= (loads[a][j] + d <= hi[a][j] + 1e-9) & (loads[a][j] + d >= lo[a][j] - 1e-9)
                ok &= (loads[a][t] - d <= hi[a][t] + 1e-9) & (loads[a][t] - d >= lo[a][t] - 1e-9)
            if not ok.any():
                continue
            flat = int(np.argmin(np.where(ok, dc, np.inf)))
            x, y = divmod(flat, a_t.size)
            i1, i2 = int(a_j[x]), int(a_t[y])
            for a in range(len(vals)):
                d = vals[a][i2] - vals[a][i1]
                loads[a][j] += d
                loads[a][t] -= d
            assign[i1], assign[i2] = t, j
            applied += 1
        total += applied
        if applied == 0:
            break
    return assign, total


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
    """The plan, its loads per limit row, the candidate pairs and the move budget."""

    def __init__(self, spec, pi: np.ndarray, pj: np.ndarray, assign: np.ndarray) -> None:
        m = len(spec.rep_ids)
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

    def _shifts_into(self, t: int):
        """(accounts, their reps, cost change) of the shifts into ``t``."""
        sel = (self.pj == t) & (self.assign[self.pi] != t)
        a = self.pi[sel]
        j = self.assign[a]
        return a, j, self.cost[a, t] - self.cost[a, j]

    def _shifts_out(self, t: int):
        """(accounts, destination reps, cost change) of the shifts out of ``t``."""
        sel = (self.assign[self.pi] == t) & (self.pj != t)
        b, k = self.pi[sel], self.pj[sel]
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
        with ``b = -1`` for a plain shift; or None."""
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
        ok_a = ((load[:, j] - va >= lo[:, j]) & (load[:, j] - va <= hi[:, j])).all(axis=0)
        kk = np.maximum(k, 0)
        ok_b = (b < 0) | ((load[:, kk] + vb >= lo[:, kk])
                          & (load[:, kk] + vb <= hi[:, kk])).all(axis=0)
        total = da[:, None] + db[None, :]
        same = j[:, None] == k[None, :]
        ok = (total < -1e-9) & (same | (ok_a[:, None] & ok_b[None, :]))
        if not ok.any():
            return None
        for r in range(vals.shape[0]):
            d = va[r][:, None] - vb[r][None, :]
            new_t = load[r, t] + d
            ok &= (new_t >= lo[r, t]) & (new_t <= hi[r, t])
            if same.any():
                new_j = load[r, j][:, None] - d
                ok &= ~same | ((new_j >= lo[r, j][:, None]) & (new_j <= hi[r, j][:, None]))
        if not ok.any():
            return None
        if self.budget.capped:
            # no b: a leg from t to t, which moves nothing
            allowed = np.asarray(self.budget.allows(
                [(a[:, None], j[:, None], t),
                 (np.maximum(b, 0)[None, :], t, np.where(b >= 0, k, t)[None, :])]))
            ok &= allowed
            if not ok.any():
                return None
        x, y = np.unravel_index(int(np.argmin(np.where(ok, total, np.inf))), ok.shape)
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


def _cheapest(limit: int, delta: np.ndarray, *arrays: np.ndarray):
    """``delta`` and ``arrays`` cut to the ``limit`` entries of least ``delta`` (in order)."""
    if delta.size > limit:
        keep = np.argsort(delta, kind="stable")[:limit]
    else:
        keep = np.argsort(delta, kind="stable")
    return (*(x[keep] for x in arrays), delta[keep])
