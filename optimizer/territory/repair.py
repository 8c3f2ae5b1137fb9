"""Band repair by local search: shift and swap accounts until every hard band holds.

Used by fix-and-resolve after rounding the LP relaxation: the rounded plan misses some bands by
a few percent, and a MILP over the misfit accounts is slow to prove anything (the elastic
relaxation is weak). Here the violation of rep j is

    V_j = sum_a [max(0, L_aj - hi_aj) + max(0, lo_aj - L_aj)] / mu_aj
          + max(0, W_j - cap_j) / cap_j

and each step applies the shift (one account to another candidate rep) or swap (two accounts of
neighbouring reps exchange reps) that most reduces V at the worst rep, preferring the cheaper
move among equal reductions. Locked accounts never move; accounts only go to their candidates.
"""

from __future__ import annotations

import time

import numpy as np

__all__ = ["repair_bands"]

_EPS = 1e-12


def repair_bands(spec, pi: np.ndarray, pj: np.ndarray, assign: np.ndarray,
                 deadline: float, max_steps: int = 20_000) -> tuple[np.ndarray, int]:
    """Return (repaired assignment, steps taken). The result may still violate bands when no
    improving move exists or time runs out; the caller checks."""
    n, m = len(spec.account_ids), len(spec.rep_ids)
    assign = assign.copy()
    bands = [b for b in spec.bands if (b.mu > 0).any()]
    vals = [b.values for b in bands]
    lo = [np.where(b.mu > 0, (1 - b.tolerance) * b.mu, -np.inf) for b in bands]
    hi = [np.where(b.mu > 0, (1 + b.tolerance) * b.mu, np.inf) for b in bands]
    scale = [np.where(b.mu > 0, b.mu, 1.0) for b in bands]
    cap = spec.capacity
    cap_scale = np.where(np.isfinite(cap) & (cap > 0), cap, 1.0)
    loads = [np.bincount(assign, weights=v, minlength=m) for v in vals]
    work = np.bincount(assign, weights=spec.workload, minlength=m)
    starts = np.searchsorted(pi, np.arange(n + 1))
    movable = ~spec.locked

    def viol(rep, band_loads, workload):
        total = np.zeros(np.shape(rep))
        for a in range(len(bands)):
            x = band_loads[a]
            total += (np.maximum(0.0, x - hi[a][rep]) + np.maximum(0.0, lo[a][rep] - x)) \
                / scale[a][rep]
        total += np.maximum(0.0, workload - cap[rep]) / cap_scale[rep]
        return total

    def rep_viol():
        return viol(np.arange(m), loads, work)

    cost = spec.cost
    steps = 0
    stuck: set[int] = set()
    while steps < max_steps and time.perf_counter() < deadline:
        v = rep_viol()
        order = [j for j in np.argsort(-v) if v[j] > 1e-9 and j not in stuck]
        if not order:
            break
        j = int(order[0])
        best = None  # (delta_v, delta_cost, move)
        # shifts of accounts between j and its neighbours, both directions
        mine = np.flatnonzero((assign == j) & movable)
        sel = np.concatenate([np.arange(starts[i], starts[i + 1]) for i in mine]) \
            if mine.size else np.array([], dtype=np.int64)
        out_i, out_t = pi[sel], pj[sel]
        keep = out_t != j
        out_i, out_t = out_i[keep], out_t[keep]
        into = (pj == j) & (assign[pi] != j) & movable[pi]
        in_i, in_s = pi[into], assign[pi[into]]
        for src_i, src, dst in ((out_i, np.full(out_i.size, j), out_t),
                                (in_i, in_s, np.full(in_i.size, j))):
            if src_i.size == 0:
                continue
            before = viol(src, [ld[src] for ld in loads], work[src]) \
                + viol(dst, [ld[dst] for ld in loads], work[dst])
            after = viol(src, [ld[src] - vv[src_i] for ld, vv in zip(loads, vals, strict=True)],
                         work[src] - spec.workload[src_i]) \
                + viol(dst, [ld[dst] + vv[src_i] for ld, vv in zip(loads, vals, strict=True)],
                       work[dst] + spec.workload[src_i])
            dv = after - before
            dc = cost[src_i, dst] - cost[src_i, src]
            k = int(np.lexsort((dc, np.round(dv, 12)))[0])
            if dv[k] < -_EPS and (best is None or (dv[k], dc[k]) < best[:2]):
                best = (float(dv[k]), float(dc[k]), ("shift", int(src_i[k]), int(dst[k])))
        # swaps between j and each neighbour t (accounts that can trade places)
        if best is None or best[0] > -1e-6:
            nbrs = np.unique(out_t)
            cand_of = {}
            for i in mine.tolist():
                cand_of[i] = set(pj[starts[i]:starts[i + 1]].tolist())
            for t in nbrs.tolist():
                a_j = np.array([i for i in mine.tolist() if t in cand_of[i]], dtype=np.int64)
                theirs = np.flatnonzero((assign == t) & movable)
                a_t = np.array([i for i in theirs.tolist()
                                if j in pj[starts[i]:starts[i + 1]]], dtype=np.int64)
                if a_j.size == 0 or a_t.size == 0:
                    continue
                before = viol(np.array([j]), [ld[[j]] for ld in loads], work[[j]])[0] \
                    + viol(np.array([t]), [ld[[t]] for ld in loads], work[[t]])[0]
                dj = [vv[a_t][None, :] - vv[a_j][:, None] for vv in vals]
                dw = spec.workload[a_t][None, :] - spec.workload[a_j][:, None]
                rj = np.full(dw.shape, j)
                rt = np.full(dw.shape, t)
                after = viol(rj, [ld[j] + d for ld, d in zip(loads, dj, strict=True)],
                             work[j] + dw) \
                    + viol(rt, [ld[t] - d for ld, d in zip(loads, dj, strict=True)],
                           work[t] - dw)
                dv = after - before
                dc = (cost[a_j, t][:, None] + cost[a_t, j][None, :]
                      - cost[a_j, j][:, None] - cost[a_t, t][None, :])
                flat = int(np.lexsort((dc.ravel(), np.round(dv.ravel(), 12)))[0])
                x, y = divmod(flat, a_t.size)
                if dv[x, y] < -_EPS and (best is None or (dv[x, y], dc[x, y]) < best[:2]):
                    best = (float(dv[x, y]), float(dc[x, y]),
                            ("swap", int(a_j[x]), int(a_t[y])))
        if best is None:
            stuck.add(j)
            continue
        stuck.clear()
        kind, a, b = best[2]
        moves = [(a, b)] if kind == "shift" else [(a, int(assign[b])), (b, int(assign[a]))]
        for i, dst in moves:
            src = int(assign[i])
            for ld, vv in zip(loads, vals, strict=True):
                ld[src] -= vv[i]
                ld[dst] += vv[i]
            work[src] -= spec.workload[i]
            work[dst] += spec.workload[i]
        for i, dst in moves:
            assign[i] = dst
        steps += 1
    return assign, steps


