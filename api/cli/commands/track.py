"""``salesplan track``: actuals against plan at an as-of date, the landing with honest odds,
the baselines, early warnings and the actions that close the gap (issue #21)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..console import check_replications, err, out, phases
from ..options import Out, Seed
from .calibrate import History, HistoryFile, Mapping, Products, Strict, Teams, _load

Targets = Annotated[Path | None, typer.Option(
    help="Targets CSV: period (2017Q4, 2017-11 or 2017), level (company, region, rep, "
         "product, segment), id, target.")]


def track(history: History,
          asof: Annotated[str, typer.Option(help="The as-of date YYYY-MM-DD: everything after "
                                            "it in the export is ignored.")],
          out_dir: Out = Path("track-output"),
          targets: Targets = None,
          quotas: Annotated[Path | None, typer.Option(
              help="The quotas.csv of 'salesplan quotas', taken as rep targets (and "
                   "their region and company sums).")] = None,
          mapping: Mapping = "maven", teams: Teams = None,
          scenario: Annotated[Path | None, typer.Option(
              help="A plan (scenario YAML): its reps are placed in their regions (reps the "
                   "export lacks included); without --targets or --quotas, its targets are "
                   "tracked.")] = None,
          replications: Annotated[int, typer.Option(help="Monte Carlo replications.")] = 1000,
          seed: Seed = 0,
          history_file: HistoryFile = None, products: Products = None,
          strict: Strict = False) -> None:
    """Where we stand and where we land as of a date: writes summary.json, forecast.csv,
    risks.csv, actions.csv, pipeline.csv and report.html into the --out folder."""
    from salesplan.api.extras import charts_skipped
    from salesplan.api.planning.tracking import TrackingError, read_targets
    from salesplan.api.planning.tracking import track as run_track
    from salesplan.api.planning.tracking.output import headline, warnings, write_tracking
    from salesplan.api.planning.tracking.targets import targets_from_plan

    if targets is not None and quotas is not None:
        raise TrackingError("give the targets with one of --targets and --quotas, not both")
    if targets is None and quotas is None and scenario is None:
        raise TrackingError("give the targets with --targets or --quotas (or a --scenario "
                            "plan with targets)")
    if replications < 1:
        raise TrackingError(f"--replications {replications}: at least 1")
    check_replications(replications)
    plan = _load_plan(scenario) if scenario is not None else None
    t = read_targets(targets or quotas) if (targets or quotas) else targets_from_plan(plan)
    reps = {r.id: r.region for r in plan.reps} if plan is not None else None
    with phases("reading the export") as progress:
        h = _load(history, mapping, teams, history_file, products, strict)
        progress(f"forecasting the landing ({replications:,} replications)")
        result = run_track(h, asof, t, replications=replications, seed=seed, reps=reps)
        progress("writing the report")
        files, skipped = write_tracking(result, out_dir)
    out.print(headline(result), markup=False)
    for w in warnings(result.forecast.notes):
        err.print(f"warning: {w}", markup=False)
    top = result.risks.head(3)
    for r in top.itertuples():
        who = "the company" if r.level == "company" else f"{r.level} {r.id}"
        out.print(f"at risk #{r.rank}: {who} ({r.period}), P(hit) {r.p_hit:.0%}, gap "
                  f"{r.gap:,.0f} x P(miss) {r.p_miss:.0%}", markup=False)
    if skipped:
        err.print(charts_skipped(skipped), markup=False)
    out.print("wrote " + ", ".join(str(f) for f in files), markup=False)


def _load_plan(path: Path):
    from salesplan.scenarios.io import load_scenario

    return load_scenario(path)


def register(app: typer.Typer) -> None:
    app.command()(track)
