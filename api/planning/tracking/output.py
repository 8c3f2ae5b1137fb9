"""The files of a tracking run: ``summary.json``, ``forecast.csv``, ``risks.csv``,
``actions.csv``, ``pipeline.csv`` (open pipeline by stage and age band) and ``report.html``
(for a sales director: a headline, a traffic-light table, won to date against the pace line
and the landing fans by region; the charts need the ``plots`` extra, the rest is written
without it)."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import numpy as np
import pandas as pd

from salesplan.api.extras import have
from salesplan.api.formatting import jsonable, money

from .forecast import FORECAST_COLUMNS
from .risks import RISK_COLUMNS
from .standing import pipeline_table
from .state import LEVELS

__all__ = ["charts", "headline", "summary", "warnings", "write_tracking"]

_COLOURS = {"green": "#2e7d32", "amber": "#f9a825", "red": "#c62828"}


def summary(result) -> dict:
    """The JSON-ready summary: as-of, seed, replications, the model's facts and notes, the
    headline and every forecast row."""
    f = result.forecast
    t = f.table
    return jsonable({
        "asof": f.state.asof.date().isoformat(), "seed": f.seed,
        "replications": f.draws.replications, "headline": headline(result),
        "target_to_date": "pro rata by working days (Monday to Friday) elapsed in the period",
        "model": f.model.facts, "notes": f.notes,
        "baselines": {"runrate": "won to date + trailing 91-day won per working day x working "
                                 "days left",
                      "weighted_pipeline": "won to date + open value x stage win rate + "
                                           "run rate of deals not yet created",
                      "as_probability": "normal, sd of a compound Poisson sum of the "
                                        "entity's won amounts"},
        "forecast": t.to_dict(orient="records"),
        "risks": result.risks.drop(columns=["reasons"], errors="ignore").head(20)
        .to_dict(orient="records"),
        "actions": result.actions.head(20).to_dict(orient="records")})


def headline(result) -> str:
    t = result.forecast.table
    comp = t[t["level"] == "company"]
    r = comp.iloc[0] if len(comp) else t.iloc[0]
    who = "the company" if r["level"] == "company" else f"{r['level']} {r['id']}"
    red = int((t["status"] == "red").sum())
    return (f"As of {result.forecast.state.asof.date()}, {who} has won "
            f"{money(r['won_to_date'])} of {money(r['target'])} for {r['period']} "
            f"(pace {r['pace']:.0%} of target to date); it lands at {money(r['p50'])} "
            f"(P10 {money(r['p10'])}, P90 {money(r['p90'])}), P(hit) {r['p_hit']:.0%}. "
            f"{red} of {len(t)} targets are red.") if np.isfinite(r["pace"]) else (
            f"As of {result.forecast.state.asof.date()}, {who} lands at {money(r['p50'])} for "
            f"{r['period']} against {money(r['target'])}, P(hit) {r['p_hit']:.0%}.")


def write_tracking(result, out_dir: str | Path) -> tuple[list[Path], list[str]]:
    """Write the files of the module docstring; returns them and the charts not drawn."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    f = result.forecast
    cols = FORECAST_COLUMNS + [c for c in f.table.columns if c not in FORECAST_COLUMNS]
    files = [out / n for n in ("summary.json", "forecast.csv", "risks.csv", "actions.csv",
                               "pipeline.csv", "report.html")]
    files[0].write_text(json.dumps(summary(result), indent=2) + "\n", encoding="utf-8")
    f.table[cols].to_csv(files[1], index=False)
    result.risks.reindex(columns=RISK_COLUMNS).to_csv(files[2], index=False)
    result.actions.to_csv(files[3], index=False)
    entities = list(dict.fromkeys(zip(f.table["level"], f.table["id"], strict=True)))
    pipeline_table(f.state, f.pipeline, entities).to_csv(files[4], index=False)
    charts, skipped = _charts(f)
    pipe = pipeline_table(f.state, f.pipeline, [("company", "company")])
    files[5].write_text(_html(result, charts, pipe), encoding="utf-8")
    return files, skipped


def _charts(f) -> tuple[dict[str, bytes], list[str]]:
    if not have("plots"):
        return {}, ["won to date against the pace line", "landing fans by region"]
    from .charts import landing_fans, pace_chart

    t = f.table
    open_rows = t.index[t["elapsed_share"] < 1].tolist() or t.index.tolist()
    first = next((j for j in open_rows if t.at[j, "level"] == "company"), open_rows[0])
    charts = {"pace": pace_chart(f, first)}
    period = t.at[first, "period"]
    regions = t.index[(t["level"] == "region") & (t["period"] == period)].tolist()
    if regions:
        charts["fans"] = landing_fans(f, regions)
    return charts, []


def charts(f) -> dict[str, bytes]:
    """The report's charts as PNG by name (``pace``, ``fans``); empty without ``plots``."""
    return _charts(f)[0]


def _img(png: bytes) -> str:
    return f"<img src='data:image/png;base64,{base64.b64encode(png).decode()}'/>"


def _pipeline_html(pipe) -> str:
    """The company's open pipeline, stages down, age bands across: deals and value (aged
    deals in brackets)."""
    if pipe.empty:
        return "<p>No open deals.</p>"
    bands = [b for b in ("0-30", "31-60", "61-90", "91-180", ">180") if b in set(pipe["age_band"])]
    head = "".join(f"<th>{html.escape(b)} days</th>" for b in bands)
    rows = []
    for stage, g in pipe.groupby("stage", sort=False):
        cells = []
        for b in bands:
            r = g[g["age_band"] == b]
            cells.append("<td></td>" if r.empty else
                         f"<td>{int(r['deals'].sum())} deals, {money(r['value'].sum())}"
                         f" ({int(r['aged_deals'].sum())} aged)</td>")
        rows.append(f"<tr><td>{html.escape(str(stage))}</td>{''.join(cells)}</tr>")
    return f"<table><tr><th>stage</th>{head}</tr>{''.join(rows)}</table>"


