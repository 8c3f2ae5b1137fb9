"""``salesplan quotas``: set quotas by a named method and show how fair they are."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..console import check_replications, err, frame_table, money, out
from ..options import Out, ScenarioFile, Seed, Workers

if TYPE_CHECKING:
    from rich.progress import Progress

FileArg = ScenarioFile
BUILT_IN_METHODS = "even|history|potential|capacity|pipeline|blended|fair"
"""The built-in quota methods, for the help text (which must not import the optimiser);
``tests/test_quota_cli.py`` checks the list against the registry."""
DEFAULT_QUOTA_METHOD = "blended"
"""``optimizer.quotas.DEFAULT_METHOD``, spelled out for the same reason (and checked by the same
test): the default of ``quotas``, ``whatif`` and ``demo``."""
DEFAULT_PEER_BAND = "0.5,2"
"""``optimizer.quotas.DEFAULT_PEER_BAND`` as the ``--peer-band`` option writes it."""


def _bar() -> Progress:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("simulating"), BarColumn(), TextColumn("{task.completed}/"
                    "{task.total} replications"), TimeElapsedColumn(), console=err,
                    transient=True)


def quotas(
    file: FileArg,
    out_dir: Out = Path(
        "quotas-output"),
    method: Annotated[str, typer.Option(help=f"The quota method: {BUILT_IN_METHODS}, or one "
                                             "registered in Python.")] = DEFAULT_QUOTA_METHOD,
    over_assign: Annotated[float, typer.Option(min=0.5, max=3.0, help=(
        "Rep quotas sum to this times the target (1.1 = 110%)."))] = 1.0,
    pins: Annotated[Path | None, typer.Option(
        help="A pins CSV (level, id(s), value) of quotas fixed in advance.")] = None,
    replications: Annotated[int, typer.Option(min=2, help="Replications simulated.")] = 200,
    seed: Seed = 0,
    workers: Workers = None,
    by: Annotated[str, typer.Option(
        help="The split within each rep, e.g. product,segment,month.")] = (
        "product,segment,month"),
    rounding: Annotated[int, typer.Option(min=1, help="Round quotas to this unit.")] = 1000,
    compare_methods: Annotated[bool, typer.Option(
        "--compare-methods", help="Show every method side by side on the same draws.")] = False,
    peer_band: Annotated[str, typer.Option(help=(
        "Each rep's quota within LOW,HIGH times its region's mean rep quota (scaled by its "
        "ramp), e.g. 0.5,2 or 0.25,inf; 'none' switches the band off."))] = DEFAULT_PEER_BAND,
) -> None:
    """Allocate the target to regions, reps, products, segments and periods, and report how
    fair the quotas are (each rep's simulated probability of reaching quota) and, when the
    scenario has a pay plan, what they do to pay: cost of sales, the share of reps at on-target
    pay and pay equity (on the same simulated draws)."""
    check_replications(replications)
    from salesplan.api.options import QuotasOptions, cli_options
    from salesplan.api.planning.quota_files import plan_pay, with_pay_columns
    from salesplan.api.planning.quotas import compare_on, run_quotas, simulate_for_quotas
    from salesplan.optimizer.quotas import read_pins
    from salesplan.scenarios import load_scenario

    o = cli_options(QuotasOptions, method=method, over_assign=over_assign,
                    replications=replications, seed=seed, rounding=rounding,
                    peer_band=parse_peer_band(peer_band),
                    by=[x.strip() for x in by.split(",") if x.strip()],
                    pins=str(pins) if pins is not None else None,
                    compare_methods=compare_methods)
    sc = load_scenario(file)
    out_dir.mkdir(parents=True, exist_ok=True)
    with _bar() as bar:
        task = bar.add_task("sim", total=replications)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done)

        if o.compare_methods:
            result = simulate_for_quotas(sc, o.replications, o.seed, workers, progress)
            rows, plans = compare_on(sc, result, o.over_assign, bounds=o.bounds())
        else:
            pin_list = read_pins(o.pins) if o.pins else None
            run = run_quotas(sc, o.method, o.replications, o.seed, workers, o.over_assign,
                             pin_list, tuple(o.by), o.rounding, bounds=o.bounds(),
                             progress=progress)
    if o.compare_methods:
        rows = with_pay_columns(sc, result, rows, plans)
        _write_comparison(rows, plans, out_dir, f"Quota methods on the same {replications} "
                                                 f"replications (seed {seed})")
    else:
        _write_plan(run, out_dir, sc.horizon.currency, method,
                    f"P(attainment) per rep, method {method} ({replications} replications)",
                    plan_pay(sc, run))


def parse_peer_band(text: str) -> tuple[float, float | None] | None:
    """``--peer-band``: ``LOW,HIGH`` (``inf`` allowed for HIGH, given as None: no upper limit)
    or ``none``/``off``; the ranges are checked by the options model. Raises a ``QuotaError``
    (exit 2) naming the option."""
    from salesplan.optimizer.quotas import QuotaError

    if text.strip().lower() in ("none", "off"):
        return None
    parts = [p.strip() for p in text.split(",")]
    try:
        low, high = (float(p) for p in parts)
    except ValueError:
        raise QuotaError(f"--peer-band must be LOW,HIGH (e.g. 0.5,2) or none, got {text!r}"
                         ) from None
    return low, (None if high == float("inf") else high)


def _write_comparison(rows, plans: dict, out_dir: Path, title: str) -> None:
    """The comparison's files (:func:`~salesplan.api.planning.quota_files.write_comparison`)
    and its table."""
    from salesplan.api.extras import charts_skipped
    from salesplan.api.planning.quota_files import write_comparison

    files, skipped = write_comparison(rows, plans, out_dir)
    columns = ["method", "p_attain_spread", "p_attain_std", "expected_share_attaining",
               "quota_potential_gini"]
    formats = {"p_attain_spread": ".2f", "p_attain_std": ".3f",
               "expected_share_attaining": ".1%", "quota_potential_gini": ".3f"}
    if "cost_of_sales" in rows.columns:
        columns += ["cost_of_sales", "share_at_on_target_pay", "gini_pay_ratio",
                    "territory_share"]
        formats |= {"cost_of_sales": ".1%", "share_at_on_target_pay": ".0%",
                    "gini_pay_ratio": ".3f", "territory_share": ".0%"}
    view = rows.reset_index()[columns]
    out.print(frame_table(view, title, formats))
    if skipped:
        err.print(charts_skipped(skipped), markup=False)
    chart = [str(f) for f in files if f.suffix == ".png"]
    out.print(f"Written: {out_dir / 'methods.csv'}, reps_<method>.csv"
              + (f", {chart[0]}" if chart else ""))


def _write_plan(run, out_dir: Path, cur: str, method: str, chart_title: str,
                pay: dict | None = None) -> None:
    """The plan's files (:func:`~salesplan.api.planning.quota_files.write_plan`) and its
    table."""
    from salesplan.api.extras import charts_skipped
    from salesplan.api.planning.quota_files import write_plan

    _, skipped = write_plan(run, out_dir, chart_title, pay)
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
    if pay is not None:
        out.print(pay_line(pay))
    for note in run.plan.notes:
        err.print(f"note: {note}", markup=False)
    if skipped:
        err.print(charts_skipped(skipped), markup=False)
    out.print(f"Written: {out_dir}/quotas.csv, reps.csv, summary.json"
              + ("" if skipped else ", p_attain.png"))


def pay_line(pay: dict) -> str:
    """The pay equity line of a quota plan (see :func:`_plan_pay`)."""
    def pct(v: float | None, spec: str) -> str:
        return "-" if v is None or v != v else format(v, spec)

    return (f"Pay: cost of sales {pct(pay['cost_of_sales'], '.1%')}, share of reps at "
            f"on-target pay {pct(pay['share_at_on_target_pay'], '.0%')}; pay equity: Gini of "
            f"the expected pay ratio {pct(pay['gini_pay_ratio'], '.3f')}, territory share "
            f"{pct(pay['territory_share'], '.0%')}")


def register(app: typer.Typer) -> None:
    app.command()(quotas)
