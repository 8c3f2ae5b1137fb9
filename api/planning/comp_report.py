"""What a comp run writes: ``summary.json``, ``payouts.csv``, ``design.csv`` (with the design
search), the two charts and ``report.html``, a self-contained page for a sales leader.

- ``summary.json``: :attr:`CompRun.summary` (seed and replications included), plain JSON;
- ``payouts.csv``: one row per rep (rep, region, role, then quota, on-target earnings, pay
  P10/P50/P90 and its parts in whole currency units; attainment, pay over on-target earnings,
  P(on-target pay) and the effective commission rate as fractions);
- ``design.csv``: the accelerator x cap grid the design search evaluated;
- ``pay_curve.png`` and ``pay_distribution.png`` (``plots`` extra; without it the report says
  so where the charts would be);
- ``report.html``: the headline in words, the charts embedded as base64 PNG, the per-rep
  table, pay equity with what it means, the design result and the notes.
"""

from __future__ import annotations

import base64
import html
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..extras import have
from ..formatting import jsonable, money
from .compensation import CompRun

__all__ = ["CHART_FILES", "CompFiles", "comp_charts", "equity_sentence", "headline",
           "payouts_table", "write_comp"]

CHART_FILES = {"pay_curve": "pay_curve.png", "pay_distribution": "pay_distribution.png"}
"""Chart name (as the service serves it) -> file name (as the CLI writes it)."""

MONEY_COLUMNS = ("quota", "on_target_earnings", "target_variable", "expected_bookings",
                 "pay_mean", "pay_p10", "pay_p50", "pay_p90", "base_mean", "commission_mean",
                 "spif_mean", "draw_mean")
RATIO_COLUMNS = ("expected_attainment", "pay_over_ote", "p_at_on_target_pay", "effective_rate")


@dataclass
class CompFiles:
    """The files a comp run wrote, and the charts it could not draw (no ``plots`` extra)."""

    written: list[Path] = field(default_factory=list)
    charts_skipped: list[str] = field(default_factory=list)


def payouts_table(run: CompRun) -> pd.DataFrame:
    """The per-rep pay table with money rounded to whole currency units and ratios to 4
    decimals (rep, region and role first)."""
    table = run.reps.copy()
    for col in MONEY_COLUMNS:
        table[col] = table[col].round(0)
    for col in RATIO_COLUMNS:
        table[col] = table[col].round(4)
    return table


def _unit(value: float) -> tuple[float, str]:
    return (1e6, "M") if abs(value) >= 1e6 else (1e3, "k")


def _short(value: float, cur: str) -> str:
    """``$6.9M`` / ``$352.9k``: one decimal in millions or thousands."""
    unit, suffix = _unit(value)
    return f"{money(value / unit, cur, 1)}{suffix}"


def _pay_with_ci(d: dict, cur: str) -> str:
    """``$6.9M [6.8, 6.9]``: the mean and its 95% CI in the mean's unit."""
    unit, _ = _unit(d["mean"])
    text = _short(d["mean"], cur)
    if d.get("ci95"):
        lo, hi = d["ci95"]
        text += f" [{lo / unit:,.1f}, {hi / unit:,.1f}]"
    return text


def headline(summary: dict) -> str:
    """The run in one sentence: expected pay with its 95% CI, cost of sales, the share of reps
    reaching on-target pay, and P(pay over the budget) when the plan has one."""
    cur = summary["currency"]
    parts = [f"Expected pay {_pay_with_ci(summary['total_pay'], cur)}, "
             f"{summary['cost_of_sales']['mean']:.1%} of bookings"]
    share = summary["share_at_on_target_pay"]["mean"]
    if share is not None and not (isinstance(share, float) and math.isnan(share)):
        parts.append(f"{share:.0%} of reps reach on-target pay")
    over = summary.get("p_over_budget")
    if over is not None and summary.get("budget") is not None:
        parts.append(f"P(pay over the {_short(summary['budget'], cur)} budget) "
                     f"{over['p']:.0%}")
    return "; ".join(parts)


def _num(value: object) -> float | None:
    return value if isinstance(value, float | int) and math.isfinite(value) else None


def equity_sentence(equity: dict) -> str:
    """What the pay equity figures mean, in words."""
    g = _num(equity.get("gini_pay_ratio"))
    if g is None:
        return "Pay equity cannot be measured: fewer than two reps have a target variable."
    text = (f"The Gini of the expected pay ratio (expected variable pay over on-target "
            f"variable, per rep) is {g:.2f}: 0 would mean every rep can expect the same share "
            f"of what the plan promises; higher means some reps' quotas are far easier to "
            f"earn on than others'.")
    t, r = _num(equity.get("territory_share")), _num(equity.get("rep_share"))
    if t is not None and r is not None:
        text += (f" Of the spread across reps, {t:.0%} goes with the territory (its potential "
                 f"against its quota) and {r:.0%} with the rep (productivity); "
                 f"{max(0.0, 1 - t - r):.0%} is neither. Quotas that track potential keep "
                 f"the territory part near 0.")
    else:
        text += (" The split between territory and rep needs at least 4 reps with territory "
                 "potential, a quota and some spread in pay ratio.")
    return text


def comp_charts(run: CompRun) -> dict[str, bytes]:
    """``pay_curve`` and ``pay_distribution`` as PNG bytes; empty without the ``plots``
    extra."""
    if not have("plots"):
        return {}
    from .. import plots

    comp = run.scenario.compensation
    plans = list(comp.plans) if comp else []
    return {"pay_curve": plots.pay_curve_chart(plans),
            "pay_distribution": plots.pay_distribution_chart(run.reps,
                                                             run.scenario.horizon.currency)}


