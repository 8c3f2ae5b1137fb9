"""Every chart of the simulator (matplotlib, headless): the funnel, the fan of cumulative
bookings against the target, attainment per rep, and the calibration report's figures.

matplotlib is the ``plots`` extra: it is imported inside each function, so importing the
simulator never loads it; :func:`available` says whether it is installed. Figure builders return
a figure; :func:`save_png` writes and closes it.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .results import SimulationResult

__all__ = ["attainment_figure", "available", "backtest_figures", "bookings_fan_figure",
           "calibration_figures", "funnel_figure", "save_png"]


def available() -> bool:
    """True when matplotlib (the ``plots`` extra) imports."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(fig: Any, path: Path, dpi: int = 110) -> Path:
    """Write ``fig`` as a PNG at ``dpi`` and close it."""
    fig.savefig(path, dpi=dpi)
    _pyplot().close(fig)
    return path


def funnel_figure(res: SimulationResult) -> Any:
    """Deals entering and advancing at each stage (means per replication), with conversion."""
    plt = _pyplot()
    f = res.funnel
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.barh(f["stage"][::-1], f["entered"][::-1], color="#4C72B0", label="entered")
    ax.barh(f["stage"][::-1], f["advanced"][::-1], color="#55A868", label="advanced / won")
    for y, (e, c) in enumerate(zip(f["entered"][::-1], f["conversion"][::-1], strict=True)):
        ax.text(e, y, f"  {c:.0%}", va="center", fontsize=8)
    ax.set_xlabel("deals per replication (mean)")
    ax.set_title(f"Funnel, {res.plan.scenario.name} ({res.replications} replications)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def bookings_fan_figure(res: SimulationResult) -> Any:
    """Cumulative company bookings by month: median, P25-P75 and P10-P90 bands, the target."""
    plt = _pyplot()
    cum = np.cumsum(res.stack("bookings").sum(axis=1), axis=1)
    x = np.arange(1, cum.shape[1] + 1)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for lo, hi, alpha in ((10, 90, 0.2), (25, 75, 0.35)):
        ax.fill_between(x, np.percentile(cum, lo, axis=0), np.percentile(cum, hi, axis=0),
                        color="#4C72B0", alpha=alpha, lw=0, label=f"P{lo}-P{hi}")
    ax.plot(x, np.median(cum, axis=0), color="#4C72B0", lw=2, label="median")
    path = res.target_path()
    if path is not None:
        ax.plot(x, path, color="#C44E52", ls="--", lw=1.5, label="target (cumulative)")
    ax.set_xticks(x, res.months, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel(f"cumulative bookings ({res.currency})")
    ax.set_title("Cumulative bookings by month")
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig


def attainment_figure(res: SimulationResult) -> Any:
    """Box plots of attainment per rep across replications (of bookings without quotas)."""
    plt = _pyplot()
    att = res.attainment()
    data = att if att is not None else res.rep_bookings()
    keep = ~np.all(np.isnan(data), axis=0)
    labels = [r for r, k in zip(res.rep_ids, keep, strict=True) if k]
    fig, ax = plt.subplots(figsize=(max(6, 0.28 * len(labels) + 2), 4.5))
    ax.boxplot([data[:, j][~np.isnan(data[:, j])] for j in np.flatnonzero(keep)],
               showfliers=False)
    ax.set_xticks(np.arange(1, len(labels) + 1), labels, rotation=90, fontsize=7)
    if att is not None:
        ax.axhline(1.0, color="#C44E52", ls="--", lw=1)
        ax.set_ylabel("attainment (bookings / quota)")
        ax.set_title("Attainment per rep across replications")
    else:
        ax.set_ylabel(f"bookings ({res.currency})")
        ax.set_title("Bookings per rep across replications (no quotas given)")
    fig.tight_layout()
    return fig


def _png_base64(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    _pyplot().close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def calibration_figures(cal: Any) -> dict[str, str]:
    """Base64 PNGs: cycle-time fits (Kaplan-Meier of closed deals vs fitted CDF), arrivals,
    rep productivity (raw vs shrunk)."""
    from .calibration.fits import dist_cdf, kaplan_meier

    plt = _pyplot()
    figs: dict[str, str] = {}
    d = cal.deals
    o = cal.outcomes
    if o is not None:
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
        for ax, kind, fit in ((axes[0], "won", o.won), (axes[1], "lost", o.lost)):
            sel = d[d["outcome"].eq(kind)]
            t = (sel["close_date"] - sel["created_date"]).dt.days.dropna().to_numpy(float)
            if t.size:
                times, km = kaplan_meier(np.maximum(t, 0.5), np.ones(t.size, bool))
                ax.step(times, 1 - km, where="post", label="empirical (closed deals)")
                grid = np.linspace(0.5, max(times.max(), 1) * 1.2, 200)
                ax.plot(grid, dist_cdf(fit.family, grid, fit.mean, fit.cv),
                        label=f"{fit.family} mean {fit.mean:.0f} d, cv {fit.cv:.2f}")
            ax.set_title(f"{kind}: days to close (KS {fit.ks_events:.3f})")
            ax.set_xlabel("days")
            ax.legend(fontsize=7)
        figs["durations"] = _png_base64(fig)
    hz = getattr(cal, "hazards", None)
    if hz is not None:
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
        mid = (np.arange(hz.n_bins) + 0.5) * hz.bin_days
        for ax, kind, h in ((axes[0], "won", hz.h_won), (axes[1], "lost", hz.h_lost)):
            for q in range(h.shape[1]):
                ax.step(mid, h[:, q] * 1000, where="mid",
                        label=f"month {q + 1} of quarter" if hz.calendar else "any month")
            ax.set_title(f"{kind}: closes per 1,000 open active deals per day")
            ax.set_xlabel("deal age (days)")
            ax.legend(fontsize=7)
        figs["hazards"] = _png_base64(fig)
    if cal.arrivals:
        fig, ax = plt.subplots(figsize=(9, 3.4))
        for a in cal.arrivals:
            label = "/".join(v for v in a.group.values() if v != "all") or "all"
            ax.plot(a.months, a.counts, marker="o", label=f"{label} (level {a.level:.0f})")
        ax.set_title("Leads (funnel entries) per month")
        ax.tick_params(axis="x", rotation=60, labelsize=7)
        ax.legend(fontsize=7)
        figs["arrivals"] = _png_base64(fig)
    if len(cal.reps):
        fig, ax = plt.subplots(figsize=(6, 4))
        r = cal.reps
        ax.scatter(r["closed"], r["raw_win_rate"], s=12, label="raw win rate")
        ax.scatter(r["closed"], r["win_rate"], s=12, label="shrunk (empirical Bayes)")
        ax.set_xlabel("closed deals")
        ax.set_ylabel("win rate")
        ax.legend(fontsize=7)
        figs["reps"] = _png_base64(fig)
    return figs


def backtest_figures(bt: Any) -> dict[str, str]:
    """Base64 PNGs of a backtest: per region, the monthly bookings forecast bands (50% and 80%)
    with the median and what happened (``bands``); the PIT histogram (``pit``)."""
    plt = _pyplot()
    b = bt.table[bt.table["measure"] == "bookings"]
    regions = list(dict.fromkeys(b["region"]))
    fig, axes = plt.subplots(1, len(regions), figsize=(3.2 * len(regions), 3.2), squeeze=False)
    for ax, reg in zip(axes[0], regions, strict=True):
        g = b[b["region"] == reg]
        x = np.arange(len(g))
        ax.fill_between(x, g["p10"], g["p90"], alpha=0.2, label="80%")
        ax.fill_between(x, g["p25"], g["p75"], alpha=0.35, label="50%")
        ax.plot(x, g["p50"], label="median")
        ax.plot(x, g["actual"], "ko", label="actual")
        ax.set_xticks(x, g["month"], rotation=60, fontsize=7)
        ax.set_title(reg)
    axes[0][0].legend(fontsize=7)
    figs = {"bands": _png_base64(fig)}
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.hist(b["pit"], bins=5, range=(0, 1))
    ax.set_title("PIT histogram (bookings, region-month)")
    figs["pit"] = _png_base64(fig)
    return figs
