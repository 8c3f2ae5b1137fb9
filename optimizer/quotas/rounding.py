"""Rounding with exact totals.

:func:`apportion` is the largest-remainder (Hamilton) method: floor every value, then give the
missing units to the largest fractional parts (ties: first in order). The result sums to the
integer total exactly and moves no value by a unit or more.

:func:`round_group` rounds one group (the reps of a region, or the regions of the company) to a
``unit`` such as 1,000 under bounds, keeping the group total exact to the currency unit:

1. pinned values are kept exactly as given (they are whole currency units);
2. the free total ``R`` (group total minus pins) splits into ``k`` units and a remainder
   ``R - k unit`` (< ``unit``);
3. each free value ``x_i`` starts at ``floor(x_i / unit)`` units, clipped to the multiples of
   ``unit`` inside its bounds; units are then added to (or taken from) the values with the largest
   (smallest) fractional part until there are exactly ``k``: this minimises the total rounding
   change and keeps every bound;
4. the remainder goes to the free item with the largest rounded value whose upper bound leaves
   room for it (ties: first in order), so exactly one item per group may be off the unit grid.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import Conflict

__all__ = ["apportion", "round_group"]


def apportion(values: np.ndarray, total: int) -> np.ndarray:
    """Integers summing to ``total``, each within one unit of ``values`` (which should sum to
    ``total`` up to floating point), by largest remainder."""
    v = np.asarray(values, dtype=float)
    base = np.floor(v + 1e-9).astype(np.int64)
    short = int(total - base.sum())
    if short > 0:
        frac = v - base
        order = np.argsort(-frac, kind="stable")
        base[order[: min(short, v.size)]] += 1
        short = int(total - base.sum())
        if short > 0:  # values were far from the total: spread the rest from the largest
            order = np.argsort(-v, kind="stable")
            base[order[np.arange(short) % v.size]] += 1
    elif short < 0:
        frac = v - base
        order = np.argsort(frac, kind="stable")
        eligible = [i for i in order if base[i] > 0]
        for i in eligible[: -short]:
            base[i] -= 1
    return base


def _fit_units(y: np.ndarray, k: int, lo_u: np.ndarray, hi_u: np.ndarray, *,
               unit: int, group: str) -> np.ndarray | Conflict:
    """Step 3: whole numbers of units within ``[lo_u, hi_u]`` summing to ``k``, closest to the
    fractional ``y`` (units), or the conflict when the bounds cannot absorb the difference."""
    n = np.clip(np.floor(y + 1e-9), lo_u, hi_u)
    d = int(k - n.sum())
    while d != 0:
        if d > 0:
            ok = np.flatnonzero(n < hi_u)
            pri = -(y[ok] - n[ok])
        else:
            ok = np.flatnonzero(n > lo_u)
            pri = y[ok] - n[ok]
        if ok.size == 0:
            side = "upper" if d > 0 else "lower"
            return Conflict(
                f"rounding {group}",
                f"rounded to {unit:,}, the {side} bounds of its free items cannot absorb "
                f"{abs(d) * unit:,} more")
        take = ok[np.argsort(pri, kind="stable")[: abs(d)]]
        n[take] += 1 if d > 0 else -1
        d = int(k - n.sum())
    return n


def _remainder_holder(vals: np.ndarray, hi_raw: np.ndarray, rem: int) -> int | None:
    """Step 4: the position of the free item with the largest rounded value whose upper bound
    leaves room for the remainder (first in order on ties), or None when none has room."""
    room = hi_raw - vals >= rem - 1e-9
    if not room.any():
        return None
    cand = np.flatnonzero(room)
    return int(cand[np.argmax(vals[cand])])


def round_group(x: pd.Series, total: int, *, unit: int, lo: pd.Series, hi: pd.Series,
                fixed: pd.Series, group: str) -> tuple[pd.Series, str | None, list[Conflict]]:
    """Round ``x`` (a group's solved values, currency) to multiples of ``unit`` summing to
    ``total`` exactly, as described above.

    ``lo``/``hi`` are the items' bounds (currency); ``fixed`` holds pinned values (NaN for free
    items); ``group`` names the group in conflict messages. Returns the integer values, the id
    that carries the remainder (None if no remainder) and any conflicts (rounding that cannot
    hold; the values are then not usable).
    """
    out = pd.Series(0, index=x.index, dtype=np.int64)
    pinned = fixed.notna()
    out[pinned] = fixed[pinned].round().astype(np.int64)
    free = x.index[~pinned]
    rest = int(total - out[pinned].sum())
    if len(free) == 0:
        return out, None, []
    k, rem = divmod(rest, unit)
    y = (x[free].to_numpy(dtype=float)) / unit
    lo_u = np.ceil(lo[free].to_numpy(dtype=float) / unit - 1e-9)
    hi_raw = hi[free].to_numpy(dtype=float)
    hi_u = np.where(np.isfinite(hi_raw), np.floor(hi_raw / unit + 1e-9), np.inf)
    empty = lo_u > hi_u
    if empty.any():
        return out, None, [Conflict(
            f"rounding {free[i]}",
            f"no multiple of {unit:,} lies between its bounds "
            f"{lo[free[i]]:,.0f} and {hi[free[i]]:,.0f}") for i in np.flatnonzero(empty)]
    n = _fit_units(y, k, lo_u, hi_u, unit=unit, group=group)
    if isinstance(n, Conflict):
        return out, None, [n]
    vals = (n * unit).astype(np.int64)
    holder = None
    if rem:
        best = _remainder_holder(vals, hi_raw, rem)
        if best is None:
            return out, None, [Conflict(
                f"rounding {group}",
                f"the remainder {rem:,} (the total {rest:,} is not a multiple of {unit:,}) "
                "fits under no free item's upper bound")]
        vals[best] += rem
        holder = free[best]
    out[free] = vals
    return out, holder, []