def _top_down(t: pd.DataFrame) -> pd.DataFrame:
    """The table in the order a director reads it: the company, then regions, reps,
    products and segments (each by period, then id)."""
    order = t["level"].map({lv: k for k, lv in enumerate(LEVELS)})
    return t.assign(_order=order).sort_values(["_order", "period", "id"], kind="stable")


def _html(result, charts: dict[str, bytes], pipe) -> str:
    f = result.forecast
    esc = html.escape
    rows = []
    for r in _top_down(f.table).itertuples():
        pace = f"{r.pace:.0%}" if np.isfinite(r.pace) else "-"
        rows.append(
            f"<tr><td style='background:{_COLOURS[r.status]};width:1em'></td>"
            f"<td>{esc(r.period)}</td><td>{esc(r.level)}</td><td>{esc(str(r.id))}</td>"
            f"<td>{money(r.target)}</td><td>{money(r.won_to_date)}</td><td>{pace}</td>"
            f"<td>{money(r.p10)} / {money(r.p50)} / {money(r.p90)}</td>"
            f"<td>{r.p_hit:.0%}</td><td>{money(r.runrate)}</td>"
            f"<td>{money(r.weighted_pipeline)}</td><td>{_x(r.coverage)} / "
            f"{_x(r.coverage_weighted)}</td><td>{r.aged_deals}</td></tr>")
    risks = "".join(
        f"<tr><td>{r.rank}</td><td>{esc(_who(r.level, r.id))}</td><td>{esc(r.period)}"
        f"</td><td>{money(r.gap)} x {r.p_miss:.0%}</td><td>{esc(r.why)}</td></tr>"
        for r in result.risks.head(10).itertuples())
    actions = "".join(
        f"<tr><td>{r.rank}</td><td>{esc(r.action)}</td><td>{esc(_who(r.level, r.id))}</td>"
        f"<td>{esc(r.detail)}</td><td>{_lift(r)}</td>"
        f"<td>{esc(r.assumption)}</td></tr>" for r in result.actions.head(10).itertuples())
    figs = "".join(f"<p>{_img(png)}</p>" for png in charts.values()) or (
        "<p><i>Charts not drawn: install the plots extra (pip install 'salesplan[plots]')."
        "</i></p>")
    notes = "".join(f"<li>{esc(n)}</li>" for n in f.notes)
    return f"""<!doctype html><html><head><meta charset='utf-8'><title>Tracking as of
{f.state.asof.date()}</title><style>body{{font-family:sans-serif;max-width:1200px;margin:auto}}
img{{max-width:100%;height:auto}}
table{{border-collapse:collapse;font-size:13px}}td,th{{border:1px solid #ccc;padding:3px 6px}}
</style></head><body><h1>Where we stand and where we land</h1>
<p><b>{esc(headline(result))}</b></p>{_warnings(f.notes)}
<p>Seed {f.seed}, {f.draws.replications} replications. Target to date: pro rata by working
days. Green: P(hit) at least 70%; amber: 30-70%; red: below 30%.</p>
<table><tr><th></th><th>period</th><th>level</th><th>id</th><th>target</th><th>won to date</th>
<th>pace</th><th>landing P10 / P50 / P90</th><th>P(hit)</th><th>run rate</th>
<th>weighted pipeline</th><th>coverage (weighted)</th><th>aged deals</th></tr>
{''.join(rows)}</table>{figs}
<h2>Open pipeline</h2><p>The company's open deals by stage and age (days since created);
values of deals whose amount the export hides are their product's mean won amount; aged: past
their stage's usual age (the 90th percentile of won deals').</p>{_pipeline_html(pipe)}
<h2>At risk</h2><p>Ranked by the mean gap when missed times P(miss); each reason compares
with peers and says whether its 95% interval makes it sure.</p>
<table><tr><th>#</th><th>who</th><th>period</th><th>gap x P(miss)</th><th>why</th></tr>
{risks}</table>
<h2>Actions</h2><p>Paired what-ifs on the same random numbers; lift in P(hit) of the target
they aim at, with its 95% interval.</p>
<table><tr><th>#</th><th>action</th><th>for</th><th>what</th><th>lift in P(hit)</th>
<th>assumption</th></tr>{actions}</table>
<h2>Notes</h2><ul>{notes}</ul></body></html>
"""


def warnings(notes: list[str]) -> list[str]:
    """The notes a reader of the landing must see first: those saying its intervals are too
    narrow."""
    return [n for n in notes if "too narrow" in n]


def _warnings(notes: list[str]) -> str:
    w = warnings(notes)
    return "".join(f"<p style='color:#c62828'><b>Warning:</b> {html.escape(n)}</p>"
                   for n in w)


def _who(level: str, ident: object) -> str:
    return "company" if level == "company" else f"{level} {ident}"


def _x(v: float) -> str:
    return f"{v:.1f}x" if v is not None and np.isfinite(v) else "-"


def _lift(r) -> str:
    if not np.isfinite(r.lift_lo):
        return "-"
    return f"{r.lift:+.1%} ({r.lift_lo:+.1%} to {r.lift_hi:+.1%})"


