"""The what-if report: one self-contained HTML file (charts embedded as PNG) and the same content
as CSV and JSON.

Charts (matplotlib, headless):
- fan chart of cumulative bookings by month for every variant (median, P10-P90 band) against
  the cumulative target path (the target phased by its seasonality, evenly without one);
- distribution of company bookings per variant, with the target;
- P(region hits its target) per region and variant;
- rep attainment per variant (each rep's bookings / quota, all replications pooled).
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from .console import money
from .outcome import Comparison

__all__ = ["target_path", "write_report"]


def target_path(comparison: Comparison) -> np.ndarray | None:
    """Cumulative target at each month end (currency), from the target's seasonality."""
    sc = comparison.base.scenario
    if sc.targets is None:
        return None
    m = sc.horizon.months
    season = sc.targets.seasonality
    if season is None:
        weights = np.ones(m)
    elif len(season) == 12:
        start = sc.horizon.start.month - 1
        weights = np.array([season[(start + k) % 12] for k in range(m)], dtype=float)
    else:  # quarterly weights, spread evenly over each quarter's months
        weights = np.array([season[(k // 3) % 4] / 3 for k in range(m)], dtype=float)
    return sc.targets.company * np.cumsum(weights) / weights.sum()


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _millions(x, _pos=None) -> str:
    return f"{x / 1e6:,.1f}M"


def fan_chart(c: Comparison) -> bytes:
    fig, ax = plt.subplots(figsize=(9, 4.8))
    x = np.arange(1, len(c.months) + 1)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, o in enumerate(c.all):
        cum = np.cumsum(o.monthly, axis=1)
        lo, mid, hi = np.quantile(cum, [0.1, 0.5, 0.9], axis=0)
        col = colours[k % len(colours)]
        ax.fill_between(x, lo, hi, color=col, alpha=0.12)
        ax.plot(x, mid, color=col, lw=2 if k == 0 else 1.4, label=o.name)
    path = target_path(c)
    if path is not None:
        ax.plot(x, path, "k--", lw=1.2, label="target")
        for k, o in enumerate(c.variants, start=1):  # variants that change the target
            if o.target is not None and c.base.target and o.target != c.base.target:
                ax.plot(x, path * o.target / c.base.target, ls="--", lw=1.0,
                        color=colours[k % len(colours)], label=f"target ({o.name})")
    ax.set_xticks(x, c.months, rotation=45, ha="right")
    ax.yaxis.set_major_formatter(_millions)
    ax.set_ylabel(f"cumulative bookings ({c.currency})")
    ax.set_title("Cumulative bookings: median and P10-P90 band per variant")
    ax.legend(fontsize=8, ncol=2)
    ax.grid(alpha=0.3)
    return _png(fig)


def bookings_distribution(c: Comparison) -> bytes:
    fig, ax = plt.subplots(figsize=(9, 0.6 * len(c.all) + 1.8))
    data = [o.bookings for o in c.all]
    ax.boxplot(data, orientation="horizontal", tick_labels=[o.name for o in c.all], whis=(10, 90),
               showfliers=False)
    for k, d in enumerate(data):
        jitter = np.random.default_rng(k).uniform(-0.15, 0.15, d.size)  # display only
        ax.scatter(d, k + 1 + jitter, s=4, alpha=0.25)
    for o in c.all:
        if o.target is not None:
            ax.axvline(o.target, color="k", ls="--", lw=0.8)
    ax.xaxis.set_major_formatter(_millions)
    ax.set_xlabel(f"company bookings over the horizon ({c.currency}); dashed: targets")
    ax.set_title("Distribution of company bookings (box: P25-P75, whiskers: P10-P90)")
    ax.grid(alpha=0.3, axis="x")
    return _png(fig)


def region_hits(c: Comparison) -> bytes:
    rt = c.region_table()
    regions = list(dict.fromkeys(rt.region))
    names = [o.name for o in c.all]
    fig, ax = plt.subplots(figsize=(9, 4))
    width = 0.8 / len(names)
    for k, name in enumerate(names):
        sub = rt[rt.variant == name].set_index("region").reindex(regions)
        pos = np.arange(len(regions)) + k * width
        err = np.clip(np.vstack([sub.p_hit - sub.p_hit_ci95_lo, sub.p_hit_ci95_hi - sub.p_hit]),
                      0.0, None)  # Wilson bounds can differ from p by rounding at 0 and 1
        ax.bar(pos, sub.p_hit, width, label=name, yerr=err, capsize=2)
    ax.set_xticks(np.arange(len(regions)) + 0.4 - width / 2, regions)
    ax.set_ylim(0, 1)
    ax.set_ylabel("P(region reaches its target)")
    ax.set_title("Probability each region hits its target (bars: 95% Wilson interval)")
    ax.legend(fontsize=8, ncol=2)
    ax.grid(alpha=0.3, axis="y")
    return _png(fig)


def attainment_chart(c: Comparison) -> bytes | None:
    data, labels = [], []
    for o in c.all:
        att = o.attainment()
        if att is None:
            continue
        a = att[~np.isnan(att)]
        data.append(np.clip(a, 0, 3))
        labels.append(o.name)
    if not data:
        return None
    fig, ax = plt.subplots(figsize=(9, 0.6 * len(data) + 1.8))
    ax.boxplot(data, orientation="horizontal", tick_labels=labels, whis=(10, 90), showfliers=False)
    ax.axvline(1.0, color="k", ls="--", lw=0.8)
    ax.set_xlabel("rep attainment (bookings / quota; all reps and replications; capped at 300%)")
    ax.set_title("Rep attainment per variant (box: P25-P75, whiskers: P10-P90)")
    ax.grid(alpha=0.3, axis="x")
    return _png(fig)


def _img(png: bytes | None, alt: str) -> str:
    if png is None:
        return ""
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _fmt_table(c: Comparison) -> str:
    cur = c.currency
    rows = []
    head = ("<tr><th>variant</th><th>bookings (mean, 95% CI)</th><th>P10 / P50 / P90</th>"
            "<th>won deals</th><th>P(hit target)</th><th>reps at quota</th><th>cost</th>"
            "<th>bookings per cost</th><th>difference vs base (paired 95% CI)</th>"
            "<th>CI width paired / unpaired</th></tr>")
    for r in c.table().to_dict("records"):
        def pct(v):
            return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.0%}"

        rows.append(
            "<tr>"
            f"<td>{html.escape(r['variant'])}</td>"
            f"<td>{money(r['bookings_mean'], cur)}<br><small>{money(r['bookings_ci95_lo'], cur)}"
            f" to {money(r['bookings_ci95_hi'], cur)}</small></td>"
            f"<td>{money(r['bookings_p10'], cur)} / {money(r['bookings_p50'], cur)} / "
            f"{money(r['bookings_p90'], cur)}</td>"
            f"<td>{r['won_mean']:,.0f}</td>"
            f"<td>{pct(r['p_hit_target'])}<br><small>{pct(r['p_hit_ci95_lo'])} to "
            f"{pct(r['p_hit_ci95_hi'])}</small></td>"
            f"<td>{pct(r['share_reps_at_quota'])}</td>"
            f"<td>{money(r['cost_mean'], cur)}</td>"
            f"<td>{r['bookings_per_cost']:.2f}</td>"
            f"<td>{money(r['diff_vs_base_mean'], cur)}<br><small>"
            f"{money(r['diff_vs_base_ci95_lo'], cur)} to {money(r['diff_vs_base_ci95_hi'], cur)}"
            f"</small></td>"
            f"<td>{money(r['paired_ci95_width'], cur)} / {money(r['unpaired_ci95_width'], cur)}"
            f"</td></tr>")
    return f"<table>{head}{''.join(rows)}</table>"


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
                     + (f"<ul>{items}</ul>" if items else ""))
    title = title or f"What-if comparison: {sc.name}"
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
for comparison.</p>
<h2>Cumulative bookings against the target</h2>{_img(fan_chart(c), "fan chart")}
<h2>Company bookings per variant</h2>{_img(bookings_distribution(c), "bookings distribution")}
<h2>Probability each region hits its target</h2>{_img(region_hits(c), "region P(hit)")}
<h2>Rep attainment</h2>{_img(attainment_chart(c), "rep attainment")}
<h2>Variants and what was adjusted</h2><div class="notes">{"".join(notes)}</div>
</body></html>"""
    paths["report.html"].write_text(body, encoding="utf-8")
    return paths
