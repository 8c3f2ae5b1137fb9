"""Within-rep decomposition: each rep's quota by product (or category), segment and period.

A rep's quota is split over cells ``(product, segment, period)`` by a joint share

    share[r, p, s, t] = seg[r, s] x prod[g(r), s, p] x per[r, t]

with these defaults (each a documented fallback chain):

- ``seg[r, s]``: the rep's territory potential by segment (accounts owned); a rep without
  potential takes ``targets.by_segment`` restricted to the segments it serves, else an even split
  over the segments it serves (``Rep.segments``; empty = all).
- ``prod[g, s, p]``: ``targets.by_product`` when given (the company's product plan); else the
  revenue mix of the lead sources of the rep's region and that segment (leads per month x product
  mix x mean deal size for the segment), else of that segment in any region, else of every
  source, else even. ``category`` sums products by ``Product.category`` (a product without one is
  its own category).
- ``per[r, t]``: the target seasonality (``targets.seasonality``: 12 monthly weights, or 4
  quarterly weights each spread evenly over its three months; none: even) times the rep's ramp
  profile (0 before the start date, rising linearly over ``ramp_months``), so a new hire's
  monthly quota follows their ramp. Quarters are sums of their months (labelled ``2027-Q1`` when
  the horizon starts on a calendar quarter, else ``HQ1``...); weeks split a month by days into
  ``YYYY-MM-W1`` (days 1-7) ... ``W5`` (day 29 to the month's end).

Dimensions left out of ``by`` are summed over (their column reads ``all``). Cells are whole
currency units: each rep's cells are rounded by largest remainder, so they sum to the rep's
quota exactly, and so do all roll-ups (rep x product, rep x period, ...). Pinned cells keep
their value; the rep's other cells share the rest by the same shares. Cells with a zero share
(a segment the rep does not serve, months before the start date) are left out unless pinned.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence

import numpy as np
import pandas as pd

from salesplan.scenarios.calendar import month_labels

from .context import QuotaContext
from .errors import Conflict, QuotaError
from .pins import Pin
from .rounding import apportion

__all__ = ["DIMENSIONS", "PERIODS", "Cells", "build_cells", "month_shares", "parse_by",
           "split_reps"]

PERIODS = ("quarter", "month", "week")
DIMENSIONS = ("product", "category", "segment", *PERIODS)
ALL = "all"


def parse_by(by: Sequence[str] | str | None) -> tuple[str, ...]:
    """Validate the split dimensions (``"product,segment,month"`` or a sequence)."""
    if by is None:
        return ()
    if isinstance(by, str):
        by = [b.strip() for b in by.split(",") if b.strip()]
    dims = tuple(str(b).lower() for b in by)
    bad = [d for d in dims if d not in DIMENSIONS]
    if bad:
        raise QuotaError(
            f"unknown split dimension(s) {', '.join(bad)}; choose from {', '.join(DIMENSIONS)}"
        )
    if len(set(dims)) != len(dims):
        raise QuotaError(f"split dimensions repeat: {', '.join(dims)}")
    if "product" in dims and "category" in dims:
        raise QuotaError("split by product or by category, not both")
    if sum(d in PERIODS for d in dims) > 1:
        raise QuotaError("split by one period only (quarter, month or week)")
    return dims


class Cells:
    """The cell grid and each rep's shares over it: ``keys`` (product, segment, period labels
    per cell) and ``shares`` (reps x cells, rows sum to 1)."""

    def __init__(self, keys: pd.DataFrame, shares: np.ndarray, rep_ids: list[str]):
        self.keys = keys
        self.shares = shares
        self.rep_ids = rep_ids


def _season(ctx: QuotaContext) -> np.ndarray:
    n_months = ctx.months
    t = ctx.scenario.targets
    if t is None or t.seasonality is None:
        return np.ones(n_months)
    s = np.asarray(t.seasonality, dtype=float)
    m = np.arange(n_months)
    return s[m % 12] if s.size == 12 else s[(m // 3) % 4] / 3.0


def _segment_shares(ctx: QuotaContext) -> np.ndarray:
    sc = ctx.scenario
    segs = sc.segment_ids
    pot = ctx.segment_potential.reindex(index=ctx.rep_ids, columns=segs).to_numpy()
    by_seg = sc.targets.by_segment if sc.targets is not None else None
    out = np.zeros_like(pot)
    for k, r in enumerate(sc.reps):
        row = pot[k]
        if row.sum() > 0:
            out[k] = row / row.sum()
            continue
        serves = np.array([r.serves(s) for s in segs], dtype=float)
        w = serves * np.array([by_seg.get(s, 0.0) for s in segs]) if by_seg else serves
        if w.sum() <= 0:
            w = serves if serves.sum() > 0 else np.ones(len(segs))
        out[k] = w / w.sum()
    return out


def _product_shares(ctx: QuotaContext) -> np.ndarray:
    """(regions x segments x products) product mix given region and segment."""
    sc = ctx.scenario
    regions, segs, prods = sc.region_ids, sc.segment_ids, sc.product_ids
    out = np.zeros((len(regions), len(segs), len(prods)))
    if sc.targets is not None and sc.targets.by_product:
        w = np.array([sc.targets.by_product.get(p, 0.0) for p in prods])
        out[:] = w / w.sum()
        return out
    rev = np.zeros_like(out)
    for src in sc.lead_sources:
        if src.region not in regions or src.segment not in segs:
            continue
        mix = src.product_mix or {p: 1.0 for p in prods}
        tot = sum(mix.values())
        for p, w in mix.items():
            if p in sc.product_index:
                size = sc.product_index[p].deal_size_for(src.segment).mean_value
                rev[regions.index(src.region), segs.index(src.segment), prods.index(p)] += (
                    src.leads_per_month * w / tot * size
                )
    any_region = rev.sum(axis=0)
    every = any_region.sum(axis=0)
    for gi in range(len(regions)):
        for si in range(len(segs)):
            for cand in (rev[gi, si], any_region[si], every, np.ones(len(prods))):
                if cand.sum() > 0:
                    out[gi, si] = cand / cand.sum()
                    break
    if not sc.lead_sources:
        ctx.note("product split: no targets.by_product and no lead sources; split evenly")
    return out


def _period_keys(ctx: QuotaContext, period: str | None) -> tuple[list[str], np.ndarray]:
    """Labels of the period cells and a (months x cells) matrix mapping month shares to them."""
    n_months = ctx.months
    labels = month_labels(ctx.scenario.horizon)
    if period is None:
        return [ALL], np.ones((n_months, 1))
    if period == "month":
        return labels, np.eye(n_months)
    if period == "quarter":
        start = ctx.scenario.horizon.start
        aligned = start.month in (1, 4, 7, 10)
        nq = (n_months + 2) // 3
        keys = []
        for q in range(nq):
            y, mm = labels[3 * q].split("-")
            keys.append(f"{y}-Q{(int(mm) - 1) // 3 + 1}" if aligned else f"HQ{q + 1}")
        mat = np.zeros((n_months, nq))
        mat[np.arange(n_months), np.arange(n_months) // 3] = 1.0
        return keys, mat
    keys, cols = [], []
    for m, lab in enumerate(labels):
        y, mm = map(int, lab.split("-"))
        days = calendar.monthrange(y, mm)[1]
        for w, first in enumerate(range(1, days + 1, 7)):
            last = min(first + 6, days) if w < 4 else days
            if w == 4 and first > days:
                break
            keys.append(f"{lab}-W{w + 1}")
            col = np.zeros(n_months)
            col[m] = (last - first + 1) / days
            cols.append(col)
            if last == days:
                break
    return keys, np.column_stack(cols)


def _product_dimension(ctx: QuotaContext, prod: np.ndarray,
                       dims: tuple[str, ...]) -> tuple[np.ndarray, list[str]]:
    """The product mix (regions x segments x products) summed to the plan's product
    dimension: by category (a product without one is its own), by product, or ``all``; and
    the dimension's labels."""
    sc = ctx.scenario
    prods = sc.product_ids
    if "category" in dims:
        cats = [sc.product_index[p].category or p for p in prods]
        names = sorted(set(cats), key=cats.index)
        agg = np.zeros((len(prods), len(names)))
        for i, c in enumerate(cats):
            agg[i, names.index(c)] = 1.0
        return prod @ agg, names
    if "product" in dims:
        return prod, prods
    return prod.sum(axis=2, keepdims=True), [ALL]


