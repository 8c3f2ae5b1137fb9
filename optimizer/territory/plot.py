"""Figures (matplotlib, headless): the territory map and the trade-off curve.

Functions return a :class:`matplotlib.figure.Figure`; saving is the caller's business (the
engine does no file I/O)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .problem import AlignmentProblem
from .result import AlignmentResult

__all__ = ["territory_map", "tradeoff_figure"]


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
