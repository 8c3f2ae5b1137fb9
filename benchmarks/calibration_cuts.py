"""Calibration: the open-pipeline forecast at several cuts, against what was then won.

At each cut (a first of month), the Maven export is calibrated as known at the cut. The
closing-hazard model's forecast of pipeline wins over the next three months (to the export's
end) is set beside the bias ratio the inner cuts measured before the cut, the corrected
forecast (the ratio applied to the wins of the first ``bias_window_days`` after the cut, as
the calibration does), and the wins that then happened. It prints two sizes of the total's
log error, both estimated before the cut from the inner origins' totals:

- ``raw``: about the uncorrected forecast, so including the bias. Where the split is "all
  common" (2017-10, 2017-11) this is the width the backtest draws. Otherwise the draws split the
  error into a common and an own part, printed beside it.
- ``about ratio``: about the corrected forecast.

The realised log error of the corrected forecast is ``log(won / corrected)``; ``z`` divides it
by the raw log-sd. No simulation: this is the model's expectation, so it runs in seconds.

    .venv/bin/python -m salesplan.benchmarks.calibration_cuts [--cuts 2017-07-01,...]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pandas as pd

from salesplan.scenarios.crm import read_history
from salesplan.simulator.calibration import calibrate
from salesplan.simulator.calibration.forecast_error import origin_total_error

MAVEN = Path(__file__).resolve().parents[1] / "tests" / "data" / "maven_crm"
CUTS = ("2017-07-01", "2017-08-01", "2017-09-01", "2017-10-01", "2017-11-01")
HORIZON_MONTHS = 3


def cut_row(history, cut: pd.Timestamp) -> dict:
    """One cut: forecast, ratio, corrected forecast, actual pipeline wins, realised and
    predicted log errors."""
    cal = calibrate(history, cutoff=cut, horizon_months=HORIZON_MONTHS, pipeline_bias=False)
    hz = cal.hazards
    me = hz.model_error
    end = min(cut + pd.DateOffset(months=HORIZON_MONTHS),
              (history.as_of + pd.Timedelta(days=1)).normalize())
    days = int((end - cut).days)
    cohorts = sorted(set(hz.open_cohort))
    forecast = float(sum(hz.cohort_window_wins(c, days).sum() for c in cohorts))
    d = history.deals
    closed_before = d["close_date"].lt(cut) & d["outcome"].isin(["won", "lost"])
    open_at_cut = d[d["created_date"].lt(cut) & ~closed_before]
    won = int((open_at_cut["outcome"].eq("won") & open_at_cut["close_date"].lt(end)).sum())
    ratio = me.get("bias_ratio")
    row = {"cut": cut.date().isoformat(), "days": days, "forecast": forecast, "won": won,
           "ratio": ratio, "ratio_se": me.get("bias_ratio_se")}
    if ratio is None:
        return row
    errors = pd.DataFrame(me["errors"]).query("used")

    def log_sd(centre: float) -> float:
        theta = origin_total_error(errors["forecast"], errors["actual"], errors["var_noise"],
                                   errors["origin"], centre)[0]
        return math.sqrt(math.log1p(max(theta, 0.0)))

    window = min(int(me["bias_window_days"]), days)
    measured = float(sum(hz.cohort_window_wins(c, window).sum() for c in cohorts))
    corrected = ratio * measured + (forecast - measured)
    raw = log_sd(1.0)
    realised = math.log(won / corrected) if won > 0 else -math.inf
    row.update(window_days=window, corrected=corrected, realised_log_error=realised, raw_log_sd=raw,
               about_ratio_log_sd=log_sd(ratio), z=realised / raw if raw > 0 else math.nan,
               common_log_sd=math.sqrt(hz.common_log_var), own_log_sd=math.sqrt(hz.cohort_log_var))
    return row


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cuts", default=",".join(CUTS))
    args = ap.parse_args(argv)
    history = read_history(MAVEN / "sales_pipeline.csv.gz", "maven",
                           teams=MAVEN / "sales_teams.csv")
    rows = pd.DataFrame([cut_row(history, pd.Timestamp(c)) for c in args.cuts.split(",")])
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(rows.round(3).to_string(index=False))
    ok = rows.dropna(subset=["corrected"]) if "corrected" in rows else rows.iloc[:0]
    if len(ok):
        unc = np.abs(ok["forecast"] / ok["won"] - 1).mean()
        cor = np.abs(ok["corrected"] / ok["won"] - 1).mean()
        rms = math.sqrt(float(np.mean(ok["realised_log_error"] ** 2)))
        print(f"mean absolute error of the pipeline forecast: uncorrected {unc:.1%}, "
              f"corrected {cor:.1%}; realised log errors' root mean square {rms:.3f}")


if __name__ == "__main__":
    main()
