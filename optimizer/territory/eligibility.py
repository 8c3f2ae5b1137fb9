"""Which rep may serve which account, and why not.

An account i is eligible for rep j when they are in the same region, rep j has the account's
segment among its skills (no skills: every segment), the distance is known (a supplied travel
table has the pair) and, optionally, within a maximum distance. Eligibility is a dense boolean
(accounts x reps) matrix; :func:`why_no_rep` and :func:`why_not` put refusals in a planner's words.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["eligibility_matrix", "why_no_rep", "why_not"]


def eligibility_matrix(
    account_region: Sequence[str] | None,
    account_segment: Sequence[str] | None,
    rep_region: Sequence[str] | None,
    rep_segments: Sequence[Sequence[str]] | None,
    distance: np.ndarray,
    max_distance: float | None = None,
) -> np.ndarray:
    """Boolean (accounts x reps) matrix; None for region/segment data skips that rule."""
    ok = np.isfinite(distance)
    if account_region is not None and rep_region is not None:
        regions = {r: k for k, r in enumerate(sorted(set(account_region) | set(rep_region)))}
        a = np.array([regions[r] for r in account_region], dtype=np.int64)
        r = np.array([regions[r] for r in rep_region], dtype=np.int64)
        ok &= a[:, None] == r[None, :]
    if account_segment is not None and rep_segments is not None:
        segs = sorted(set(account_segment) | {s for ss in rep_segments for s in ss})
        code = {s: k for k, s in enumerate(segs)}
        serves = np.zeros((len(rep_segments), len(segs)), dtype=bool)
        for j, skills in enumerate(rep_segments):
            if skills:
                serves[j, [code[s] for s in skills]] = True
            else:
                serves[j, :] = True
        a = np.array([code[s] for s in account_segment], dtype=np.int64)
        ok &= serves[:, a].T
    if max_distance is not None:
        with np.errstate(invalid="ignore"):
            ok &= distance <= max_distance
    return ok


def why_not(problem, i: int, j: int, max_distance: float | None) -> str:
    """Why rep j cannot serve account i (a phrase: "which is ...")."""
    p = problem
    rep = p.rep_ids[j]
    if p.account_region is not None and p.rep_region is not None \
            and p.account_region[i] != p.rep_region[j]:
        return f"which is in region {p.rep_region[j]}, not {p.account_region[i]}"
    if p.account_segment is not None and p.rep_segments is not None:
        skills = p.rep_segments[j]
        if skills and p.account_segment[i] not in skills:
            return f"which is not eligible for segment {p.account_segment[i]}"
    d = p.distance[i, j]
    if not np.isfinite(d):
        return f"and the travel table has no entry for {p.account_ids[i]} / {rep}"
    if max_distance is not None and d > max_distance:
        return (f"which is {d:,.0f} {p.distance_unit} away (maximum {max_distance:,.0f} "
                f"{p.distance_unit})")
    return "which is eligible"


def why_no_rep(problem, i: int, max_distance: float | None) -> str:
    """Why account i has no eligible rep, in a planner's words."""
    p = problem
    acc = p.account_ids[i]
    reps = np.arange(len(p.rep_ids))
    if p.account_region is not None and p.rep_region is not None:
        reps = reps[np.asarray(p.rep_region)[reps] == p.account_region[i]]
        if reps.size == 0:
            return f"account {acc}: no rep in region {p.account_region[i]}"
    if p.account_segment is not None and p.rep_segments is not None:
        seg = p.account_segment[i]
        reps = np.array([j for j in reps if not p.rep_segments[j] or seg in p.rep_segments[j]],
                        dtype=np.int64)
        if reps.size == 0:
            where = f" in region {p.account_region[i]}" if p.account_region is not None else ""
            return f"account {acc}: no rep{where} serves segment {seg}"
    d = p.distance[i, reps]
    known = np.isfinite(d)
    if not known.any():
        return (f"account {acc}: the travel table has no entry for it with any of its "
                f"{reps.size} otherwise eligible rep(s)")
    k = int(np.nanargmin(d))
    if max_distance is not None:
        return (f"account {acc}: no eligible rep within {max_distance:,.0f} {p.distance_unit} "
                f"(nearest: {p.rep_ids[reps[k]]} at {d[k]:,.0f} {p.distance_unit})")
    return f"account {acc}: no eligible rep"
