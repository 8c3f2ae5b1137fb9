"""The scenario's reps: each rep's region, productivity (empirical-Bayes win-rate multiplier,
:func:`~.estimators.rep_productivity`) and capacity."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .cut import CutHistory
from .dimensions import ALL, Dimensions
from .documents import rounded
from .errors import CalibrationError
from .estimators import rep_productivity

__all__ = ["MAX_CAPACITY", "MIN_CAPACITY", "RepEstimates", "open_deal_capacity",
           "rep_estimates"]

MIN_CAPACITY = 50
MAX_CAPACITY = 100_000

REP_COLUMNS = ["rep", "closed", "won", "raw_win_rate", "win_rate", "productivity"]


@dataclass
class RepEstimates:
    """``frame``: per rep, the productivity estimate (:func:`~.estimators.rep_productivity`
    columns); ``prior``: its prior (or a note); ``region_of``: rep -> region; ``capacity``:
    open deals a rep can hold (the same for every rep); ``documents``: the scenario's rep
    documents, sorted by id."""

    frame: pd.DataFrame
    prior: dict[str, Any]
    region_of: dict[str, Any]
    capacity: int
    documents: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)

    @property
    def in_region_all(self) -> bool:
        """Whether some rep has no region of its own (the scenario then needs region ``all``)."""
        return any(r["region"] == ALL for r in self.documents)


def rep_estimates(cut: CutHistory, dims: Dimensions) -> RepEstimates:
    """Every rep of the team table (else every owner of the deals, in the region where most of
    their deals are) with its productivity from the closed deals and the capacity rule of
    :func:`open_deal_capacity`; a rep without closed deals has productivity 1."""
    deals, teams = dims.deals, dims.teams
    closed = deals[deals["outcome"].isin(["won", "lost"]) & deals["owner"].notna()]
    notes: list[str] = []
    biased = owners_by_outcome(deals)
    if biased:
        notes.append(biased)
        closed = closed.iloc[:0]
    elif len(closed) and closed["outcome"].nunique() < 2:
        notes.append(f"every closed deal with an owner is {closed['outcome'].iat[0]}: no win "
                     "rate to compare the reps by, productivity 1 for every rep")
        closed = closed.iloc[:0]
    if len(closed):
        frame, prior = rep_productivity(pd.DataFrame({
            "owner": closed["owner"], "won": closed["outcome"].eq("won"),
            "days": (closed["close_date"] - closed["created_date"]).dt.days.astype(float)}))
    else:
        frame = pd.DataFrame(columns=REP_COLUMNS)
        prior = {"note": notes[0] if notes else
                 "no closed deal with an owner: productivity 1 for every rep"}
    prod = dict(zip(frame["rep"], frame["productivity"], strict=True))
    bad = sorted(r for r, v in prod.items() if not (math.isfinite(v) and v > 0))
    if bad:  # pragma: no cover - a rep estimate the schema rejects: a calibration bug
        raise CalibrationError(f"rep productivity is not a positive number for {bad}: "
                               f"{[prod[r] for r in bad]}")
    if teams is not None:
        region_of = dict(zip(teams["rep"], teams["region"], strict=True))
    else:
        region_of = (deals.dropna(subset=["owner"]).groupby("owner")["region"]
                     .agg(lambda s: s.mode().iat[0] if s.notna().any() else ALL).to_dict())
    capacity = open_deal_capacity(deals, cut.cut)
    docs = [{"id": r, "region": region_of[r] if isinstance(region_of[r], str) else ALL,
             "capacity": capacity, "productivity": rounded(float(prod.get(r, 1.0)), 4)}
            for r in sorted(region_of)]
    return RepEstimates(frame=frame, prior=prior, region_of=region_of, capacity=capacity,
                        documents=docs, notes=notes)


def owners_by_outcome(deals: pd.DataFrame) -> str | None:
    """Why the reps' win rates cannot be estimated when the export knows owners mostly for won
    deals (e.g. an owner column filled in at the win): the share of lost deals with an owner
    below half the won deals' share. None when it is not so."""
    won, lost = deals["outcome"].eq("won"), deals["outcome"].eq("lost")
    if not (won.any() and lost.any()):
        return None
    has = deals["owner"].notna()
    share_w, share_l = float(has[won].mean()), float(has[lost].mean())
    if share_w > 0 and share_l < 0.5 * share_w:
        return (f"owners are known for {share_w:.0%} of won deals but {share_l:.0%} of lost "
                "deals (known only for won deals): the reps' win rates would be biased, so "
                "every rep has productivity 1 (not estimated)")
    return None


def open_deal_capacity(deals: pd.DataFrame, cut: pd.Timestamp) -> int:
    """3 x the most open deals any rep held at a month start before the cut, within
    ``MIN_CAPACITY``..``MAX_CAPACITY``: CRM history shows no queueing, so capacity must not
    bind."""
    months = pd.date_range(deals["created_date"].min(), cut, freq="MS")
    best = 0
    end = deals["close_date"].fillna(cut + pd.Timedelta(days=1))
    for ms in months:
        open_ = deals[(deals["created_date"] <= ms) & (end > ms)]
        sizes = open_.dropna(subset=["owner"]).groupby("owner").size()
        if len(sizes):
            best = max(best, int(sizes.max()))
    return int(min(max(MIN_CAPACITY, 3 * best), MAX_CAPACITY))
