"""The disruption-versus-balance trade-off: sweep the disruption weight (or the move cap) and
return the Pareto points (moves, weighted distance, worst balance deviation) so a planner can
pick. Each point is a full re-alignment; points whose solve fails are kept with their status."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from .alignment import solve_alignment
from .errors import AlignmentError
from .options import AlignmentOptions
from .problem import AlignmentProblem

__all__ = ["pareto_mask", "tradeoff"]

_WEIGHT_MULTIPLES = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 32.0)


def tradeoff(problem: AlignmentProblem, options: AlignmentOptions | None = None,
             disruption: Sequence[float] | None = None,
             move_caps: Sequence[int] | None = None,
             progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """One re-alignment per disruption weight (distance units; default: multiples 0 to 32 of
    the median distance from an account to its nearest rep) or, when ``move_caps`` is given,
    per move cap. The options' time limit applies to each point.

    Columns: ``disruption``, ``max_moves``, ``status``, ``moves``, ``moved_potential``,
    ``weighted_distance``, ``worst_deviation`` (largest |load / target - 1| over reps and the
    balanced metrics, or every metric when none is balanced), ``gap``, ``solve_seconds``,
    ``pareto`` (not dominated on moves, weighted distance and worst deviation).
    ``progress(done, total)`` hears each point solved.
    """
    base = replace(options or AlignmentOptions(), mode="realign")
    runs: list[AlignmentOptions] = []
    if move_caps is not None:
        runs = [replace(base, max_moves=int(c)) for c in sorted(set(move_caps))]
    else:
        if disruption is None:
            d = np.where(np.isfinite(problem.distance), problem.distance, np.inf).min(axis=1)
            scale = float(np.median(d[np.isfinite(d)])) if np.isfinite(d).any() else 1.0
            disruption = [round(f * max(scale, 1e-9), 3) for f in _WEIGHT_MULTIPLES]
        runs = [replace(base, disruption=float(w)) for w in disruption]
    metrics = [b.metric for b in base.balance] or ["workload", "potential", "accounts"]
    rows = []
    for i, opts in enumerate(runs):
        if progress is not None:
            progress(i, len(runs))
        row = {"disruption": opts.disruption, "max_moves": opts.max_moves}
        try:
            res = solve_alignment(problem, opts)
        except AlignmentError as exc:
            row.update(status=exc.status, moves=np.nan, moved_potential=np.nan,
                       weighted_distance=np.nan, worst_deviation=np.nan, gap=np.nan,
                       solve_seconds=np.nan)
            rows.append(row)
            continue
        t = res.territories
        worst = max(float(np.nanmax(np.abs(t[f"{m}_dev"].to_numpy()))) for m in metrics)
        row.update(status=res.status, moves=res.metrics.moves,
                   moved_potential=res.metrics.moved_potential,
                   weighted_distance=res.metrics.weighted_distance, worst_deviation=worst,
                   gap=res.metrics.gap, solve_seconds=res.metrics.solve_seconds)
        rows.append(row)
    if progress is not None:
        progress(len(runs), len(runs))
    frame = pd.DataFrame(rows)
    frame["pareto"] = pareto_mask(frame[["moves", "weighted_distance", "worst_deviation"]]
                                  .to_numpy(dtype=float))
    return frame


def pareto_mask(points: np.ndarray) -> np.ndarray:
    """True for rows not dominated (every coordinate <=, one <) by another row; rows with NaN
    are never on the front. Duplicates keep only their first occurrence."""
    pts = np.asarray(points, dtype=float)
    ok = ~np.isnan(pts).any(axis=1)
    mask = np.zeros(len(pts), dtype=bool)
    for a in np.flatnonzero(ok):
        dominated = False
        for b in np.flatnonzero(ok):
            if a == b:
                continue
            le = (pts[b] <= pts[a] + 1e-12).all()
            lt = (pts[b] < pts[a] - 1e-12).any()
            same = np.allclose(pts[b], pts[a], rtol=0, atol=1e-12)
            if (le and lt) or (same and b < a):
                dominated = True
                break
        mask[a] = not dominated
    return mask
