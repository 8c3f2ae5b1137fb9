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

:func:`backtest` runs the steps: the months to compare (:func:`backtest_months`), the
calibration before the cut, the simulation after it (:func:`simulate_after_cut`, parameter draws
from :mod:`.draws`), what happened (:func:`actual_wins`), the region x month table with its
Monte Carlo error (:mod:`.coverage`), the region x quarter table with the naive baseline, and
the summary.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from salesplan.scenarios.crm.reader import History

from ..runner import simulate
from .calibrate import Calibration, calibrate
from .coverage import MC_RESAMPLES, coverage_monte_carlo, pit
from .draws import cohort_frailty, perturbed_scenario
from .errors import CalibrationError

__all__ = ["Actuals", "BacktestResult", "BacktestSettings", "Simulated", "actual_wins",
           "backtest", "backtest_months", "cal_months", "cohort_frailty",
           "coverage_monte_carlo", "perturbed_scenario", "simulate_after_cut"]

MEASURES = ("bookings", "won_deals")


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


@dataclass(frozen=True)
class BacktestSettings:
    """How the months after the cut are simulated: ``replications`` in all, ``seed``,
    ``workers`` (processes), ``draws``: parameter draws the replications are split over (<= 1:
    the point estimates only)."""

    replications: int = 1000
    seed: int = 0
    workers: int | None = 1
    draws: int = 100

    @property
    def unit(self) -> str:
        """The Monte Carlo resampling unit: a parameter draw, or a replication without draws."""
        return "draw" if self.draws > 1 else "replication"


@dataclass
class Simulated:
    """``bookings``: one row per replication x region x month (``bookings`` in currency,
    ``won_deals``, ``replication`` numbered over every draw, ``draw``); ``deals``: the deal
    records of a few replications (``attrs["leads_mean"]``: mean leads per replication)."""

    bookings: pd.DataFrame
    deals: pd.DataFrame


@dataclass
class Actuals:
    """What happened after the cut: ``history`` (every deal of the export), the window
    ``cut``..``end`` (exclusive), ``won`` (won deals closed in it, with ``month`` and ``region``,
    ``all`` when unknown) and ``by_cell`` (per region x month: ``bookings``, ``won_deals``)."""

    history: pd.DataFrame
    cut: pd.Timestamp
    end: pd.Timestamp
    won: pd.DataFrame
    by_cell: pd.DataFrame


def cal_months(cal: Calibration) -> list[str]:
    """The horizon's months (``YYYY-MM``)."""
    h = cal.scenario.horizon
    return [str(pd.Period(h.start, "M") + i) for i in range(h.months)]


def backtest_months(history: History, cut: pd.Timestamp, months: int | None) -> int:
    """The months after ``cut`` (a first of month) to compare: ``months`` (None: all), at most
    the full months the export covers after the cut; raise when there is none."""
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
    return months


def _simulation_plan(cal: Calibration, settings: BacktestSettings
                     ) -> list[tuple[Any, int, int]]:
    """(scenario, replications, seed) per parameter draw: the replications split over
    ``settings.draws`` draws, each a :func:`perturbed_scenario` from its own child of the seed
    (a draw with no replication is left out); without draws, the calibrated scenario."""
    if settings.draws <= 1:
        return [(cal.scenario, settings.replications, settings.seed)]
    children = np.random.SeedSequence(settings.seed).spawn(settings.draws)
    base, extra = divmod(settings.replications, settings.draws)
    plan = []
    for k, ch in enumerate(children):
        n = base + (1 if k < extra else 0)
        if n == 0:
            continue
        rng = np.random.default_rng(ch)
        plan.append((perturbed_scenario(cal, rng), n, int(ch.generate_state(1)[0])))
    return plan


Progress = Callable[[str, int | None, int | None], None]
"""``progress(phase, done, total)``: the backtest's phase (calibrating, simulating, comparing)
and, while simulating, the replications done out of all (None while a phase has no count)."""


@contextmanager
def _pool(workers: int | None):
    """One process pool for every parameter draw (None: one process per CPU; 1: no pool, the
    draws run in this process); results do not depend on it."""
    n = workers if workers is not None else (os.cpu_count() or 1)
    if n <= 1:
        yield None
        return
    with ProcessPoolExecutor(max_workers=n) as pool:
        yield pool


def simulate_after_cut(cal: Calibration, settings: BacktestSettings,
                       progress: Progress | None = None) -> Simulated:
    """Simulated bookings by region x month per replication (pooled over parameter draws)
    and the deal records of a few replications."""
    with _pool(settings.workers) as pool:
        return _simulate_draws(cal, settings, pool, progress)


def _simulate_draws(cal: Calibration, settings: BacktestSettings, pool: Executor | None,
                    progress: Progress | None) -> Simulated:
    frames, deals, leads = [], [], []
    plan = _simulation_plan(cal, settings)
    total = sum(n for _, n, _ in plan)
    offset = 0
    for k, (sc, n, s) in enumerate(plan):
        res = simulate(sc, replications=n, seed=s, workers=1 if pool is None else None,
                       executor=pool, keep_deals=min(n, max(1, 20 // max(len(plan), 1))))
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
        if progress is not None:
            progress("simulating the months after the cut", offset, total)
    kept = pd.concat(deals, ignore_index=True) if deals else pd.DataFrame()
    kept.attrs["leads_mean"] = float(np.concatenate(leads).mean())
    return Simulated(bookings=pd.concat(frames, ignore_index=True), deals=kept)


def actual_wins(deals: pd.DataFrame, cut: pd.Timestamp, months: int) -> Actuals:
    """The won deals of the export closed in the ``months`` months from ``cut``."""
    end = (cut.to_period("M") + months).start_time
    won = deals[deals["outcome"].eq("won") & (deals["close_date"] >= cut)
                & (deals["close_date"] < end)].copy()
    won["month"] = won["close_date"].dt.strftime("%Y-%m")
    won["region"] = won["region"].fillna("all")
    by_cell = won.groupby(["region", "month"]).agg(bookings=("amount", "sum"),
                                                   won_deals=("id", "size"))
    return Actuals(history=deals, cut=cut, end=end, won=won, by_cell=by_cell)


def _replication_matrices(bookings: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """One matrix (replication x region-month cell) per measure: the table's quantiles and the
    Monte Carlo resampling read the same columns."""
    return {meas: bookings.pivot_table(index=["replication", "draw"],
                                       columns=["region", "month"], values=meas)
            for meas in MEASURES}


def _month_table(wide: dict[str, pd.DataFrame], actual: Actuals, regions: list[str],
                 month_labels: list[str]) -> tuple[pd.DataFrame, list[np.ndarray]]:
    """The region x month x measure table (without the Monte Carlo shares) and each row's
    simulated values."""
    rows, sims = [], []
    for reg in regions:
        for mon in month_labels:
            for meas in MEASURES:
                x = wide[meas][(reg, mon)].to_numpy(dtype=float)
                a = float(actual.by_cell[meas].get((reg, mon), 0.0))
                q = np.percentile(x, [10, 25, 50, 75, 90])
                rows.append({"region": reg, "month": mon, "measure": meas, "actual": a,
                             "mean": float(x.mean()), "p10": q[0], "p25": q[1], "p50": q[2],
                             "p75": q[3], "p90": q[4],
                             "in_50": bool(q[1] <= a <= q[3]), "in_80": bool(q[0] <= a <= q[4]),
                             "pit": pit(x, a)})
                sims.append(x)
    return pd.DataFrame(rows), sims


def _coverage_error(table: pd.DataFrame, sims: list[np.ndarray],
                    wide: dict[str, pd.DataFrame], settings: BacktestSettings
                    ) -> dict[str, Any]:
    """The Monte Carlo error of the coverage: the resampling units (parameter draws, else
    replications) resampled, the same picks for both measures, from a stream of its own (spawn
    key 2**31 of the seed, apart from the simulation's). Adds ``in_80_share`` and
    ``in_50_share`` to ``table``; returns the summary's ``monte_carlo``."""
    unit = wide["bookings"].index.get_level_values(settings.unit).to_numpy()
    r = coverage_monte_carlo(np.column_stack(sims), table["actual"].to_numpy(), unit,
                             np.random.default_rng(np.random.SeedSequence(
                                 settings.seed, spawn_key=(2**31,))),
                             groups=table["measure"].to_numpy())
    table["in_80_share"], table["in_50_share"] = r["in_80_share"], r["in_50_share"]
    mc: dict[str, Any] = {"resamples": MC_RESAMPLES,
                          "unit": "parameter draw" if settings.draws > 1 else "replication",
                          "units": r["units"]}
    for g, suffix in (("bookings", ""), ("won_deals", "_won"), ("pooled", "_pooled")):
        for level in ("80", "50"):
            mc[f"coverage_{level}{suffix}_range"] = r["ranges"][g][f"coverage_{level}"]
    return mc


def _quarter_table(bookings: pd.DataFrame, actual: Actuals, month_labels: list[str]
                   ) -> pd.DataFrame:
    """Region x quarter bookings: simulated p10/p50/p90 against the actual, and the naive
    baseline (the region's bookings in the same number of months just before the cut)."""
    sim = bookings.copy()
    sim["quarter"] = pd.PeriodIndex(sim["month"], freq="M").asfreq("Q").astype(str)
    qs = sim.groupby(["replication", "region", "quarter"])["bookings"].sum().reset_index()
    won = actual.won.assign(quarter=actual.won["close_date"].dt.to_period("Q").astype(str))
    aq = won.groupby(["region", "quarter"])["amount"].sum()
    d, cut = actual.history, actual.cut
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
                      "months_in_quarter": k})
    return pd.DataFrame(qrows)


@dataclass
class _Comparison:
    """Everything the summary reads."""

    cal: Calibration
    settings: BacktestSettings
    month_labels: list[str]
    simulated: Simulated
    actual: Actuals
    table: pd.DataFrame
    quarters: pd.DataFrame
    monte_carlo: dict[str, Any]


def _model_error_summary(cal: Calibration) -> dict[str, Any]:
    hz = cal.hazards
    return {
        "pipeline_model_error_log_sd": hz.model_error.get("log_sd") if hz is not None else None,
        "pipeline_model_error_common_log_sd": (math.sqrt(hz.common_log_var)
                                               if hz is not None else None),
        "pipeline_model_error_cohort_log_sd": (math.sqrt(hz.cohort_log_var)
                                               if hz is not None else None),
        "pipeline_bias_correction": hz.pipeline_bias if hz is not None else None,
    }


def _summary(c: _Comparison) -> dict[str, Any]:
    """The backtest's metrics (module docstring), its settings and the decomposition of the
    wins by origin."""
    b = c.table[c.table["measure"] == "bookings"]
    w = c.table[c.table["measure"] == "won_deals"]
    q = c.quarters
    summary = {
        "cutoff": c.actual.cut.date().isoformat(),
        "months": c.month_labels,
        "replications": c.settings.replications,
        "seed": c.settings.seed,
        "coverage_50": float(b["in_50"].mean()),
        "coverage_80": float(b["in_80"].mean()),
        "coverage_50_won": float(w["in_50"].mean()),
        "coverage_80_won": float(w["in_80"].mean()),
        "region_months": len(b),
        "monte_carlo": c.monte_carlo,
        "mape_region_quarter": float(np.nanmean(q["ape"])) if len(q) else None,
        "mape_region_quarter_naive": float(np.nanmean(q["naive_ape"])) if len(q) else None,
        "region_quarters": len(q),
        "bookings_actual": float(b["actual"].sum()),
        "bookings_p50_total": float(np.median(
            c.simulated.bookings.groupby("replication")["bookings"].sum())),
        "parameter_draws": c.settings.draws,
        **_model_error_summary(c.cal),
        "won_actual": int(w["actual"].sum()),
        "pit_histogram": np.histogram(b["pit"], bins=5, range=(0, 1))[0].tolist(),
        "won_without_amount_after_cut": int(c.actual.won["amount"].isna().sum()),
        "goals": {"coverage_80_between": [0.7, 0.9], "mape_region_quarter_below": 0.15},
    }
    if len(c.simulated.deals):
        summary["decomposition"] = _decomposition(c)
    summary["goal_coverage_met"] = 0.7 <= summary["coverage_80"] <= 0.9
    summary["goal_mape_met"] = (summary["mape_region_quarter"] is not None
                                and summary["mape_region_quarter"] <= 0.15)
    return summary


def _decomposition(c: _Comparison) -> dict[str, Any]:
    """Where the forecast comes from: the open pipeline at the cut vs deals created after it,
    actual and simulated (mean per replication with deal records)."""
    cal, kept, won = c.cal, c.simulated.deals, c.actual.won
    d, cut, end = c.actual.history, c.actual.cut, c.actual.end
    pipe_ids = set(cal.deals.loc[cal.deals["outcome"].eq("open"), "id"])
    sw = kept[kept["outcome"].eq("won")]
    n_rep = kept["replication"].nunique()
    from_pipe = sw["source"].eq("initial_pipeline")
    return {
        "won_from_pipeline_actual": int(won["id"].isin(pipe_ids).sum()),
        "won_from_new_actual": int((~won["id"].isin(pipe_ids)).sum()),
        "won_from_pipeline_sim_mean": float(from_pipe.sum() / n_rep),
        "won_from_new_sim_mean": float((~from_pipe).sum() / n_rep),
        "pipeline_deals_at_cut": len(cal.scenario.initial_pipeline),
        "leads_after_cut_actual": int(((d["created_date"] >= cut)
                                       & (d["created_date"] < end)).sum()),
        "leads_after_cut_sim_mean": float(kept.attrs.get("leads_mean", float("nan"))),
        "replications_with_deal_records": int(n_rep),
        **_rep_sourced_after_cut(cal, d, cut, end),
    }


def _rep_sourced_after_cut(cal: Calibration, deals: pd.DataFrame, cut: pd.Timestamp,
                           end: pd.Timestamp) -> dict[str, Any]:
    """With a rep-sourced rate in the calibration: the deals created after the cut that the
    export marks as rep-sourced (``leads_after_cut_actual`` counts them too); else nothing."""
    if not (cal.estimates.get("sourcing") or {}).get("estimable"):
        return {}
    after = (deals["created_date"] >= cut) & (deals["created_date"] < end)
    return {"rep_sourced_after_cut_actual": int(
        (after & deals["rep_sourced"].fillna(False).astype(bool)).sum())}


def backtest(history: History, cutoff: str | dt.date | pd.Timestamp, *,
             replications: int = 1000, seed: int = 0, months: int | None = None,
             workers: int | None = 1, draws: int = 100, pipeline_bias: bool = True,
             progress: Progress | None = None) -> BacktestResult:
    """Run the backtest of ``history`` at ``cutoff`` (a first of month) over ``months`` months
    (None: every full month after it). ``draws`` > 1 splits the replications over that many
    parameter draws (:func:`perturbed_scenario`), so the prediction intervals carry the
    estimation uncertainty; ``draws`` <= 1 simulates the point estimates only. ``workers``:
    processes (None: one per CPU; results do not depend on it). ``pipeline_bias``: as in
    :func:`~.calibrate.calibrate`. ``progress(phase, done, total)`` is told each phase and the
    replications simulated."""
    def tell(phase: str, done: int | None = None, total: int | None = None) -> None:
        if progress is not None:
            progress(phase, done, total)

    cut = pd.Timestamp(cutoff)
    months = backtest_months(history, cut, months)
    settings = BacktestSettings(replications=replications, seed=seed, workers=workers,
                                draws=draws)
    tell("calibrating before the cut")
    cal = calibrate(history, cutoff=cut, horizon_months=months, name="backtest",
                    pipeline_bias=pipeline_bias)
    tell("simulating the months after the cut", 0, settings.replications)
    simulated = simulate_after_cut(cal, settings, progress)
    tell("comparing with what happened")
    actual = actual_wins(history.deals, cut, months)
    month_labels = cal_months(cal)
    wide = _replication_matrices(simulated.bookings)
    table, sims = _month_table(wide, actual, cal.scenario.region_ids, month_labels)
    mc = _coverage_error(table, sims, wide, settings)
    quarters = _quarter_table(simulated.bookings, actual, month_labels)
    c = _Comparison(cal=cal, settings=settings, month_labels=month_labels, simulated=simulated,
                    actual=actual, table=table, quarters=quarters, monte_carlo=mc)
    return BacktestResult(table, quarters, _summary(c), cal)
