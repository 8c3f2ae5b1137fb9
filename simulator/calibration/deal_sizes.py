"""The scenario's deal sizes: per product, a lognormal or gamma fit to the won amounts (the
pooled fit for a product with fewer than ``MIN_PRODUCT`` amounts), and per product x segment
when a segment has ``MIN_SEGMENT`` amounts or more. A fit whose mean misses the data's mean
(a heavy or capped tail) gives way to the empirical distribution, and free (zero) deals are a
point mass at 0 (:func:`~.estimators.fit_deal_size`); without amounts every won deal books 1."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .dimensions import Dimensions
from .estimators import fit_deal_size

__all__ = ["MIN_PRODUCT", "MIN_SEGMENT", "DealSizes", "deal_sizes"]

MIN_PRODUCT = 5
MIN_SEGMENT = 30


@dataclass
class DealSizes:
    """``by_product``: product -> ``{"all": fit, "segment:<id>": fit, ...}`` (the estimates;
    amounts in the export's currency); ``pooled``: the fit over every product; ``documents``:
    the scenario's product documents (deal size, and by segment)."""

    by_product: dict[str, Any]
    pooled: dict[str, Any]
    documents: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)


def _size_notes(fit: dict[str, Any], what: str, notes: list[str]) -> None:
    """The tail check's and the free zeros' notes of one fit, for ``what``."""
    for k in ("tail_check", "zero_note"):
        if fit.get(k):
            notes.append(f"deal size of {what}: {fit[k]}")


def _without_amounts(won: pd.DataFrame, products: list[str], n_positive: int) -> DealSizes:
    """Deal sizes when fewer than 2 won deals have a positive amount: a fixed size of 1 per won
    deal (free zeros only: 0), noted."""
    zeros = _zeros(won)
    value = 0.0 if zeros and not n_positive else 1.0
    note = (f"every won deal's amount is 0 ({zeros} free deals): deal size 0" if value == 0.0
            else NO_AMOUNTS + f" ({n_positive} positive amount(s))")
    fit = {"dist": {"dist": "fixed", "value": value}, "n": n_positive, "mean": value,
           "mean_ci": [value, value], "cv": 0.0, "family": "fixed", "note": note}
    return DealSizes({p: {"all": fit} for p in products}, fit,
                     [{"id": p, "deal_size": fit["dist"], "deal_size_by_segment": {}}
                      for p in products], [note])


def _positive_amounts(won: pd.DataFrame, rows: pd.Series | None = None) -> pd.Series:
    a = (won["amount"] if rows is None else won.loc[rows, "amount"]).dropna()
    return a[a > 0]


def _zeros(won: pd.DataFrame, rows: pd.Series | None = None) -> int:
    """Won deals of amount 0 kept by the cleaning (the mapping says zero means free)."""
    a = won["amount"] if rows is None else won.loc[rows, "amount"]
    return int(a.eq(0).sum())


NO_AMOUNTS = ("no won deal has a positive amount: every won deal books 1 (bookings count won "
              "deals, not currency)")


def deal_sizes(dims: Dimensions) -> DealSizes:
    """Fit the won deals' positive amounts per product of ``dims`` (and per segment when there
    are several); raise with fewer than 2 such amounts in all."""
    deals, products, segments = dims.deals, dims.products, dims.segments
    won = deals[deals["outcome"].eq("won")]
    pooled = _positive_amounts(won)
    if len(pooled) < 2:
        return _without_amounts(won, products, len(pooled))
    out = DealSizes({}, fit_deal_size(pooled.to_numpy(), _zeros(won)), [])
    _size_notes(out.pooled, "all products", out.notes)
    for p in products:
        rows = won["product"].eq(p)
        a = _positive_amounts(won, rows)
        if len(a) >= MIN_PRODUCT:
            f = fit_deal_size(a.to_numpy(), _zeros(won, rows))
            _size_notes(f, f"product {p}", out.notes)
        else:
            f = dict(out.pooled, note=f"only {len(a)} won amounts: the pooled fit is used")
        by_seg = _segment_sizes(won, p, segments)
        out.by_product[p] = {"all": f, **{f"segment:{s}": v for s, v in by_seg.items()}}
        out.documents.append({"id": p, "deal_size": f["dist"],
                              "deal_size_by_segment": {s: v["dist"]
                                                       for s, v in by_seg.items()}})
    return out


def _segment_sizes(won: pd.DataFrame, product: str, segments: list[str]) -> dict[str, Any]:
    """Per segment with at least ``MIN_SEGMENT`` won amounts of ``product``: its fit (none
    with one segment)."""
    by_seg = {}
    if len(segments) > 1:
        for s in segments:
            rows = won["product"].eq(product) & won["segment"].eq(s)
            aa = _positive_amounts(won, rows)
            if len(aa) >= MIN_SEGMENT:
                by_seg[s] = fit_deal_size(aa.to_numpy(), _zeros(won, rows))
    return by_seg
