"""Backtest: calibrate on what was known before a cut date, simulate the months after it from
the open pipeline at the cut, and compare with what happened.

For each region x month after the cut (until the last full month of the export): the actual won
deals and bookings against the simulated distribution (replications). Metrics:

- ``coverage_50`` / ``coverage_80``: share of region-month bookings inside the central 50% /
  80% prediction intervals (P25-P75, P10-P90) of the simulation; the same for won-deal counts
  (``coverage_*_won``);
- ``mape_region_quarter``: mean over region x quarter of |median simulated bookings - actual|
  / actual;
- PIT values (the simulated CDF at the actual value, mid-rank for ties): a well calibrated
  forecast gives a flat PIT histogram;
- ``monte_carlo``: how far the coverage moves with the Monte Carlo error of the simulated
  quantiles (:func:`coverage_monte_carlo`: the parameter draws resampled), as a 5-95% range
  per coverage (bookings, won deals, and both pooled) and, per cell, the share of resamples
  that put the actual inside (``in_80_share``, ``in_50_share`` in the table). A cell near 0.5
  sits at an interval edge: with few cells, one such cell moves the coverage by a whole step.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from salesplan.scenarios.crm.reader import History
from salesplan.scenarios.model import Scenario

from ..runner import simulate
from .calibrate import Calibration, CalibrationError, calibrate

__all__ = ["BacktestResult", "backtest", "cohort_frailty", "coverage_monte_carlo",
           "perturbed_scenario"]


@dataclass
class BacktestResult:
    """``table``: one row per region x month x measure (bookings, won_deals) with actual, mean,
    p10, p25, p50, p75, p90, in_50, in_80, pit, in_80_share, in_50_share. ``quarters``: region
    x quarter bookings with actual, p10, p50, p90, ape, and the naive baseline (the region's
    bookings in the same number of months just before the cut) with its ape. ``summary``: the
    metrics, the cut, replications and seed."""

    table: pd.DataFrame
    quarters: pd.DataFrame
    summary: dict[str, Any]
    calibration: Calibration


def _pit(sims: np.ndarray, actual: float) -> float:
    return float((np.sum(sims < actual) + 0.5 * np.sum(sims == actual)) / sims.size)


def cal_months(cal: Calibration) -> list[str]:
    h = cal.scenario.horizon
    return [str(pd.Period(h.start, "M") + i) for i in range(h.months)]


def perturbed_scenario(cal: Calibration, rng: np.random.Generator) -> Scenario:
    """One draw of the calibrated scenario from the estimates' sampling distributions:
    each lead source's level x lognormal with log-sd sqrt((se/level)^2 + max(phi - 1, 0) /
    level) (estimation error plus the Pearson over-dispersion phi of monthly counts, as a
    gamma-Poisson frailty held over the horizon); the stage conversion on the logit scale with
    its standard error; each pipeline cohort's stalled share with its standard error (its
    P(won | open) recomputed by the closing-hazard model, with the calibration's bias
    correction), then times the model-error frailty of :func:`cohort_frailty` when the
    calibration sized one (``hazards.model_error``; none: no extra draw, the random stream is
    unchanged), and times one frailty common to every cohort when the model error has a
    common part (drawn once per call, before the cohorts); each product's mean deal size x
    lognormal with its standard error."""
    doc = cal.scenario.model_dump(mode="json")
    for src, fit in zip(doc["lead_sources"], cal.arrivals, strict=True):
        lvl = max(fit.level, 1e-9)
        sd = math.sqrt((fit.level_se / lvl) ** 2 + max(fit.dispersion - 1.0, 0.0) / lvl)
        src["leads_per_month"] = float(src["leads_per_month"] * math.exp(rng.normal(0, sd)
                                                                         - sd * sd / 2))
    o = cal.estimates["outcomes"] or {}
    st = doc["stages"][0]
    p = st["conversion"]
    p_se = (cal.hazards.new_deal.get("p_won_se") if cal.hazards is not None
            and cal.hazards.new_deal else o.get("p_won_se"))
    if 0 < p < 1 and p_se:
        se_lg = p_se / (p * (1 - p))
        st["conversion"] = float(_expit(_logit(p) + rng.normal(0, se_lg)))
    hz = cal.hazards
    if hz is not None and st.get("overrides"):
        skip = int((pd.Timestamp(cal.scenario.horizon.start)
                    - pd.Timestamp(cal.estimates["cutoff"])).days)
        s2, s2c = hz.cohort_log_var, hz.common_log_var
        common = _mean_one_lognormal(s2c, rng) if s2c > 0 else 1.0
        for ov in st["overrides"]:
            c = ov["segment"].removeprefix("pipeline-")
            ci = hz.stall.get(c, {})
            se = ci.get("stall_share_se") or 0.0
            if se > 0:
                pi_d = float(min(max(hz.stall_share(c) + rng.normal(0, se), 0.0), 0.99))
                ov["conversion"] = hz.corrected_p_won(c, stall_share=pi_d, skip_days=skip)[0]
            if s2 > 0:
                ov["conversion"] = cohort_frailty(ov["conversion"], s2, rng)
            if s2c > 0:
                ov["conversion"] = float(min(ov["conversion"] * common, 1.0))
    sizes = cal.estimates.get("deal_sizes", {})
    for prod in doc["products"]:
        f = sizes.get(prod["id"], {}).get("all", {})
        lo, hi = (f.get("mean_ci") or [None, None])[:2]
        ds = prod.get("deal_size")
        if lo and hi and lo > 0 and ds and "mean" in ds:
            sd = (math.log(hi) - math.log(lo)) / (2 * 1.96)
            ds["mean"] = float(ds["mean"] * math.exp(rng.normal(0, sd)))
    return Scenario.model_validate(doc)


MC_RESAMPLES = 200


def coverage_monte_carlo(sims: np.ndarray, actual: np.ndarray, unit: np.ndarray,
                         rng: np.random.Generator, resamples: int = MC_RESAMPLES,
                         groups: np.ndarray | None = None) -> dict[str, Any]:
    """How much the interval coverage owes to the Monte Carlo error of the simulated
    quantiles. ``sims``: replications x cells; ``actual``: per cell; ``unit``: per replication,
    the resampling unit (its parameter draw: replications of one draw share its parameters,
    so they are resampled together); ``groups``: per cell, the measure it belongs to (default:
    one group, ``"all"``). The units are resampled with replacement ``resamples`` times, the
    same picks for every cell; each time the P10/P25/P75/P90 of every cell are recomputed.

    Returns ``ranges[group]["coverage_80"]`` and ``["coverage_50"]``: the 5th and 95th
    percentiles over the resamples of the share of the group's cells inside the interval
    (lower and higher order statistics, so each end is a coverage that occurred), plus
    ``"pooled"`` over every cell when there are several groups; per cell ``in_80_share`` and
    ``in_50_share``, the share of resamples that put the actual inside (near 0.5: the cell sits
    at an interval edge, and at this many replications the Monte Carlo error, not a real miss,
    may decide its side); ``units``. With fewer than 2 units there is nothing to resample: the
    ranges are None and the shares NaN."""
    sims = np.asarray(sims, dtype=float)
    actual = np.asarray(actual, dtype=float)
    groups = np.full(actual.size, "all", dtype=object) if groups is None else np.asarray(groups)
    names = list(dict.fromkeys(groups.tolist()))
    if len(names) > 1:
        names.append("pooled")
    units, inverse = np.unique(np.asarray(unit), return_inverse=True)
    if units.size < 2:
        nan = np.full(actual.size, np.nan)
        return {"ranges": {g: {"coverage_80": None, "coverage_50": None} for g in names},
                "in_80_share": nan, "in_50_share": nan.copy(), "units": int(units.size)}
    rows = [np.flatnonzero(inverse == i) for i in range(units.size)]
    in80 = np.zeros((resamples, actual.size), dtype=bool)
    in50 = np.zeros_like(in80)
    for b in range(resamples):
        pick = rng.integers(0, units.size, units.size)
        x = sims[np.concatenate([rows[i] for i in pick])]
        q10, q25, q75, q90 = np.percentile(x, [10, 25, 75, 90], axis=0)
        in80[b] = (q10 <= actual) & (actual <= q90)
        in50[b] = (q25 <= actual) & (actual <= q75)

    def spread(inside: np.ndarray, cols: np.ndarray) -> list[float]:
        cov = inside[:, cols].mean(axis=1)
        return [float(np.percentile(cov, 5, method="lower")),
                float(np.percentile(cov, 95, method="higher"))]

    ranges = {}
    for g in names:
        cols = np.ones(actual.size, dtype=bool) if g == "pooled" else groups == g
        ranges[g] = {"coverage_80": spread(in80, cols), "coverage_50": spread(in50, cols)}
    return {"ranges": ranges, "in_80_share": in80.mean(axis=0),
            "in_50_share": in50.mean(axis=0), "units": int(units.size)}


def cohort_frailty(p: float, log_var: float, rng: np.random.Generator) -> float:
    """A pipeline cohort's ``P(won | open)`` times a mean-one lognormal frailty
    ``exp(u - log_var / 2)``, ``u ~ N(0, log_var)`` (the model error sized by
    :func:`~salesplan.simulator.calibration.forecast_error.pipeline_model_error`), capped at 1."""
    return float(min(p * _mean_one_lognormal(log_var, rng), 1.0))


def _mean_one_lognormal(log_var: float, rng: np.random.Generator) -> float:
    """``exp(u - log_var / 2)``, ``u ~ N(0, log_var)``: a lognormal of mean one."""
    return math.exp(rng.normal(0.0, math.sqrt(log_var)) - log_var / 2)


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _expit(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _simulate(cal: Calibration, replications: int, seed: int, workers: int, draws: int
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulated bookings by region x month per replication (pooled over parameter draws)
    and the deal records of a few replications."""
    frames, deals, leads = [], [], []
    if draws <= 1:
        plan = [(cal.scenario, replications, seed)]
    else:
        children = np.random.SeedSequence(seed).spawn(draws)
        base, extra = divmod(replications, draws)
        plan = []
        for k, ch in enumerate(children):
            n = base + (1 if k < extra else 0)
            if n == 0:
                continue
            rng = np.random.default_rng(ch)
            plan.append((perturbed_scenario(cal, rng), n, int(ch.generate_state(1)[0])))
    offset = 0
    for k, (sc, n, s) in enumerate(plan):
        res = simulate(sc, replications=n, seed=s, workers=workers,
                       keep_deals=min(n, max(1, 20 // max(len(plan), 1))))
        b = res.bookings_by("region")
        b["replication"] += offset
        b["draw"] = k
        offset += n
        frames.append(b)
        dd = res.deals
        if len(dd):
            dd = dd.copy()
            dd["replication"] = dd["replication"] + offset - n
            deals.append(dd)
        leads.append(res.stack("leads").astype(float))
    kept = pd.concat(deals, ignore_index=True) if deals else pd.DataFrame()
    kept.attrs["leads_mean"] = float(np.concatenate(leads).mean())
    return pd.concat(frames, ignore_index=True), kept


def backtest(history: History, cutoff: str | dt.date | pd.Timestamp, replications: int = 1000,
             seed: int = 0, months: int | None = None, workers: int = 1,
             draws: int = 100, pipeline_bias: bool = True) -> BacktestResult:
    """Run the backtest of ``history`` at ``cutoff`` (a first of month). ``draws`` > 1 splits
    the replications over that many parameter draws (:func:`perturbed_scenario`), so the
    prediction intervals carry the estimation uncertainty; ``draws`` <= 1 simulates the point
    estimates only. ``pipeline_bias``: as in :func:`~.calibrate.calibrate`."""
    cut = pd.Timestamp(cutoff)
    if cut.day != 1:
        raise CalibrationError(f"the backtest cut must be a first of month, got {cut.date()}")
    if history.as_of is None or history.as_of < cut:
        raise CalibrationError(f"the export ends {history.as_of}: nothing after the cut "
                               f"{cut.date()} to compare with")
    last_full = (history.as_of + pd.Timedelta(days=1)).to_period("M") - 1
    n_after = (last_full - cut.to_period("M")).n + 1
    if months is None:
        months = n_after
    months = min(months, n_after)
    if months < 1:
        raise CalibrationError(f"no full month of data after the cut {cut.date()}")
    cal = calibrate(history, cutoff=cut, horizon_months=months, name="backtest",
                    pipeline_bias=pipeline_bias)
    res, kept = _simulate(cal, replications, seed, workers, draws)
    sim = res
    # actual
    d = history.deals
    end = (cut.to_period("M") + months).start_time
    won = d[d["outcome"].eq("won") & (d["close_date"] >= cut) & (d["close_date"] < end)].copy()
    won["month"] = won["close_date"].dt.strftime("%Y-%m")
    won["region"] = won["region"].fillna("all")
    act = won.groupby(["region", "month"]).agg(bookings=("amount", "sum"),
                                                won_deals=("id", "size"))
    n_unknown_amount = int(won["amount"].isna().sum())
    regions = cal.scenario.region_ids
    month_labels = list(cal_months(cal))
    # one matrix (replication x cell) per measure: the table's quantiles and the Monte Carlo
    # resampling read the same columns
    wide = {meas: sim.pivot_table(index=["replication", "draw"], columns=["region", "month"],
                                  values=meas) for meas in ("bookings", "won_deals")}
    rows, sims = [], []
    for reg in regions:
        for mon in month_labels:
            for meas in ("bookings", "won_deals"):
                x = wide[meas][(reg, mon)].to_numpy(dtype=float)
                a = float(act[meas].get((reg, mon), 0.0))
                q = np.percentile(x, [10, 25, 50, 75, 90])
                rows.append({"region": reg, "month": mon, "measure": meas, "actual": a,
                             "mean": float(x.mean()), "p10": q[0], "p25": q[1], "p50": q[2],
                             "p75": q[3], "p90": q[4],
                             "in_50": bool(q[1] <= a <= q[3]), "in_80": bool(q[0] <= a <= q[4]),
                             "pit": _pit(x, a)})
                sims.append(x)
    table = pd.DataFrame(rows)
    # the Monte Carlo error of the coverage: the parameter draws resampled, the same picks for
    # both measures (a stream of its own, spawn key 2**31 of the seed, apart from the
    # simulation's)
    unit = wide["bookings"].index.get_level_values(
        "draw" if draws > 1 else "replication").to_numpy()
    r = coverage_monte_carlo(np.column_stack(sims), table["actual"].to_numpy(), unit,
                             np.random.default_rng(np.random.SeedSequence(
                                 seed, spawn_key=(2**31,))),
                             groups=table["measure"].to_numpy())
    table["in_80_share"], table["in_50_share"] = r["in_80_share"], r["in_50_share"]
    mc: dict[str, Any] = {"resamples": MC_RESAMPLES,
                          "unit": "parameter draw" if draws > 1 else "replication",
                          "units": r["units"]}
    for g, suffix in (("bookings", ""), ("won_deals", "_won"), ("pooled", "_pooled")):
        for level in ("80", "50"):
            mc[f"coverage_{level}{suffix}_range"] = r["ranges"][g][f"coverage_{level}"]
    # quarters
    sim = sim.copy()
    sim["quarter"] = pd.PeriodIndex(sim["month"], freq="M").asfreq("Q").astype(str)
    qs = sim.groupby(["replication", "region", "quarter"])["bookings"].sum().reset_index()
    won["quarter"] = won["close_date"].dt.to_period("Q").astype(str)
    aq = won.groupby(["region", "quarter"])["amount"].sum()
    qrows = []
    for (reg, qt), g in qs.groupby(["region", "quarter"], sort=True):
        a = float(aq.get((reg, qt), 0.0))
        med = float(np.median(g["bookings"]))
        k = int(sum(1 for m in month_labels if str(pd.Period(m, "M").asfreq("Q")) == qt))
        before = d[d["outcome"].eq("won") & (d["close_date"] < cut)
                   & (d["close_date"] >= cut - pd.DateOffset(months=k))
                   & (d["region"].fillna("all") == reg)]
        naive = float(before["amount"].sum())
        qrows.append({"region": reg, "quarter": qt, "actual": a, "naive_last_period": naive,
                      "naive_ape": abs(naive - a) / a if a > 0 else math.nan, "p10":
                      float(np.percentile(g["bookings"], 10)), "p50": med,
                      "p90": float(np.percentile(g["bookings"], 90)),
                      "ape": abs(med - a) / a if a > 0 else math.nan,
                      "months_in_quarter": int(sum(1 for m in month_labels if
                                                   str(pd.Period(m, 'M').asfreq('Q')) == qt))})
    quarters = pd.DataFrame(qrows)
    b = table[table["measure"] == "bookings"]
    w = table[table["measure"] == "won_deals"]
    summary = {
        "cutoff": cut.date().isoformat(),
        "months": month_labels,
        "replications": replications,
        "seed": seed,
        "coverage_50": float(b["in_50"].mean()),
        "coverage_80": float(b["in_80"].mean()),
        "coverage_50_won": float(w["in_50"].mean()),
        "coverage_80_won": float(w["in_80"].mean()),
        "region_months": len(b),
        "monte_carlo": mc,
        "mape_region_quarter": float(np.nanmean(quarters["ape"])) if len(quarters) else None,
        "mape_region_quarter_naive": float(np.nanmean(quarters["naive_ape"]))
        if len(quarters) else None,
        "region_quarters": len(quarters),
        "bookings_actual": float(b["actual"].sum()),
        "bookings_p50_total": float(np.median(
            sim.groupby("replication")["bookings"].sum())),
        "parameter_draws": draws,
        "pipeline_model_error_log_sd": (cal.hazards.model_error.get("log_sd")
                                        if cal.hazards is not None else None),
        "pipeline_model_error_common_log_sd": (math.sqrt(cal.hazards.common_log_var)
                                               if cal.hazards is not None else None),
        "pipeline_model_error_cohort_log_sd": (math.sqrt(cal.hazards.cohort_log_var)
                                               if cal.hazards is not None else None),
        "pipeline_bias_correction": (cal.hazards.pipeline_bias
                                     if cal.hazards is not None else None),
        "won_actual": int(w["actual"].sum()),
        "pit_histogram": np.histogram(b["pit"], bins=5, range=(0, 1))[0].tolist(),
        "won_without_amount_after_cut": n_unknown_amount,
        "goals": {"coverage_80_between": [0.7, 0.9], "mape_region_quarter_below": 0.15},
    }
    # where the forecast comes from: the open pipeline at the cut vs deals created after it
    pipe_ids = set(cal.deals.loc[cal.deals["outcome"].eq("open"), "id"])
    if len(kept):
        sw = kept[kept["outcome"].eq("won")]
        n_rep = kept["replication"].nunique()
        from_pipe = sw["source"].eq("initial_pipeline")
        summary["decomposition"] = {
            "won_from_pipeline_actual": int(won["id"].isin(pipe_ids).sum()),
            "won_from_new_actual": int((~won["id"].isin(pipe_ids)).sum()),
            "won_from_pipeline_sim_mean": float(from_pipe.sum() / n_rep),
            "won_from_new_sim_mean": float((~from_pipe).sum() / n_rep),
            "pipeline_deals_at_cut": len(cal.scenario.initial_pipeline),
            "leads_after_cut_actual": int(((d["created_date"] >= cut)
                                           & (d["created_date"] < end)).sum()),
            "leads_after_cut_sim_mean": float(kept.attrs.get("leads_mean", float("nan"))),
            "replications_with_deal_records": int(n_rep),
        }
    summary["goal_coverage_met"] = 0.7 <= summary["coverage_80"] <= 0.9
    summary["goal_mape_met"] = (summary["mape_region_quarter"] is not None
                                and summary["mape_region_quarter"] <= 0.15)
    return BacktestResult(table, quarters, summary, cal)
