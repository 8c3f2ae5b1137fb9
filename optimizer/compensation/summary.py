# ruff: noqa: N806  (single capitals follow the model notation: N replications, R reps)
"""What a pay plan costs and whom it pays: the summary a leader reads, the per-rep table, and pay
equity.

Definitions (money in currency, over the horizon; each figure is computed per replication, then
summarised with its mean, 95% CI of the mean and P10/P50/P90 across replications):

- **cost of sales**: total pay over bookings; **effective commission rate**: commission over
  bookings;
- **at on-target pay**: a rep with a positive target variable whose variable pay reaches it
  (``variable >= target variable``); the **share** is over those reps, per replication;
- **at quota**: credited attainment of at least 100% (reps with a positive quota);
- **P(pay exceeds the budget)**: the share of replications whose total pay is above
  ``compensation.budget``, with its Wilson interval.

Pay equity looks at each rep's expected pay ratio ``rho_r = E[variable_r] / target variable_r``
(1: the plan pays, on average, what it promised):

- **Gini** of ``rho`` across reps (0: every rep can expect the same share of its promise), and
  ``rho``'s standard deviation across reps (the spread the shares below divide);
- **where the spread comes from**: ``rho`` regressed across reps on the territory's richness
  relative to its quota (``log`` of the rep's territory potential over quota) and on the rep
  (``log`` productivity). The explained share of the variance (R^2) is split between the two by
  the Shapley (LMG) decomposition: each regressor's average gain in R^2 over both orders of
  entry. ``territory_share`` is the part of the cross-rep variance a rep owes to its territory
  rather than itself; with quotas that track potential it should be near 0. Reps without
  territory potential or quota are left out (their count is reported).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from salesplan.stats import describe, proportion

from ..quotas.fairness import gini
from .payouts import Payouts

__all__ = ["gini", "pay_equity", "pay_summary", "rep_pay_table"]


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _r2(y: np.ndarray, x: np.ndarray) -> float:
    """R^2 of the least-squares fit of ``y`` on ``x`` plus an intercept."""
    A = np.column_stack([np.ones(len(y)), x])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    resid = y - A @ coef
    tss = float(((y - y.mean()) ** 2).sum())
    return 1.0 - float((resid ** 2).sum()) / tss if tss > 0 else math.nan


def pay_equity(p: Payouts, potential: np.ndarray, productivity: np.ndarray) -> dict:
    """Gini of the expected pay ratio and the Shapley split of its cross-rep variance into
    territory and rep (module docstring). ``potential``/``productivity``: [R] per rep."""
    rho = _ratio(p.variable.mean(axis=0), p.target_variable)
    ok = np.isfinite(rho) & (potential > 0) & (p.quota > 0) & (productivity > 0)
    finite = rho[np.isfinite(rho)]
    out = {"gini_pay_ratio": gini(finite),
           "pay_ratio_sd": float(finite.std(ddof=1)) if finite.size > 1 else math.nan,
           "reps": int(np.isfinite(rho).sum()), "reps_in_decomposition": int(ok.sum()),
           "r2": math.nan, "territory_share": math.nan, "rep_share": math.nan}
    if ok.sum() < 4 or np.ptp(rho[ok]) <= 1e-12:
        return out
    y = rho[ok]
    terr = np.log(potential[ok] / p.quota[ok])
    rep = np.log(productivity[ok])
    both = _r2(y, np.column_stack([terr, rep]))
    only = {name: (_r2(y, x[:, None]) if np.ptp(x) > 1e-12 else 0.0)
            for name, x in (("territory", terr), ("rep", rep))}
    if not math.isfinite(both):
        return out
    # LMG: average over the two orders of entry of each regressor's gain in R^2
    t_share = 0.5 * (only["territory"] + (both - only["rep"]))
    out.update(r2=both, territory_share=t_share, rep_share=both - t_share)
    return out


def pay_summary(p: Payouts, budget: float | None) -> dict:
    """The leader's figures (module docstring), JSON-ready."""
    total = p.total.sum(axis=1)
    variable = p.variable.sum(axis=1)
    bookings = p.bookings.sum(axis=1)
    out = {
        "replications": int(p.total.shape[0]),
        "reps": len(p.rep_ids),
        "total_pay": describe(total),
        "base_pay": describe(p.base.sum(axis=1)),
        "variable_pay": describe(variable),
        "commission": describe(p.commission.sum(axis=1)),
        "spif": describe(p.spif.sum(axis=1)),
        "draw": describe(p.draw.sum(axis=1)),
        "bookings": describe(bookings),
        "cost_of_sales": describe(_ratio(total, bookings)),
        "effective_commission_rate": describe(_ratio(p.commission.sum(axis=1), bookings)),
        "on_target_earnings": float(p.ote.sum()),
        "target_variable": float(p.target_variable.sum()),
        "share_at_on_target_pay": describe(p.share_at_on_target_pay()),
        "share_at_quota": describe(p.share_at_quota()),
        "budget": budget,
        "p_over_budget": (proportion(total > budget).as_dict() if budget is not None else None),
    }
    return out


def rep_pay_table(p: Payouts, reps: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per rep: quota, on-target earnings and target variable (planned seating),
    expected attainment, pay P10/P50/P90 and mean with its parts, expected pay over on-target
    earnings, P(variable pay >= target variable), and the effective commission rate. ``reps``
    (indexed by rep id) adds columns such as region and role in front."""
    N = p.total.shape[0]
    tv = p.target_variable
    q10, q50, q90 = np.quantile(p.total, [0.1, 0.5, 0.9], axis=0)
    hit = p.variable >= tv[None, :] - 1e-6
    table = pd.DataFrame({
        "rep": p.rep_ids,
        "quota": p.quota,
        "on_target_earnings": p.ote,
        "target_variable": tv,
        "expected_bookings": p.bookings.mean(axis=0),
        "expected_attainment": np.nanmean(p.attainment, axis=0) if N else np.nan,
        "pay_mean": p.total.mean(axis=0),
        "pay_p10": q10, "pay_p50": q50, "pay_p90": q90,
        "base_mean": p.base.mean(axis=0),
        "commission_mean": p.commission.mean(axis=0),
        "spif_mean": p.spif.mean(axis=0),
        "draw_mean": p.draw.mean(axis=0),
        "pay_over_ote": _ratio(p.total.mean(axis=0), p.ote),
        "p_at_on_target_pay": np.where(tv > 0, hit.mean(axis=0), np.nan),
        "effective_rate": _ratio(p.commission.mean(axis=0), p.bookings.mean(axis=0)),
    })
    if reps is not None:
        extra = reps.reindex(p.rep_ids).reset_index(drop=True)
        table = pd.concat([table[["rep"]], extra, table.drop(columns="rep")], axis=1)
    return table
