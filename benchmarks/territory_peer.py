"""The peer baseline: ``b2b-territory-optimization`` (PyPI), greedy longest-processing-time.

The peer's :class:`TerritoryAllocator` carves each taxonomy bucket (here: region) into k
territories by sorting accounts by one metric (potential) and giving each to the territory with
the smallest running total. Its territories are not tied to reps or places, so to compare on
distance we give the peer its best case: each region's territories are matched to that region's
reps by the Hungarian method on potential-weighted distance (scipy ``linear_sum_assignment``).

Install (benchmark only, not a dependency of salesplan):
``.venv/bin/pip install b2b-territory-optimization`` (0.1.4 was used). Without it, a faithful
re-implementation of the same greedy rule (below) is used and the run says so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

try:  # the real peer when installed
    from b2b_territory_optimization import TerritoryAllocator

    PEER = "b2b-territory-optimization (PyPI)"
except ImportError:  # pragma: no cover - depends on the benchmark environment
    TerritoryAllocator = None
    PEER = "greedy LPT re-implemented in benchmarks/ (peer package not installed)"


def _lpt(values: np.ndarray, k: int) -> np.ndarray:
    """Greedy LPT: largest first, each to the territory with the smallest running total."""
    totals = np.zeros(k)
    out = np.empty(values.size, dtype=np.int64)
    for i in np.argsort(-values, kind="stable"):
        t = int(np.argmin(totals))
        out[i] = t
        totals[t] += values[i]
    return out


def greedy_peer(problem, weight: np.ndarray) -> np.ndarray:
    """Rep column per account from the peer's greedy carve + Hungarian rep matching."""
    n = problem.n_accounts
    regions = (np.array(problem.account_region) if problem.account_region is not None
               else np.zeros(n, dtype=object))
    rep_regions = (np.array(problem.rep_region) if problem.rep_region is not None
                   else np.zeros(problem.n_reps, dtype=object))
    assign = np.full(n, -1, dtype=np.int64)
    for region in sorted(set(regions.tolist())):
        rows = np.flatnonzero(regions == region)
        reps = np.flatnonzero(rep_regions == region)
        k = reps.size
        if TerritoryAllocator is not None:
            df = pd.DataFrame({"Account_ID": [problem.account_ids[i] for i in rows],
                               "Estimated_TAM": problem.potential[rows]})
            out = TerritoryAllocator(target_metric="Estimated_TAM").allocate_bucket(
                df, k, str(region))
            labels = sorted(out["Territory_ID"].unique())
            index = {t: x for x, t in enumerate(labels)}
            terr = out["Territory_ID"].map(index).to_numpy()
            k_used = len(labels)
        else:
            terr = _lpt(problem.potential[rows], k)
            k_used = k
        # cost of giving territory t to rep r: sum of weighted distances of its accounts
        onehot = np.zeros((rows.size, k_used))
        onehot[np.arange(rows.size), terr] = 1.0
        cost = onehot.T @ (weight[rows, None] * problem.distance[np.ix_(rows, reps)])
        t_idx, r_idx = linear_sum_assignment(cost)
        rep_of_terr = np.empty(k_used, dtype=np.int64)
        rep_of_terr[t_idx] = reps[r_idx]
        assign[rows] = rep_of_terr[terr]
    return assign
