"""Actions that close the gap: candidate actions for the riskiest targets, each evaluated as a
paired what-if on the same random numbers as the forecast (:mod:`.landing`), ranked by the
lift in P(hit) of the target it is meant for, with the paired 95% interval
(:func:`salesplan.stats.paired_difference` on the per-replication hit indicators).

Candidates and their assumptions (stated in ``assumption``):

- **help the weakest stage** (a rep whose conversion at some stage is below its region peers',
  :func:`~.risks.weakest_stage`; flat exports: the win rate): coaching that brings it to the
  peers' from the as-of date on, on the rep's open deals at or before that stage and its new
  ones (each won probability times peers' / rep's conversion; at most 1);
- **add leads** (a region): ``LEADS_UPLIFT`` more new opportunities for every rep of the region
  from the as-of date on (arrival rate times 1 + uplift);
- **move stalled deals** (a rep with deals past their stage's usual age): they go to the peer
  of the region with the best win rate, whose rate they then close at; evaluated on the
  region's target (the rep's own target loses them);
- **pull forward** (any target of a period still open): deals that would be won in the
  ``PULL_DAYS`` days after the period are closed inside it with probability ``PULL_SHARE``
  (an end-of-period incentive);
- **hire**: a rep hired at the as-of date ramps for ``RAMP_MONTHS`` months and its first deals
  take the median won cycle: when that is longer than what is left of the period, it is too
  late, and the row says so with no lift (it is not simulated).

Columns of ``actions.csv``: ``rank, action, level, id, period, detail, assumption,
p_hit_base, p_hit_variant, lift, lift_lo, lift_hi, company_lift, company_lift_lo,
company_lift_hi, landing_lift`` (mean landing change of the target, currency).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesplan.stats import paired_difference

from .forecast import landing_samples
from .landing import Adjustments, simulate_landing
from .risks import weakest_stage
from .standing import WIN_RATE_WINDOW_DAYS

__all__ = ["ACTION_COLUMNS", "evaluate_actions"]

ACTION_COLUMNS = ["rank", "action", "level", "id", "period", "detail", "assumption",
                  "p_hit_base", "p_hit_variant", "lift", "lift_lo", "lift_hi", "company_lift",
                  "company_lift_lo", "company_lift_hi", "landing_lift"]
LEADS_UPLIFT = 0.2
PULL_DAYS = 92
PULL_SHARE = 0.2
RAMP_MONTHS = 3
MIN_FACTOR = 1.02   # a rep within 2% of its peers' win rate is not coached


def evaluate_actions(f, risks: pd.DataFrame, *, max_actions: int = 12) -> pd.DataFrame:
    """Candidates for the riskiest targets (at most ``max_actions`` simulated), evaluated and
    ranked (module docstring)."""
    cands: list[dict] = []
    for r in risks.itertuples():
        cands += _candidates(f, r)
        if len(cands) >= max_actions:
            break
    # an action is judged on the target it aims at: none, no row
    cands = [c for c in cands if _row_index(f, c["level"], c["id"], c["period"]) is not None]
    rows = [_evaluate(f, c) for c in cands[:max_actions]]
    rows += _hire_rows(f, risks)
    if not rows:
        return pd.DataFrame(columns=ACTION_COLUMNS)
    out = pd.DataFrame(rows).sort_values("lift", ascending=False, kind="stable")
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out[ACTION_COLUMNS].reset_index(drop=True)


def _row_index(f, level: str, ident: str, period: str) -> int | None:
    t = f.table
    hit = t.index[(t["level"] == level) & (t["id"] == ident) & (t["period"] == period)]
    return int(hit[0]) if len(hit) else None


def _win_rate(state, mask_cells: np.ndarray) -> tuple[int, int]:
    d = state.deals
    start = state.cut - pd.Timedelta(days=WIN_RATE_WINDOW_DAYS)
    sel = mask_cells[d["cell"].to_numpy()] & d["outcome"].isin(["won", "lost"]) \
        & d["close_date"].ge(start)
    return int((sel & d["outcome"].eq("won")).sum()), int(sel.sum())


def _region_peers(state, rep: str) -> tuple[str, list[str]]:
    cells = state.cells
    region = cells.loc[cells["rep"] == rep, "region"]
    region = region.iloc[0] if len(region) else ""
    peers = sorted(set(cells.loc[(cells["region"] == region) & (cells["rep"] != rep)
                                 & (cells["rep"] != ""), "rep"])) if region else []
    return region, peers


def _candidates(f, r) -> list[dict]:
    state, model = f.state, f.model
    out = []
    period = r.period
    if r.level == "rep":
        region, peers = _region_peers(state, r.id)
        mine = state.members("rep", r.id)
        peer_mask = np.isin(state.cells["rep"].to_numpy(), peers)
        k, n = _win_rate(state, mine)
        weak = weakest_stage(state, mine, peer_mask) if peers else None
        if weak is not None and weak.peers / max(weak.value, 1e-9) >= MIN_FACTOR:
            out.append(_coach(f, r, weak, mine))
        aged = f.pipeline["aged"].to_numpy() & mine[f.pipeline["cell"].to_numpy()]
        if aged.any() and peers and region:
            out += _move_deals(f, r, region, peers, aged, k, n)
    if r.level == "region":
        units = np.isin(np.array(model.unit), state.cells.loc[
            state.cells["region"] == r.id, "rep"].to_numpy())
        out.append({"action": "add leads", "level": "region", "id": r.id, "period": period,
                    "adj": Adjustments(rate_factor=np.where(units, 1 + LEADS_UPLIFT, 1.0)),
                    "detail": f"+{LEADS_UPLIFT:.0%} new opportunities for the region's "
                              f"{int(units.sum())} reps",
                    "assumption": "the extra leads convert like the reps' own new deals"})
    pull = _pull(f, r)
    if pull is not None:
        out.append(pull)
    return out


def _coach(f, r, weak, mine: np.ndarray) -> dict:
    """Bring the rep's weakest stage to its peers' conversion: open deals at or before that
    stage and every new deal win with that factor more."""
    state, model = f.state, f.model
    stages = list(state.known.mapping.scenario_stages)
    stage = weak.measure.removeprefix("conversion of stage ") if weak.measure.startswith(
        "conversion of stage ") else stages[0]
    factor = weak.peers / max(weak.value, 1e-9)
    before = f.pipeline["stage"].map({s: i for i, s in enumerate(stages)}).to_numpy() \
        <= stages.index(stage)
    at = pd.Series(before, index=f.pipeline["id"].astype(str).to_numpy())
    deal_ok = at.reindex(model.open_id).fillna(False).to_numpy(bool)
    unit = np.ones(len(model.unit))
    unit[model.unit.index(r.id)] = factor
    return {"action": "help the weakest stage", "level": "rep", "id": r.id,
            "period": r.period,
            "adj": Adjustments(deal_factor=np.where(mine[model.open_cell] & deal_ok, factor,
                                                    1.0), win_factor=unit),
            "detail": f"{weak.measure} {weak.value:.0%} (n={weak.n}) raised to the region "
                      f"peers' {weak.peers:.0%}",
            "assumption": "coaching lifts the won probability of the rep's new deals and of "
                          f"its open deals at or before {stage} by x{factor:.2f} from the "
                          "as-of date"}


def _move_deals(f, r, region: str, peers: list[str], aged: np.ndarray, k: int, n: int
                ) -> list[dict]:
    state, model = f.state, f.model
    rates = {p: _win_rate(state, state.members("rep", p)) for p in peers}
    best = max(peers, key=lambda p: (rates[p][0] / max(rates[p][1], 1), p))
    bk, bn = rates[best]
    if not bn or not n:
        return []
    factor = (bk / bn) / max(k / n, 1e-9)
    cells = state.cells
    target = np.flatnonzero((cells["rep"] == best).to_numpy())
    ids = set(f.pipeline.loc[aged, "id"].astype(str))
    moved = np.isin(model.open_id, list(ids))
    new_cell = model.open_cell.copy()
    for i in np.flatnonzero(moved):
        same = target[cells.loc[target, "product"].to_numpy()
                      == cells.at[model.open_cell[i], "product"]]
        new_cell[i] = same[0] if same.size else target[0]
    return [{"action": "move stalled deals", "level": "region", "id": region,
             "period": r.period, "adj": Adjustments(
                 deal_factor=np.where(moved, factor, 1.0), deal_cell=new_cell),
             "detail": f"{int(moved.sum())} deals of {r.id} past their stage's usual age "
                       f"to {best} (win rate {bk / bn:.0%} vs {k / n:.0%})",
             "assumption": "a moved deal closes at the new owner's win rate; its timing "
                           "is unchanged"}]


def _pull(f, r) -> dict | None:
    model, state = f.model, f.state
    period = next(p for p in f.targets["period"] if p.label == r.period)
    last = int((period.end - state.cut).days)
    if last < 0 or last + 1 >= model.horizon:
        return None
    month = int(model.day_month[last])
    mask = state.members(r.level, r.id)[model.open_cell]
    return {"action": "pull forward", "level": r.level, "id": r.id, "period": r.period,
            "adj": Adjustments(pull=(last + 1, last + PULL_DAYS, month, PULL_SHARE, mask)),
            "detail": f"deals that would close in the {PULL_DAYS} days after {r.period} "
                      f"closed inside it with probability {PULL_SHARE:.0%}",
            "assumption": "an end-of-period incentive; the months after lose what it pulls"}


def _evaluate(f, c: dict) -> dict:
    won = simulate_landing(f.model, f.draws, c["adj"])
    variant = landing_samples(f.state, f.model, won, f.targets)
    j = _row_index(f, c["level"], c["id"], c["period"])
    comp = _row_index(f, "company", "company", c["period"])
    row = {k: c[k] for k in ("action", "level", "id", "period", "detail", "assumption")}
    row.update(_lift(f, variant, j, "") | _lift(f, variant, comp, "company_"))
    if j is not None:
        row["landing_lift"] = float((variant[:, j] - f.landing[:, j]).mean())
    return row


def _lift(f, variant: np.ndarray, j: int | None, prefix: str) -> dict:
    if j is None:
        return {f"{prefix}lift": np.nan, f"{prefix}lift_lo": np.nan,
                f"{prefix}lift_hi": np.nan}
    t = f.table.at[j, "target"] - 1e-9
    base, var = f.landing[:, j] >= t, variant[:, j] >= t
    e = paired_difference(var.astype(float), base.astype(float))
    out = {f"{prefix}lift": e.mean, f"{prefix}lift_lo": e.ci95[0],
           f"{prefix}lift_hi": e.ci95[1]}
    if not prefix:
        out |= {"p_hit_base": float(base.mean()), "p_hit_variant": float(var.mean())}
    return out


def _hire_rows(f, risks: pd.DataFrame) -> list[dict]:
    """The hire candidate per risky period: too late when the ramp plus the median won cycle
    is longer than what is left of the period."""
    state = f.state
    d = state.deals
    won = d[d["outcome"].eq("won") & d["close_date"].notna()]
    cycle = float((won["close_date"] - won["created_date"]).dt.days.median())
    rows = []
    for label in sorted(set(risks["period"])) if len(risks) else []:
        period = next(p for p in f.targets["period"] if p.label == label)
        left = int((period.end - state.cut).days) + 1
        need = int(RAMP_MONTHS * 30.4 + cycle)
        if left >= need:
            continue
        rows.append({"action": "hire", "level": "company", "id": "company", "period": label,
                     "detail": f"too late for {label}: a hire now ramps {RAMP_MONTHS} months "
                               f"and the median won cycle is {cycle:.0f} days ({need} days "
                               f"needed, {max(left, 0)} left)",
                     "assumption": "not simulated: no lift inside the period",
                     "p_hit_base": np.nan, "p_hit_variant": np.nan, "lift": 0.0,
                     "lift_lo": 0.0, "lift_hi": 0.0, "company_lift": 0.0,
                     "company_lift_lo": 0.0, "company_lift_hi": 0.0, "landing_lift": 0.0})
    return rows
