"""Early warnings: the targets at risk, ranked by the expected shortfall (the mean gap when the
target is missed, times the probability of missing it), each with the reasons a sales
director would check, every one backed by a comparison with peers (:mod:`.peers`).

A reason is listed when the entity is worse than its peers on the measure and either the 95%
interval makes that sure or the point estimate is material (``MATERIAL_POINTS`` percentage
points for a share, ``MATERIAL_RATIO`` for a ratio); the comparison says which. Reasons: low
coverage, a stage whose conversion is below the peers', slow velocity, aged deals, few new
opportunities. Columns of the risk list: ``rank, period, level, id, target, p50, p_hit,
p_miss, gap`` (mean shortfall when missed), ``score`` (gap x P(miss), currency), ``status``,
``why`` (the reasons, "; "-joined) and ``sure_reasons`` (how many are sure).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .peers import Comparison, proportion_gap, rate_ratio, velocity_ratio
from .standing import WIN_RATE_WINDOW_DAYS, stage_conversion

__all__ = ["RISK_COLUMNS", "reasons", "risk_list", "weakest_stage"]

RISK_COLUMNS = ["rank", "period", "level", "id", "target", "p50", "p_hit", "p_miss", "gap",
                "score", "status", "why", "sure_reasons"]
NEW_DEAL_WINDOW_DAYS = 91
MATERIAL_POINTS = 0.03
MATERIAL_RATIO = 0.10


def risk_list(f) -> pd.DataFrame:
    """The risk list of a :class:`~.track.Forecast` (module docstring): every target with a
    probability of missing above 0, ranked by score."""
    rows = []
    for j, r in f.table.iterrows():
        x = f.landing[:, j]
        miss = x < r["target"] - 1e-9
        if not miss.any():
            continue
        gap = float((r["target"] - x[miss]).mean())
        why = reasons(f, r["level"], r["id"])
        rows.append({"period": r["period"], "level": r["level"], "id": r["id"],
                     "target": r["target"], "p50": r["p50"], "p_hit": r["p_hit"],
                     "p_miss": float(miss.mean()), "gap": gap,
                     "score": gap * float(miss.mean()), "status": r["status"],
                     "why": "; ".join(c.text(fmt) for c, fmt in why) or "no peer comparison "
                     "points to a cause (the gap is the target's size)",
                     "sure_reasons": sum(c.sure for c, _ in why), "reasons": why})
    if not rows:
        return pd.DataFrame(columns=[*RISK_COLUMNS, "reasons"])
    out = pd.DataFrame(rows).sort_values("score", ascending=False, kind="stable")
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out.reset_index(drop=True)


def _peers(state, level: str, ident: str) -> tuple[np.ndarray, np.ndarray]:
    """Masks over cells: the entity's and its peers'."""
    cells = state.cells
    mine = state.members(level, ident)
    if level == "rep":
        region = cells.loc[mine, "region"].iloc[0] if mine.any() else ""
        peers = (cells["rep"] != ident) & (cells["rep"] != "")
        if region:
            peers &= cells["region"] == region
        return mine, peers.to_numpy()
    if level == "company":
        return mine, np.zeros_like(mine)
    return mine, ((cells[level] != ident) & (cells[level] != "")).to_numpy()


def reasons(f, level: str, ident: str) -> list[tuple[Comparison, str]]:
    """The comparisons in which the entity looks worse than its peers (with their format)."""
    state = f.state
    mine, peers = _peers(state, level, ident)
    if not peers.any():
        return []
    d = state.deals
    in_mine, in_peers = mine[d["cell"].to_numpy()], peers[d["cell"].to_numpy()]
    start = state.cut - pd.Timedelta(days=WIN_RATE_WINDOW_DAYS)
    closed = d["outcome"].isin(["won", "lost"]) & d["close_date"].ge(start)
    won = d["outcome"].eq("won")
    out: list[tuple[Comparison, str]] = []
    weak = weakest_stage(state, mine, peers)
    if weak is not None and (weak.sure or weak.diff <= -MATERIAL_POINTS):
        out.append((weak, "{:.0%}"))
    wins = closed & won & d["close_date"].notna()
    age = (d["close_date"] - d["created_date"]).dt.days.to_numpy(float)
    c = velocity_ratio(age[(wins & in_mine).to_numpy()], age[(wins & in_peers).to_numpy()])
    if c and (c.sure or c.diff >= 1 + MATERIAL_RATIO):
        out.append((c, "{:.0f}"))
    op = f.pipeline
    om, opp = mine[op["cell"].to_numpy()], peers[op["cell"].to_numpy()]
    c = proportion_gap("open deals past usual age", int(op["aged"][om].sum()), int(om.sum()),
                       int(op["aged"][opp].sum()), int(opp.sum()), low_is_bad=False)
    if c and c.diff > 0 and (c.sure or c.diff >= MATERIAL_POINTS):
        out.append((c, "{:.0%}"))
    recent = d["created_date"].ge(state.cut - pd.Timedelta(days=NEW_DEAL_WINDOW_DAYS))
    n_peer_units = max(_units(state, peers, level), 1)
    c = rate_ratio("new opportunities per day", int((recent & in_mine).sum()),
                   NEW_DEAL_WINDOW_DAYS, int((recent & in_peers).sum()),
                   NEW_DEAL_WINDOW_DAYS * n_peer_units)
    if c and (c.sure or c.diff <= 1 - MATERIAL_RATIO):
        out.append((c, "{:.2f}"))
    cov = _coverage_rank(f, level, ident)
    if cov is not None:
        out.append(cov)
    return out


def weakest_stage(state, mine: np.ndarray, peers: np.ndarray) -> Comparison | None:
    """The stage whose conversion (advanced / left, trailing year; flat exports: won / closed)
    is furthest below the peers', if any is below."""
    conv = stage_conversion(state)
    worst = None
    for stage in state.known.mapping.scenario_stages:
        g = conv[conv["stage"] == stage]
        m, p = mine[g["cell"].to_numpy()], peers[g["cell"].to_numpy()]
        name = ("win rate" if len(state.known.mapping.scenario_stages) == 1 or state.flat
                else f"conversion of stage {stage}")
        c = proportion_gap(name, int(g["advanced"][m].sum()), int(m.sum()),
                           int(g["advanced"][p].sum()), int(p.sum()), low_is_bad=True)
        if c is not None and c.diff < 0 and (worst is None or c.diff < worst.diff):
            worst = c
    return worst


