"""``salesplan comp``: what a pay plan costs and whom it pays, on simulated sales (the files
are listed in :mod:`salesplan.api.planning.comp_report`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..console import check_replications, err, frame_table, money_short, out
from ..options import Out, Seed, Workers
from .quotas import BUILT_IN_METHODS, DEFAULT_QUOTA_METHOD

if TYPE_CHECKING:
    from salesplan.api.planning.compensation import CompRun


def parse_share_band(text: str) -> tuple[float, float]:
    """``--share-at-quota LO,HI`` (fractions, 0 <= LO <= HI <= 1, e.g. 0.6,0.7). Raises a
    ``CompError`` (exit 2) naming the option."""
    from salesplan.api.planning.compensation import CompError

    try:
        lo, hi = (float(p.strip()) for p in text.split(","))
    except ValueError:
        raise CompError(f"--share-at-quota must be LO,HI (fractions, e.g. 0.6,0.7), got "
                        f"{text!r}") from None
    if not 0 <= lo <= hi <= 1:
        raise CompError(f"--share-at-quota must satisfy 0 <= LO <= HI <= 1 (fractions, e.g. "
                        f"0.6,0.7), got {text!r}")
    return lo, hi


def design_request(budget: float | None, share: str | None
                   ) -> tuple[float, tuple[float, float]] | None:
    """The design search's (cost-of-sales budget, share band), or None when neither option is
    given; one without the other is an error."""
    from salesplan.api.planning.compensation import CompError

    if budget is None and share is None:
        return None
    if budget is None or share is None:
        raise CompError("the design search needs both --budget-cost-of-sales and "
                        "--share-at-quota")
    if not 0 < budget < 10:
        raise CompError(f"--budget-cost-of-sales must be a fraction in (0, 10) (pay / "
                        f"bookings, e.g. 0.25), got {budget:g}")
    return budget, parse_share_band(share)


def comp(
    file: Annotated[Path, typer.Argument(help="Scenario file with a compensation section "
                                              "(.yaml, .yml or .json).")],
    out_dir: Out = Path("comp-output"),
    quotas: Annotated[Path | None, typer.Option(help=(
        "Quotas CSV with columns rep, quota (the quotas.csv of 'salesplan quotas': rows are "
        "added up per rep); every rep needs one. Default: quotas from --method."))] = None,
    method: Annotated[str, typer.Option(help=f"The quota method when no --quotas: "
                                             f"{BUILT_IN_METHODS}.")] = DEFAULT_QUOTA_METHOD,
    replications: Annotated[int, typer.Option("--replications", "-n", min=2,
                                              help="Monte Carlo replications.")] = 200,
    seed: Seed = 0,
    workers: Workers = None,
    budget_cost_of_sales: Annotated[float | None, typer.Option(help=(
        "Design search: the most pay / bookings allowed (a fraction in (0, 10), e.g. 0.25); "
        "needs --share-at-quota."))] = None,
    share_at_quota: Annotated[str | None, typer.Option(help=(
        "Design search: the wanted share of reps at quota as LO,HI fractions (e.g. 0.6,0.7); "
        "needs --budget-cost-of-sales."))] = None,
) -> None:
    """Pay every rep by the scenario's pay plan on simulated sales: cost of sales, the share of
    reps at on-target pay, P(pay over budget), pay per rep and pay equity; with a budget and a
    share band, search the accelerator, cap and quota level that meet both."""
    check_replications(replications)
    from salesplan.api.extras import charts_skipped
    from salesplan.api.options import CompOptions, cli_options
    from salesplan.api.planning.comp_report import write_comp
    from salesplan.api.planning.compensation import CompError, monthly_quotas, run_comp
    from salesplan.api.planning.simulation import read_quotas
    from salesplan.scenarios import load_scenario

    design = design_request(budget_cost_of_sales, share_at_quota)
    o = cli_options(CompOptions, replications=replications, seed=seed, method=method,
                    quotas=read_quotas(quotas) if quotas is not None else None,
                    budget_cost_of_sales=design[0] if design else None,
                    share_at_quota=design[1] if design else None)
    sc = load_scenario(file)
    if sc.compensation is None:
        raise CompError(f"scenario {sc.name!r} has no compensation section: add one (see "
                        "docs/compensation.md)")
    if o.quotas is not None:
        monthly_quotas(sc, o.quotas)  # unknown or missing reps: fail before simulating
    with _bar(o.replications) as progress:
        run = run_comp(sc, o.quotas, o.method, o.replications, o.seed, workers,
                       progress=progress, design=o.design)
    files = write_comp(run, out_dir)
    _print_run(run)
    if files.charts_skipped:
        err.print(charts_skipped(files.charts_skipped), markup=False)
    out.print(f"Written: {', '.join(str(p) for p in files.written)}")


@contextmanager
def _bar(total: int) -> Iterator[Callable[[int, int], None]]:
    """The progress bar on stderr; yields the ``progress(done, total)`` callback."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("simulating"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True) as progress:
        task = progress.add_task("sim", total=total)
        yield lambda done, _total: progress.update(task, completed=done)


def _print_run(run: CompRun) -> None:
    """The compact per-rep table, the headline, the design result; notes on stderr."""
    from salesplan.api.planning.comp_report import headline, payouts_table

    s = run.summary
    cur = s["currency"]
    view = payouts_table(run)[["rep", "region", "role", "quota", "on_target_earnings",
                               "pay_p10", "pay_p50", "pay_p90", "p_at_on_target_pay"]]
    view = view.rename(columns={"on_target_earnings": "OTE", "pay_p10": "pay P10",
                                "pay_p50": "pay P50", "pay_p90": "pay P90",
                                "p_at_on_target_pay": "P(OTE pay)"})
    short = {c: (lambda v: money_short(v, cur))
             for c in ("quota", "OTE", "pay P10", "pay P50", "pay P90")}
    out.print(frame_table(view, f"{s['scenario']}: pay per rep ({s['replications']} "
                                f"replications, seed {s['seed']}, quotas {s['quotas']})",
                          {**short, "P(OTE pay)": ".0%"}))
    out.print(headline(s))
    eq = s["equity"]
    if eq["gini_pay_ratio"] == eq["gini_pay_ratio"]:  # not NaN
        out.print(f"Pay equity: Gini of the expected pay ratio {eq['gini_pay_ratio']:.3f}; "
                  f"territory share {_share(eq['territory_share'])}, rep share "
                  f"{_share(eq['rep_share'])}")
    if run.design is not None:
        out.print(f"Design: {run.design.message}")
        for note in run.design.notes:
            err.print(f"note: {note}", markup=False)
    for note in s["notes"]:
        err.print(f"note: {note}", markup=False)


def _share(value: float) -> str:
    return "-" if value != value else f"{value:.0%}"


def register(app: typer.Typer) -> None:
    app.command()(comp)
