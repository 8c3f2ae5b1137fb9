"""``salesplan quotas``: set quotas by a named method and show how fair they are."""

from __future__ import annotations

import json
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
    from salesplan.api.planning.quotas import compare_on, run_quotas, simulate_for_quotas
    from salesplan.optimizer.quotas import Bounds, read_pins
    from salesplan.scenarios import load_scenario

    bounds = Bounds(peer_band=parse_peer_band(peer_band))
    sc = load_scenario(file)
    out_dir.mkdir(parents=True, exist_ok=True)
    with _bar() as bar:
        task = bar.add_task("sim", total=replications)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done)

        if compare_methods:
            result = simulate_for_quotas(sc, replications, seed, workers, progress)
            rows, plans = compare_on(sc, result, over_assign, bounds=bounds)
        else:
            pin_list = read_pins(pins) if pins else None
            run = run_quotas(sc, method, replications, seed, workers, over_assign, pin_list,
                             tuple(x.strip() for x in by.split(",") if x.strip()), rounding,
                             bounds=bounds, progress=progress)
    if compare_methods:
        rows = _with_pay_columns(sc, result, rows, plans)
        _write_comparison(rows, plans, out_dir, f"Quota methods on the same {replications} "
                                                 f"replications (seed {seed})")
    else:
        _write_plan(run, out_dir, sc.horizon.currency, method,
                    f"P(attainment) per rep, method {method} ({replications} replications)",
                    _plan_pay(sc, run))


def parse_peer_band(text: str) -> tuple[float, float] | None:
    """``--peer-band``: ``LOW,HIGH`` (``inf`` allowed for HIGH) or ``none``/``off``; the ranges
    are checked by ``Bounds``. Raises a ``QuotaError`` (exit 2) naming the option."""
    from salesplan.optimizer.quotas import QuotaError

    if text.strip().lower() in ("none", "off"):
        return None
    parts = [p.strip() for p in text.split(",")]
    try:
        low, high = (float(p) for p in parts)
    except ValueError:
        raise QuotaError(f"--peer-band must be LOW,HIGH (e.g. 0.5,2) or none, got {text!r}"
                         ) from None
    return low, high


def _with_pay_columns(sc, result, rows, plans: dict):
    """``rows`` with what each method's quotas do to pay (``PAY_COLUMNS``) when the scenario
    has a pay plan, measured on the same simulated ``result``; unchanged otherwise."""
    if sc.compensation is None:
        return rows
    from salesplan.api.planning.compensation import PAY_COLUMNS, comp_by_quotas, plan_rep_quotas

    pay = comp_by_quotas(sc, result, {name: plan_rep_quotas(sc, plan.quotas)
                                      for name, plan in plans.items()})
    return rows.join(pay[list(PAY_COLUMNS)])


def _plan_pay(sc, run) -> dict | None:
    """What the plan's quotas do to pay (cost of sales, share at on-target pay, pay equity) on
    the run's simulated sales; None without a pay plan."""
    if sc.compensation is None:
        return None
    from salesplan.api.planning.compensation import pay_figures, plan_rep_quotas

    return pay_figures(sc, run.result, plan_rep_quotas(sc, run.quotas))


def _write_comparison(rows, plans: dict, out_dir: Path, title: str) -> None:
    """``methods.csv``, ``reps_<method>.csv`` and the spread chart of every method."""
    from salesplan.api.extras import charts_skipped, have

    rows.reset_index().to_csv(out_dir / "methods.csv", index=False)
    for name, plan in plans.items():
        plan.reps.reset_index().to_csv(out_dir / f"reps_{name}.csv", index=False)
    chart = out_dir / "p_attain_by_method.png"
    if have("plots"):
        from salesplan.api.plots import methods_chart

        methods_chart(plans, chart)
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
    if not have("plots"):
        err.print(charts_skipped([chart.name]), markup=False)
    out.print(f"Written: {out_dir / 'methods.csv'}, reps_<method>.csv"
              + (f", {chart}" if have("plots") else ""))


def _write_plan(run, out_dir: Path, cur: str, method: str, chart_title: str,
                pay: dict | None = None) -> None:
    """``quotas.csv``, ``reps.csv``, ``summary.json`` (with ``pay`` when the scenario has a pay
    plan), the P(attainment) chart, and the table."""
    from salesplan.api.extras import charts_skipped, have
    from salesplan.api.formatting import jsonable

    run.plan.write(out_dir)
    summary = run.summary | ({"pay": jsonable(pay)} if pay is not None else {})
    (out_dir / "summary.json").write_text(json.dumps(
        summary, indent=2, default=lambda o: None if o != o else float(o)) + "\n")
    if have("plots"):
        from salesplan.api.plots import p_attain_chart

        p_attain_chart(run.reps, out_dir / "p_attain.png", chart_title)
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
    if not have("plots"):
        err.print(charts_skipped(["p_attain.png"]), markup=False)
    out.print(f"Written: {out_dir}/quotas.csv, reps.csv, summary.json"
              + (", p_attain.png" if have("plots") else ""))


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
