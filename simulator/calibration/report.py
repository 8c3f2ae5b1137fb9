"""Calibration and backtest reports: JSON documents and a self-contained HTML page with PNG
figures (matplotlib Agg, embedded as base64)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from salesplan.numbers import money, number, percent, readable, round_floats

from .. import plots
from ..plots import backtest_figures, calibration_figures

__all__ = ["write_backtest", "write_calibration"]

_NO_CHARTS = ("<p><em>Charts not drawn: matplotlib is not installed (pip install "
              "'salesplan[plots]').</em></p>")


SHARE_WORDS = ("coverage", "share", "rate", "mape", "ape", "conversion", "growth", "p_won",
               "p_lost", "p_stall", "probability", "pit")
"""Columns whose values are shares, printed as percentages (matched on the column's words)."""
MONEY_BACKTEST = ("actual", "mean", "p10", "p25", "p50", "p75", "p90", "naive_last_period",
                  "bookings_actual", "bookings_p50_total")
"""The backtest's money columns (on rows of bookings, not of won deals)."""
MONEY_DEAL_SIZES = ("mean", "mean_ci", "sample_mean")
"""The money columns of the calibration's deal sizes."""
CSV_MONEY = ("actual", "mean", "p10", "p25", "p50", "p75", "p90", "naive_last_period")
"""Money (and counts' quantiles) in backtest.csv and quarters.csv: to the cent."""


def _is_share(col: str) -> bool:
    words = col.lower().split("_")
    return any(w in words or col.lower().startswith(w) for w in SHARE_WORDS)


def _cell(col: str, v: Any, money_cols: tuple[str, ...], currency: str) -> str:
    """One value as a person reads it: money with its currency, shares as percentages, other
    numbers with 3 significant digits (thousands separated, never ``2.8e+06``), intervals as
    ``lo to hi``, nested values as ``key: value`` text."""
    if col in money_cols:
        fmt = lambda x: money(x, currency)  # noqa: E731
    elif _is_share(col):
        fmt = lambda x: number(x) if isinstance(x, bool) else percent(x)  # noqa: E731
    else:
        fmt = number
    return html.escape(readable(v, fmt) if v is not None else "")


def _table(rows: list[dict[str, Any]], cols: list[str] | None = None, *,
           money_cols: tuple[str, ...] = (), currency: str = "USD",
           money_if: Any = None) -> str:
    """An HTML table of ``rows``; ``money_cols`` printed as money in ``currency`` (on the rows
    for which ``money_if(row)`` holds, when given)."""
    if not rows:
        return "<p>(none)</p>"
    cols = cols or list(rows[0])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    rows_html = []
    for r in rows:
        cols_money = money_cols if money_if is None or money_if(r) else ()
        rows_html.append("<tr>" + "".join(f"<td>{_cell(c, r.get(c), cols_money, currency)}</td>"
                                          for c in cols) + "</tr>")
    body = "".join(rows_html)
    return f"<table><tr>{head}</tr>{body}</table>"


_CSS = ("body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:"
        "collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px}")


def _page(title: str, parts: list[str]) -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title><style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"
            + "\n".join(parts) + "</body></html>")


def _img(b64: str) -> str:
    return f"<img src='data:image/png;base64,{b64}'/>"


def _pipeline_parts(op: dict[str, Any], hz: dict[str, Any] | None, figs: dict[str, str]
                    ) -> list[str]:
    if not hz:
        return [_table([{"deals": op["deals"]}])]
    return [
        _table([{"deals": op["deals"], "model": hz["model"], "calendar": hz["calendar"],
                 "bin_days": hz["bin_days"], "loglik": hz["loglik"], "aic": hz["aic"],
                 "alternative": hz["alternative"],
                 "pooled_stalled_share": hz["pooled_stall_share"],
                 "quarter_profile": hz["quarter_profile"],
                 "calendar_note": hz.get("calendar_note"),
                 "deals_left_out": hz.get("deals_left_out")}]),
        _table([hz["new_deals"]]) if hz.get("new_deals") else "",
        _img(figs["hazards"]) if "hazards" in figs else "",
        *_model_error_parts(hz.get("pipeline_model_error")),
        _table([dict(v, entry_month=k) for k, v in sorted(hz["cohorts"].items())],
               ["entry_month", "deals", "open_at_cut", "open_share_at_cut",
                "expected_open_if_pooled", "closing_deals_open_at_cut", "left_truncated",
                "raw_stall_share", "weight",
                "stall_share", "stall_share_se", "p_won_given_open"]),
    ]


