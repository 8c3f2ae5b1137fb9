"""The what-if report: one self-contained HTML file (charts embedded as PNG) and the same content
as CSV and JSON.

Charts (drawn by :mod:`salesplan.api.plots` when the ``plots`` extra is installed; without it
the report says so where the charts would be):
- fan chart of cumulative bookings by month for every variant (median, P10-P90 band) against
  the cumulative target path (the target phased by its seasonality, evenly without one);
- distribution of company bookings per variant, with the target;
- P(region hits its target) per region and variant;
- rep attainment per variant (each rep's bookings / quota, all replications pooled).
"""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path

from ..extras import have
from ..formatting import money
from .outcome import Comparison, target_path

__all__ = ["report_charts", "target_path", "why_it_moves", "write_report"]

_NO_CHARTS = ("<p class=\"notes\"><em>Charts not drawn: matplotlib is not installed (pip "
              "install 'salesplan[plots]').</em></p>")


def report_charts(c: Comparison) -> dict[str, bytes]:
    """The report's charts as PNG bytes, by name (``fan``, ``distribution``, ``regions`` and,
    with quotas, ``attainment``); empty without the ``plots`` extra."""
    if not have("plots"):
        return {}
    from .. import plots

    charts = {"fan": plots.fan_chart(c), "distribution": plots.bookings_distribution(c),
              "regions": plots.region_hits(c), "attainment": plots.attainment_chart(c)}
    return {name: png for name, png in charts.items() if png is not None}


def _img(png: bytes | None, alt: str) -> str:
    if png is None:
        return ""
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _pct(v, digits: int = 0) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}%}"


def _pay_cells(r: dict, cur: str) -> str:
    """Pay under the plan (mean, 95% CI), cost of sales, share at on-target pay, and the paired
    difference in pay from the base."""
    return (f"<td>{money(r['pay_mean'], cur)}<br><small>{money(r['pay_ci95_lo'], cur)} to "
            f"{money(r['pay_ci95_hi'], cur)}</small></td>"
            f"<td>{_pct(r['cost_of_sales'], 1)}</td><td>{_pct(r['share_at_on_target_pay'])}</td>"
            f"<td>{money(r['pay_diff_vs_base_mean'], cur)}<br><small>"
            f"{money(r['pay_diff_vs_base_ci95_lo'], cur)} to "
            f"{money(r['pay_diff_vs_base_ci95_hi'], cur)}</small></td>")


def _pay_table(c: Comparison) -> str:
    """The pay section (empty without a pay plan): one row per variant."""
    table = c.table()
    if not table["pay_mean"].notna().any():
        return ""
    head = ("<tr><th>variant</th><th>pay under the plan (mean, 95% CI)</th><th>cost of sales"
            "</th><th>reps at on-target pay</th><th>pay vs base (paired 95% CI)</th></tr>")
    rows = [f"<tr><td>{html.escape(r['variant'])}</td>{_pay_cells(r, c.currency)}</tr>"
            for r in table.to_dict("records")]
    return (f"<h2>Pay under the plan</h2><table>{head}{''.join(rows)}</table>"
            "<p class=\"notes\">Pay is base, commission, draws and SPIFs under the scenario's "
            "pay plan with each variant's quotas; cost of sales is pay over bookings, the share "
            "at on-target pay counts reps whose variable pay reaches its target "
            "(docs/compensation.md).</p>")