def month_shares(ctx: QuotaContext) -> np.ndarray:
    """``per[r, t]`` of the module docstring: each rep's quota share by horizon month (reps x
    months, rows sum to 1): the target seasonality times the rep's ramp profile (a rep never
    seated in the horizon keeps the seasonality)."""
    season = _season(ctx)
    ramp = ctx.ramp_profile.reindex(ctx.rep_ids).to_numpy()  # n_reps x n_months
    per = season[None, :] * ramp
    zero = per.sum(axis=1) <= 0
    per[zero] = season
    return per / per.sum(axis=1, keepdims=True)


def build_cells(ctx: QuotaContext, dims: tuple[str, ...]) -> Cells:
    """The cell grid for ``dims`` and every rep's shares over it."""
    sc = ctx.scenario
    seg = _segment_shares(ctx)  # n_reps x n_s
    prod = _product_shares(ctx)  # G x n_s x n_p
    gidx = np.array([sc.region_ids.index(r.region) for r in sc.reps])
    per = month_shares(ctx)

    prod, pnames = _product_dimension(ctx, prod, dims)
    ps = seg[:, :, None] * prod[gidx]  # n_reps x n_s x n_p
    if "segment" not in dims:
        ps = ps.sum(axis=1, keepdims=True)
        snames = [ALL]
    else:
        snames = sc.segment_ids
    period = next((d for d in dims if d in PERIODS), None)
    tnames, pmat = _period_keys(ctx, period)
    pt = per @ pmat  # n_reps x n_t
    n_reps = len(ctx.rep_ids)
    shares = ps[:, :, :, None] * pt[:, None, None, :]  # n_reps x n_s x n_p x n_t
    shares = shares.transpose(0, 2, 1, 3).reshape(
        n_reps, -1
    )  # cells ordered product, segment, period
    n_p, n_s, n_t = len(pnames), len(snames), len(tnames)
    keys = pd.DataFrame(
        {
            "product": np.repeat(pnames, n_s * n_t),
            "segment": np.tile(np.repeat(snames, n_t), n_p),
            "period": np.tile(tnames, n_p * n_s),
        }
    )
    return Cells(keys, shares, ctx.rep_ids)


