"""Generated CRM histories with known parameters, in the shapes real exports come in.

A :class:`HistoryShape` says how leads arrive (per lead source: leads per month, annual growth
and win probability), how long won and lost deals take, how amounts look and what the export
leaves out. :func:`generate_history` draws one history from it and writes it as a flat CSV
export with the :class:`~salesplan.scenarios.crm.mapping.HistoryMapping` that reads it. The
shapes of ``docs/calibration.md`` ("Shapes of export"):

- ``won_only``: a marketing funnel that records only wins (a lead never converted stays open,
  without a close date; with ``undated_losses``, one given up by the export date is marked
  lost, still without a date);
- ``loss_age``: every loss is recorded at one age (a CRM auto-close rule, e.g. 180 days);
- ``zero_share``: that share of won deals carries amount 0 (the amount was never filled in);
- ``leads_end``: the export's leads stop at that date while closes go on to ``as_of``;
- per-source win probabilities (``sources``) and owners known only for won deals
  (``owner_won_only``).

Randomness: one ``numpy.random.Generator`` from ``seed``, drawn source by source in sorted
order; the same shape and seed write the same file. Durations are whole days (a deal closes
on ``created + ceil(duration)``); dates run from ``start``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salesplan.scenarios.crm.mapping import HistoryMapping

__all__ = ["GeneratedHistory", "HistoryShape", "SourceTruth", "generate_history"]


@dataclass(frozen=True)
class SourceTruth:
    """One lead source: ``leads_per_month`` at ``start`` (leads per 30.44 days),
    ``annual_growth`` (a rate ``(1 + g) ** years``), ``p_win`` (probability that a lead is
    won), ``region``, ``segment`` and ``leads_end`` (its export's last lead date; None: the
    shape's)."""

    leads_per_month: float
    p_win: float
    annual_growth: float = 0.0
    region: str = "North"
    segment: str = ""
    leads_end: str | None = None


@dataclass(frozen=True)
class HistoryShape:
    """The parameters of a generated history (module docstring). Days are calendar days;
    amounts are currency. Won amounts are a Pareto of shape ``amount_tail`` scaled to mean
    ``amount_mean`` when ``amount_tail`` is set, else lognormal with ``amount_mean`` and
    ``amount_cv``; either capped at ``amount_cap`` when set. ``reps``: reps per region."""

    sources: dict[str, SourceTruth]
    start: str = "2024-01-01"
    months: int = 24
    as_of: str | None = None
    leads_end: str | None = None
    won_mean: float = 30.0
    won_cv: float = 0.6
    lost_mean: float = 45.0
    lost_cv: float = 0.8
    loss_age: int | None = None
    won_only: bool = False
    undated_losses: bool = False
    amount_mean: float = 5000.0
    amount_cv: float = 0.5
    amount_tail: float | None = None
    amount_cap: float | None = None
    zero_share: float = 0.0
    reps: int = 3
    owner_won_only: bool = False
    source_column: bool = True

    @property
    def end(self) -> pd.Timestamp:
        """The export date: ``as_of``, else the end of the ``months`` of leads."""
        if self.as_of is not None:
            return pd.Timestamp(self.as_of)
        return pd.Timestamp(self.start) + pd.DateOffset(months=self.months) - pd.Timedelta(days=1)


@dataclass
class GeneratedHistory:
    """A generated export: ``path`` (CSV), ``mapping`` that reads it, ``deals`` (the truth,
    with each deal's true outcome even where the export hides it) and ``truth`` (the shape's
    parameters, JSON-ready)."""

    path: Path
    mapping: HistoryMapping
    deals: pd.DataFrame
    truth: dict[str, Any] = field(default_factory=dict)


def _lognormal(rng: np.random.Generator, mean: float, cv: float, n: int) -> np.ndarray:
    s2 = math.log1p(cv * cv)
    return rng.lognormal(math.log(mean) - s2 / 2, math.sqrt(s2), n)


def _arrivals(rng: np.random.Generator, src: SourceTruth, start: pd.Timestamp,
              stop: pd.Timestamp) -> np.ndarray:
    """Arrival days (from ``start``) of a Poisson process with rate
    ``leads_per_month / 30.44 x (1 + g) ** (day / 365.25)`` before ``stop`` (thinning)."""
    days = int((stop - start).days)
    top = src.leads_per_month / (365.25 / 12) * max(1.0, (1 + src.annual_growth)
                                                     ** (days / 365.25))
    n = rng.poisson(top * days)
    t = np.sort(rng.uniform(0, days, n))
    rate = src.leads_per_month / (365.25 / 12) * (1 + src.annual_growth) ** (t / 365.25)
    keep = rng.uniform(0, 1, n) < rate / top
    return np.floor(t[keep])


def generate_history(shape: HistoryShape, seed: int, folder: str | Path,
                     name: str = "history") -> GeneratedHistory:
    """Draw a history of ``shape`` with ``seed`` and write ``folder/<name>.csv`` (columns
    ``id, created, closed, stage, amount, owner, region, segment, source``; stages ``Won``,
    ``Lost`` and ``Open``)."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp(shape.start)
    end = shape.end
    leads_stop = min(pd.Timestamp(shape.leads_end) + pd.Timedelta(days=1)
                     if shape.leads_end else end + pd.Timedelta(days=1),
                     start + pd.DateOffset(months=shape.months))
    rows = []
    for name_s in sorted(shape.sources):
        src = shape.sources[name_s]
        stop = leads_stop if src.leads_end is None else min(
            leads_stop, pd.Timestamp(src.leads_end) + pd.Timedelta(days=1))
        days = _arrivals(rng, src, start, stop)
        n = days.size
        won = rng.uniform(0, 1, n) < src.p_win
        d_won = np.ceil(_lognormal(rng, shape.won_mean, shape.won_cv, n))
        if shape.loss_age is not None:
            d_won = np.minimum(d_won, shape.loss_age - 1)
            d_lost = np.full(n, float(shape.loss_age))
        else:
            d_lost = np.ceil(_lognormal(rng, shape.lost_mean, shape.lost_cv, n))
        if shape.amount_tail is not None:
            a = shape.amount_tail
            scale = shape.amount_mean * (a - 1) / a
            amount = scale * (1 + rng.pareto(a, n))
        else:
            amount = _lognormal(rng, shape.amount_mean, shape.amount_cv, n)
        if shape.amount_cap is not None:
            amount = np.minimum(amount, shape.amount_cap)
        zero = rng.uniform(0, 1, n) < shape.zero_share
        owner = rng.integers(0, shape.reps, n)
        for i in range(n):
            created = start + pd.Timedelta(days=float(days[i]))
            dur = d_won[i] if won[i] else d_lost[i]
            closed = created + pd.Timedelta(days=float(dur))
            rows.append({"source": name_s, "region": src.region, "segment": src.segment,
                         "created": created, "true_close": closed,
                         "true_outcome": "won" if won[i] else "lost",
                         "amount_true": float(np.round(amount[i], 2)), "zero": bool(zero[i]),
                         "owner": f"{src.region}-{owner[i] + 1}"})
    d = pd.DataFrame(rows).sort_values(["created", "source"], kind="stable")
    d.insert(0, "id", [f"D{i:06d}" for i in range(1, len(d) + 1)])
    closed = d["true_close"] <= end
    seen = closed & d["true_outcome"].eq("won") if shape.won_only else closed
    stage = np.where(seen, np.where(d["true_outcome"].eq("won"), "Won", "Lost"), "Open")
    if shape.won_only and shape.undated_losses:  # given up by the export date, no date kept
        stage = np.where(closed & d["true_outcome"].eq("lost"), "Lost", stage)
    amount = np.where(d["zero"], 0.0, d["amount_true"])
    export = pd.DataFrame({
        "id": d["id"], "created": d["created"].dt.strftime("%Y-%m-%d"),
        "closed": d["true_close"].dt.strftime("%Y-%m-%d").where(seen, ""),
        "stage": stage,
        "amount": np.where(stage == "Won", amount, np.nan),
        "owner": d["owner"].where(np.logical_or(not shape.owner_won_only, stage == "Won"), ""),
        "region": d["region"], "segment": d["segment"], "source": d["source"]})
    if not shape.source_column:
        export = export.drop(columns="source")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    export.to_csv(path, index=False)
    columns = {"id": "id", "created": "created", "close": "closed", "stage": "stage",
               "amount": "amount", "owner": "owner", "region": "region"}
    if any(s.segment for s in shape.sources.values()):
        columns["segment"] = "segment"
    if shape.source_column:
        columns["source"] = "source"
    mapping = HistoryMapping(name=name, kind="flat", columns=columns,
                             date_format="%Y-%m-%d",
                             outcomes={"Won": "won", "Lost": "lost"}, stages=["Open"],
                             stage_names=["open"])
    truth = {"sources": {k: vars(v) for k, v in sorted(shape.sources.items())},
             "won_mean_days": shape.won_mean, "won_cv": shape.won_cv,
             "loss_age": shape.loss_age, "zero_share": shape.zero_share,
             "amount_mean": shape.amount_mean, "as_of": str(end.date()),
             "leads_end": shape.leads_end}
    d = d.assign(stage=stage)
    return GeneratedHistory(path=path, mapping=mapping, deals=d.reset_index(drop=True),
                            truth=truth)
