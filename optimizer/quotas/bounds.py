"""Bounds on rep quotas, each labelled so that a conflict can be reported in a planner's words.

=============  ===========================================================================
floor / cap    absolute currency bounds, for every rep (``floor``/``cap``) or per rep
               (``floors``/``caps``, rep id -> currency; a per-rep value overrides the global)
min_change     ``Q_r >= last_quota_r (1 + min_change)``, e.g. ``-0.10``: at most 10% lower
max_change     ``Q_r <= last_quota_r (1 + max_change)``, e.g. ``0.25``: at most 25% higher;
               both skip reps without ``last_quota`` (and the plan notes how many)
ramp_relief    a rep in ramp (ramp factor < 1 over the horizon) gets at most its relieved
               ideal: the method's ideal, scaled by the ramp factor for methods blind to ramp
               (see :meth:`QuotaMethod.relieved`); a planner's pin overrides it
cell_pins      a rep's quota is at least the sum of its pinned cells (added automatically)
=============  ===========================================================================

When several lower (upper) bounds apply to a rep, the largest (smallest) binds; its kind names the
constraint in the model (``floor_R-01``, ``max_change_R-07``) and in any conflict message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .context import QuotaContext
from .errors import QuotaError

__all__ = ["Bounds", "rep_bounds"]


@dataclass(frozen=True)
class Bounds:
    """Constraints on rep quotas (currency, or fractions for the changes)."""

    min_change: float | None = None
    max_change: float | None = None
    floor: float | None = None
    cap: float | None = None
    floors: Mapping[str, float] = field(default_factory=dict)
    caps: Mapping[str, float] = field(default_factory=dict)
    ramp_relief: bool = True

    def __post_init__(self) -> None:
        for name in ("floor", "cap"):
            v = getattr(self, name)
            if v is not None and not (np.isfinite(v) and v >= 0):
                raise QuotaError(f"bounds: {name} must be a number >= 0, got {v}")
        for name in ("floors", "caps"):
            for rep, v in getattr(self, name).items():
                if not (np.isfinite(v) and v >= 0):
                    raise QuotaError(f"bounds: {name}[{rep}] must be a number >= 0, got {v}")
        if self.min_change is not None and not self.min_change >= -1:
            raise QuotaError(f"bounds: min_change must be >= -1 (-100%), got {self.min_change}")
        if self.max_change is not None and not self.max_change >= -1:
            raise QuotaError(f"bounds: max_change must be >= -1 (-100%), got {self.max_change}")
        if (self.min_change is not None and self.max_change is not None
                and self.min_change > self.max_change):
            raise QuotaError(f"bounds: min_change {self.min_change:+.0%} is above max_change "
                             f"{self.max_change:+.0%}")


_Limit = tuple[float, str, str]  # (value in currency, kind, label)


def _change_limits(bounds: Bounds, last_quota: float) -> tuple[list[_Limit], list[_Limit]]:
    """The lower and upper bounds from ``min_change``/``max_change`` against a rep's last
    quota (currency; not NaN)."""
    lows, highs = [], []
    if bounds.min_change is not None:
        v = last_quota * (1 + bounds.min_change)
        lows.append((v, "min_change", f"min change {bounds.min_change:+.0%} vs last "
                     f"quota {last_quota:,.0f} ({v:,.0f})"))
    if bounds.max_change is not None:
        v = last_quota * (1 + bounds.max_change)
        highs.append((v, "max_change", f"max change {bounds.max_change:+.0%} vs "
                      f"last quota {last_quota:,.0f} ({v:,.0f})"))
    return lows, highs


def rep_bounds(ctx: QuotaContext, bounds: Bounds, relieved: pd.Series,
               cell_pin_sums: Mapping[str, float],
               pinned: frozenset[str] = frozenset()) -> pd.DataFrame:
    """Per rep: ``lo``, ``lo_kind``, ``lo_label``, ``hi``, ``hi_kind``, ``hi_label`` (the binding
    bound of each side; ``lo`` 0 and ``hi`` inf when none applies). ``relieved``: rep -> the
    relieved ideal (currency); ``cell_pin_sums``: rep -> the sum of its pinned cells;
    ``pinned``: the reps with a pinned quota. Ramp relief is a default, not a planner's bound: a
    pinned rep is not held to it (floors, caps and change bounds still apply to pins and are
    reported when a pin breaks them). On a tie the bound listed first in the module docstring
    binds."""
    reps = ctx.rep_ids
    unknown = sorted(set(bounds.floors) - set(reps)) + sorted(set(bounds.caps) - set(reps))
    if unknown:
        raise QuotaError(f"bounds name unknown rep(s): {', '.join(unknown)}")
    last = ctx.last_quota
    ramp = ctx.ramp_factor
    rows = []
    skipped = 0
    for r in reps:
        lows: list[_Limit] = [(0.0, "", "")]
        highs: list[_Limit] = [(np.inf, "", "")]
        floor = bounds.floors.get(r, bounds.floor)
        if floor is not None:
            lows.append((float(floor), "floor", f"floor {floor:,.0f}"))
        cap = bounds.caps.get(r, bounds.cap)
        if cap is not None:
            highs.append((float(cap), "cap", f"cap {cap:,.0f}"))
        lq = last.get(r, np.nan)
        if bounds.min_change is not None or bounds.max_change is not None:
            if np.isnan(lq):
                skipped += 1
            else:
                change_lows, change_highs = _change_limits(bounds, lq)
                lows += change_lows
                highs += change_highs
        if bounds.ramp_relief and ramp[r] < 1.0 and r not in pinned:
            v = float(relieved[r])
            highs.append((v, "ramp_relief", f"ramp relief (ramp factor {ramp[r]:.2f}, "
                          f"at most {v:,.0f})"))
        if cell_pin_sums.get(r, 0.0) > 0:
            v = float(cell_pin_sums[r])
            lows.append((v, "cell_pins", f"pinned cells ({v:,.0f})"))
        rows.append((r, *max(lows, key=lambda t: t[0]), *min(highs, key=lambda t: t[0])))
    if skipped:
        ctx.note(f"min/max change: {skipped} rep(s) without last_quota are not bounded by it")
    return pd.DataFrame(rows, columns=["rep", "lo", "lo_kind", "lo_label",
                                       "hi", "hi_kind", "hi_label"]).set_index("rep")
