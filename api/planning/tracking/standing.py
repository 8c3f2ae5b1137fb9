"""Where we stand at the as-of date, per target: won to date against the pace line, the open
pipeline by stage and age, its coverage of the remaining target, and deals past their stage's
usual age.

- **Target to date**: the target pro rata by working days (Monday to Friday) elapsed in the
  period up to the as-of date; **pace** = won to date / target to date.
- **Open pipeline value**: a deal's amount, or, when the export hides it (a flat export knows
  the amount only at the close), its product's mean won amount before the cut.
- **Coverage** = open pipeline value over the remaining target (target - won to date);
  **weighted** coverage weights each deal by its stage's win rate
  (:func:`stage_win_rates`). A 3x unweighted coverage is a common rule of thumb; the weighted
  one is the honest one.
- **Past usual age**: an open deal older than the 90th percentile of the ages at which deals
  won from its stage (flat exports: age since created, against won deals' cycle; history
  exports: days in the current stage against the days deals that left the stage spent in it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .state import AsOfState

__all__ = ["AGE_BANDS", "open_pipeline", "pipeline_table", "stage_conversion",
           "stage_win_rates"]

AGE_BANDS = [0, 30, 60, 90, 180, np.inf]
"""Age bands (days since created) of the pipeline table."""

WIN_RATE_WINDOW_DAYS = 365
"""Closes in this many days before the cut give the stage win rates."""


def stage_win_rates(state: AsOfState) -> dict[str, float]:
    """Per open stage: the share won among deals closed in the trailing
    ``WIN_RATE_WINDOW_DAYS`` days that reached the stage (flat exports: one stage, won / closed;
    history exports: a deal reached every stage its stage changes list, and its final stage)."""
    d = state.deals
    start = state.cut - pd.Timedelta(days=WIN_RATE_WINDOW_DAYS)
    closed = d[d["outcome"].isin(["won", "lost"]) & d["close_date"].ge(start)]
    if closed.empty:
        closed = d[d["outcome"].isin(["won", "lost"])]
    overall = float(closed["outcome"].eq("won").mean()) if len(closed) else 0.0
    stages = list(state.known.mapping.scenario_stages)
    tr = state.known.transitions
    if state.known.mapping.kind == "flat" or tr is None or tr.empty:
        return dict.fromkeys(stages, overall)
    reached = tr.groupby("stage")["id"].apply(set).to_dict()
    out = {}
    for s in stages:
        ids = reached.get(s, set()) | set(closed.loc[closed["stage"].eq(s), "id"])
        sel = closed[closed["id"].isin(ids)]
        out[s] = float(sel["outcome"].eq("won").mean()) if len(sel) >= 5 else overall
    return out


def open_pipeline(state: AsOfState) -> pd.DataFrame:
    """The open deals at the cut: ``id``, ``cell``, ``rep``, ``region``, ``product``,
    ``segment``, ``stage``, ``age_days``, ``value`` (amount or product mean), ``value_known``,
    ``win_rate`` (its stage's), ``stage_age_days``, ``usual_age_days``, ``aged``."""
    d = state.deals
    op = d[d["outcome"].eq("open")].copy()
    won = d[d["outcome"].eq("won") & d["amount"].gt(0)]
    mean_by_product = won.groupby("product")["amount"].mean()
    fallback = float(won["amount"].mean()) if len(won) else 0.0
    op["value_known"] = op["amount"].gt(0)
    op["value"] = op["amount"].where(op["value_known"],
                                     op["product"].map(mean_by_product).fillna(fallback))
    rates = stage_win_rates(state)
    stages = list(state.known.mapping.scenario_stages)
    op["stage"] = op["stage"].where(op["stage"].isin(stages), stages[0])
    op["win_rate"] = op["stage"].map(rates).fillna(0.0)
    op["stage_age_days"], op["usual_age_days"] = _stage_ages(state, op)
    op["aged"] = op["stage_age_days"] > op["usual_age_days"]
    return op[["id", "cell", "rep", "region", "product", "segment", "stage", "age_days",
               "value", "value_known", "win_rate", "stage_age_days", "usual_age_days", "aged"]]


def _stage_ages(state: AsOfState, op: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    d = state.deals
    tr = state.known.transitions
    if state.known.mapping.kind == "flat" or tr is None or tr.empty:
        won = d[d["outcome"].eq("won") & d["close_date"].notna()]
        ages = (won["close_date"] - won["created_date"]).dt.days.dropna()
        usual = float(np.percentile(ages, 90)) if len(ages) else np.inf
        return op["age_days"].astype(float), pd.Series(usual, index=op.index)
    tr = tr.sort_values(["id", "date"])
    nxt = tr.groupby("id")["date"].shift(-1)
    spent = (nxt - tr["date"]).dt.days
    usual = tr.assign(spent=spent).dropna(subset=["spent"]).groupby("stage")["spent"].quantile(
        0.9)
    entered = tr.groupby("id")["date"].last()
    stage_age = (state.cut - op["id"].map(entered)).dt.days.fillna(op["age_days"]).astype(float)
    return stage_age, op["stage"].map(usual).fillna(np.inf).astype(float)


def pipeline_table(state: AsOfState, op: pd.DataFrame, entities: list[tuple[str, str]]
                   ) -> pd.DataFrame:
    """The open pipeline by stage and age band for each (level, id): ``level, id, stage,
    age_band, deals, value, weighted_value, aged_deals``."""
    bands = pd.cut(op["age_days"], AGE_BANDS, right=True, include_lowest=True,
                   labels=["0-30", "31-60", "61-90", "91-180", ">180"])
    op = op.assign(age_band=bands.astype(str), weighted=op["value"] * op["win_rate"])
    rows = []
    for level, ident in entities:
        sel = op if level == "company" else op[op[level].eq(ident)]
        g = sel.groupby(["stage", "age_band"], sort=True).agg(
            deals=("id", "size"), value=("value", "sum"), weighted_value=("weighted", "sum"),
            aged_deals=("aged", "sum")).reset_index()
        rows.append(g.assign(level=level, id=ident))
    cols = ["level", "id", "stage", "age_band", "deals", "value", "weighted_value", "aged_deals"]
    return pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)


def stage_conversion(state: AsOfState) -> pd.DataFrame:
    """Per deal and open stage it left in the trailing ``WIN_RATE_WINDOW_DAYS`` days (history
    exports): ``id``, ``cell``, ``stage``, ``advanced`` (True: it moved to a later stage or was
    won; False: lost from it). Deals still in a stage are not counted (censored). Flat exports:
    one stage, advanced = won, over the deals closed in the window."""
    d = state.deals
    start = state.cut - pd.Timedelta(days=WIN_RATE_WINDOW_DAYS)
    tr = state.known.transitions
    stages = list(state.known.mapping.scenario_stages)
    if state.known.mapping.kind == "flat" or tr is None or tr.empty:
        closed = d[d["outcome"].isin(["won", "lost"]) & d["close_date"].ge(start)]
        return pd.DataFrame({"id": closed["id"], "cell": closed["cell"], "stage": stages[0],
                             "advanced": closed["outcome"].eq("won")})
    tr = tr.sort_values(["id", "date"], kind="stable")
    nxt = tr.groupby("id")["stage"].shift(-1)
    left = tr.assign(next=nxt, left_on=tr.groupby("id")["date"].shift(-1))
    left = left[left["next"].notna() & left["stage"].isin(stages)
                & left["left_on"].ge(start)]
    order = {s: i for i, s in enumerate(stages)}
    adv = left["next"].eq("won") | (left["next"].map(order).fillna(-1)
                                     > left["stage"].map(order))
    cell = left["id"].map(d.set_index("id")["cell"])
    out = pd.DataFrame({"id": left["id"], "cell": cell, "stage": left["stage"],
                        "advanced": adv & left["next"].ne("lost")})
    return out[out["cell"].notna()].astype({"cell": np.int64})
