"""Charts of a strategy sweep: per family, one PNG with a panel per metric, bars per strategy
grouped by instance, whiskers the 95% confidence intervals over seeds. Bookings are shown
relative to the family's first strategy on each instance (instances differ in size by 10x)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .summary import METRICS

__all__ = ["plot_families"]

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