def _img(png: bytes | None, alt: str) -> str:
    if png is None:
        return ("<p class=\"notes\"><em>Charts not drawn: matplotlib is not installed (pip "
                "install 'salesplan[plots]').</em></p>")
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _pct(v: object, digits: int = 0) -> str:
    n = _num(v)
    return "-" if n is None else f"{n:.{digits}%}"


def _rep_rows(table: pd.DataFrame, cur: str) -> str:
    head = ("<tr><th>rep</th><th>region</th><th>role</th><th>quota</th>"
            "<th>on-target earnings</th><th>expected attainment</th><th>pay P10</th>"
            "<th>pay P50</th><th>pay P90</th><th>expected pay / OTE</th>"
            "<th>P(on-target pay)</th><th>effective rate</th></tr>")
    rows = [head]
    for r in table.to_dict("records"):
        rows.append(
            f"<tr><td>{html.escape(str(r['rep']))}</td><td>{html.escape(str(r['region']))}"
            f"</td><td>{html.escape(str(r['role']))}</td><td>{money(r['quota'], cur)}</td>"
            f"<td>{money(r['on_target_earnings'], cur)}</td>"
            f"<td>{_pct(r['expected_attainment'])}</td><td>{money(r['pay_p10'], cur)}</td>"
            f"<td>{money(r['pay_p50'], cur)}</td><td>{money(r['pay_p90'], cur)}</td>"
            f"<td>{_pct(r['pay_over_ote'])}</td><td>{_pct(r['p_at_on_target_pay'])}</td>"
            f"<td>{_pct(r['effective_rate'], 1)}</td></tr>")
    return f"<table>{''.join(rows)}</table>"


def _design_html(run: CompRun) -> str:
    if run.design is None:
        return ""
    d = run.design
    grid = d.grid.copy()
    cur_rows = "".join(
        f"<tr><td>{g['accelerator']:g}</td><td>{_cap(g['cap'])}</td>"
        f"<td>{_pct(g['cost_of_sales'], 1)}</td><td>{_pct(g['share_at_on_target_pay'])}</td>"
        "</tr>" for g in grid.to_dict("records"))
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in d.notes)
    verdict = "Feasible" if d.feasible else "Not feasible"
    return (f"<h2>Plan design</h2><p><b>{verdict}</b>: {html.escape(d.message)}</p>"
            + (f"<ul>{notes}</ul>" if notes else "")
            + "<details><summary>Grid searched (accelerator x cap)</summary><table><tr>"
            "<th>accelerator</th><th>cap</th><th>cost of sales</th>"
            f"<th>share at on-target pay</th></tr>{cur_rows}</table></details>")


def _cap(value: object) -> str:
    n = _num(value)
    return "none" if n is None else f"{n:g}x"


_STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;font-size:13px;margin:1em 0}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f3f3f3}td:nth-child(-n+3){text-align:left}
img{max-width:100%;display:block;margin:1em 0}.headline{font-size:1.25em;font-weight:600}
.notes{color:#555}"""


def report_html(run: CompRun, charts: dict[str, bytes]) -> str:
    """The leader's page (module docstring), self-contained."""
    s = run.summary
    cur = s["currency"]
    title = f"Incentive compensation: {s['scenario']}"
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in s["notes"])
    eff = s["effective_commission_rate"]["mean"]
    figures = (f"<p>Total pay P10 / P50 / P90: {money(s['total_pay']['p10'], cur)} / "
               f"{money(s['total_pay']['p50'], cur)} / {money(s['total_pay']['p90'], cur)}; "
               f"on-target earnings {money(s['on_target_earnings'], cur)}; expected bookings "
               f"{money(s['bookings']['mean'], cur)}; effective commission rate "
               f"{_pct(eff, 1)}; reps at quota {_pct(s['share_at_quota']['mean'])}.</p>")
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}
</title><style>{_STYLE}</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="headline">{html.escape(headline(s))}</p>
{figures}
<p class="notes">{s['replications']} simulated replications, seed {s['seed']}; quotas from
{html.escape(s['quotas'])}. Intervals in brackets are 95% confidence intervals of the mean.</p>
<h2>Commission curve</h2>{_img(charts.get('pay_curve'), 'commission curve per role')}
<h2>Pay per rep</h2>{_img(charts.get('pay_distribution'), 'pay per rep, P10-P90')}
{_rep_rows(payouts_table(run), cur)}
<h2>Pay equity</h2><p>{html.escape(equity_sentence(s['equity']))}</p>
{_design_html(run)}
<h2>Notes</h2>{f'<ul>{notes}</ul>' if notes else '<p>None.</p>'}
</body></html>"""


def write_comp(run: CompRun, out_dir: Path) -> CompFiles:
    """Write every file of the module docstring into ``out_dir`` (created if needed)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = CompFiles()
    summary = out_dir / "summary.json"
    summary.write_text(json.dumps(jsonable(run.summary), indent=2) + "\n")
    payouts_table(run).to_csv(out_dir / "payouts.csv", index=False)
    files.written += [summary, out_dir / "payouts.csv"]
    if run.design is not None:
        run.design.grid.to_csv(out_dir / "design.csv", index=False)
        files.written.append(out_dir / "design.csv")
    charts = comp_charts(run)
    for name, file in CHART_FILES.items():
        if name in charts:
            (out_dir / file).write_bytes(charts[name])
            files.written.append(out_dir / file)
        else:
            files.charts_skipped.append(file)
    (out_dir / "report.html").write_text(report_html(run, charts), encoding="utf-8")
    files.written.append(out_dir / "report.html")
    return files
