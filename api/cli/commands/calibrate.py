"""``salesplan calibrate`` and ``salesplan backtest``: CRM history -> scenario, and the check of
a calibration against what really happened after a cut date."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from ..console import check_replications, err, out, phases
from ..options import Out, Seed, Workers

History = Annotated[Path, typer.Argument(help="The opportunity export (CSV, may be .gz).")]
Mapping = Annotated[str, typer.Option(
    help="How to read the export: maven, salesforce, or a YAML mapping file.")]
Teams = Annotated[Path | None, typer.Option(
    help="The team table CSV (rep -> region); by default the mapping's teams_file beside the "
         "export, if any.")]
HistoryFile = Annotated[Path | None, typer.Option(
    "--history-file", help="Stage-history CSV for history mappings (default: the mapping's "
    "history_file beside the export, e.g. OpportunityHistory.csv).")]
Products = Annotated[Path | None, typer.Option(help="Product list CSV whose first column gives "
                                               "canonical product names (default: products.csv "
                                               "beside the export, if any).")]
Strict = Annotated[bool, typer.Option(help="Turn every data problem into an error.")]
PipelineBias = Annotated[bool, typer.Option(
    help="Scale the open pipeline's win probabilities by the bias the inner cuts before the "
         "cut measured (realised / forecast wins); --no-pipeline-bias keeps the hazard "
         "model's forecast.")]


@contextmanager
def _bugs_exit_1() -> Iterator[None]:
    """A calibration bug (an estimate the scenario schema rejects) exits 1 with its message,
    never as a user error (exit 2)."""
    from salesplan.simulator.calibration.errors import CalibrationBugError

    try:
        yield
    except CalibrationBugError as exc:
        err.print(f"internal error: {exc}", markup=False)
        raise typer.Exit(1) from None


def _load(history: Path, mapping: str, teams: Path | None, history_file: Path | None,
          products: Path | None, strict: bool):
    from salesplan.api.planning.tracking.run import load_history

    return load_history(history, mapping, teams, history_file, products, strict)


def calibrate(history: History, out_dir: Out = Path("calibrate-output"),
              mapping: Mapping = "maven", teams: Teams = None,
              cutoff: Annotated[str | None, typer.Option(help="The cut date YYYY-MM-DD (default: "
                                                         "the day after the export's last "
                                                         "date).")] = None,
              months: Annotated[int, typer.Option(help="The horizon in months.")] = 12,
              history_file: HistoryFile = None, products: Products = None,
              strict: Strict = False, pipeline_bias: PipelineBias = True) -> None:
    """Estimate a scenario from CRM history: writes scenario.yaml, calibration.json and
    report.html into the --out folder."""
    from salesplan.simulator.calibration import calibrate as run_calibrate
    from salesplan.simulator.calibration import write_calibration

    with phases("reading the export") as progress:
        h = _load(history, mapping, teams, history_file, products, strict)
        progress("estimating the scenario")
        with _bugs_exit_1():
            cal = run_calibrate(h, cutoff=cutoff, horizon_months=months,
                                pipeline_bias=pipeline_bias)
        progress("writing the report")
        files = write_calibration(cal, out_dir)
    s = h.summary()
    out.print(f"read {s['rows_read']} rows: kept {s['rows_kept']}, fixed {s['rows_fixed']}, "
              f"dropped {s['rows_dropped']}")
    for line in _estimate_lines(cal.estimates):
        out.print(line, markup=False)
    src = cal.estimates.get("sourcing") or {}
    if src.get("estimable"):
        out.print(f"rep-sourced deals {src['per_rep_per_month']:.2f} per rep-month (95% CI "
                  f"{src['ci'][0]:.2f}-{src['ci'][1]:.2f})")
    elif src:
        out.print(f"rep-sourced deals: {src.get('note')}", markup=False)
    out.print(f"{len(cal.scenario.reps)} reps, "
              f"{len(cal.scenario.lead_sources)} lead sources, "
              f"{len(cal.scenario.initial_pipeline)} open deals")
    _charts_note()
    out.print("wrote " + ", ".join(str(f) for f in files))


MAX_GROUP_LINES = 12
"""The most win rates by group the terminal prints (all are in calibration.json)."""


def _estimate_lines(est: dict) -> list[str]:
    """The terminal's summary of a calibration: the win probability a new lead gets in the
    scenario (the same number), the stale rule, both windows and the rates by group."""
    lines = []
    wp = est.get("win_probability") or {}
    if wp:
        ci = wp.get("ci")
        lines.append(f"win probability {wp['value']:.3f}"
                     + (f" (95% CI {ci[0]:.3f}-{ci[1]:.3f})" if ci else "")
                     + f" [{wp['model']}]")
    if est.get("stale_rule"):
        r = est["stale_rule"]
        lines.append(f"stale rule: open deals older than {r['age_days']} days are lost at that "
                     f"age ({r['deals_made_lost']} deals; {r['source']})")
    w = est.get("windows")
    if w:
        a = w["arrivals"]
        lines.append(f"arrivals counted {a['first_month']}..{a['last_month']} (leads recorded "
                     f"to {a['data_end']}); outcomes followed up to "
                     f"{w['outcomes']['followed_up_to']}")
    groups = (est.get("conversion_by_group") or {}).get("groups", [])
    for g in groups[:MAX_GROUP_LINES]:
        lines.append(f"win rate {g['dimension']} {g['group']}: data {g['raw_rate']:.3f} "
                     f"({g['deals']} deals), shrunk {g['rate']:.3f}")
    if len(groups) > MAX_GROUP_LINES:
        lines.append(f"... and {len(groups) - MAX_GROUP_LINES} more groups' win rates in "
                     "calibration.json (conversion_by_group)")
    return lines


def _charts_note() -> None:
    from salesplan.api.extras import charts_skipped, have

    if not have("plots"):
        err.print(charts_skipped(["the figures of report.html"]), markup=False)


def backtest(history: History, cutoff: Annotated[str, typer.Option(help="The cut date (a first of "
                                                                   "month).")],
             out_dir: Out = Path("backtest-output"), mapping: Mapping = "maven",
             teams: Teams = None,
             replications: Annotated[int, typer.Option(
                 help="Replications (each region-month's P10 and P90 come from them).")] = 1000,
             seed: Seed = 0,
             workers: Workers = None,
             draws: Annotated[int, typer.Option(help="Parameter draws the replications are "
                                                "split over (estimation uncertainty); 0 or 1: "
                                                "point estimates only.")] = 100,
             history_file: HistoryFile = None, products: Products = None,
             strict: Strict = False, pipeline_bias: PipelineBias = True) -> None:
    """Calibrate before --cutoff, simulate after it and compare with what happened: writes
    backtest.csv, quarters.csv, summary.json and report.html into the --out folder, and ends
    with whether the coverage goal was met."""
    from salesplan.simulator.calibration import backtest as run_backtest
    from salesplan.simulator.calibration import write_backtest

    check_replications(replications)
    with phases("reading the export") as progress:
        h = _load(history, mapping, teams, history_file, products, strict)
        with _bugs_exit_1():
            bt = run_backtest(h, cutoff, replications=replications, seed=seed,
                              workers=workers, draws=draws, pipeline_bias=pipeline_bias,
                              progress=progress)
        progress("writing the report")
        files = write_backtest(bt, out_dir)
    s = bt.summary
    rng80 = s["monte_carlo"]["coverage_80_range"]
    mc = (f"Monte Carlo 5-95%: {rng80[0]:.0%}-{rng80[1]:.0%}" if rng80 is not None
          else f"no Monte Carlo range: a single {s['monte_carlo']['unit']}")
    mape = s["mape_region_quarter"]
    out.print(f"coverage 50%: {s['coverage_50']:.0%}, 80%: {s['coverage_80']:.0%} "
              f"({mc}; {s['region_months']} region-months); MAPE region-quarter: "
              + ("-" if mape is None else f"{mape:.1%}"))
    _charts_note()
    out.print("wrote " + ", ".join(str(f) for f in files))
    out.print(verdict(s), markup=False)


def verdict(summary: dict) -> str:
    """The backtest's last line: whether the 80% intervals covered what happened as often as
    the goal asks (``goal_coverage_met`` in ``summary.json``), and the MAPE goal beside it."""
    lo, hi = summary["goals"]["coverage_80_between"]
    cov = summary["coverage_80"]
    if summary["goal_coverage_met"]:
        head = (f"Coverage goal met: the 80% intervals held the actual in {cov:.0%} of "
                f"region-months (goal {lo:.0%}-{hi:.0%}).")
    else:
        why = "too narrow" if cov < lo else "too wide"
        head = (f"Coverage goal missed: the 80% intervals held the actual in {cov:.0%} of "
                f"region-months (goal {lo:.0%}-{hi:.0%}; the intervals are {why}).")
    mape, goal = summary["mape_region_quarter"], summary["goals"]["mape_region_quarter_below"]
    if mape is None:
        return head + " MAPE goal not measured (no region-quarter)."
    met = "met" if summary.get("goal_mape_met") else "missed"
    return head + f" MAPE goal {met}: {mape:.1%} (goal below {goal:.0%})."


def register(app: typer.Typer) -> None:
    app.command()(calibrate)
    app.command()(backtest)
