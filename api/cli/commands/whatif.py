"""``salesplan whatif`` and ``salesplan plan-headcount``: leadership's questions."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..console import check_replications, err, frame_table, money_short, out
from ..options import Out, ScenarioFile, Seed, Workers
from .quotas import BUILT_IN_METHODS, DEFAULT_QUOTA_METHOD

if TYPE_CHECKING:
    from rich.progress import Progress

FileArg = ScenarioFile


def _progress() -> Progress:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(),
                    TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(), console=err,
                    transient=True)


def print_comparison(comparison) -> None:
    """The side-by-side table on the terminal."""
    cur = comparison.currency
    t = comparison.table()

    def pct(v: float) -> str:
        return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.0%}"

    def pct1(v: float) -> str:
        return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.1%}"

    m = lambda v: money_short(v, cur)  # noqa: E731
    view = t[["variant"]].copy()
    view["bookings [95% CI]"] = [f"{m(v)} [{m(a)}, {m(b)}]" for v, a, b in zip(
        t.bookings_mean, t.bookings_ci95_lo, t.bookings_ci95_hi, strict=True)]
    view["P10-P90"] = [f"{m(a)}-{m(b)}" for a, b in zip(t.bookings_p10, t.bookings_p90,
                                                        strict=True)]
    view["won"] = [f"{v:,.0f}" for v in t.won_mean]
    view["P(hit)"] = [pct(v) for v in t.p_hit_target]
    if t.p_hit_target.notna().any():
        view["P(hit) vs base, pts [paired 95% CI]"] = [
            "-" if i == 0 or math.isnan(d) else f"{100 * d:+.1f} [{100 * a:+.1f}, {100 * b:+.1f}]"
            for i, (d, a, b) in enumerate(zip(t.p_hit_diff_mean, t.p_hit_diff_ci95_lo,
                                              t.p_hit_diff_ci95_hi, strict=True))]
    view["at quota"] = [pct(v) for v in t.share_reps_at_quota]
    view["vs base [paired 95% CI]"] = [
        "-" if i == 0 else f"{m(d)} [{m(a)}, {m(b)}]"
        for i, (d, a, b) in enumerate(zip(t.diff_vs_base_mean, t.diff_vs_base_ci95_lo,
                                          t.diff_vs_base_ci95_hi, strict=True))]
    # the paired and unpaired interval widths (statistical detail) are in comparison.csv and
    # the report, not here: the terminal keeps the columns a leader reads
    out.print(frame_table(view, f"What-if: {comparison.replications} replications, seed "
                                f"{comparison.seed}, common random numbers"))
    if t.pay_mean.notna().any():  # the scenario has a pay plan
        pay = t[["variant"]].copy()
        pay["pay [95% CI]"] = [f"{m(v)} [{m(a)}, {m(b)}]" for v, a, b in zip(
            t.pay_mean, t.pay_ci95_lo, t.pay_ci95_hi, strict=True)]
        pay["cost of sales"] = [pct1(v) for v in t.cost_of_sales]
        pay["reps at on-target pay"] = [pct(v) for v in t.share_at_on_target_pay]
        pay["pay vs base [paired 95% CI]"] = [
            "-" if i == 0 else f"{m(d)} [{m(a)}, {m(b)}]"
            for i, (d, a, b) in enumerate(zip(t.pay_diff_vs_base_mean,
                                              t.pay_diff_vs_base_ci95_lo,
                                              t.pay_diff_vs_base_ci95_hi, strict=True))]
        out.print(frame_table(pay, "Pay under the plan (docs/compensation.md)"))


def whatif(
    file: FileArg,
    out_dir: Out = Path("whatif-output"),
    variants: Annotated[str | None, typer.Option(
        help="Comma-separated variant names (default: all variants in the file).")] = None,
    replications: Annotated[int, typer.Option(min=2, help="Replications per variant.")] = 200,
    seed: Seed = 0,
    workers: Workers = None,
    quota_method: Annotated[str, typer.Option(help=(
        f"Quota method for rep attainment: {BUILT_IN_METHODS}, or one registered in Python "
        "(default: the blend of capacity, history and potential, each rep within 0.5x-2x of "
        "its region's mean quota)."))] = DEFAULT_QUOTA_METHOD,
    against: Annotated[list[Path] | None, typer.Option(
        metavar="<path>",
        help="Another scenario file to compare with the base on common random numbers, as a "
             "variant named after the file (repeatable; then --variants defaults to none). It "
             "needs the same horizon and currency; what differs is printed as notes.")] = None,
) -> None:
    """Compare the base scenario with its what-if variants, side by side, and write a report.

    With --against, compare it with other scenario files (other plans) instead.
    """
    check_replications(replications)
    from salesplan.api.extras import charts_skipped, have
    from salesplan.api.options import WhatifOptions, cli_options
    from salesplan.api.planning.against import load_against
    from salesplan.api.planning.report import write_report
    from salesplan.api.planning.whatif import run_against, run_whatif
    from salesplan.scenarios import load_scenario

    o = cli_options(WhatifOptions, replications=replications, seed=seed,
                    quota_method=quota_method,
                    variants=[v.strip() for v in variants.split(",") if v.strip()]
                    if variants else None,
                    against=[str(p) for p in against] if against else None)
    sc = load_scenario(file)
    names = o.variants
    others = load_against(sc, o.against or [], ["base", *(names or [])])
    with _progress() as bar:
        task = bar.add_task("what-if", total=1.0)

        def progress(frac: float, msg: str) -> None:
            bar.update(task, completed=frac, description=msg)

        if others:
            comparison = run_against(sc, others, names or [], replications, seed, workers,
                                     progress, quota_method)
        else:
            comparison = run_whatif(sc, names, replications, seed, workers, progress,
                                    quota_method)
    print_comparison(comparison)
    paths = write_report(comparison, out_dir)
    from salesplan.api.planning.report import why_it_moves

    for o in comparison.variants:
        out.print(f"{o.name}: {why_it_moves(comparison, o)}", markup=False)
    for o in comparison.all:
        for note in o.notes:
            err.print(f"note ({o.name}): {note}", markup=False)
    if not have("plots"):
        err.print(charts_skipped(["the charts of report.html"]), markup=False)
    out.print(f"Report: {paths['report.html']}  (tables: comparison.csv, regions.csv, reps.csv;"
              f" summary.json)")


def print_frontier(plan) -> None:
    """The frontier on the terminal: each step's P(hit) with its Wilson interval and its paired
    lift over the previous step (P(hit) in points, bookings) with their intervals."""
    import pandas as pd

    from salesplan.api.planning.headcount import signed_money

    m = lambda v: signed_money(v, plan.currency)  # noqa: E731
    pts = lambda v: f"{100 * v:+.1f}"  # noqa: E731
    rows = []
    for pt in plan.frontier:
        lift = pt.lift
        hires = ", ".join(f"{k} {v}" for k, v in pt.hires.items() if v)
        rows.append({
            "step": pt.step, "hires": f"{pt.total_hires}" + (f" ({hires})" if hires else ""),
            "P(hit) [95%]": f"{pt.p_hit:.1%} [{100 * pt.p_hit_ci95[0]:.1f}, "
                            f"{100 * pt.p_hit_ci95[1]:.1f}]",
            "lift P(hit), pts [95%]": "" if lift is None else (
                f"{pts(lift.p_hit.mean)} [{pts(lift.p_hit.ci95[0])}, "
                f"{pts(lift.p_hit.ci95[1])}]"),
            "lift bookings [95%]": "" if lift is None else (
                f"{m(lift.bookings.mean)} [{m(lift.bookings.ci95[0])}, "
                f"{m(lift.bookings.ci95[1])}]"),
            "taken": ("start" if lift is None else "yes" if pt.accepted
                      else "no: not significant"),
        })
    out.print(frame_table(pd.DataFrame(rows),
                          f"Frontier: hires from month {plan.frontier[0].start_month} against "
                          f"P(hit target); lifts are paired differences over the step before (seed "
                          f"{plan.seed}, common random numbers)"))


def plan_headcount(
    file: FileArg,
    out_dir: Out = Path("headcount-output"),
    p: Annotated[float, typer.Option("--p", min=0.01, max=0.99,
                                     help="The required probability that the company hits "
                                          "its target.")] = 0.8,
    replications: Annotated[int, typer.Option(min=10, help="Replications per plan.")] = 100,
    seed: Seed = 0,
    workers: Workers = None,
    regions: Annotated[str | None, typer.Option(
        help="Comma-separated regions that may hire (default: all).")] = None,
    start_month: Annotated[int, typer.Option(min=1, max=120,
                                             help="The earliest start month of hires.")] = 1,
    max_hires: Annotated[int, typer.Option(min=0, max=1000, help="The most hires in all.")] = 20,
    cost: Annotated[str, typer.Option(
        help="What makes one plan cheaper than another with as many hires: 'hires' (hires "
             "start as early as allowed) or 'payroll' (a later start when it still reaches p "
             "and costs strictly less).")] = "hires",
) -> None:
    """The fewest hires per region (and their start month) so that P(hit target) >= p.

    Exits 2 when p is out of reach with these levers, after writing the best plan found and
    the frontier."""
    check_replications(replications)
    from salesplan.api.options import PlanHeadcountOptions, cli_options
    from salesplan.api.planning.headcount import write_headcount
    from salesplan.api.planning.whatif import run_plan_headcount
    from salesplan.scenarios import load_scenario

    o = cli_options(PlanHeadcountOptions, p=p, replications=replications, seed=seed,
                    regions=[r.strip() for r in regions.split(",") if r.strip()]
                    if regions else None,
                    start_month=start_month, max_hires=max_hires, cost=cost)
    sc = load_scenario(file)
    with _progress() as bar:
        task = bar.add_task("searching", total=1.0)

        def steps(fraction: float, msg: str) -> None:
            bar.update(task, completed=fraction, description=msg)

        plan = run_plan_headcount(sc, o.p, o.replications, o.seed, workers, o.regions,
                                  o.start_month, o.max_hires, cost=o.cost, steps=steps)
    write_headcount(plan, out_dir)
    print_frontier(plan)
    for note in plan.notes:
        err.print(f"note: {note}", markup=False)
    out.print(f"Written: {out_dir / 'plan.json'}, {out_dir / 'frontier.csv'}")
    if not plan.reached:
        raise plan.unreachable_error()
    out.print(f"Plan: {plan.verdict()}, seed {plan.seed}; verified with fresh seed "
              f"{plan.verify_seed}: {plan.verified_p_hit:.1%} [{plan.verified_ci95[0]:.1%}, "
              f"{plan.verified_ci95[1]:.1%}]", markup=False)


def register(app: typer.Typer) -> None:
    app.command()(whatif)
    app.command(name="plan-headcount")(plan_headcount)