def improve_shifts(spec, pi: np.ndarray, pj: np.ndarray, assign: np.ndarray,
                   deadline: float, max_passes: int = 20) -> tuple[np.ndarray, int]:
    """Cost-improving shifts that keep every hard band and capacity held: each pass takes the
    candidate moves that lower the cost, cheapest first, and applies those still feasible
    given the loads so far. Accounts never move away from their owner when a move cap is set
    (so the move count never grows), and locked accounts never move. Returns (plan, moves)."""
    m = len(spec.rep_ids)
    assign = assign.copy()
    bands = [b for b in spec.bands if (b.mu > 0).any()]
    vals = [b.values for b in bands]
    lo = [np.where(b.mu > 0, (1 - b.tolerance) * b.mu, -np.inf) for b in bands]
    hi = [np.where(b.mu > 0, (1 + b.tolerance) * b.mu, np.inf) for b in bands]
    loads = [np.bincount(assign, weights=v, minlength=m) for v in vals]
    work = np.bincount(assign, weights=spec.workload, minlength=m)
    capped = spec.max_moves is not None or spec.max_moved_potential is not None
    total = 0
    for _ in range(max_passes):
        if time.perf_counter() > deadline:
            break
        cur = assign[pi]
        delta = spec.cost[pi, pj] - spec.cost[pi, cur]
        ok = (delta < -1e-9) & (pj != cur) & ~spec.locked[pi]
        if capped:
            ok &= ~(spec.has_owner[pi] & (cur == spec.owner[pi]))
            ok &= ~spec.has_owner[pi] | (pj == spec.owner[pi]) | (cur != spec.owner[pi])
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
            if not feasible:
                continue
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
                  deadline: float, max_passes: int = 5) -> tuple[np.ndarray, int]:
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
