"""The scenario's deal sizes: per product, a lognormal or gamma fit to the won amounts (the
pooled fit for a product with fewer than ``MIN_PRODUCT`` amounts), and per product x segment
when a segment has ``MIN_SEGMENT`` amounts or more."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from .dimensions import Dimensions
from .errors import CalibrationError
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


def _positive_amounts(won: pd.DataFrame, rows: pd.Series | None = None) -> pd.Series:
    a = (won["amount"] if rows is None else won.loc[rows, "amount"]).dropna()
    return a[a > 0]


def deal_sizes(dims: Dimensions) -> DealSizes:
    """Fit the won deals' positive amounts per product of ``dims`` (and per segment when there
    are several); raise with fewer than 2 such amounts in all."""
    deals, products, segments = dims.deals, dims.products, dims.segments
    won = deals[deals["outcome"].eq("won")]
    pooled = _positive_amounts(won)
    if len(pooled) < 2:
        raise CalibrationError("fewer than 2 won deals with a positive amount: deal sizes "
                               "cannot be estimated")
    out = DealSizes({}, fit_deal_size(pooled.to_numpy()), [])
    for p in products:
        a = _positive_amounts(won, won["product"].eq(p))
        if len(a) >= MIN_PRODUCT:
            f = fit_deal_size(a.to_numpy())
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
            aa = _positive_amounts(won, won["product"].eq(product) & won["segment"].eq(s))
            if len(aa) >= MIN_SEGMENT:
                by_seg[s] = fit_deal_size(aa.to_numpy())
    return by_seg