def _largest_remainder_rows(x: np.ndarray, totals: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Row-wise largest remainder: integer rows summing to ``totals``; cells outside ``mask``
    (zero share) are served last."""
    base = np.floor(x + 1e-9)
    short = (totals - base.sum(axis=1)).astype(np.int64)
    frac = np.where(mask, x - base, -1.0)
    order = np.argsort(-frac, axis=1, kind="stable")
    rank = np.empty_like(order)
    rows = np.arange(x.shape[0])[:, None]
    rank[rows, order] = np.arange(x.shape[1])[None, :]
    base += rank < short[:, None]
    return base.astype(np.int64)


def _pins_by_rep(cells: Cells, pins: Sequence[Pin]
                 ) -> tuple[dict[str, list[tuple[int, Pin]]], list[Conflict]]:
    """Each rep's cell pins with the column of their cell; a pin naming no cell of the grid
    is a conflict."""
    index = {tuple(k): j for j, k in enumerate(cells.keys.itertuples(index=False, name=None))}
    by_rep: dict[str, list[tuple[int, Pin]]] = {}
    conflicts: list[Conflict] = []
    for p in pins:
        key = (p.product or ALL, p.segment or ALL, p.period or ALL)
        if key not in index:
            conflicts.append(
                Conflict(
                    p.where(),
                    f"names no cell of this plan (product/segment/period {'/'.join(key)})",
                )
            )
            continue
        by_rep.setdefault(p.id, []).append((index[key], p))
    return by_rep, conflicts


def _pinned_row(shares: np.ndarray, quota: int, pinned: list[tuple[int, Pin]],
                rep: str) -> tuple[np.ndarray, np.ndarray] | Conflict | None:
    """One rep's cells (int currency) with its pinned cells kept and the rest of its ``quota``
    shared by ``shares`` (its row of the grid), and the mask of pinned cells. A conflict when
    the pins exceed the quota, or pin every cell and miss it; None when every cell is pinned
    and they add up (the row is left as rounded)."""
    fixed = np.zeros(shares.shape[0], dtype=bool)
    row = np.zeros(shares.shape[0], dtype=np.int64)
    for j, p in pinned:
        fixed[j] = True
        row[j] = int(p.value)
    rest = int(quota - row.sum())
    free_share = np.where(fixed, 0.0, shares)
    if rest < 0:
        return Conflict(
            f"cell pins of rep {rep}",
            f"add up to {row.sum():,}, {-rest:,} more than its quota {quota:,}",
            -rest,
        )
    if free_share.sum() <= 0:
        free_share = (~fixed).astype(float)
    if free_share.sum() <= 0:
        if rest:
            return Conflict(
                f"cell pins of rep {rep}",
                f"pin every cell but add up to {row.sum():,}, not its quota {quota:,}",
                rest,
            )
        return None
    row[~fixed] = apportion(rest * free_share[~fixed] / free_share.sum(), rest)
    return row, fixed


def _tidy(cells: Cells, vals: np.ndarray, keep: np.ndarray, region: pd.Series) -> pd.DataFrame:
    """The kept cells of ``vals`` (reps x cells) as the tidy quota frame."""
    nrep, ncell = vals.shape
    rep_col = np.repeat(np.asarray(cells.rep_ids, dtype=object), ncell)
    flat = keep.ravel()
    return pd.DataFrame(
        {
            "rep": rep_col[flat],
            "region": np.repeat(region.reindex(cells.rep_ids).to_numpy(dtype=object), ncell)[flat],
            "product": np.tile(cells.keys["product"].to_numpy(dtype=object), nrep)[flat],
            "segment": np.tile(cells.keys["segment"].to_numpy(dtype=object), nrep)[flat],
            "period": np.tile(cells.keys["period"].to_numpy(dtype=object), nrep)[flat],
            "quota": vals.ravel()[flat],
        }
    )


def split_reps(
    cells: Cells, quotas: pd.Series, region: pd.Series, pins: Sequence[Pin]
) -> tuple[pd.DataFrame, list[Conflict]]:
    """The tidy quota frame: ``rep, region, product, segment, period, quota`` (int currency),
    each rep's cells summing to its quota and holding its cell ``pins``; and the conflicts of
    pins that cannot hold (the frame is then not usable)."""
    q = quotas.reindex(cells.rep_ids).to_numpy(dtype=np.int64)
    x = cells.shares * q[:, None]
    keep = cells.shares > 0
    vals = _largest_remainder_rows(x, q, keep)
    conflicts: list[Conflict] = []
    if pins:
        by_rep, conflicts = _pins_by_rep(cells, pins)
        rpos = {r: i for i, r in enumerate(cells.rep_ids)}
        for rep, pinned in by_rep.items():
            i = rpos[rep]
            got = _pinned_row(cells.shares[i], q[i], pinned, rep)
            if isinstance(got, Conflict):
                conflicts.append(got)
            elif got is not None:
                row, fixed = got
                vals[i] = row
                keep[i] = keep[i] | fixed | (row > 0)
    return _tidy(cells, vals, keep, region), conflicts
