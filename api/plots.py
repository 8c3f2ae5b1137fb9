"""Every chart of the application layer (matplotlib, headless; the ``plots`` extra).

- the what-if report: the fan of cumulative bookings per variant against the target
  (:func:`fan_chart`), the distribution of company bookings (:func:`bookings_distribution`),
  P(region hits its target) (:func:`region_hits`), rep attainment (:func:`attainment_chart`);
- quota runs: P(attainment) per rep (:func:`p_attain_chart`) and its spread per method
  (:func:`methods_chart`);
- strategy benchmarks: one PNG per family, a panel per metric (:func:`plot_families`).

Import this module only when matplotlib is there (:func:`salesplan.api.extras.have`).
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .bench.summary import METRICS
from .planning.outcome import Comparison, target_path

__all__ = ["attainment_chart", "bookings_distribution", "fan_chart", "methods_chart",
           "p_attain_chart", "plot_families", "region_hits"]


def _png(fig) -> bytes:
    """The figure as PNG bytes (cropped to its content) and closed."""
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


def p_attain_chart(reps: pd.DataFrame, path: Path, title: str) -> None:
    df = reps.reset_index().sort_values("p_attain")
    fig, ax = plt.subplots(figsize=(9, max(3, 0.18 * len(df) + 1)))
    p, lo, hi = df["p_attain"], df["p_attain_lo"], df["p_attain_hi"]
    err = np.clip(np.vstack([p - lo, hi - p]), 0.0, None)  # Wilson: not symmetric about p
    ax.barh(df["rep"].astype(str), df["p_attain"], xerr=err, capsize=2)
    ax.set_xlim(0, 1)
    ax.set_xlabel("P(attainment >= 100%) (bars: Wilson 95% interval)")
    ax.set_title(title)
    ax.grid(alpha=0.3, axis="x")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def methods_chart(plans: dict, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(9, 4))
    names = sorted(plans)
    data = [plans[m].reps["p_attain"].dropna().to_numpy() for m in names]
    ax.boxplot(data, tick_labels=names, whis=(0, 100))
    ax.set_ylim(0, 1)
    ax.set_ylabel("P(attainment >= 100%) across reps")
    ax.set_title("Spread of P(attainment) per quota method (same simulated draws)")
    ax.grid(alpha=0.3, axis="y")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


PANELS = {
    "routing": ("bookings", "p_hit_target", "share_at_quota", "lead_wait_days"),
    "territory": ("bookings", "balance_cv", "weighted_km", "moves"),
    "quota": ("attainment_spread", "share_at_quota"),
}


def plot_families(summary: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Write ``<family>.png`` into ``out_dir`` for each family in ``summary``; return paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    labels = {m.name: m.label for m in METRICS}
    paths = []
    for fam in dict.fromkeys(summary["family"]):
        s = summary[summary["family"] == fam]
        panels = [p for p in PANELS.get(fam, ()) if p in set(s["metric"])]
        if not panels:
            continue
        instances = list(dict.fromkeys(s["instance"]))
        strats = list(dict.fromkeys(s["strategy"]))
        fig, axes = plt.subplots(len(panels), 1, figsize=(max(7.0, 1.4 * len(instances) + 3),
                                                          2.6 * len(panels)), squeeze=False)
        width = 0.8 / len(strats)
        x = np.arange(len(instances))
        for ax, metric in zip(axes[:, 0], panels, strict=True):
            ref = s[(s["metric"] == metric) & (s["strategy"] == strats[0])].set_index("instance")
            scale = (ref["mean"].reindex(instances).to_numpy(float) if metric == "bookings"
                     else np.ones(len(instances)))
            for k, strat in enumerate(strats):
                rows = s[(s["metric"] == metric) & (s["strategy"] == strat)].set_index("instance")
                rows = rows.reindex(instances)
                mean = rows["mean"].to_numpy(float) / scale
                err = np.vstack([mean - rows["ci_lo"].to_numpy(float) / scale,
                                 rows["ci_hi"].to_numpy(float) / scale - mean])
                err = np.where(np.isfinite(err), err, 0.0)
                ax.bar(x + (k - (len(strats) - 1) / 2) * width, mean, width, yerr=err,
                       capsize=2, label=strat)
            ax.set_ylabel(f"bookings / {strats[0]}" if metric == "bookings"
                          else labels[metric], fontsize=8)
            ax.set_xticks(x, instances, fontsize=8)
            ax.grid(axis="y", alpha=0.3)
        axes[0, 0].set_title(f"{fam} strategies (95% CI over seeds)")
        handles, names = axes[0, 0].get_legend_handles_labels()
        fig.legend(handles, names, fontsize=8, ncol=min(len(strats), 6), loc="lower center")
        fig.tight_layout(rect=(0, 0.04, 1, 1))
        path = out_dir / f"{fam}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths
