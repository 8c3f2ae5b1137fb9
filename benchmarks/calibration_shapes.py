"""Calibration on generated histories in the shapes real exports come in (issue #23).

Each shape is drawn with known parameters (:mod:`salesplan.simulator.calibration.shapes`),
written as a CSV export, read and calibrated at the day after the export's last date, like a
user would. Two tables:

- **recovered vs true**: the win probability a new lead gets (the scenario's conversion, with
  its 95% interval), each source's leads per month (95% interval), the loss or stale age, the
  mean deal size (95% interval of the fit, or the sample's when empirical) and, for the shape
  with rates by source, each source's closed win rate (Jeffreys 95% interval of the data,
  shrunk rate beside it) against the true win probability;
- **simulated vs data**: the calibrated scenario without its open pipeline, simulated after
  a 6-month warm-up (``--replications``, the history's seed), against the export: won deals
  per month over the data's months (those where leads had arrived for 4 months or more and
  the export still recorded leads; the simulation covers the same months, each source's
  level taken back from the horizon start by its fitted growth), bookings per month over the
  same months, the win rate by source of the deals
  old enough for their outcome to be known (every lead counted, an open one as not won:
  the win rate a won-only export can show; with the data's 95% interval and the shrunk rate
  the calibration targets) and the mean won cycle time (days). Goal: within 10%.

    .venv/bin/python -m salesplan.benchmarks.calibration_shapes [--seeds 1,2,3] [--replications 20]
"""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from salesplan.scenarios.crm import read_history
from salesplan.simulator import simulate
from salesplan.simulator.calibration import calibrate, jeffreys_interval
from salesplan.simulator.calibration.shapes import HistoryShape, SourceTruth, generate_history

TWO = {"web": SourceTruth(60, 0.3), "partner": SourceTruth(30, 0.1)}
SHAPES: dict[str, tuple[HistoryShape, dict]] = {
    "won-only": (HistoryShape(TWO, won_only=True), {}),
    "fixed-age losses (180 d)": (HistoryShape(TWO, loss_age=180), {}),
    "zero amounts (90%, free)": (HistoryShape(TWO, zero_share=0.9), {"zero_amount": "free"}),
    "early data end": (HistoryShape(TWO, months=30, leads_end="2025-06-15",
                                    as_of="2025-12-31"), {}),
    "rates by source": (HistoryShape({
        "web": SourceTruth(40, 0.276, region="North", segment="SMB"),
        "partner": SourceTruth(20, 0.186, region="North", segment="ENT"),
        "events": SourceTruth(15, 0.219, region="South", segment="SMB"),
        "resale": SourceTruth(25, 0.063, region="South", segment="ENT")}), {}),
}


def _row(shape: str, what: str, truth: float, est: float, lo: float | None,
         hi: float | None) -> dict:
    inside = None if lo is None else bool(lo <= truth <= hi)
    return {"shape": shape, "parameter": what, "true": truth, "estimate": est,
            "ci_lo": lo, "ci_hi": hi, "inside": inside}


def recovered(name: str, shape: HistoryShape, g, cal) -> list[dict]:
    """Recovered vs true parameters of one calibrated shape."""
    est = cal.estimates
    rows = []
    wp = est["win_probability"]
    truth_p = float(np.average([s.p_win for s in shape.sources.values()],
                               weights=[s.leads_per_month for s in shape.sources.values()]))
    rows.append(_row(name, "win probability", truth_p, wp["value"], *wp["ci"]))
    for a in cal.arrivals:
        src = shape.sources[a.group["source"]]
        if src.annual_growth == 0:
            rows.append(_row(name, f"leads/month {a.group['source']}", src.leads_per_month,
                             a.level, *a.level_ci))
    if shape.loss_age is not None:
        rule = (cal.hazards.loss_rule or {}) if cal.hazards else {}
        rows.append(_row(name, "loss age (days)", shape.loss_age,
                         rule.get("age_days", math.nan), None, None))
    if est.get("stale_rule"):
        won = g.deals[g.deals["true_outcome"].eq("won")]
        q99 = float(np.quantile((won["true_close"] - won["created"]).dt.days, 0.99))
        rows.append(_row(name, "stale age (days) vs true 99% won cycle", q99,
                         est["stale_rule"]["age_days"], None, None))
    size = est["deal_size_pooled"]
    # free zeros: the mean over every won deal; otherwise the positive amounts' mean
    ds_truth = shape.amount_mean * (1 - shape.zero_share if size.get("zeros") else 1.0)
    rows.append(_row(name, "mean deal size", ds_truth, size["mean"], *size["mean_ci"]))
    if len(shape.sources) > 2:
        groups = {r["group"]: r for r in (est.get("conversion_by_group") or {}).get("groups", [])
                  if r["dimension"] == "source"}
        for s, truth in sorted(shape.sources.items()):
            r = groups[s]
            lo, hi = jeffreys_interval(int(r["won"]), int(r["deals"]))
            rows.append(_row(name, f"win rate {s} (shrunk)", truth.p_win, r["rate"], lo, hi))
    return rows


def resolved_days(cal, h) -> int:
    """Days after which a deal's outcome is known: the loss or stale rule's age, or the 99th
    percentile of the won cycle times, whichever is longer (+1)."""
    d = h.deals[h.deals["outcome"].eq("won")]
    q99 = float(np.quantile((d["close_date"] - d["created_date"]).dt.days.dropna(), 0.99))
    rule = (cal.hazards.loss_rule or {}).get("age_days", 0) if cal.hazards else 0
    stale = (cal.estimates.get("stale_rule") or {}).get("age_days", 0)
    return int(max(q99, rule, stale)) + 1