def _model_error_parts(me: dict[str, Any] | None) -> list[str]:
    """The open-pipeline forecast's model error (inner cuts): the estimate and its errors."""
    if not me:
        return []
    keys = ("log_variance", "log_variance_se", "log_sd", "theta_raw", "floored",
            "common_log_variance", "common_log_variance_se", "cohort_log_variance", "split",
            "bias_ratio", "bias_ratio_se", "bias_correction", "origins", "window_days",
            "cohorts_used", "forecast_total", "actual_total", "mean_log_ratio",
            "share_below_forecast", "note", "method")
    return ["<h3>Model error of the pipeline forecast (inner cuts before the cut)</h3>",
            _table([{k: me.get(k) for k in keys}]),
            _table(me.get("errors") or [], ["origin", "window_end", "days", "cohort",
                                            "open_deals", "stall_share", "forecast", "actual",
                                            "var_noise", "used"])]


def _sourcing_parts(src: dict[str, Any]) -> list[str]:
    """The rate of rep-sourced deals with its interval and the per-rep counts, or why the
    export cannot give it."""
    if not src.get("estimable"):
        return [f"<p>{html.escape(src.get('note') or 'not estimated')}</p>"]
    keys = ("per_rep_per_month", "se", "ci", "interval", "dispersion", "deals", "rep_months",
            "productivity_weighted_rep_months", "reps", "window", "column",
            "deals_unknown_source", "per_rep_per_month_if_unknown_were_rep_sourced",
            "share_of_deals_in_window")
    return [_table([{k: src.get(k) for k in keys}]),
            _table([{"value": k, "deals": v} for k, v in
                    (src.get("deals_in_window_by_value") or {}).items()]),
            _table(src.get("by_rep") or [])]