def _fmt_table(c: Comparison) -> str:
    cur = c.currency
    rows = []
    table = c.table()
    head = ("<tr><th>variant</th><th>bookings (mean, 95% CI)</th><th>P10 / P50 / P90</th>"
            "<th>won deals</th><th>P(hit target)</th><th>reps at quota</th><th>cost</th>"
            "<th>bookings per cost</th><th>difference vs base (paired 95% CI)</th>"
            "<th>CI width paired / unpaired</th></tr>")
    for r in table.to_dict("records"):
        pct = _pct

        rows.append(
            "<tr>"
            f"<td>{html.escape(r['variant'])}</td>"
            f"<td>{money(r['bookings_mean'], cur)}<br><small>{money(r['bookings_ci95_lo'], cur)}"
            f" to {money(r['bookings_ci95_hi'], cur)}</small></td>"
            f"<td>{money(r['bookings_p10'], cur)} / {money(r['bookings_p50'], cur)} / "
            f"{money(r['bookings_p90'], cur)}</td>"
            f"<td>{r['won_mean']:,.0f}</td>"
            f"<td>{pct(r['p_hit_target'])}<br><small>{pct(r['p_hit_ci95_lo'])} to "
            f"{pct(r['p_hit_ci95_hi'])}</small>"
            f"{'' if r['variant'] == c.base.name else _p_hit_change(r)}</td>"
            f"<td>{pct(r['share_reps_at_quota'])}</td>"
            f"<td>{money(r['cost_mean'], cur)}</td>"
            f"<td>{r['bookings_per_cost']:.2f}</td>"
            f"<td>{money(r['diff_vs_base_mean'], cur)}<br><small>"
            f"{money(r['diff_vs_base_ci95_lo'], cur)} to {money(r['diff_vs_base_ci95_hi'], cur)}"
            f"</small></td>"
            f"<td>{money(r['paired_ci95_width'], cur)} / {money(r['unpaired_ci95_width'], cur)}"
            f"</td></tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def why_it_moves(c: Comparison, o) -> str:
    """How a variant moves bookings: its levers' mechanisms (docs/whatif.md, "How each lever
    moves bookings") and, when it adds reps, the split of the difference into what the new reps
    book and the paired change in what the base's reps book (the hand-over's effect)."""
    cur = c.currency
    parts = [f"How it moves bookings: {', '.join(o.mechanisms) or 'another plan (a file)'}."]
    if o.mechanisms and set(o.mechanisms) <= {"pay"}:
        p = c.pay_figures(o)
        parts = [f"A pay lever: bookings are unchanged (the model has no effort response to "
                 f"pay); what the plan pays changes by {money(p['pay_diff_vs_base_mean'], cur)} "
                 f"({money(p['pay_diff_vs_base_ci95_lo'], cur)} to "
                 f"{money(p['pay_diff_vs_base_ci95_hi'], cur)}, paired), cost of sales "
                 f"{_pct(p['cost_of_sales'], 1)}."]
    s = c.split_difference(o)
    if s["new_reps"]:
        parts.append(
            f"Its {s['new_reps']} new rep(s) book {money(s['new_reps_bookings_mean'], cur)} "
            f"({money(s['new_reps_bookings_ci95_lo'], cur)} to "
            f"{money(s['new_reps_bookings_ci95_hi'], cur)}); the existing reps' bookings change "
            f"by {money(s['existing_reps_diff_mean'], cur)} "
            f"({money(s['existing_reps_diff_ci95_lo'], cur)} to "
            f"{money(s['existing_reps_diff_ci95_hi'], cur)}, paired): the hand-over's effect.")
    return " ".join(parts)


_CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
table{border-collapse:collapse;font-size:14px}td,th{border:1px solid #ccc;padding:4px 8px;
text-align:right;vertical-align:top}td:first-child,th:first-child{text-align:left}
th{background:#f3f3f3}small{color:#666}img{max-width:100%;margin:1em 0}
.notes{font-size:13px;color:#444}"""


def write_report(c: Comparison, out_dir: Path, title: str | None = None) -> dict[str, Path]:
    """Write ``report.html``, ``comparison.csv``, ``regions.csv``, ``reps.csv`` and
    ``summary.json`` into ``out_dir``; return the paths by name."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sc = c.base.scenario
    paths = {
        "comparison.csv": out_dir / "comparison.csv",
        "regions.csv": out_dir / "regions.csv",
        "reps.csv": out_dir / "reps.csv",
        "summary.json": out_dir / "summary.json",
        "report.html": out_dir / "report.html",
    }
    c.table().to_csv(paths["comparison.csv"], index=False)
    c.region_table().to_csv(paths["regions.csv"], index=False)
    c.rep_table().to_csv(paths["reps.csv"], index=False)
    paths["summary.json"].write_text(json.dumps(c.summary(), indent=2, default=float))

    notes = []
    for o in c.all:
        desc = f" {html.escape(o.description)}" if o.description else ""
        quota = f" Quotas: {html.escape(o.quota_method)}." if o.quota_method else ""
        items = "".join(f"<li>{html.escape(n)}</li>" for n in o.notes)
        notes.append(f"<p><b>{html.escape(o.name)}</b>:{desc}{quota}</p>"
                     + (f"<p>{html.escape(why_it_moves(c, o))}</p>" if o is not c.base else "")
                     + (f"<ul>{items}</ul>" if items else ""))
    title = title or f"What-if comparison: {sc.name}"
    charts = report_charts(c)
    missing = "" if have("plots") else _NO_CHARTS
    body = f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{_CSS}</style></head><body>
<h1>{html.escape(title)}</h1>
<p>{c.replications} replications per variant, seed {c.seed}; every variant reuses the base's
random numbers (common random numbers), so differences are paired. Horizon
{sc.horizon.start.isoformat()} + {sc.horizon.months} months; target
{money(sc.targets.company if sc.targets else None, c.currency)}.</p>
<h2>Side by side</h2>{_fmt_table(c)}
<p class="notes">Bookings CI is the 95% confidence interval of the mean; P10/P50/P90 describe the
spread of outcomes. P(hit target) carries a Wilson 95% interval. Cost is the simulated payroll
(each rep's annual cost times the time seated, hires included). The paired interval of the
difference uses the same replications of base and variant; the unpaired (Welch) width is shown
for comparison.</p>{_pay_table(c)}
<h2>Cumulative bookings against the target</h2>{missing}{_img(charts.get("fan"), "fan chart")}
<h2>Company bookings per variant</h2>{_img(charts.get("distribution"), "bookings distribution")}
<h2>Probability each region hits its target</h2>{_img(charts.get("regions"), "region P(hit)")}
<h2>Rep attainment</h2>{_img(charts.get("attainment"), "rep attainment")}
<h2>Variants and what was adjusted</h2><div class="notes">{"".join(notes)}</div>
</body></html>"""
    paths["report.html"].write_text(body, encoding="utf-8")
    return paths


def _p_hit_change(r: dict) -> str:
    """A variant's paired change in P(hit) from the base, in points with its 95% interval
    ('' without a target)."""
    d = r.get("p_hit_diff_mean", math.nan)
    if d is None or math.isnan(d):
        return ""
    lo, hi = r["p_hit_diff_ci95_lo"], r["p_hit_diff_ci95_hi"]
    return (f"<br><small>vs base {100 * d:+.1f} pts ({100 * lo:+.1f} to {100 * hi:+.1f}, "
            "paired)</small>")
