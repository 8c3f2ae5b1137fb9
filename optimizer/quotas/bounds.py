"""Bounds on rep quotas, each labelled so that a conflict can be reported in a planner's words.

=============  ===========================================================================
floor / cap    absolute currency bounds, for every rep (``floor``/``cap``) or per rep
               (``floors``/``caps``, rep id -> currency; a per-rep value overrides the global)
min_change     ``Q_r >= last_quota_r (1 + min_change)``, e.g. ``-0.10``: at most 10% lower
max_change     ``Q_r <= last_quota_r (1 + max_change)``, e.g. ``0.25``: at most 25% higher;
               both skip reps without ``last_quota`` (and the plan notes how many)
ramp_relief    a rep in ramp (ramp factor < 1 over the horizon) gets at most its relieved
               ideal: the method's ideal, scaled by the ramp factor for methods blind to ramp
               (see :meth:`QuotaMethod.relieved`), with the peer band on never below its
               peers' mean for its ramp (below); a planner's pin overrides it
peer_band      (default ``(0.5, 2.0)``; None: off) each rep's quota within ``low``-``high`` times
               its peers' mean: ``peer_floor`` ``low x m_g x f_r`` and ``peer_cap``
               ``high x m_g x f_r``, with ``m_g`` the mean quota per fully ramped rep of the
               rep's region (its rep total over the sum of its reps' ramp factors: the plain
               mean when nobody ramps) and ``f_r`` the rep's ramp factor, so a ramping or
               late-starting rep's band shrinks with its ramp (with ``ramp_relief`` off every
               ``f_r`` is 1: the plain mean; see :func:`peer_quotas`); both are widened to the
               rounding unit's multiples; a pin overrides it
cell_pins      a rep's quota is at least the sum of its pinned cells (added automatically)
=============  ===========================================================================

When several lower (upper) bounds apply to a rep, the largest (smallest) binds; its kind names the
constraint in the model (``floor_R-01``, ``max_change_R-07``, ``peer_floor_R-34``) and in any
conflict message.

The defaults alone never make a plan infeasible: over a region the peer floors add up to ``low``
times the rep total and the peer caps to ``high`` times it, and ramp relief never caps a rep below
its peers' mean quota for its ramp (``m_g x f_r``, at least its peer floor), so the caps add up to
at least the rep total. When a ramping rep's relieved ideal is below its peer floor (an ideal of 0
for a hire without accounts under ``potential``) the peer floor holds.

The band is a guardrail, the planner's bounds are intent: where a rep's peer floor lies above its
own cap, max change or the like (or its peer cap below its own floor, min change or pinned cells),
the band gives way on that rep and the plan notes it, so a plan that holds last year's quotas
within +-25% stays feasible. The band can still make a region's total impossible together with
pins or the planner's bounds on other reps; :mod:`.diagnosis` names every bound involved and the
error ends with a hint.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .context import QuotaContext
from .errors import QuotaError

__all__ = ["DEFAULT_PEER_BAND", "PEER_KINDS", "Bounds", "peer_quotas", "rep_bounds"]

DEFAULT_PEER_BAND = (0.5, 2.0)
"""Each rep's quota within 0.5x-2x of its region's mean rep quota (scaled by its ramp factor)."""

PEER_KINDS = ("peer_floor", "peer_cap")


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
    peer_band: tuple[float, float] | None = DEFAULT_PEER_BAND

    def __post_init__(self) -> None:
        if self.peer_band is not None:
            object.__setattr__(self, "peer_band", _check_peer_band(self.peer_band))
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


def _check_peer_band(band: object) -> tuple[float, float]:
    """``band`` as a ``(low, high)`` pair of floats with ``0 <= low <= 1 <= high``."""
    try:
        low, high = (float(v) for v in band)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise QuotaError(f"bounds: peer_band must be a pair (low, high) such as (0.5, 2.0), "
                         f"got {band!r}") from None
    if not (np.isfinite(low) and 0.0 <= low <= 1.0 and not np.isnan(high) and high >= 1.0):
        raise QuotaError(f"bounds: peer_band must have 0 <= low <= 1 <= high (a band around "
                         f"the peers' mean, e.g. (0.5, 2.0)), got ({low:g}, {high:g})")
    return low, high


def peer_quotas(ctx: QuotaContext, rep_total: Mapping[str, float], *,
                ramp: bool = True) -> pd.Series:
    """Rep -> its peers' mean quota for a seat of its ramp: ``m_g x f_r`` (currency), with
    ``m_g`` the region's rep total (``rep_total``: region -> currency) over the sum of its reps'
    ramp factors and ``f_r`` the rep's ramp factor (:attr:`QuotaContext.ramp_factor`); with
    ``ramp=False`` (ramp relief off) every ``f_r`` is 1, the plain mean. Over a region these add
    up to its rep total. NaN for the reps of a region where nobody is in seat during the horizon
    (every ramp factor 0)."""
    f = _seat_factor(ctx, ramp)
    region = ctx.rep_region.reindex(ctx.rep_ids)
    seats = f.groupby(region).transform("sum")
    total = region.map(lambda g: float(rep_total.get(g, 0.0)))
    with np.errstate(divide="ignore", invalid="ignore"):
        return (total / seats.where(seats > 0) * f).rename("peer_quota")


def _seat_factor(ctx: QuotaContext, ramp: bool) -> pd.Series:
    """Each rep's share of a full seat for the peer band: its ramp factor, or 1 without ramp."""
    if ramp:
        return ctx.ramp_factor.reindex(ctx.rep_ids).astype(float)
    return pd.Series(1.0, index=ctx.rep_ids)


