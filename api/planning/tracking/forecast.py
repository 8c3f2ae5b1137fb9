"""The forecast table: one row per target, where we stand, where we land (simulation P10/P50/
P90 and P(hit) with its Wilson interval) and both baselines with their probabilities.

Columns (currency unless stated): ``period, level, id, target, won_to_date, target_to_date,
p10, p50, p90, p_hit, runrate, weighted_pipeline`` (the issue's order), then ``pace``
(won / target to date), ``elapsed_share`` (working days), ``remaining``, ``open_deals``,
``pipeline`` (open value), ``weighted_value``, ``coverage``, ``coverage_weighted``,
``aged_deals``, ``p_hit_lo``, ``p_hit_hi`` (95% Wilson), ``mean``, ``runrate_p10``,
``runrate_p90``, ``runrate_p_hit``, ``weighted_p10``, ``weighted_p90``, ``weighted_p_hit``,
``status`` (green: P(hit) >= 0.7; amber: >= 0.3; red: below).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesplan.stats import proportion

from .baselines import baseline_probability, new_deal_runrate, runrate
from .model import LandingModel
from .periods import Period
from .state import AsOfState

__all__ = ["FORECAST_COLUMNS", "forecast_table", "landing_samples", "status"]

FORECAST_COLUMNS = ["period", "level", "id", "target", "won_to_date", "target_to_date", "p10",
                    "p50", "p90", "p_hit", "runrate", "weighted_pipeline"]


def status(p_hit: float) -> str:
    """Traffic light of a probability of hitting the target."""
    return "green" if p_hit >= 0.7 else ("amber" if p_hit >= 0.3 else "red")


def landing_samples(state: AsOfState, model: LandingModel, won: np.ndarray,
                    targets: pd.DataFrame) -> np.ndarray:
    """Landing per replication and target row (``[R, rows]``): the won amounts of the row's
    cells summed over its period's months (``won``: ``[R, cells, months]``)."""
    out = np.zeros((won.shape[0], len(targets)))
    for j, r in enumerate(targets.itertuples(index=False)):
        mask = state.members(r.level, r.id)
        out[:, j] = won[:, mask, :][:, :, _months_of(model, r.period)].sum(axis=(1, 2))
    return out


def _months_of(model: LandingModel, period: Period) -> np.ndarray:
    want = set(period.months)
    return np.array([i for i, m in enumerate(model.months) if m in want], dtype=np.int64)


def forecast_table(state: AsOfState, model: LandingModel, targets: pd.DataFrame,
                   landing: np.ndarray, op: pd.DataFrame) -> pd.DataFrame:
    """The table of the module docstring (``landing`` from :func:`landing_samples`; ``op``:
    :func:`~.standing.open_pipeline`)."""
    rows = []
    for j, r in enumerate(targets.itertuples(index=False)):
        mask = state.members(r.level, r.id)
        x = landing[:, j]
        done = float(model.won_actual[mask][:, _months_of(model, r.period)].sum())
        share = r.period.elapsed_share(state.asof)
        to_date = r.target * share
        remaining = max(r.target - done, 0.0)
        mine = op[mask[op["cell"].to_numpy()]]
        amounts = _amounts(state, mask)
        rr = runrate(state, mask, r.period)
        weighted = (float((mine["value"] * mine["win_rate"]).sum()) if _open_in(state, r.period)
                    else 0.0) + new_deal_runrate(state, mask, r.period)
        rr_lo, rr_hi, rr_p = baseline_probability(done, rr, r.target, amounts)
        wp_lo, wp_hi, wp_p = baseline_probability(done, weighted, r.target, amounts)
        hit = proportion(x >= r.target - 1e-9)
        p10, p50, p90 = np.quantile(x, [0.1, 0.5, 0.9])
        rows.append({
            "period": r.period.label, "level": r.level, "id": r.id, "target": r.target,
            "won_to_date": done, "target_to_date": to_date, "p10": p10, "p50": p50, "p90": p90,
            "p_hit": hit.p, "runrate": done + rr, "weighted_pipeline": done + weighted,
            "pace": done / to_date if to_date > 0 else np.nan, "elapsed_share": share,
            "remaining": remaining, "open_deals": len(mine),
            "pipeline": float(mine["value"].sum()),
            "weighted_value": float((mine["value"] * mine["win_rate"]).sum()),
            "coverage": float(mine["value"].sum()) / remaining if remaining > 0 else np.nan,
            "coverage_weighted": (float((mine["value"] * mine["win_rate"]).sum()) / remaining
                                  if remaining > 0 else np.nan),
            "aged_deals": int(mine["aged"].sum()),
            "p_hit_lo": hit.ci95[0], "p_hit_hi": hit.ci95[1], "mean": float(x.mean()),
            "runrate_p10": rr_lo, "runrate_p90": rr_hi, "runrate_p_hit": rr_p,
            "weighted_p10": wp_lo, "weighted_p90": wp_hi, "weighted_p_hit": wp_p,
            "status": status(hit.p)})
    return pd.DataFrame(rows)


def _open_in(state: AsOfState, period: Period) -> bool:
    """Whether the open pipeline can still close in ``period`` (it ends after the as-of)."""
    return period.end >= state.cut


def _amounts(state: AsOfState, mask: np.ndarray) -> np.ndarray:
    """Won amounts before the cut of the entity (the company's when it has fewer than 5)."""
    d = state.deals
    won = d[d["outcome"].eq("won") & d["amount"].gt(0)]
    a = won.loc[mask[won["cell"].to_numpy()], "amount"].to_numpy(float)
    return a if a.size >= 5 else won["amount"].to_numpy(float)
