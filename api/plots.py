"""Every chart of the application layer (matplotlib, headless; the ``plots`` extra).

- the what-if report: the fan of cumulative bookings per variant against the target
  (:func:`fan_chart`), the distribution of company bookings (:func:`bookings_distribution`),
  P(region hits its target) (:func:`region_hits`), rep attainment (:func:`attainment_chart`);
- quota runs: P(attainment) per rep (:func:`p_attain_chart`) and its spread per method
  (:func:`methods_chart`);
- comp runs: the commission curve of each role's plan (:func:`pay_curve_chart`) and each rep's
  pay P10-P90 against its on-target earnings (:func:`pay_distribution_chart`);
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

__all__ = ["attainment_chart", "bookings_distribution", "fan_chart", "figure_png", "methods_chart",
           "p_attain_chart", "pay_curve_chart", "pay_distribution_chart", "plot_families",
           "region_hits"]


def figure_png(fig) -> bytes:
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
    return figure_png(fig)


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
    return figure_png(fig)


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
    return figure_png(fig)


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
    return figure_png(fig)


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


def _curve_points(plan, top: float) -> tuple[np.ndarray, np.ndarray]:
    """Attainment (a fraction) and earned variable / target variable of ``plan`` on [0, top],
    with the jump at the threshold drawn as a vertical step."""
    from salesplan.optimizer.compensation import commission_fraction

    x = np.linspace(0.0, top, 1001)
    t = plan.threshold
    if 0 < t < top:  # the gate: 0 just below the threshold, the curve from it on
        x = np.sort(np.concatenate([x, [t - 1e-9, t]]))
    return x, commission_fraction(plan, x)


def _by_value(plans: list, attr: str) -> dict[float, list[str]]:
    """Distinct values of ``attr`` (threshold or cap) across plans -> the roles that have it."""
    out: dict[float, list[str]] = {}
    for plan in plans:
        value = getattr(plan, attr)
        if value is not None and value > 0:
            out.setdefault(value, []).append(plan.role)
    return out


def _mark_thresholds_and_caps(ax, plans: list, top: float) -> None:
    """One dotted line per distinct threshold and one dashed line per distinct cap, each
    labelled with the roles it applies to (several roles often share them)."""
    for t, roles in _by_value(plans, "threshold").items():
        if t < top:
            ax.axvline(100 * t, color="0.35", ls=":", lw=1)
            ax.annotate(f"threshold {t:.0%} ({', '.join(roles)})", (100 * t, 0.05),
                        xytext=(4, 0), textcoords="offset points", fontsize=8, color="0.25")
    for c, roles in _by_value(plans, "cap").items():
        ax.axhline(c, color="0.35", ls="--", lw=1)
        ax.annotate(f"cap {c:g}x ({', '.join(roles)})", (100 * top, c), xytext=(-4, 4),
                    textcoords="offset points", fontsize=8, color="0.25", ha="right")


def pay_curve_chart(plans: list, top: float = 2.5) -> bytes:
    """The commission curve f(attainment) of each pay plan (``PayPlan``s, one line per role):
    x attainment 0-``top`` (a fraction, shown as %), y earned variable pay as a multiple of the
    target variable; the threshold, tier starts and cap are marked."""
    fig, ax = plt.subplots(figsize=(9, 4.8))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, plan in enumerate(plans):
        col = colours[k % len(colours)]
        x, y = _curve_points(plan, top)
        rates = ", ".join(f"{t.rate:g}x from {t.above:.0%}" for t in plan.rates)
        ax.plot(100 * x, y, color=col, lw=2.4 - 0.5 * min(k, 2), label=f"{plan.role}: {rates}")
        starts = [t.above for t in plan.rates if 0 < t.above < top]
        if starts:
            ax.plot([100 * a for a in starts], _fraction_at(plan, starts), "o", color=col, ms=5)
    _mark_thresholds_and_caps(ax, plans, top)
    ax.plot([100], [1.0], "s", mfc="none", mec="k", ms=11, label="on target: 100% pays 1x")
    caps = [p.cap for p in plans if p.cap is not None]
    ax.set_xlim(0, 100 * top)
    ax.set_ylim(0, 1.12 * max([*caps, float(ax.get_ylim()[1])]))
    ax.set_xlabel("attainment (credited bookings / quota, %)")
    ax.set_ylabel("earned variable pay / target variable")
    ax.set_title("Commission curve per role (dots: tier starts; dotted: threshold; "
                 "dashed: cap)", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", framealpha=0.95)
    ax.grid(alpha=0.3)
    return figure_png(fig)


def _fraction_at(plan, attainment: list[float]) -> np.ndarray:
    """f(attainment) of ``plan`` at these points (fractions)."""
    from salesplan.optimizer.compensation import commission_fraction

    return commission_fraction(plan, np.asarray(attainment, dtype=float))


def pay_distribution_chart(reps: pd.DataFrame, currency: str = "USD") -> bytes:
    """Each rep's pay over the horizon, P10-P90 with the median, against its on-target earnings
    (seated share), sorted by median pay; ``reps`` is the comp run's per-rep table."""
    df = reps.sort_values("pay_p50").reset_index(drop=True)
    label = df["rep"].astype(str)
    if "region" in df:
        label = label + " (" + df["region"].astype(str) + ")"
    y = np.arange(len(df))
    fig, ax = plt.subplots(figsize=(9, max(3.0, 0.24 * len(df) + 1.4)))
    ax.hlines(y, df["pay_p10"], df["pay_p90"], color="tab:blue", lw=5, alpha=0.45,
              label="pay P10-P90")
    ax.plot(df["pay_p50"], y, "o", color="tab:blue", ms=4, label="median pay")
    ax.plot(df["on_target_earnings"], y, "|", color="tab:red", ms=12, mew=2,
            label="on-target earnings")
    ax.set_yticks(y, label, fontsize=8 if len(df) <= 30 else 7)
    ax.set_ylim(-0.7, len(df) - 0.3)
    ax.xaxis.set_major_formatter(lambda v, _pos: f"{v / 1e3:,.0f}k")
    ax.set_xlabel(f"pay over the horizon ({currency}): base + commission + SPIFs + draw top-up")
    ax.set_title("Pay per rep against on-target earnings (sorted by median pay)", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3, axis="x")
    return figure_png(fig)


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