def write_calibration(cal: Any, out: Path) -> list[Path]:
    """Write ``scenario.yaml`` (+ CSV tables), ``calibration.json`` and ``report.html``."""
    from salesplan.scenarios.io import dump_scenario

    out.mkdir(parents=True, exist_ok=True)
    files = dump_scenario(cal.scenario, out / "scenario.yaml")
    (out / "calibration.json").write_text(json.dumps(cal.estimates, indent=2) + "\n",
                                          encoding="utf-8")
    e = cal.estimates
    drawn = plots.available()
    figs = calibration_figures(cal) if drawn else {}
    o = e["outcomes"] or {}
    parts = [
        f"<p>Cut {e['cutoff']}; horizon from {e['horizon_start']}; mapping {e['mapping']}; "
        f"{e['deals_used']} deals used.</p>",
        *([] if drawn else [_NO_CHARTS]),
        "<h2>Import: cleaning report</h2>",
        _table([{"rows_read": e["cleaning"]["rows_read"], "rows_kept": e["cleaning"]["rows_kept"],
                 "rows_fixed": e["cleaning"]["rows_fixed"],
                 "rows_dropped": e["cleaning"]["rows_dropped"]}]),
        _table(e["cleaning"]["problems"]),
        "<h2>Win probability of a new lead (the scenario's conversion) and windows</h2>",
        _table([e["win_probability"]] if e.get("win_probability") else []),
        _table([{"arrivals": (e.get("windows") or {}).get("arrivals"),
                 "outcomes": (e.get("windows") or {}).get("outcomes"),
                 "stale_rule": e.get("stale_rule")}]),
        "<h2>Win rates by source and segment (shrunk towards the pooled rate)</h2>",
        _table((e.get("conversion_by_group") or {}).get("groups", []),
               ["dimension", "group", "deals", "won", "raw_rate", "rate", "multiplier"]),
        "<h2>Outcomes and cycle times (competing outcomes, censored)</h2>",
        *([_table([{k: o[k] for k in ("p_won", "p_won_ci", "p_lost", "p_stall", "stall",
                                      "win_rate_closed", "n_won", "n_lost", "n_open")}]),
           _table([dict(o["won_duration"], outcome="won"),
                   dict(o["lost_duration"], outcome="lost")],
                  ["outcome", "family", "mean", "mean_ci", "cv", "cv_ci", "n_events",
                   "ks_events"]),
           _table(o["models"])] if o else ["<p>(not fitted: see notes)</p>"]),
        _img(figs["durations"]) if "durations" in figs else "",
        _table([e["cumulative_incidence"]]),
        "<h2>Stages (from stage history)</h2>",
        _table([dict(v, stage=k) for k, v in e["stages"].items()],
               ["stage", "entered", "advanced", "lost", "open", "conversion", "conversion_ci"]),
        "<h2>Lead arrivals</h2>",
        _table(e["arrivals"], ["group", "level", "level_ci", "annual_growth", "growth_ci",
                               "seasonality_used", "dispersion", "notes"]),
        _img(figs["arrivals"]) if "arrivals" in figs else "",
        "<h2>Rep-sourced deals</h2>",
        *_sourcing_parts(e.get("sourcing") or {}),
        "<h2>Closing hazards (age x month of quarter) and the open pipeline at the cut</h2>",
        *_pipeline_parts(e["open_pipeline"], e.get("closing_hazards"), figs),
        "<h2>Deal sizes</h2>",
        _table([dict(v["all"], product=k) for k, v in e["deal_sizes"].items()],
               ["product", "n", "family", "mean", "mean_ci", "cv", "sample_mean"],
               money_cols=MONEY_DEAL_SIZES, currency=cal.scenario.horizon.currency),
        "<h2>Reps (empirical-Bayes shrinkage)</h2>",
        _table([e["rep_prior"]]),
        _table(e["reps"]),
        _img(figs["reps"]) if "reps" in figs else "",
        "<h2>Notes and assumptions</h2><ul>"
        + "".join(f"<li>{html.escape(n)}</li>" for n in e["notes"] + e["not_estimated"])
        + "</ul>",
    ]
    (out / "report.html").write_text(_page("Calibration report", parts), encoding="utf-8")
    return [*files, out / "calibration.json", out / "report.html"]


def write_backtest(bt: Any, out: Path) -> list[Path]:
    """Write ``backtest.csv``, ``quarters.csv``, ``summary.json`` and ``report.html``."""
    out.mkdir(parents=True, exist_ok=True)
    round_floats(bt.table, CSV_MONEY).to_csv(out / "backtest.csv", index=False)
    round_floats(bt.quarters, CSV_MONEY).to_csv(out / "quarters.csv", index=False)
    (out / "summary.json").write_text(json.dumps(bt.summary, indent=2) + "\n",
                                      encoding="utf-8")
    drawn = plots.available()
    figs = backtest_figures(bt) if drawn else {}
    s = bt.summary
    cur = bt.calibration.scenario.horizon.currency
    bookings = dict(money_cols=MONEY_BACKTEST, currency=cur,
                    money_if=lambda r: r.get("measure", "bookings") == "bookings")
    parts = [_table([{k: v for k, v in s.items() if not isinstance(v, list | dict)}],
                    **bookings),
             "<h2>Monte Carlo error of the coverage (resampled)</h2>",
             _table([s["monte_carlo"]] if s.get("monte_carlo") else []),
             *(_img(figs[k]) for k in ("bands", "pit") if k in figs),
             *([] if drawn else [_NO_CHARTS]), "<h2>Where the won deals come from</h2>",
             _table([s["decomposition"]] if s.get("decomposition") else []),
             "<h2>Region x quarter</h2>",
             _table(bt.quarters.to_dict(orient="records"), **bookings),
             "<h2>Region x month</h2>", _table(bt.table.to_dict(orient="records"),
                                                 **bookings)]
    (out / "report.html").write_text(_page(f"Backtest at {s['cutoff']}", parts),
                                     encoding="utf-8")
    return [out / "backtest.csv", out / "quarters.csv", out / "summary.json",
            out / "report.html"]