def _monthly_won_over(sc, first: pd.Period, months: int, replications: int, seed: int
                      ) -> tuple[float, float]:
    """Mean won deals and bookings (currency) a month of ``sc`` (no open pipeline) simulated
    over the data's months ``first`` + ``months``: each lead source's level taken back from the
    horizon start by its growth, so that the simulation covers the months the data does."""
    start = first.start_time
    years = (pd.Timestamp(sc.horizon.start) - start).days / 365.25
    sources = [s.model_copy(update={"leads_per_month": s.leads_per_month
                                    * (1 + s.annual_growth) ** (-years)})
               for s in sc.lead_sources]
    back = sc.model_copy(update={
        "lead_sources": sources,
        "horizon": sc.horizon.model_copy(update={"start": start.date(), "months": months})})
    back = type(sc).model_validate(back.model_dump())
    d = simulate(back, replications=replications, seed=seed, workers=1,
                 keep_deals=replications).deals
    won = d[d["outcome"].eq("won") & d["closed_date"].between(0, back.horizon.days,
                                                               inclusive="left")]
    return len(won) / replications / months, float(won["value"].sum()) / replications / months


def simulated(name: str, cal, h, replications: int, seed: int) -> list[dict]:
    """Simulated vs data: won deals per month (over the data's months), win rate by source
    (deals old enough for their outcome to be known, every lead counted: an open one is a
    loss), mean won cycle time."""
    sc = cal.scenario.model_copy(update={
        "initial_pipeline": [],
        "policies": cal.scenario.policies.model_copy(update={"warmup_months": 6})})
    res = simulate(sc, replications=replications, seed=seed, workers=1,
                   keep_deals=replications)
    d = res.deals
    d = d[d["source"].ne("initial_pipeline")]
    horizon_days = sc.horizon.days
    resolved = resolved_days(cal, h)
    data = h.deals
    w = cal.estimates["windows"]["arrivals"]
    first = pd.Period(w["first_month"]) + 4
    last = min(pd.Period(w["last_month"]) - (1 if w.get("last_month_days") else 0),
               (h.as_of.to_period("M") - 1))
    dw = data[data["outcome"].eq("won")]
    month = dw["close_date"].dt.to_period("M")
    n_months = (last - first).n + 1
    in_months = (month >= first) & (month <= last)
    data_monthly = float(in_months.sum()) / max(n_months, 1)
    data_booked = float(dw.loc[in_months, "amount"].fillna(0).sum()) / max(n_months, 1)
    sim_won, sim_booked = _monthly_won_over(sc, first, n_months, replications, seed)
    rows = [{"shape": name, "measure": "won deals / month", "data": data_monthly,
             "simulated": sim_won},
            {"shape": name, "measure": "bookings / month", "data": data_booked,
             "simulated": sim_booked}]
    old = data[data["created_date"] < h.as_of - pd.Timedelta(days=resolved)]
    sim_old = d[d["created_date"] < horizon_days - resolved]
    groups = {r["group"]: r["rate"] for r in
              (cal.estimates.get("conversion_by_group") or {}).get("groups", [])
              if r["dimension"] == "source"}
    for src in sorted(set(old["source"].dropna())):
        won_src = old[old["source"].eq(src)]["outcome"].eq("won")
        lo, hi = jeffreys_interval(int(won_src.sum()), len(won_src))
        sr = sim_old[sim_old["source"].str.endswith(src)]["outcome"].eq("won").mean()
        rows.append({"shape": name, "measure": f"win rate {src}", "data": won_src.mean(),
                     "data_lo": lo, "data_hi": hi, "shrunk": groups.get(src),
                     "simulated": sr})
    cyc = (dw["close_date"] - dw["created_date"]).dt.days
    sw = sim_old[sim_old["outcome"].eq("won")]
    rows.append({"shape": name, "measure": "won cycle (days)", "data": float(cyc.mean()),
                 "simulated": float((sw["closed_date"] - sw["created_date"]).mean())})
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="1,2,3", help="seeds of the generated histories")
    ap.add_argument("--replications", type=int, default=20)
    args = ap.parse_args(argv)
    rec, sim = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in (int(x) for x in args.seeds.split(",")):
            for i, (name, (shape, mapping_update)) in enumerate(SHAPES.items()):
                g = generate_history(shape, seed, Path(tmp), f"shape{i}-{seed}")
                m = g.mapping.model_copy(update=mapping_update)
                h = read_history(g.path, m, find_beside=False)
                cal = calibrate(h)
                rec += [dict(r, seed=seed) for r in recovered(name, shape, g, cal)]
                sim += [dict(r, seed=seed) for r in simulated(name, cal, h, args.replications,
                                                               seed)]
    rec_df = pd.DataFrame(rec)
    sim_df = pd.DataFrame(sim)
    sim_df["error"] = sim_df["simulated"] / sim_df["data"] - 1
    sim_df["within_10pct"] = sim_df["error"].abs() <= 0.10
    with pd.option_context("display.width", 200, "display.max_columns", 20,
                           "display.max_rows", 200):
        print("recovered vs true (95% intervals)")
        print(rec_df.round(4).to_string(index=False))
        print("\nsimulated vs data")
        print(sim_df.round(4).to_string(index=False))
    inside = rec_df["inside"].dropna()
    rates = sim_df.dropna(subset=["data_lo"])
    in_data = rates["simulated"].between(rates["data_lo"], rates["data_hi"])
    print(f"\n{int(inside.sum())} of {len(inside)} true values inside their 95% interval; "
          f"{int(sim_df['within_10pct'].sum())} of {len(sim_df)} simulated measures within 10% "
          f"of the data; {int(in_data.sum())} of {len(rates)} simulated win rates inside the "
          "data's 95% interval")


if __name__ == "__main__":
    main()
