"""Check pins and bounds before solving and say, in a planner's words, which cannot hold.

For every group (the reps of a region, or the regions of the company) with total ``R``:

- each pin must lie within its item's own bounds;
- each item's lower bound must not exceed its upper bound;
- pins plus the free items' lower bounds must not exceed ``R``
  ("floors add up to more than the region's total: 310,932 too much");
- pins plus the free items' upper bounds must reach ``R`` (caps, max change, ramp relief leave
  the region short);
- when every item is pinned, the pins must add up to ``R`` exactly.

These conditions are necessary and sufficient for the allocation model to be feasible (it has one
equality per group and interval bounds), so a plan that passes never fails in the solver.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import Conflict

__all__ = ["diagnose"]


def _names(ids: list[str], limit: int = 6) -> str:
    return ", ".join(ids[:limit]) + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def _kinds(bounds: pd.DataFrame, members: list[str], side: str) -> str:
    """``; binding: floor 150,000 (12 reps: R-01, R-02, ...); min change ...``: the bounds that
    bind on one side, grouped by kind, largest group first, with one example label each."""
    col, lab, kind = (("lo", "lo_label", "lo_kind") if side == "lo"
                      else ("hi", "hi_label", "hi_kind"))
    groups: dict[str, list[str]] = {}
    example: dict[str, str] = {}
    for i in members:
        k = bounds.at[i, kind]
        if k and (side == "hi" or bounds.at[i, col] > 0):
            groups.setdefault(str(k), []).append(str(i))
            example.setdefault(str(k), str(bounds.at[i, lab]))
    if not groups:
        return ""
    parts = []
    for k, ids in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        n = len(ids)
        head = example[k] if n == 1 else f"{k.replace('_', ' ')} (e.g. {example[k]})"
        parts.append(f"{head} on {n} {'rep' if n == 1 else 'reps'}: {_names(ids, 4)}")
    return "; binding: " + "; ".join(parts)


def diagnose(items: list[str], group: pd.Series, totals: dict[str, float],
             group_text: dict[str, str], bounds: pd.DataFrame, fixed: pd.Series,
             pin_where: dict[str, str], item_word: str = "rep") -> list[Conflict]:
    """Every conflict found (empty: the allocation is feasible).

    ``group_text[g]`` describes the group's total (``region East's rep total 5,689,068
    (target 5,171,880 x over-assignment 1.10)``); ``pin_where[i]`` names the pin on item ``i``.
    """
    out: list[Conflict] = []
    lo = bounds["lo"].reindex(items).fillna(0.0)
    hi = bounds["hi"].reindex(items).fillna(np.inf)
    fixed_items = fixed.index[fixed.notna()]
    for i in fixed_items:
        v = float(fixed[i])
        if v < lo[i] - 1e-6:
            out.append(Conflict(pin_where[i], f"= {v:,.0f} is below its "
                                f"{bounds.at[i, 'lo_label']} by {lo[i] - v:,.0f}", lo[i] - v))
        if v > hi[i] + 1e-6:
            out.append(Conflict(pin_where[i], f"= {v:,.0f} is above its "
                                f"{bounds.at[i, 'hi_label']} by {v - hi[i]:,.0f}", v - hi[i]))
    crossed = lo.index[(lo > hi + 1e-6) & fixed.reindex(items).isna()]
    for i in crossed:
        out.append(Conflict(f"{item_word} {i}", f"its {bounds.at[i, 'lo_label']} is above "
                            f"its {bounds.at[i, 'hi_label']} by {lo[i] - hi[i]:,.0f}",
                            lo[i] - hi[i]))
    if out:
        return out
    grp = group.reindex(items).to_dict()
    fix = fixed.reindex(items).to_dict()
    by_group: dict[str, list[str]] = {g: [] for g in totals}
    for i in items:
        by_group.setdefault(grp[i], []).append(i)
    for g, total in totals.items():
        members = by_group[g]
        pinned = [i for i in members if pd.notna(fix[i])]
        free = [i for i in members if pd.isna(fix[i])]
        pin_sum = float(sum(fix[i] for i in pinned))
        text = group_text[g]
        if not members:
            if total > 0.5:
                out.append(Conflict(text, f"has {total:,.0f} to allocate but no {item_word}s",
                                    total))
            continue
        if not free:
            if abs(pin_sum - total) > 0.5:
                word = "more" if pin_sum > total else "less"
                out.append(Conflict(text, f"every {item_word} is pinned and the pins add up to "
                                    f"{pin_sum:,.0f}, {abs(pin_sum - total):,.0f} {word} than "
                                    f"the total {total:,.0f} ({_names(pinned)})",
                                    abs(pin_sum - total)))
            continue
        low = pin_sum + float(lo[free].sum())
        if low > total + 0.5:
            pin_text = f"pins ({_names([pin_where[i] for i in pinned], 3)})"
            if float(lo[free].sum()) <= 0:
                what = f"{pin_text} add up to {low:,.0f}"
            else:
                what = (f"{pin_text + ' and ' if pinned else ''}the lower bounds of its free "
                        f"{item_word}s ({float(lo[free].sum()):,.0f}) add up to {low:,.0f}")
            out.append(Conflict(text, f"{what}, {low - total:,.0f} more than the total "
                                f"{total:,.0f}{_kinds(bounds, free, 'lo')}", low - total))
        high = pin_sum + float(hi[free].sum())
        if high < total - 0.5:
            what = f"pins ({pin_sum:,.0f}) and " if pinned else ""
            out.append(Conflict(text, f"{what}the upper bounds of its free {item_word}s allow "
                                f"at most {high:,.0f}, {total - high:,.0f} short of the total "
                                f"{total:,.0f}{_kinds(bounds, free, 'hi')}", total - high))
    return out
