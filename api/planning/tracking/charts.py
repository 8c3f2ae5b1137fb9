"""The tracking report's charts (matplotlib, headless; the ``plots`` extra): won to date
against the pace line, and the landing fans by region. Import only when matplotlib is there
(:func:`salesplan.api.extras.have`)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from salesplan.api.plots import figure_png

from .periods import working_days

__all__ = ["landing_fans", "pace_chart"]


def _money(x, _pos=None) -> str:
    return f"{x / 1e6:,.2f}M" if abs(x) >= 1e6 else f"{x / 1e3:,.0f}k"


def pace_chart(f, row: int) -> bytes:
    """Cumulative won to date in the period of target ``row`` against its pace line (target x
    working days elapsed), with the landing's P10-P90 and P50 at the period end."""
    r = f.table.iloc[row]
    period = f.targets.at[row, "period"]
    mask = f.state.members(r["level"], r["id"])
    d = f.state.deals
    won = d[d["outcome"].eq("won") & d["close_date"].between(period.start, f.state.asof)
            & mask[d["cell"].to_numpy()]]
    daily = won.groupby("close_date")["amount"].sum().sort_index()
    days = pd.date_range(period.start, min(f.state.asof, period.end))
    cum = daily.reindex(days, fill_value=0).cumsum()
    line_days = pd.date_range(period.start, period.end)
    total = max(working_days(period.start, period.end), 1)
    pace = [r["target"] * working_days(period.start, x) / total for x in line_days]
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(line_days, pace, color="grey", ls="--", label="pace line (target by working days)")
    ax.step(cum.index, cum.to_numpy(), where="post", color="C0", lw=2, label="won to date")
    ax.axhline(r["target"], color="black", lw=0.8, label="target")
    ax.errorbar([period.end], [r["p50"]], yerr=[[r["p50"] - r["p10"]], [r["p90"] - r["p50"]]],
                fmt="o", color="C1", capsize=4, label="landing P50 (P10-P90)")
    ax.axvline(f.state.asof, color="C2", lw=0.8, ls=":", label=f"as of {f.state.asof.date()}")
    ax.yaxis.set_major_formatter(_money)
    who = "Company" if r["level"] == "company" else f"{r['level']} {r['id']}"
    ax.set_title(f"{who}, {r['period']}: won to date "
                 f"{_money(r['won_to_date'])}, P(hit) {r['p_hit']:.0%}")
    ax.legend(fontsize=8, loc="upper left")
    fig.autofmt_xdate()
    return figure_png(fig)


def landing_fans(f, rows: list[int]) -> bytes:
    """Per target row (regions): the cumulative landing by month through its period, P10-P90
    and P50, with the target and the cumulative pace line."""
    n = len(rows)
    cols = min(n, 3)
    fig, axes = plt.subplots((n + cols - 1) // cols, cols, figsize=(4 * cols, 3.2 * ((n + cols
                             - 1) // cols)), squeeze=False, sharey=False)
    for ax, j in zip(axes.ravel(), rows, strict=False):
        r = f.table.iloc[j]
        period = f.targets.at[j, "period"]
        mask = f.state.members(r["level"], r["id"])
        idx = [i for i, m in enumerate(f.model.months) if m in set(period.months)]
        cum = np.cumsum(f.won[:, mask, :][:, :, idx].sum(axis=1), axis=1)
        q = np.quantile(cum, [0.1, 0.5, 0.9], axis=0)
        x = np.arange(1, len(idx) + 1)
        ax.fill_between(x, q[0], q[2], color="C0", alpha=0.25, label="P10-P90")
        ax.plot(x, q[1], color="C0", marker="o", label="P50")
        share = [working_days(period.start, m.end_time.normalize())
                 / max(working_days(period.start, period.end), 1)
                 for m in (f.model.months[i] for i in idx)]
        ax.plot(x, [r["target"] * s for s in share], color="grey", ls="--", label="pace")
        ax.axhline(r["target"], color="black", lw=0.8)
        ax.set_xticks(x, [f"end {f.model.months[i].strftime('%b %Y')}" for i in idx],
                      fontsize=8)
        ax.yaxis.set_major_formatter(_money)
        ax.set_title(f"{r['id']}: P(hit) {r['p_hit']:.0%}", fontsize=10)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=7, loc="upper left")
    fig.suptitle("Landing by region (cumulative won, by month)")
    fig.tight_layout()
    return figure_png(fig)
