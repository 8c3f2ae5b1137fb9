"""Band repair by local search: shift and swap accounts until every hard band holds.

Used by fix-and-resolve after rounding the LP relaxation: the rounded plan misses some bands by
a few percent, and a MILP over the misfit accounts is slow to prove anything (the elastic
relaxation is weak). Here the violation of rep j is

    V_j = sum_a [max(0, L_aj - hi_aj) + max(0, lo_aj - L_aj)] / s_aj
          + max(0, W_j - cap_j) / cap_j

with s_aj = mu_aj for the workload and potential bands, so their violations are fractions of
the target. An account-count band is an integer band: its limits are rounded inward to whole
accounts (lo = ceil((1 - tau) mu), hi = floor((1 + tau) mu), unless no integer fits) and s = 1
account, so one account too many or too few outweighs any realistic workload or potential
violation. Shifts that keep a count inside its band cost nothing on it; a shift that pushes a
count out is taken only when it also fixes a count elsewhere; swaps never change counts.

Each step takes the rep j with the largest V_j and applies, among every shift of an account
into or out of j and every swap of an account of j with an account of a neighbouring rep (a
rep that is a candidate of an account of j and vice versa), the move that most reduces V at
the reps it touches, preferring the cheaper move among equal reductions. All moves of a step
are scored at once with numpy. Locked accounts never move; accounts only go to their
candidates; under a move cap, a move is taken only if the moves (and moved potential) stay
within the caps.
"""

from __future__ import annotations

import time

import numpy as np
from scipy import sparse

__all__ = ["MoveBudget", "band_limits", "repair_bands"]

_EPS = 1e-12
_HOLDS = 1e-6
"""A rep's violation V below this holds (the acceptance tolerance of :mod:`.checks`,
``BAND_TOLERANCE``, which imports this module)."""
COUNT_METRIC = "accounts"
"""The band on account counts: whole accounts, limits rounded inward (see the module doc)."""