@dataclass(frozen=True)
class PeerText:
    """Says how a label names a rep's peers' mean (built once per allocation): ``West's mean
    quota 600,778`` when nobody in the region ramps (or ramp relief is off), else the mean per
    fully ramped rep times the rep's ramp factor."""

    seat: Mapping[str, float]
    region: Mapping[str, str]
    full: Mapping[str, bool]

    @classmethod
    def of(cls, ctx: QuotaContext, ramp: bool) -> PeerText:
        seat = _seat_factor(ctx, ramp)
        region = ctx.rep_region.reindex(ctx.rep_ids)
        full = (seat >= 1.0).groupby(region).all()
        return cls(seat.to_dict(), region.to_dict(), full.to_dict())

    def __call__(self, rep: str, peer: float) -> str:
        """The text for ``rep`` (``peer``: its :func:`peer_quotas` value, currency)."""
        f, g = self.seat[rep], self.region[rep]
        if f <= 0:
            return f"{g}'s mean quota x ramp 0 ({rep} is not in seat during the horizon)"
        if self.full[g]:
            return f"{g}'s mean quota {peer:,.0f}"
        scaled = f" x ramp {f:.2f}" if f < 1.0 else ""
        return f"{g}'s mean quota per ramped rep {peer / f:,.0f}{scaled}"


_Limit = tuple[float, str, str]  # (value in currency, kind, label)


def _peer_limits(text: PeerText, band: tuple[float, float], rep: str, peer: float,
                 unit: int) -> tuple[_Limit, _Limit]:
    """The peer floor and cap of ``rep`` (``peer``: its peers' mean quota for its ramp,
    currency), widened outwards to multiples of the rounding ``unit``."""
    low, high = band
    where = text(rep, peer)
    lo = math.floor(low * peer / unit + 1e-9) * unit
    hi = math.ceil(high * peer / unit - 1e-9) * unit if np.isfinite(high) else np.inf
    return ((float(lo), "peer_floor", f"peer floor {low:g}x {where} ({lo:,.0f})"),
            (float(hi), "peer_cap", f"peer cap {high:g}x {where} ({hi:,.0f})"))


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


def _planner_limits(ctx: QuotaContext, bounds: Bounds, rep: str,
                    skipped: list[str]) -> tuple[list[_Limit], list[_Limit]]:
    """The lower and upper bounds a planner set on ``rep`` (floors, caps, change limits), with
    the neutral ``0`` and ``inf``; a rep without ``last_quota`` under change limits is appended
    to ``skipped``."""
    lows: list[_Limit] = [(0.0, "", "")]
    highs: list[_Limit] = [(np.inf, "", "")]
    floor = bounds.floors.get(rep, bounds.floor)
    if floor is not None:
        lows.append((float(floor), "floor", f"floor {floor:,.0f}"))
    cap = bounds.caps.get(rep, bounds.cap)
    if cap is not None:
        highs.append((float(cap), "cap", f"cap {cap:,.0f}"))
    if bounds.min_change is not None or bounds.max_change is not None:
        lq = float(ctx.last_quota.get(rep, np.nan))
        if np.isnan(lq):
            skipped.append(rep)
        else:
            change_lows, change_highs = _change_limits(bounds, lq)
            lows += change_lows
            highs += change_highs
    return lows, highs


