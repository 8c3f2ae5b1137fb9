"""``salesplan align``: territory alignment of a scenario's accounts to its reps.

Writes ``assignment.csv``, ``territories.csv``, ``summary.json`` and ``map.png`` into ``--out``
(or, with ``--tradeoff``, ``tradeoff.csv`` and ``tradeoff.png``). An infeasible input exits with
code 2 and the diagnosis (``summary.json`` then holds ``status: "no solution"`` and the reasons).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..console import err, frame_table, money, out, phases
from ..options import Out, ScenarioFile

if TYPE_CHECKING:
    from salesplan.optimizer import AlignmentOptions, AlignmentProblem, AlignmentResult


class Mode(StrEnum):
    carve = "carve"
    realign = "realign"


class SolverName(StrEnum):
    highs = "highs"
    cbc = "cbc"


class Strategy(StrEnum):
    auto = "auto"
    exact = "exact"
    fix = "fix"


def align(
    file: ScenarioFile,
    out_dir: Out = Path("align-output"),
    mode: Annotated[Mode, typer.Option(
        help="How to treat today's owners: carve ignores them, realign moves few accounts.")] = (
        Mode.realign),
    balance: Annotated[str, typer.Option(
        help="Balance bands as metric=tolerance[,...] (metrics: workload, potential, "
             "accounts; an optional :weight for --soft); '' for none.")] = "workload=0.10",
    soft_balance: Annotated[bool, typer.Option(
        "--soft-balance", "--soft", help="Penalise band violations instead of forbidding "
                                         "them.")] = False,
    dedicate_oversized: Annotated[bool, typer.Option(
        "--dedicate-oversized", help="An account above every rep's band gets a rep of its "
                                     "own; the others are balanced without it.")] = False,
    max_moves: Annotated[int | None, typer.Option(help="The most accounts moved (realign).")] =
        None,
    max_moved_potential: Annotated[float | None, typer.Option(
        help="The most potential moved, in currency per year (realign).")] = None,
    max_workload_hours: Annotated[float | None, typer.Option(
        help="Every rep's capacity in hours per year.")] = None,
    max_distance: Annotated[float | None, typer.Option(
        help="Accounts farther than this (km or minutes) are ineligible.")] = None,
    disruption: Annotated[float, typer.Option(
        help="Disruption weight: a move costs like serving the account this much farther "
             "(km or minutes).")] = 100.0,
    candidates: Annotated[int, typer.Option(
        min=0, help="Candidate reps per account (the k nearest eligible; 0 for all).")] = 8,
    strategy: Annotated[Strategy, typer.Option(
        help="The solution strategy: exact (MILP), fix (LP fix-and-repair) or auto.")] = (
        Strategy.auto),
    time_limit: Annotated[float, typer.Option(
        help="The solver time limit in seconds (per point with --tradeoff).")] = 120.0,
    gap: Annotated[float, typer.Option(help="The relative MIP gap to stop at.")] = 0.005,
    solver: Annotated[SolverName, typer.Option(help="The MILP solver.")] = SolverName.highs,
    travel: Annotated[Path | None, typer.Option(
        help="A travel table CSV with columns account, rep, and distance (km) or minutes.")] = None,
    tradeoff: Annotated[bool, typer.Option(
        "--tradeoff", help="Sweep the disruption weight; write the Pareto points and a plot.")] =
        False,
) -> None:
    """Align accounts to reps: balanced, compact, with few moves."""
    from salesplan.api.options import AlignOptions, cli_options
    from salesplan.api.planning.alignment import read_travel
    from salesplan.optimizer import AlignmentProblem, parse_balance
    from salesplan.scenarios import load_scenario

    o = cli_options(
        AlignOptions, mode=mode.value,
        balance={b.metric: {"tolerance": b.tolerance, "weight": b.weight} if b.weight != 1.0
                 else b.tolerance for b in parse_balance(balance)},
        soft_balance=soft_balance, dedicate_oversized=dedicate_oversized, max_moves=max_moves,
        max_moved_potential=max_moved_potential, max_workload_hours=max_workload_hours,
        max_distance=max_distance, disruption=disruption, candidates=candidates,
        strategy=strategy.value, solver=solver.value, time_limit=time_limit, gap=gap,
        travel=str(travel) if travel is not None else None, tradeoff=tradeoff)
    opts = o.engine()
    sc = load_scenario(file)
    problem = AlignmentProblem.from_scenario(
        sc, read_travel(travel) if travel is not None else None)
    out_dir.mkdir(parents=True, exist_ok=True)
    if o.tradeoff:
        _tradeoff(problem, opts, out_dir)
    else:
        _align(problem, opts, out_dir, sc.name)


def _solving(what: str, opts: AlignmentOptions):
    """The progress display while the solver works (it reports nothing until done)."""
    spec = opts.solver_spec()
    return phases(f"{what} ({spec.name}, time limit {spec.time_limit:,.0f} s)")


def _missing(v: object) -> bool:
    """None or NaN (what ``pandas.isna`` says of a scalar, without importing pandas)."""
    return v is None or v != v


def _tradeoff(problem: AlignmentProblem, opts: AlignmentOptions, out_dir: Path) -> None:
    """Sweep the disruption weight: ``tradeoff.csv``, ``tradeoff.png`` and the table."""
    from salesplan.api.extras import charts_skipped
    from salesplan.api.planning.alignment import write_tradeoff
    from salesplan.optimizer import tradeoff

    with _solving("sweeping the disruption weight", opts) as phase:
        points = tradeoff(problem, opts, progress=lambda done, total: phase(
            "sweeping the disruption weight", done, total))
    files, skipped = write_tradeoff(points, problem, out_dir)
    out.print(frame_table(points, "Disruption versus balance (pareto = worth considering)", {
        "weighted_distance": ",.0f", "worst_deviation": ".1%", "moved_potential":
        lambda v: money(v, problem.currency), "gap": lambda v: "-" if _missing(v) else
        f"{v:.2%}", "solve_seconds": ".1f", "moves": lambda v: "-" if _missing(v) else
        f"{int(v)}"}))
    if skipped:
        err.print(charts_skipped(skipped), markup=False)
    out.print("wrote " + " and ".join(str(f) for f in files))


def _align(problem: AlignmentProblem, opts: AlignmentOptions, out_dir: Path, name: str) -> None:
    """Solve, write ``assignment.csv``, ``territories.csv``, ``summary.json`` and ``map.png``
    (or, without a plan, ``summary.json`` with the reasons, then raise)."""
    from salesplan.api.extras import charts_skipped
    from salesplan.api.planning.alignment import write_alignment, write_failure
    from salesplan.optimizer import AlignmentError, solve_alignment

    try:
        with _solving("solving the alignment", opts) as phase:
            result = solve_alignment(problem, opts,
                                     progress=lambda fraction, message: phase(message))
    except AlignmentError as exc:
        write_failure(exc, out_dir)
        raise
    files, skipped = write_alignment(problem, result, out_dir, name)
    _print_plan(result, name, problem.currency)
    if skipped:
        err.print(charts_skipped(skipped), markup=False)
    out.print(f"wrote {out_dir}/" + ", ".join(f.name for f in files))


def _print_plan(result: AlignmentResult, name: str, cur: str) -> None:
    """The headline, the territories table, the balance figures and the notes."""
    m = result.metrics
    out.print(f"[bold]{name}[/bold]: {m.status}; objective {m.objective:,.1f}, LP bound "
              f"{m.bound:,.1f} ({m.bound_scope}); {m.moves} moves "
              f"({money(m.moved_potential, cur)} potential); {m.solve_seconds:.1f} s "
              f"({m.strategy}, {m.solver})")
    show = result.territories[["rep", "pool", "accounts", "potential", "workload_hours",
                               "mean_distance", "max_distance", "workload_dev",
                               "potential_dev"]]
    out.print(frame_table(show, "Territories", {
        "potential": lambda v: money(v, cur), "workload_hours": ",.0f",
        "mean_distance": ",.0f", "max_distance": ",.0f",
        "workload_dev": lambda v: "-" if _missing(v) else f"{v:+.1%}",
        "potential_dev": lambda v: "-" if _missing(v) else f"{v:+.1%}"}))
    for metric, st in m.balance.items():
        out.print(f"{metric}: max/mean {st['max_over_mean']:.3f}, min/mean "
                  f"{st['min_over_mean']:.3f}, CV {st['cv']:.3f}")
    for note in result.notes:
        err.print(f"note: {note}", markup=False)


def register(app: typer.Typer) -> None:
    app.command()(align)