def band_limits(band) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lo, hi, scale) per rep for a band: ``(1 -/+ tau) mu`` and ``mu`` (-inf/inf and 1 for
    reps with no target); for the account-count band, limits rounded inward to whole accounts
    where an integer fits, and scale 1 account."""
    pos = band.mu > 0
    lo = np.where(pos, (1 - band.tolerance) * band.mu, -np.inf)
    hi = np.where(pos, (1 + band.tolerance) * band.mu, np.inf)
    if band.metric != COUNT_METRIC:
        return lo, hi, np.where(pos, band.mu, 1.0)
    with np.errstate(invalid="ignore"):
        lo_int = np.ceil(lo - 1e-9)
        hi_int = np.floor(hi + 1e-9)
    fits = pos & (lo_int <= hi_int)
    return np.where(fits, lo_int, lo), np.where(fits, hi_int, hi), np.ones(len(band.mu))


def limit_rows(spec, skip: str | None = None) -> list[tuple[np.ndarray, ...]]:
    """Per band with a target (except the metric ``skip``), then capacity if any rep has one:
    (values per account, lo, hi, scale per rep). Capacity is one more row: W_j <= cap_j,
    scaled by cap_j."""
    m = len(spec.rep_ids)
    rows = [(np.asarray(b.values, dtype=float), *band_limits(b)) for b in spec.bands
            if (b.mu > 0).any() and b.metric != skip]
    cap = spec.capacity
    if np.isfinite(cap).any():
        rows.append((np.asarray(spec.workload, dtype=float), np.full(m, -np.inf), cap,
                     np.where(np.isfinite(cap) & (cap > 0), cap, 1.0)))
    return rows


def repair_bands(spec, pi: np.ndarray, pj: np.ndarray, assign: np.ndarray,
                 deadline: float, *, max_steps: int = 20_000) -> tuple[np.ndarray, int]:
    """Return (repaired assignment, steps taken). The result may still violate bands when no
    improving move exists or time runs out (``deadline``: a :func:`time.perf_counter`
    instant); the caller checks."""
    state = _Repair(spec, pi, pj, assign)
    all_reps = np.arange(len(spec.rep_ids))
    steps = 0
    while steps < max_steps and time.perf_counter() < deadline:
        v = state.viol(all_reps, zip(state.rows, state.loads, strict=True))
        open_ = (v > _HOLDS) & ~state.stuck
        if not open_.any():
            break
        j = int(np.argmax(np.where(open_, v, -1.0)))
        best = state.best_move(j, v)
        if best is None:
            state.stuck[j] = True
            continue
        state.apply(best)
        steps += 1
    return state.assign, steps


class _Repair:
    """The state of one band repair: the plan, the limit rows (:func:`limit_rows`) with the
    loads per rep, the candidate matrix, the reps sharing a candidate account (``adj``), the
    move budget, and the reps found stuck (no improving move) since their neighbourhood last
    changed."""

    def __init__(self, spec, pi: np.ndarray, pj: np.ndarray, assign: np.ndarray) -> None:
        n, m = len(spec.account_ids), len(spec.rep_ids)
        self.assign = assign.copy()
        limits = limit_rows(spec)
        self.vals, self.lo, self.hi, self.scale = ([r[c] for r in limits] for c in range(4))
        self.rows = range(len(self.vals))
        # rows a swap can change (a swap keeps counts: an all-equal metric never moves)
        self.swap_rows = [a for a in self.rows if np.ptp(self.vals[a]) > 0] if n else []
        self.loads = [np.bincount(self.assign, weights=v, minlength=m) for v in self.vals]
        self.cand = np.zeros((n, m), dtype=bool)
        self.cand[pi, pj] = True
        # reps sharing a candidate account: the only reps whose moves a move between two reps
        # can change (a rep found stuck stays stuck until one of its neighbours' loads changes)
        inc = sparse.csr_matrix((np.ones(pi.size, dtype=np.float32), (pi, pj)), shape=(n, m))
        self.adj = (inc.T @ inc).tocsr()
        self.movable = ~np.asarray(spec.locked, dtype=bool)
        self.cost = spec.cost
        self.budget = MoveBudget(spec, self.assign)
        self.stuck = np.zeros(m, dtype=bool)

    def viol(self, rep, row_loads):
        """V at ``rep`` from (row, load) pairs: each load is checked against its own row's
        limits, whichever rows are given."""
        total = np.zeros(np.shape(rep))
        for a, x in row_loads:
            total = total + (np.maximum(0.0, x - self.hi[a][rep])
                             + np.maximum(0.0, self.lo[a][rep] - x)) / self.scale[a][rep]
        return total

    def best_move(self, j: int, v: np.ndarray):
        """The move at rep ``j`` that most reduces V (the cheaper among equal reductions), as
        (delta V, delta cost, "shift" | "swap", account, rep or account), or None."""
        assign, movable = self.assign, self.movable
        mine = np.flatnonzero((assign == j) & movable)
        theirs = np.flatnonzero(self.cand[:, j] & (assign != j) & movable)
        best = self._best_shift(j, v, mine, theirs)
        swap = self._best_swap(j, mine, theirs)
        if swap is not None and (best is None or swap[:2] < best[:2]):
            best = swap
        return best

    def _best_shift(self, j: int, v: np.ndarray, mine: np.ndarray, theirs: np.ndarray):
        """Shifts out of j (to any other candidate) and into j (from any current rep)."""
        assign, vals, loads, cost = self.assign, self.vals, self.loads, self.cost
        oi, ot = np.nonzero(self.cand[mine])
        keep = ot != j
        src_i = np.concatenate([mine[oi[keep]], theirs])
        src = np.concatenate([np.full(int(keep.sum()), j), assign[theirs]])
        dst = np.concatenate([ot[keep], np.full(theirs.size, j)])
        if not src_i.size:
            return None
        dv = self.viol(src, [(a, loads[a][src] - vals[a][src_i]) for a in self.rows]) \
            + self.viol(dst, [(a, loads[a][dst] + vals[a][src_i]) for a in self.rows]) \
            - v[src] - v[dst]
        dv = np.where(self.budget.allows([(src_i, src, dst)]), dv, np.inf)
        k = _pick(dv, cost[src_i, dst] - cost[src_i, src])
        if k is None:
            return None
        return (float(dv[k]), float(cost[src_i[k], dst[k]] - cost[src_i[k], src[k]]),
                "shift", int(src_i[k]), int(dst[k]))

    def _best_swap(self, j: int, mine: np.ndarray, theirs: np.ndarray):
        """Swaps: a of j goes to t = assign[b], b of t comes to j."""
        if not (mine.size and theirs.size):
            return None
        vals, loads, cost, viol = self.vals, self.loads, self.cost, self.viol
        t = self.assign[theirs]
        ok = self.cand[np.ix_(mine, t)]
        if not ok.any():
            return None
        sr = self.swap_rows
        d = [vals[a][theirs][None, :] - vals[a][mine][:, None] for a in sr]
        dv = viol(j, [(a, loads[a][j] + x) for a, x in zip(sr, d, strict=True)]) \
            + viol(t[None, :], [(a, loads[a][t][None, :] - x)
                                for a, x in zip(sr, d, strict=True)]) \
            - (viol(j, [(a, loads[a][j]) for a in sr])
               + viol(t, [(a, loads[a][t]) for a in sr])[None, :])
        dc = (cost[np.ix_(mine, t)] + cost[theirs, j][None, :]
              - cost[mine, j][:, None] - cost[theirs, t][None, :])
        dv = np.where(ok & self.budget.allows([(mine[:, None], j, t[None, :]),
                                               (theirs[None, :], t[None, :], j)]),
                      dv, np.inf)
        k = _pick(dv.ravel(), dc.ravel())
        if k is None:
            return None
        x, y = divmod(k, theirs.size)
        return (float(dv[x, y]), float(dc[x, y]), "swap", int(mine[x]), int(theirs[y]))

    def apply(self, best) -> None:
        """Make the move ``best`` (from :meth:`best_move`): budget, loads, plan, and free
        the reps around the reps it touched from ``stuck``."""
        assign, adj, stuck = self.assign, self.adj, self.stuck
        _, _, kind, a, b = best
        moves = [(a, b)] if kind == "shift" else [(a, int(assign[b])), (b, int(assign[a]))]
        self.budget.apply(moves, assign)
        for i, to in moves:
            frm = int(assign[i])
            for r in self.rows:
                self.loads[r][frm] -= self.vals[r][i]
                self.loads[r][to] += self.vals[r][i]
        for i, to in moves:
            stuck[adj.indices[adj.indptr[assign[i]]:adj.indptr[assign[i] + 1]]] = False
            stuck[adj.indices[adj.indptr[to]:adj.indptr[to + 1]]] = False
            stuck[[assign[i], to]] = False
            assign[i] = to


class MoveBudget:
    """The re-align caps during repair: moves (accounts with a rep other than their owner)
    and moved potential may grow, but never above ``max_moves`` / ``max_moved_potential``."""

    def __init__(self, spec, assign: np.ndarray) -> None:
        self.has_owner = np.asarray(spec.has_owner, dtype=bool)
        self.owner = spec.owner
        self.potential = np.asarray(spec.potential, dtype=float)
        self.max_moves = np.inf if spec.max_moves is None else float(spec.max_moves)
        self.max_potential = (np.inf if spec.max_moved_potential is None
                              else float(spec.max_moved_potential) * (1 + 1e-9) + 1e-6)
        self.capped = np.isfinite(self.max_moves) or np.isfinite(self.max_potential)
        moved = self._moved(np.arange(assign.size), assign)
        self.moves = float(moved.sum())
        self.moved_potential = float(self.potential[moved].sum())

    def _moved(self, i, rep):
        return self.has_owner[i] & (rep != self.owner[i])

    def within(self) -> bool:
        """Whether the plan so far keeps both caps."""
        return self.moves <= self.max_moves and self.moved_potential <= self.max_potential

    def allows(self, legs) -> np.ndarray | bool:
        """Whether a move made of ``legs`` (account, from, to; broadcastable arrays) keeps
        both caps."""
        if not self.capped:
            return True
        d_moves = 0
        d_pot = 0.0
        for i, frm, to in legs:
            change = self._moved(i, to).astype(int) - self._moved(i, frm)
            d_moves = d_moves + change
            d_pot = d_pot + change * self.potential[i]
        return (self.moves + d_moves <= self.max_moves) \
            & (self.moved_potential + d_pot <= self.max_potential)

    def apply(self, moves: list[tuple[int, int]], assign: np.ndarray) -> None:
        for i, to in moves:
            change = int(self._moved(i, to)) - int(self._moved(i, assign[i]))
            self.moves += change
            self.moved_potential += change * self.potential[i]


def _pick(dv: np.ndarray, dc: np.ndarray) -> int | None:
    """Index of the largest reduction of V (dv < 0), the cheapest among equal reductions."""
    if dv.size == 0:
        return None
    low = float(dv.min())
    if not low < -_EPS:
        return None
    tie = np.flatnonzero(dv <= low + 1e-12)
    return int(tie[np.argmin(dc[tie])])


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
        applied = _shift_pass(spec, idx, pi, pj, assign, bands, vals, lo, hi, loads, work,
                              budget)
        total += applied
        if applied == 0:
            break
    return assign, total


def _shift_pass(spec, idx, pi, pj, assign, bands, vals, lo, hi, loads, work, budget) -> int:
    """One pass of :func:`improve_shifts`: the pairs ``idx`` in order, each applied when its
    account has not moved yet in this pass and the shift keeps the bands and capacity (and the
    move caps) given the loads so far. Returns the shifts applied.

    Loads change only when a shift is applied, so the pairs up to the next applied one are
    checked at once with numpy; after a shift from s to d only the pairs from or to s or d
    are checked again."""
    ii, src, dst = pi[idx], assign[pi[idx]], pj[idx]
    wl, cap = spec.workload, spec.capacity
    moved = np.zeros(assign.size, dtype=bool)

    def fits(p: np.ndarray) -> np.ndarray:
        i, s, d = ii[p], src[p], dst[p]
        ok = (work[d] + wl[i] <= cap[d] + 1e-9) & ~moved[i]
        for a in range(len(bands)):
            v = vals[a][i]
            ok &= ~((loads[a][s] - v < lo[a][s] - 1e-9) | (loads[a][d] + v > hi[a][d] + 1e-9))
        return ok

    feasible = fits(np.arange(idx.size))
    by_src, by_dst = _positions_by(src), _positions_by(dst)
    applied = 0
    p = 0
    while p < idx.size:
        q = p + int(np.argmax(feasible[p:]))
        if not feasible[q]:
            break
        p = q + 1
        i, s, d = int(ii[q]), int(src[q]), int(dst[q])
        if not budget.allows([(i, s, d)]):
            continue
        budget.apply([(i, d)], assign)
        for a in range(len(bands)):
            loads[a][s] -= vals[a][i]
            loads[a][d] += vals[a][i]
        work[s] -= wl[i]
        work[d] += wl[i]
        assign[i] = d
        moved[i] = True
        applied += 1
        again = np.concatenate([by_src(s), by_src(d), by_dst(s), by_dst(d)])
        again = again[again >= p]
        feasible[again] = fits(again)  # (every pair of account i is from s: now False)
    return applied


def _positions_by(key: np.ndarray):
    """A lookup: value -> the positions of ``key`` holding it (increasing)."""
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]

    def positions(value: int) -> np.ndarray:
        lo, hi = np.searchsorted(sorted_key, [value, value + 1])
        return order[lo:hi]
    return positions


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
    n = len(spec.account_ids)
    cand = np.zeros((n, m), dtype=bool)  # is rep t a candidate of account i
    cand[pi, pj] = True
    at = _accounts_by_rep(assign, m)
    code = np.unique(assign[pi].astype(np.int64) * m + pj)  # (rep, candidate rep), sorted
    pairs = np.stack([code // m, code % m], axis=1)
    pairs = pairs[pairs[:, 0] < pairs[:, 1]]
    total = 0
    cost = spec.cost
    for _ in range(max_passes):
        applied = 0
        for j, t in pairs.tolist():
            if time.perf_counter() > deadline:
                return assign, total + applied
            a_j = at[j][cand[at[j], t] & movable[at[j]]]
            if a_j.size == 0:
                continue
            a_t = at[t][cand[at[t], j] & movable[at[t]]]
            if a_t.size == 0:
                continue
            dc = (cost[a_j, t][:, None] + cost[a_t, j][None, :]
                  - cost[a_j, j][:, None] - cost[a_t, t][None, :])
            # the cost-lowering swaps (row-major order), then those that keep every band
            xs, ys = np.nonzero(dc < -1e-9)
            if not xs.size:
                continue
            ok = np.ones(xs.size, dtype=bool)
            for a in range(len(vals)):
                d = vals[a][a_t[ys]] - vals[a][a_j[xs]]  # change at j
                ok &= (loads[a][j] + d <= hi[a][j] + 1e-9) & (loads[a][j] + d >= lo[a][j] - 1e-9)
                ok &= (loads[a][t] - d <= hi[a][t] + 1e-9) & (loads[a][t] - d >= lo[a][t] - 1e-9)
            if not ok.any():
                continue
            # the cheapest, the first in row-major order among equals
            keep = np.flatnonzero(ok)
            first = keep[int(np.argmin(dc[xs[keep], ys[keep]]))]
            i1, i2 = int(a_j[xs[first]]), int(a_t[ys[first]])
            for a in range(len(vals)):
                d = vals[a][i2] - vals[a][i1]
                loads[a][j] += d
                loads[a][t] -= d
            assign[i1], assign[i2] = t, j
            at[j] = np.sort(np.append(at[j][at[j] != i1], i2))
            at[t] = np.sort(np.append(at[t][at[t] != i2], i1))
            applied += 1
        total += applied
        if applied == 0:
            break
    return assign, total


def _accounts_by_rep(assign: np.ndarray, m: int) -> list[np.ndarray]:
    """The accounts of each rep column ``0..m-1`` of ``assign``, in increasing order."""
    order = np.argsort(assign, kind="stable")
    bounds = np.searchsorted(assign[order], np.arange(m + 1))
    return [order[bounds[r]:bounds[r + 1]] for r in range(m)]