def _ramp_limit(text: PeerText, rep: str, f: float, relieved: float, peer: float,
                unit: int) -> _Limit:
    """Ramp relief's cap on ``rep`` (ramp factor ``f``): its relieved ideal, but never below its
    peers' mean quota for its ramp (``peer``, NaN without a peer band; widened up to the
    rounding ``unit``), so that a region's reps can always carry its total under the band."""
    if np.isfinite(peer):
        floor = math.ceil(peer / unit - 1e-9) * unit
        if relieved < floor:
            return (float(floor), "ramp_relief",
                    f"ramp relief (ramp factor {f:.2f}: at most {text(rep, peer)}"
                    f", {floor:,.0f})")
    return (relieved, "ramp_relief", f"ramp relief (ramp factor {f:.2f}, at most "
            f"{relieved:,.0f})")


@dataclass(frozen=True)
class RepBoundsInput:
    """What :func:`rep_bounds` reads besides the context and the bounds: ``relieved``: rep ->
    the relieved ideal (currency); ``cell_pin_sums``: rep -> the sum of its pinned cells;
    ``pinned``: the reps with a pinned quota; ``peer``: rep -> its peers' mean quota for its
    ramp (:func:`peer_quotas`; None: no peer band); ``unit``: the rounding unit."""

    relieved: pd.Series
    cell_pin_sums: Mapping[str, float]
    pinned: frozenset[str] = frozenset()
    peer: pd.Series | None = None
    unit: int = 1


def rep_bounds(ctx: QuotaContext, bounds: Bounds, given: RepBoundsInput) -> pd.DataFrame:
    """Per rep: ``lo``, ``lo_kind``, ``lo_label``, ``hi``, ``hi_kind``, ``hi_label`` (the binding
    bound of each side; ``lo`` 0 and ``hi`` inf when none applies). Ramp relief and the peer band
    are defaults, not a planner's bounds: a pinned rep is not held to them (floors, caps and
    change bounds still apply to pins and are reported when a pin breaks them), and a peer floor
    (cap) that crosses the rep's own upper (lower) bound from the planner (floor, cap, change
    limits, pinned cells) gives way to it (noted). On a tie the bound listed first in the module
    docstring binds."""
    reps = ctx.rep_ids
    unknown = sorted(set(bounds.floors) - set(reps)) + sorted(set(bounds.caps) - set(reps))
    if unknown:
        raise QuotaError(f"bounds name unknown rep(s): {', '.join(unknown)}")
    rows = []
    skipped: list[str] = []
    gave_way: list[str] = []
    text = PeerText.of(ctx, bounds.ramp_relief)
    ramp_factor = ctx.ramp_factor.to_dict()
    relieved = given.relieved.to_dict()
    peers = given.peer.to_dict() if given.peer is not None else {}
    for r in reps:
        lows, highs = _planner_limits(ctx, bounds, r, skipped)
        if given.cell_pin_sums.get(r, 0.0) > 0:
            v = float(given.cell_pin_sums[r])
            lows.append((v, "cell_pins", f"pinned cells ({v:,.0f})"))
        planner_lo = max(lows, key=lambda t: t[0])
        planner_hi = min(highs, key=lambda t: t[0])
        peer = np.nan
        if bounds.peer_band is not None and r in peers and r not in given.pinned:
            peer = float(peers[r])
        if bounds.ramp_relief and ramp_factor[r] < 1.0 and r not in given.pinned:
            highs.append(_ramp_limit(text, r, ramp_factor[r], float(relieved[r]), peer,
                                     given.unit))
        if np.isfinite(peer):
            peer_lo, peer_hi = _peer_limits(text, bounds.peer_band, r, peer, given.unit)
            if peer_lo[0] > planner_hi[0] + 1e-6:
                gave_way.append(f"{r} ({planner_hi[2]})")
            else:
                lows.append(peer_lo)
            if peer_hi[0] < planner_lo[0] - 1e-6:
                gave_way.append(f"{r} ({planner_lo[2]})")
            else:
                highs.append(peer_hi)
        rows.append((r, *max(lows, key=lambda t: t[0]), *min(highs, key=lambda t: t[0])))
    if skipped:
        ctx.note(f"min/max change: {len(skipped)} rep(s) without last_quota are not bounded by "
                 "it")
    if gave_way:
        more = f" and {len(gave_way) - 4} more" if len(gave_way) > 4 else ""
        ctx.note(f"peer band: gives way to the planner's own bound on {len(gave_way)} rep(s) "
                 f"where they cross: {'; '.join(gave_way[:4])}{more}")
    return pd.DataFrame(rows, columns=["rep", "lo", "lo_kind", "lo_label",
                                       "hi", "hi_kind", "hi_label"]).set_index("rep")