def _units(state, mask: np.ndarray, level: str) -> int:
    col = "rep" if level in ("rep", "company") else level
    return int(state.cells.loc[mask, col].nunique())


def _coverage_rank(f, level: str, ident: str) -> tuple[Comparison, str] | None:
    """Weighted coverage against the peers' targets of the same period: listed when below
    their median and below 1 (the weighted pipeline does not cover the remaining target)."""
    t = f.table
    me = t[(t["level"] == level) & (t["id"] == ident)]
    if me.empty:
        return None
    r = me.iloc[0]
    peers = t[(t["level"] == level) & (t["id"] != ident) & (t["period"] == r["period"])]
    if level == "rep":
        region = f.state.cells.loc[f.state.members("rep", ident), "region"].iloc[0]
        same = {i for i in peers["id"] if region and
                (f.state.cells.loc[f.state.members("rep", i), "region"] == region).any()}
        peers = peers[peers["id"].isin(same)] if same else peers
    cov, pc = r["coverage_weighted"], peers["coverage_weighted"].dropna()
    if not np.isfinite(cov) or pc.empty or cov >= 1 or cov >= pc.median():
        return None
    below = float((pc < cov).mean())
    return (Comparison("weighted coverage", float(cov), float(pc.median()),
                       float(cov - pc.median()), (float(pc.min()), float(pc.max())),
                       bool((pc > cov).all()), len(pc) + 1, "peers' range"),
            "{:.2f}x") if below <= 0.5 else None
