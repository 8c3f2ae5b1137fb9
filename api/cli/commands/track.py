"""``salesplan track``: actuals against plan at an as-of date, the landing with honest odds,
the baselines, early warnings and the actions that close the gap (issue #21)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..console import check_replications, err, out, phases
from ..options import Out, Seed
from .calibrate import History, HistoryFile, Mapping, Products, Strict, Teams

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
          replications: Annotated[int, typer.Option(
              min=1, help="Monte Carlo replications.")] = 1000,
          seed: Seed = 0,
          history_file: HistoryFile = None, products: Products = None,
          strict: Strict = False) -> None:
    """Where we stand and where we land as of a date: writes summary.json, forecast.csv,
    risks.csv, actions.csv, pipeline.csv and report.html into the --out folder."""
    from salesplan.api.extras import charts_skipped
    from salesplan.api.options import TrackOptions, cli_options
    from salesplan.api.planning.tracking.output import headline, warnings
    from salesplan.api.planning.tracking.run import run_tracking

    def name(path: Path | None) -> str | None:
        return str(path) if path is not None else None

    o = cli_options(TrackOptions, history=str(history), asof=asof, targets=name(targets),
                    quotas=name(quotas), mapping=mapping, teams=name(teams),
                    scenario=name(scenario), replications=replications, seed=seed,
                    history_file=name(history_file), products=name(products), strict=strict)
    check_replications(o.replications)
    with phases("reading the export") as progress:
        result, files, skipped = run_tracking(o, Path, out_dir,
                                              lambda _at, message: progress(message))
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


def register(app: typer.Typer) -> None:
    app.command()(track)
