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
