"""``salesplan quotas``: set quotas by a named method and show how fair they are."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from salesplan.api.console import err, frame_table, money, out
from salesplan.api.quotas_app import run_quota_comparison, run_quotas
from salesplan.optimizer.quotas import method_names, read_pins
from salesplan.scenarios import load_scenario

FileArg = Annotated[Path, typer.Argument(help="Scenario file (.yaml, .yml or .json)")]


def _bar() -> Progress:
    return Progress(TextColumn("simulating"), BarColumn(), TextColumn("{task.completed}/"
                    "{task.total} replications"), TimeElapsedColumn(), console=err,
                    transient=True)


def _p_attain_chart(reps: pd.DataFrame, path: Path, title: str) -> None:
    df = reps.reset_index().sort_values("p_attain")
    fig, ax = plt.subplots(figsize=(9, max(3, 0.18 * len(df) + 1)))
    ax.barh(df["rep"].astype(str), df["p_attain"], xerr=1.96 * df["p_attain_se"], capsize=2)
    ax.set_xlim(0, 1)
    ax.set_xlabel("P(attainment >= 100%) (bars: 95% interval)")
    ax.set_title(title)
    ax.grid(alpha=0.3, axis="x")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def _methods_chart(plans: dict, path: Path) -> None:
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


def quotas(
    file: FileArg,
    out_dir: Annotated[Path, typer.Option("--out", help="Output directory")] = Path(
        "quotas-output"),
    method: Annotated[str, typer.Option(help="Quota method: " + "|".join(method_names()))] = (
        "potential"),
    over_assign: Annotated[float, typer.Option(min=0.5, max=3.0, help=(
        "Rep quotas sum to this times the target (1.1 = 110%)"))] = 1.0,
    pins: Annotated[Path | None, typer.Option(help="Pins CSV (level, id(s), value)")] = None,
    replications: Annotated[int, typer.Option(min=2, help="Replications simulated")] = 200,
    seed: Annotated[int, typer.Option(min=0)] = 0,
    workers: Annotated[int | None, typer.Option(min=1)] = None,
    by: Annotated[str, typer.Option(help="Within-rep split, e.g. product,segment,month")] = (
        "product,segment,month"),
    rounding: Annotated[int, typer.Option(min=1, help="Round quotas to this unit")] = 1000,
    compare_methods: Annotated[bool, typer.Option(
        "--compare-methods", help="Every method side by side on the same draws")] = False,
) -> None:
    """Allocate the target to regions, reps, products, segments and periods, and report how
    fair the quotas are (each rep's simulated probability of reaching quota)."""
    sc = load_scenario(file)
    cur = sc.horizon.currency
    out_dir.mkdir(parents=True, exist_ok=True)
    with _bar() as bar:
        task = bar.add_task("sim", total=replications)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done)

        if compare_methods:
            rows, plans = run_quota_comparison(sc, replications, seed, workers, over_assign,
                                               progress=progress)
        else:
            pin_list = read_pins(pins) if pins else None
            run = run_quotas(sc, method, replications, seed, workers, over_assign, pin_list,
                             tuple(x.strip() for x in by.split(",") if x.strip()), rounding,
                             progress=progress)
    if compare_methods:
        rows.reset_index().to_csv(out_dir / "methods.csv", index=False)
        for name, plan in plans.items():
            plan.reps.reset_index().to_csv(out_dir / f"reps_{name}.csv", index=False)
        _methods_chart(plans, out_dir / "p_attain_by_method.png")
        view = rows.reset_index()[["method", "p_attain_spread", "p_attain_std",
                                   "expected_share_attaining", "quota_potential_gini"]]
        out.print(frame_table(view, f"Quota methods on the same {replications} replications "
                                    f"(seed {seed})", {"p_attain_spread": ".2f",
                                                       "p_attain_std": ".3f",
                                                       "expected_share_attaining": ".1%",
                                                       "quota_potential_gini": ".3f"}))
        out.print(f"Written: {out_dir / 'methods.csv'}, reps_<method>.csv, "
                  f"{out_dir / 'p_attain_by_method.png'}")
        return
    run.plan.write(out_dir)
    (out_dir / "summary.json").write_text(json.dumps(
        run.summary, indent=2, default=lambda o: None if o != o else float(o)) + "\n")
    _p_attain_chart(run.reps, out_dir / "p_attain.png",
                    f"P(attainment) per rep, method {method} ({replications} replications)")
    s = run.summary
    reps = run.reps.reset_index()
    view = reps[["rep", "region", "quota", "potential_share", "expected_attainment",
                 "p_attain", "binding"]]
    out.print(frame_table(view, f"Quotas by {method}", {
        "quota": lambda v: money(v, cur), "potential_share": ".1%",
        "expected_attainment": ".0%", "p_attain": ".0%"}))
    out.print(f"Target {money(s['target'], cur)}, total quota {money(s['total_quota'], cur)}; "
              f"P(attain) spread {s['p_attain_spread']:.2f} (sd {s['p_attain_std']:.3f}); "
              f"expected share of reps at quota {s['expected_share_attaining']:.0%}; "
              f"quota/potential Gini {s['quota_potential_gini']:.3f}")
    for note in run.plan.notes:
        err.print(f"note: {note}", markup=False)
    out.print(f"Written: {out_dir}/quotas.csv, reps.csv, summary.json, p_attain.png")


def register(app: typer.Typer) -> None:
    app.command()(quotas)
