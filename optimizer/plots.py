"""Every chart of the optimiser (matplotlib, headless): the territory map, the disruption
trade-off curve, and P(attainment) per rep of quota plans.

matplotlib is the ``plots`` extra: it is imported inside each function, so importing the
optimiser never loads it. :func:`territory_map` and :func:`tradeoff_figure` return a
:class:`matplotlib.figure.Figure` (saving is the caller's business); :func:`plot_attainment`
writes the PNG it is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .quotas.errors import QuotaError
from .territory.problem import AlignmentProblem
from .territory.result import AlignmentResult

if TYPE_CHECKING:
    from .quotas.plan import QuotaPlan

__all__ = ["plot_attainment", "territory_map", "tradeoff_figure"]


def _figure(size=(9, 6)):
    from matplotlib.figure import Figure

    return Figure(figsize=size, dpi=110)


def territory_map(problem: AlignmentProblem, result: AlignmentResult, title: str = ""):
    """Accounts coloured by rep, rep homes as black stars, moved accounts ringed in red.
    Needs account coordinates (and rep coordinates for the homes)."""
    fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    if problem.account_lat is None or problem.account_lon is None:
        ax.text(0.5, 0.5, "no coordinates to map", ha="center", va="center")
        return fig
    a = result.assignment
    rep_index = {r: j for j, r in enumerate(problem.rep_ids)}
    col = np.array([rep_index[r] for r in a["rep"]])
    from matplotlib import colormaps

    cmap = colormaps["tab20"]
    colors = cmap((col % 20) / 19.0)
    size = 6 + 30 * np.sqrt(np.asarray(problem.potential) / max(problem.potential.max(), 1e-9))
    ax.scatter(problem.account_lon, problem.account_lat, s=size, c=colors, linewidths=0,
               alpha=0.85)
    moved = a["moved"].to_numpy(bool)
    if moved.any():
        ax.scatter(problem.account_lon[moved], problem.account_lat[moved], s=size[moved] + 12,
                   facecolors="none", edgecolors="red", linewidths=0.7,
                   label=f"moved ({int(moved.sum())})")
    if problem.rep_lat is not None and problem.rep_lon is not None:
        ax.scatter(problem.rep_lon, problem.rep_lat, marker="*", s=110, c="black",
                   edgecolors="white", linewidths=0.6, label="rep home", zorder=3)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    m = result.metrics
    ax.set_title(title or f"{len(a)} accounts, {len(result.territories)} reps: {m.status}, "
                          f"{m.moves} moves")
    ax.legend(loc="lower left", fontsize=8)
    ax.set_aspect(1.0 / max(np.cos(np.radians(np.nanmean(problem.account_lat))), 0.2))
    fig.tight_layout()
    return fig


def tradeoff_figure(points: pd.DataFrame, distance_unit: str = "km"):
    """Moves (x) against weighted distance (y), coloured by worst balance deviation; Pareto
    points joined by a line and labelled with their disruption weight or move cap."""
    fig = _figure((8, 5))
    ax = fig.add_subplot(1, 1, 1)
    ok = points.dropna(subset=["moves", "weighted_distance"])
    sc = ax.scatter(ok["moves"], ok["weighted_distance"], c=ok["worst_deviation"] * 100,
                    cmap="viridis", s=50, zorder=3)
    fig.colorbar(sc, ax=ax, label="worst balance deviation (%)")
    front = ok[ok["pareto"]].sort_values("moves")
    ax.plot(front["moves"], front["weighted_distance"], color="grey", lw=1, zorder=2)
    for _, row in front.iterrows():
        label = (f"cap {int(row['max_moves'])}" if pd.notna(row.get("max_moves"))
                 else f"λ={row['disruption']:g}")
        ax.annotate(label, (row["moves"], row["weighted_distance"]), fontsize=7,
                    xytext=(4, 4), textcoords="offset points")
    ax.set_xlabel("accounts moved")
    ax.set_ylabel(f"weighted distance ({distance_unit})")
    ax.set_title("Disruption versus compactness and balance (Pareto points joined)")
    fig.tight_layout()
    return fig


def plot_attainment(plans: QuotaPlan | Mapping[str, QuotaPlan], path: str | Path,
                    title: str | None = None) -> Path:
    """Dots of P(attainment >= 100%) per rep (reps ordered by territory potential), one series
    per plan, with each plan's spread in the legend. Plans need simulated bookings."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .quotas.plan import QuotaPlan

    if isinstance(plans, QuotaPlan):
        plans = {plans.method: plans}
    if not plans:
        raise QuotaError("nothing to plot: no plans")
    first = next(iter(plans.values()))
    order = first.reps.sort_values("potential").index
    fig, ax = plt.subplots(figsize=(max(6.0, 0.22 * len(order) + 2), 4.2), dpi=110)
    for name, plan in plans.items():
        p = plan.reps["p_attain"].reindex(order)
        if p.isna().all():
            raise QuotaError(f"plan {name!r} has no simulated bookings: P(attainment) unknown")
        spread = plan.summary.get("p_attain_spread")
        ax.plot(range(len(order)), p.to_numpy(), marker="o", ms=4, lw=0.8,
                label=f"{name} (spread {spread:.2f})" if spread is not None else name)
    ax.set_xticks(range(len(order)))
    ax.set_xticklabels(order, rotation=90, fontsize=7)
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("P(bookings >= quota)")
    ax.set_xlabel("rep (by territory potential, smallest first)")
    ax.set_title(title or f"Probability of attaining quota: {first.scenario}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out
