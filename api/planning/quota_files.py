"""What ``salesplan quotas`` writes, for the CLI and the service alike.

One method's plan: ``quotas.csv`` (one row per rep x split cell, with ``rep`` and ``region``
columns), ``reps.csv`` (one row per rep), ``summary.json`` (with ``pay`` when the scenario has a
pay plan) and, with the ``plots`` extra, ``p_attain.png``. A comparison of the methods
(``--compare-methods``): ``methods.csv``, ``reps_<method>.csv`` and ``p_attain_by_method.png``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from ..extras import have
from ..formatting import jsonable

if TYPE_CHECKING:
    import pandas as pd

    from salesplan.scenarios import Scenario
    from salesplan.simulator import SimulationResult

    from .quotas import QuotaRun

__all__ = ["plan_pay", "with_pay_columns", "write_comparison", "write_plan"]


def plan_pay(sc: Scenario, run: QuotaRun) -> dict | None:
    """What the plan's quotas do to pay (cost of sales, share at on-target pay, pay equity) on
    the run's simulated sales; None without a pay plan."""
    if sc.compensation is None:
        return None
    from .compensation import pay_figures, plan_rep_quotas

    return pay_figures(sc, run.result, plan_rep_quotas(sc, run.quotas))


def with_pay_columns(sc: Scenario, result: SimulationResult, rows: pd.DataFrame,
                     plans: dict) -> pd.DataFrame:
    """``rows`` with what each method's quotas do to pay (``PAY_COLUMNS``) when the scenario
    has a pay plan, measured on the same simulated ``result``; unchanged otherwise."""
    if sc.compensation is None:
        return rows
    from .compensation import PAY_COLUMNS, comp_by_quotas, plan_rep_quotas

    pay = comp_by_quotas(sc, result, {name: plan_rep_quotas(sc, plan.quotas)
                                      for name, plan in plans.items()})
    return rows.join(pay[list(PAY_COLUMNS)])


def write_plan(run: QuotaRun, out_dir: Path, chart_title: str, pay: dict | None = None
               ) -> tuple[list[Path], list[str]]:
    """One plan's files; returns them and the charts not drawn."""
    files = run.plan.write(out_dir)
    summary = run.summary | ({"pay": jsonable(pay)} if pay is not None else {})
    (out_dir / "summary.json").write_text(json.dumps(
        summary, indent=2, default=lambda o: None if o != o else float(o)) + "\n")
    if not have("plots"):
        return files, ["p_attain.png"]
    from ..plots import p_attain_chart

    p_attain_chart(run.reps, out_dir / "p_attain.png", chart_title)
    return [*files, out_dir / "p_attain.png"], []


def write_comparison(rows: pd.DataFrame, plans: dict, out_dir: Path
                     ) -> tuple[list[Path], list[str]]:
    """The comparison's files; returns them and the charts not drawn."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [out_dir / "methods.csv"]
    rows.reset_index().to_csv(files[0], index=False)
    for name, plan in plans.items():
        plan.reps.reset_index().to_csv(out_dir / f"reps_{name}.csv", index=False)
        files.append(out_dir / f"reps_{name}.csv")
    chart = out_dir / "p_attain_by_method.png"
    if not have("plots"):
        return files, [chart.name]
    from ..plots import methods_chart

    methods_chart(plans, chart)
    return [*files, chart], []
