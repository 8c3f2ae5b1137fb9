"""The PNG comparing P(attainment) per rep (one plan, or several methods side by side)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import QuotaError

if TYPE_CHECKING:
    from .plan import QuotaPlan

__all__ = ["plot_attainment"]


def plot_attainment(plans: QuotaPlan | Mapping[str, QuotaPlan], path: str | Path,
                    title: str | None = None) -> Path:
    """Dots of P(attainment >= 100%) per rep (reps ordered by territory potential), one series
    per plan, with each plan's spread in the legend. Plans need simulated bookings."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plan import QuotaPlan

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
