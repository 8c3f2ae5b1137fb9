"""Fairness measures of a quota plan, per rep and for the plan.

Per rep (``QuotaPlan.reps``; currency columns in the scenario currency):

====================  =======================================================================
rep, region           ids
method                the method that set the ideal
quota                 the final quota (currency)
ideal                 the method's ideal for the rep (after ramp relief, before constraints)
last_quota            last period's quota (NaN if unknown)
change_vs_last        quota / last_quota - 1
potential             territory potential (currency/year), sum of owned accounts
potential_share       potential / total potential
quota_share           quota / total quota
quota_potential       quota / potential (rho_r; NaN when potential is 0)
ramp_factor           expected productivity over the horizon from start date and ramp (0..1)
capacity_factor       the same after attrition, vacancy and backfill (0..1)
expected_bookings     mean simulated horizon bookings (NaN without samples)
expected_attainment   mean of bookings / quota over replications
p_attain              P(bookings >= quota), share of replications (NaN for a zero quota)
p_attain_lo, _hi      its Wilson 95% interval (the one interval salesplan gives probabilities)
binding               the constraint that set the number: pin, floor, cap, min_change,
                      max_change, ramp_relief, cell_pins, absorbs (moved by others' pins or
                      bounds) or ideal
why                   "why this quota", in words
====================  =======================================================================

Plan level (``QuotaPlan.summary``): ``p_attain_spread`` (max - min of p_attain),
``p_attain_std`` (population standard deviation across reps), ``p_attain_min``/``max``,
``expected_share_attaining`` (the expected share of reps reaching quota: the mean over
replications of the share of quota-carrying reps at or above quota, with its standard error
``expected_share_attaining_se``), ``quota_potential_gini`` and ``quota_potential_cv`` (over reps
with potential > 0), and ``attainment_size_corr``: the Pearson correlation of expected attainment
with territory potential (near 0 is fair).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesplan.stats import wilson_interval

__all__ = ["attainment", "gini", "plan_measures"]


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0: all equal); NaN for fewer than 2 values."""
    x = np.sort(np.asarray(values, dtype=float))
    x = x[np.isfinite(x)]
    if x.size < 2 or x.sum() <= 0:
        return float("nan")
    n = x.size
    return float(2.0 * np.sum(np.arange(1, n + 1) * x) / (n * x.sum()) - (n + 1) / n)


def attainment(quotas: pd.Series, samples: pd.DataFrame | None) -> pd.DataFrame:
    """Per rep: expected bookings, expected attainment, P(attain) with its Wilson interval."""
    cols = ["expected_bookings", "expected_attainment", "p_attain", "p_attain_lo", "p_attain_hi"]
    if samples is None:
        return pd.DataFrame(np.nan, index=quotas.index, columns=cols)
    b = samples[list(quotas.index)].to_numpy(dtype=float)
    q = quotas.to_numpy(dtype=float)
    n = b.shape[0]
    hit = b >= q[None, :] - 1e-9
    # a rep without quota (e.g. full ramp relief) cannot be said to attain: P is undefined
    p = np.where(q > 0, hit.mean(axis=0), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        att = np.where(q > 0, (b / np.where(q > 0, q, 1.0)).mean(axis=0), np.nan)
    ci = np.array([wilson_interval(x, n) if np.isfinite(x) else (np.nan, np.nan) for x in p])
    return pd.DataFrame({
        "expected_bookings": b.mean(axis=0),
        "expected_attainment": att,
        "p_attain": p,
        "p_attain_lo": ci[:, 0] if ci.size else np.zeros(0),
        "p_attain_hi": ci[:, 1] if ci.size else np.zeros(0),
    }, index=quotas.index)


def share_attaining(bookings: np.ndarray, quotas: np.ndarray) -> np.ndarray:
    """Per replication, the share of quota-carrying reps at or above quota. ``bookings`` is
    [replication, rep] (currency), ``quotas`` per rep in the same order; reps without quota
    are left out."""
    carrying = quotas > 0
    return (bookings[:, carrying] >= quotas[None, carrying] - 1e-9).mean(axis=1)


def plan_measures(reps: pd.DataFrame, quotas: pd.Series,
                  samples: pd.DataFrame | None) -> dict[str, float | int | None]:
    """The plan-level fairness figures (see the module docstring); NaN becomes None."""
    out: dict[str, float | int | None] = {}
    p = reps["p_attain"].to_numpy(dtype=float)
    has = samples is not None
    out["replications"] = len(samples) if has else None  # type: ignore[arg-type]
    out["p_attain_spread"] = float(np.nanmax(p) - np.nanmin(p)) if has else None
    out["p_attain_std"] = float(np.nanstd(p)) if has else None
    out["p_attain_min"] = float(np.nanmin(p)) if has else None
    out["p_attain_max"] = float(np.nanmax(p)) if has else None
    if has:
        b = samples[list(quotas.index)].to_numpy(dtype=float)  # type: ignore[index]
        share = share_attaining(b, quotas.to_numpy(dtype=float))
        out["expected_share_attaining"] = float(share.mean())
        out["expected_share_attaining_se"] = float(share.std(ddof=1) / np.sqrt(len(share)))
    else:
        out["expected_share_attaining"] = None
        out["expected_share_attaining_se"] = None
    rho = reps["quota_potential"].to_numpy(dtype=float)
    rho = rho[np.isfinite(rho)]
    out["quota_potential_gini"] = gini(rho) if rho.size >= 2 else None
    out["quota_potential_cv"] = (float(rho.std() / rho.mean())
                                 if rho.size >= 2 and rho.mean() > 0 else None)
    corr = None
    if has:
        a = reps["expected_attainment"].to_numpy(dtype=float)
        s = reps["potential"].to_numpy(dtype=float)
        ok = np.isfinite(a) & np.isfinite(s)
        if ok.sum() >= 3 and a[ok].std() > 0 and s[ok].std() > 0:
            corr = float(np.corrcoef(a[ok], s[ok])[0, 1])
    out["attainment_size_corr"] = corr
    return {k: (None if isinstance(v, float) and not np.isfinite(v) else v)
            for k, v in out.items()}
