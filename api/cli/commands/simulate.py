"""``salesplan simulate``: Monte Carlo runs of the pipeline simulator, written to a folder (the
files are listed in :mod:`salesplan.api.planning.simulation`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..console import check_replications, err, frame_table, money, out
from ..options import Out, ScenarioFile, Seed, Workers

if TYPE_CHECKING:
    from salesplan.simulator.results import SimulationResult


def simulate(
    file: ScenarioFile,
    out_dir: Out = Path("simulate-output"),
    replications: Annotated[int, typer.Option("--replications", "-n", min=1,
                                              help="Monte Carlo replications.")] = 200,
    seed: Seed = 0,
    workers: Workers = None,
    quotas: Annotated[Path | None, typer.Option(
        help="A quotas CSV with columns rep, quota.")] = None,
    routing: Annotated[str | None, typer.Option(
        help="The routing strategy (default: the scenario's policy).")] = None,
    keep_deals: Annotated[int, typer.Option(min=0, max=10, help=(
        "Replications whose deals are written to deals.csv.gz, one row per deal (0 writes "
        "none)."))] = 1,
) -> None:
    """Simulate a scenario's pipeline: bookings, funnel, reps and their uncertainty."""
    check_replications(replications)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from salesplan.api.extras import charts_skipped
    from salesplan.api.options import SimulateOptions, cli_options
    from salesplan.api.planning.simulation import read_quotas, write_outputs
    from salesplan.scenarios import load_scenario
    from salesplan.simulator.runner import simulate as run_simulation

    o = cli_options(SimulateOptions, replications=replications, seed=seed, routing=routing,
                    keep_deals=keep_deals,
                    quotas=read_quotas(quotas) if quotas is not None else None)
    sc = load_scenario(file)
    progress = Progress(TextColumn("simulating"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=err, transient=True)
    with progress:
        task = progress.add_task("sim", total=replications)
        res = run_simulation(sc, o.replications, o.seed, workers=workers, quotas=o.quotas,
                             routing=o.routing, keep_deals=o.keep_deals,
                             progress=lambda done, total: progress.update(task, completed=done))
    files = write_outputs(res, out_dir)
    _print_summary(res)
    if files.charts_skipped:
        err.print(charts_skipped(files.charts_skipped), markup=False)
    out.print(f"Wrote {len(files.written)} files to {out_dir}")


def _print_summary(res: SimulationResult) -> None:
    import pandas as pd

    s = res.summary
    cur = res.currency
    rows = []
    for key, label, fmt in (("bookings", "Bookings", lambda v: money(v, cur)),
                            ("won_deals", "Won deals", lambda v: f"{v:,.1f}")):
        d = s[key]
        ci = f"{fmt(d['ci95'][0])} to {fmt(d['ci95'][1])}" if d["ci95"] else "-"
        rows.append({"measure": label, "mean": fmt(d["mean"]), "95% CI of mean": ci,
                     "P10": fmt(d["p10"]), "P50": fmt(d["p50"]), "P90": fmt(d["p90"])})
    out.print(frame_table(pd.DataFrame(rows), f"{s['scenario']}: {s['replications']} "
                                              f"replications, seed {s['seed']}"))
    if "p_hit_target" in s:
        lo, hi = s["p_hit_target_ci95"]
        out.print(f"Target {money(s['target'], cur)}: P(hit) = {s['p_hit_target']:.1%} "
                  f"(95% CI {lo:.1%} to {hi:.1%})")
    fo = res.funnel_overall
    out.print(f"Win rate {fo['win_rate']:.1%}, cycle time {fo['cycle_time_mean_days']:.1f} "
              f"days (mean); unrouted leads per replication: {s['unrouted_leads']:,.1f}")


def register(app: typer.Typer) -> None:
    app.command()(simulate)
