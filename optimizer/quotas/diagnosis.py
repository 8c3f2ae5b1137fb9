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

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .allocation import AllocationLevel
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


def _item_conflicts(level: AllocationLevel, lo: pd.Series, hi: pd.Series) -> list[Conflict]:
    """Each pin outside its item's own bounds, and each free item whose bounds cross."""
    out: list[Conflict] = []
    bounds, fixed, pin_where = level.bounds, level.fixed, level.pin_where
    for i in fixed.index[fixed.notna()]:
        v = float(fixed[i])
        if v < lo[i] - 1e-6:
            out.append(Conflict(pin_where[i], f"= {v:,.0f} is below its "
                                f"{bounds.at[i, 'lo_label']} by {lo[i] - v:,.0f}", lo[i] - v))
        if v > hi[i] + 1e-6:
            out.append(Conflict(pin_where[i], f"= {v:,.0f} is above its "
                                f"{bounds.at[i, 'hi_label']} by {v - hi[i]:,.0f}", v - hi[i]))
    crossed = lo.index[(lo > hi + 1e-6) & fixed.reindex(level.items).isna()]
    for i in crossed:
        out.append(Conflict(f"{level.level} {i}", f"its {bounds.at[i, 'lo_label']} is above "
                            f"its {bounds.at[i, 'hi_label']} by {lo[i] - hi[i]:,.0f}",
                            lo[i] - hi[i]))
    return out


@dataclass(frozen=True)
class _Group:
    """One group's total and its members split into pinned and free (ids in item order);
    ``pin_sum`` is the sum of the pins (currency)."""

    text: str
    total: float
    members: list[str]
    pinned: list[str]
    free: list[str]
    pin_sum: float


def _groups(level: AllocationLevel) -> list[_Group]:
    """The groups of ``level`` with their members, in the order of ``level.totals``."""
    items = level.items
    grp = level.group.reindex(items).to_dict()
    fix = level.fixed.reindex(items).to_dict()
    by_group: dict[str, list[str]] = {g: [] for g in level.totals}
    for i in items:
        by_group.setdefault(grp[i], []).append(i)
    out = []
    for g, total in level.totals.items():
        members = by_group[g]
        pinned = [i for i in members if pd.notna(fix[i])]
        free = [i for i in members if pd.isna(fix[i])]
        out.append(_Group(level.group_text[g], total, members, pinned, free,
                          float(sum(fix[i] for i in pinned))))
    return out


def _all_pinned_conflict(grp: _Group, word: str) -> list[Conflict]:
    """A group without free items: its pins must add up to its total."""
    total, pin_sum = grp.total, grp.pin_sum
    if not grp.members:
        if total > 0.5:
            return [Conflict(grp.text, f"has {total:,.0f} to allocate but no {word}s", total)]
        return []
    if abs(pin_sum - total) > 0.5:
        more = "more" if pin_sum > total else "less"
        return [Conflict(grp.text, f"every {word} is pinned and the pins add up to "
                         f"{pin_sum:,.0f}, {abs(pin_sum - total):,.0f} {more} than "
                         f"the total {total:,.0f} ({_names(grp.pinned)})",
                         abs(pin_sum - total))]
    return []


def _total_conflicts(level: AllocationLevel, grp: _Group, lo: pd.Series,
                     hi: pd.Series) -> list[Conflict]:
    """A group with free items: pins plus their lower bounds must not exceed the total, pins
    plus their upper bounds must reach it."""
    out: list[Conflict] = []
    word, free, total, pin_sum = level.level, grp.free, grp.total, grp.pin_sum
    low = pin_sum + float(lo[free].sum())
    if low > total + 0.5:
        pin_text = f"pins ({_names([level.pin_where[i] for i in grp.pinned], 3)})"
        if float(lo[free].sum()) <= 0:
            what = f"{pin_text} add up to {low:,.0f}"
        else:
            what = (f"{pin_text + ' and ' if grp.pinned else ''}the lower bounds of its free "
                    f"{word}s ({float(lo[free].sum()):,.0f}) add up to {low:,.0f}")
        out.append(Conflict(grp.text, f"{what}, {low - total:,.0f} more than the total "
                            f"{total:,.0f}{_kinds(level.bounds, free, 'lo')}", low - total))
    high = pin_sum + float(hi[free].sum())
    if high < total - 0.5:
        what = f"pins ({pin_sum:,.0f}) and " if grp.pinned else ""
        out.append(Conflict(grp.text, f"{what}the upper bounds of its free {word}s allow "
                            f"at most {high:,.0f}, {total - high:,.0f} short of the total "
                            f"{total:,.0f}{_kinds(level.bounds, free, 'hi')}", total - high))
    return out


def diagnose(level: AllocationLevel) -> list[Conflict]:
    """Every conflict found in ``level`` (empty: the allocation is feasible).

    ``level.group_text[g]`` describes the group's total (``region East's rep total 5,689,068
    (target 5,171,880 x over-assignment 1.10)``); ``level.pin_where[i]`` names the pin on item
    ``i``; ``level.level`` names the items (``rep``, ``region``). Conflicts of single items come
    first, and only when there are none are the groups' totals checked.
    """
    lo = level.bounds["lo"].reindex(level.items).fillna(0.0)
    hi = level.bounds["hi"].reindex(level.items).fillna(np.inf)
    out = _item_conflicts(level, lo, hi)
    if out:
        return out
    for grp in _groups(level):
        if not grp.free:
            out += _all_pinned_conflict(grp, level.level)
        else:
            out += _total_conflicts(level, grp, lo, hi)
    return out
