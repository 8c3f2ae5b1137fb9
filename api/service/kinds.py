"""The run kinds: name -> options model and the application function that does the work.

Every kind is ``(scenario, options, progress) -> RunOutput``: ``result`` (JSON), ``tables``
(frames, served as CSV), ``charts`` (PNG bytes) and ``files``: every file the CLI command of the
same name writes into its ``--out`` folder (``report.html``, ``summary.json``, compressed tables,
charts...), made by the same planning functions. A kind whose options name files of the scenario
version (align ``travel``, quotas ``pins``, every file of ``track``) is marked ``uses_files``
and also gets the version's ``tables``: they are written into a folder and read from there, as
the CLI reads its paths.

Options are the models of :mod:`salesplan.api.options`, shared with the CLI, validated before a
run is queued (an unknown option or a bad value is a 422 naming the field). Engines and
application functions are imported inside each kind function, so this module loads even while
an engine is unavailable, and a run process imports only what its kind needs.

Routing strategies and quota methods are names looked up in their registries, never code.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel

from salesplan.errors import SalesplanError
from salesplan.scenarios import Scenario

from ..executors import run_replications
from ..formatting import jsonable
from ..options import (
    TEXT_ERROR,
    AlignOptions,
    CompOptions,
    PlanHeadcountOptions,
    QuotasOptions,
    SimulateOptions,
    TrackOptions,
    WhatifOptions,
)

__all__ = [
    "KINDS",
    "TEXT_ERROR",
    "AlignOptions",
    "CompOptions",
    "Kind",
    "PlanHeadcountOptions",
    "Progress",
    "QuotasOptions",
    "RunOutput",
    "SimulateOptions",
    "TrackOptions",
    "WhatifOptions",
    "jsonable",
]

Progress = Callable[..., None]
"""``progress(fraction, message, partial=None)``: ``fraction`` in 0..1 (negative: unknown), a
message, and optionally the estimates so far (JSON), which ``GET /v1/runs/{id}`` shows as the
run's ``partial`` while it runs."""


@dataclass
class RunOutput:
    """What a run produced: JSON ``result``, ``tables`` served as CSV, ``charts`` as PNG, and
    the CLI's output ``files`` by file name."""

    result: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    charts: dict[str, bytes] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)


KindFunction = Callable[[Scenario, dict[str, Any], Progress], RunOutput]
Check = Callable[[Scenario, Any, Mapping[str, str]], list[str]]


@dataclass(frozen=True)
class Kind:
    """A run kind: its options model and its function (importable by name: it runs in a
    separate process)."""

    name: str
    options: type[BaseModel]
    run: KindFunction
    description: str = ""
    check: Check | None = None
    """What the options name that the scenario version must have (variants, regions, reps,
    files): one ``"field: message"`` per problem, given the scenario, the options and the
    version's files (name -> text); checked at submission so a run never fails for it."""


# ---- submission checks --------------------------------------------------------------------------

def _whatif_check(scenario: Scenario, o: Any, tables: Mapping[str, str]) -> list[str]:
    known = [v.name for v in scenario.variants]
    return [f"variants: {name!r} is not a variant of this scenario (defined: "
            f"{', '.join(known) or 'none'})" for name in (o.variants or []) if name not in known
            ] + _file_problems({f"against[{i}]": n for i, n in enumerate(o.against or [])},
                               tables)


def _headcount_check(scenario: Scenario, o: Any, tables: Mapping[str, str]) -> list[str]:
    known = scenario.region_ids
    out = [f"regions: {name!r} is not a region of this scenario (defined: {', '.join(known)})"
           for name in (o.regions or []) if name not in known]
    if scenario.targets is None:
        out.append("kind: the scenario has no target, so P(hit target) is undefined; add one")
    return out


def _unknown_reps(scenario: Scenario, quotas: Mapping[str, float] | None) -> list[str]:
    ids = {r.id for r in scenario.reps}
    return sorted(set(quotas or {}) - ids)


def _simulate_check(scenario: Scenario, o: Any, tables: Mapping[str, str]) -> list[str]:
    unknown = _unknown_reps(scenario, o.quotas)
    return [f"quotas: reps the scenario does not have: {', '.join(unknown[:10])}"] if unknown \
        else []


def _comp_check(scenario: Scenario, o: Any, tables: Mapping[str, str]) -> list[str]:
    out = [] if scenario.compensation is not None else [
        "kind: the scenario has no compensation section (a pay plan); add one"]
    if o.quotas is not None:
        unknown = _unknown_reps(scenario, o.quotas)
        missing = [r.id for r in scenario.reps if r.id not in o.quotas]
        parts = ([f"reps the scenario does not have: {', '.join(unknown[:10])}"] if unknown
                 else []) + ([f"missing for reps: {', '.join(missing[:10])}"
                              + (f" ({len(missing)} in all)" if len(missing) > 10 else "")]
                             if missing else [])
        if parts:
            out.append(f"quotas: {'; and '.join(parts)}")
    return out


def safe_file_name(name: str) -> bool:
    """A file name that can be written into a folder as it is: no path, not hidden."""
    return (0 < len(name) <= 100 and "/" not in name and "\\" not in name
            and not name.startswith(".") and name == name.strip())


def _file_problems(fields: Mapping[str, str | None], tables: Mapping[str, str]) -> list[str]:
    """Each file option that names no file of the scenario version."""
    out = []
    names = ", ".join(sorted(n for n in tables if safe_file_name(n))) or "none"
    for option, name in fields.items():
        if name is not None and (name not in tables or not safe_file_name(name)):
            out.append(f"{option}: {name!r} is not a file of this scenario version (its "
                       f"files: {names}); upload it with the scenario's tables")
    return out


def _align_check(scenario: Scenario, o: Any, tables: Mapping[str, str]) -> list[str]:
    return _file_problems({"travel": o.travel}, tables)


def _quotas_check(scenario: Scenario, o: Any, tables: Mapping[str, str]) -> list[str]:
    return _file_problems({"pins": o.pins}, tables)


def _track_check(scenario: Scenario, o: Any, tables: Mapping[str, str]) -> list[str]:
    from salesplan.scenarios.crm.mapping import PRESETS

    files = o.files()
    if o.mapping not in PRESETS:
        files["mapping"] = o.mapping
    return _file_problems(files, tables)


# ---- files --------------------------------------------------------------------------------------

def _uses_files(fn: Callable) -> Callable:
    """Mark a kind function that takes the scenario version's files (``tables=``)."""
    fn.uses_files = True  # type: ignore[attr-defined]
    return fn


@contextmanager
def _folder() -> Iterator[str]:
    """A private folder for a run's files; a planner error raised inside names the files by
    their names, not by this folder's path (which means nothing to the client)."""
    with tempfile.TemporaryDirectory(prefix="salesplan-") as d:
        try:
            yield d
        except SalesplanError as exc:
            text = str(exc)
            if d not in text:
                raise
            for prefix in (f"{d}/in/", f"{d}/out/", f"{d}/", d):
                text = text.replace(prefix, "")
            raise SalesplanError(text) from None


def _materialise(tables: Mapping[str, str], folder: Path) -> Callable[[str], Path]:
    """Write the version's files into ``folder``; returns the path of a file by name."""
    for name, text in tables.items():
        if safe_file_name(name):
            (folder / name).write_text(text, encoding="utf-8")

    def locate(name: str) -> Path:
        return folder / name

    return locate


def _collect(folder: Path) -> dict[str, bytes]:
    """Every file in ``folder``, by name, in name order."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _with_files(out: RunOutput, files: dict[str, bytes]) -> RunOutput:
    """``out`` with the CLI's files, whose CSV tables (not compressed) and PNG charts are also
    served as tables and charts under their stem (the CLI's version wins a clash)."""
    out.files = files
    for name, content in files.items():
        stem, _, ext = name.rpartition(".")
        if ext == "csv":
            import io

            out.tables[stem] = pd.read_csv(io.BytesIO(content), dtype=str,
                                           keep_default_na=False)
        elif ext == "png":
            out.charts[stem] = content
    return out


# ---- JSON helpers -------------------------------------------------------------------------------

def _value(obj: Any, name: str) -> Any:
    """An attribute or the result of a method of that name (engines use both)."""
    value = getattr(obj, name, None)
    return value() if callable(value) else value


def _frames(obj: Any, names: list[str]) -> dict[str, pd.DataFrame]:
    """The named frames of ``obj`` (attributes or methods) that exist and are frames; an index
    with a name (rep, region...) becomes a column, so no table loses its ids."""
    out = {}
    for name in names:
        attr = getattr(obj, name, None)
        try:
            value = attr() if callable(attr) else attr
        except Exception:
            continue
        if isinstance(value, pd.DataFrame):
            named = any(n is not None for n in value.index.names)
            out[name] = value.reset_index() if named else value
    return out


# ---- kinds --------------------------------------------------------------------------------------

def run_simulate(scenario: Scenario, options: dict[str, Any], progress: Progress) -> RunOutput:
    """``result``: the summary with the ``funnel`` block, as the CLI's ``summary.json``."""
    from salesplan.api.planning.simulation import write_outputs
    from salesplan.simulator import simulate

    o = SimulateOptions.model_validate(options)

    def chunk_done(done: int, total: int) -> None:
        progress(0.9 * done / max(total, 1), f"{done} of {total} replications")

    res = simulate(scenario, replications=o.replications, seed=o.seed,
                   **run_replications().kwargs(), routing=o.routing, progress=chunk_done,
                   keep_deals=o.keep_deals, quotas=o.quotas)
    progress(0.9, "writing the tables and charts")
    tables = _frames(res, ["bookings", "reps", "funnel", "coverage", "flow", "deals"])
    result = dict(_value(res, "summary")) | {"funnel": res.funnel_overall}
    with _folder() as d:
        write_outputs(res, Path(d))
        files = _collect(Path(d))
    return _with_files(RunOutput(result=jsonable(result), tables=tables), files)


@_uses_files
def run_align(scenario: Scenario, options: dict[str, Any], progress: Progress, *,
              tables: Mapping[str, str] | None = None) -> RunOutput:
    """One plan (``result``: the alignment summary) or, with ``tradeoff``, the Pareto sweep
    (``result``: its points)."""
    from salesplan.api.planning.alignment import read_travel, write_alignment, write_tradeoff
    from salesplan.optimizer import AlignmentProblem, solve_alignment, tradeoff

    o = AlignOptions.model_validate(options)
    opts = o.engine()
    with _folder() as d:
        folder = Path(d)
        locate = _materialise(tables or {}, _mkdir(folder / "in")) if o.travel else None
        travel = read_travel(locate(o.travel)) if locate is not None and o.travel else None
        out = folder / "out"
        progress(0.0, "building the alignment problem")
        problem = AlignmentProblem.from_scenario(scenario, travel)
        if o.tradeoff:
            points = tradeoff(problem, opts, progress=lambda done, total: progress(
                0.95 * done / max(total, 1), f"solved {done} of {total} tradeoff points"))
            write_tradeoff(points, problem, out)
            result = {"tradeoff": points.to_dict(orient="records"),
                      "pareto_points": int(points["pareto"].sum())}
            return _with_files(RunOutput(result=jsonable(result)), _collect(out))
        res = solve_alignment(problem, opts, progress=progress)
        write_alignment(problem, res, out, scenario.name)
        output = RunOutput(result=jsonable(res.summary()),
                           tables=_frames(res, ["assignment", "territories"]))
        return _with_files(output, _collect(out))


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


@_uses_files
def run_whatif_kind(scenario: Scenario, options: dict[str, Any], progress: Progress, *,
                    tables: Mapping[str, str] | None = None) -> RunOutput:
    """The comparison (with ``against``: other scenario files of the version as variants);
    files: the CLI's ``report.html``, CSVs and ``summary.json``."""
    from salesplan.api.planning.against import load_against
    from salesplan.api.planning.report import report_charts, write_report
    from salesplan.api.planning.whatif import run_against, run_whatif

    o = WhatifOptions.model_validate(options)

    def estimates(p: dict) -> None:  # after each round of replications of every variant
        progress(p["replications_done"] / p["replications"], f"estimates from "
                 f"{p['replications_done']} of {p['replications']} replications", p)

    if o.against:
        with _folder() as d:
            locate = _materialise(tables or {}, Path(d))
            others = load_against(scenario, [locate(n) for n in o.against],
                                  ["base", *(o.variants or [])], labels=list(o.against))
        comparison = run_against(scenario, others, o.variants or [], o.replications, o.seed,
                                 progress=progress, quota_method=o.quota_method,
                                 **run_replications().kwargs(), partial=estimates)
    else:
        comparison = run_whatif(scenario, variants=o.variants, replications=o.replications,
                                seed=o.seed, **run_replications().kwargs(), progress=progress,
                                quota_method=o.quota_method, partial=estimates)
    charts = report_charts(comparison)
    tables = {"comparison": comparison.table(), "regions": comparison.region_table(),
              "reps": comparison.rep_table(), "fan": comparison.fan_table(),
              "owners": comparison.owner_changes()}
    with _folder() as d:
        write_report(comparison, Path(d))
        files = _collect(Path(d))
    output = RunOutput(result=jsonable(comparison.summary()), tables=tables, charts=charts)
    return _with_files(output, files)


def run_plan_headcount_kind(scenario: Scenario, options: dict[str, Any], progress: Progress
                            ) -> RunOutput:
    """The plan, or the best plan found with ``reached`` false and the ``verdict`` saying why
    (the run succeeds either way, so the frontier is kept)."""
    from salesplan.api.planning.headcount import write_headcount
    from salesplan.api.planning.whatif import run_plan_headcount

    o = PlanHeadcountOptions.model_validate(options)
    plan = run_plan_headcount(scenario, p=o.p, replications=o.replications, seed=o.seed,
                              **run_replications().kwargs(), regions=o.regions,
                              start_month=o.start_month, max_hires=o.max_hires, cost=o.cost,
                              steps=progress)
    with _folder() as d:
        write_headcount(plan, Path(d))
        files = _collect(Path(d))
    output = RunOutput(result=jsonable(plan.as_dict()),
                       tables={"frontier": plan.frontier_table()})
    return _with_files(output, files)


@_uses_files
def run_quotas_kind(scenario: Scenario, options: dict[str, Any], progress: Progress, *,
                    tables: Mapping[str, str] | None = None) -> RunOutput:
    """One method's plan (``result``: its summary, with ``pay`` under a pay plan; tables
    ``quotas`` and ``reps`` with their ``rep`` and ``region`` columns) or, with
    ``compare_methods``, every method on the same draws (``result.methods``)."""
    from salesplan.api.planning.quota_files import (
        plan_pay,
        with_pay_columns,
        write_comparison,
        write_plan,
    )
    from salesplan.api.planning.quotas import compare_on, run_quotas, simulate_for_quotas
    from salesplan.optimizer.quotas import read_pins

    o = QuotasOptions.model_validate(options)

    def simulated(done: int, total: int) -> None:
        progress(0.9 * done / max(total, 1), f"simulated {done} of {total} replications")

    with _folder() as d:
        folder = Path(d)
        out = _mkdir(folder / "out")
        if o.compare_methods:
            sim = simulate_for_quotas(scenario, o.replications, o.seed, progress=simulated,
                                      **run_replications().kwargs())
            progress(0.9, "allocating by every method")
            rows, plans = compare_on(scenario, sim, o.over_assign, bounds=o.bounds())
            rows = with_pay_columns(scenario, sim, rows, plans)
            write_comparison(rows, plans, out)
            result = {"replications": o.replications, "seed": o.seed,
                      "methods": rows.reset_index().to_dict(orient="records")}
            return _with_files(RunOutput(result=jsonable(result)), _collect(out))
        pins = None
        if o.pins:
            pins = read_pins(_materialise(tables or {}, _mkdir(folder / "in"))(o.pins))
        res = run_quotas(scenario, method=o.method, replications=o.replications, seed=o.seed,
                         **run_replications().kwargs(), over_assign=o.over_assign, pins=pins,
                         by=tuple(o.by),
                         rounding=o.rounding, bounds=o.bounds(), progress=simulated)
        progress(0.95, "writing the plan")
        pay = plan_pay(scenario, res)
        write_plan(res, out, f"P(attainment) per rep, method {o.method} ({o.replications} "
                             "replications)", pay)
        frames = _frames(getattr(res, "plan", None), ["regions", "reconcile_report"])
        result = dict(_value(res, "summary") or {})
        if pay is not None:  # what the quotas do to pay, as the CLI reports it
            result["pay"] = pay
        return _with_files(RunOutput(result=jsonable(result), tables=frames), _collect(out))


def run_comp_kind(scenario: Scenario, options: dict[str, Any], progress: Progress
                  ) -> RunOutput:
    """The pay plan on simulated sales: ``result`` is the comp summary, tables ``payouts``
    (and ``design``), charts ``pay_curve`` and ``pay_distribution``; files as the CLI's."""
    from salesplan.api.planning.comp_report import comp_charts, payouts_table, write_comp
    from salesplan.api.planning.compensation import run_comp

    o = CompOptions.model_validate(options)

    def simulated(done: int, total: int) -> None:
        progress(0.9 * done / max(total, 1), f"simulated {done} of {total} replications")

    run = run_comp(scenario, o.quotas, o.method, o.replications, o.seed,
                   **run_replications().kwargs(), progress=simulated, design=o.design)
    tables = {"payouts": payouts_table(run)}
    if run.design is not None:
        tables["design"] = run.design.grid
    charts = comp_charts(run)
    with _folder() as d:
        write_comp(run, Path(d))
        files = _collect(Path(d))
    progress(1.0, "done")
    output = RunOutput(result=jsonable(run.summary), tables=tables, charts=charts)
    return _with_files(output, files)


@_uses_files
def run_track_kind(scenario: Scenario, options: dict[str, Any], progress: Progress, *,
                   tables: Mapping[str, str] | None = None) -> RunOutput:
    """Actuals against targets as of a date, from the CRM export and the targets uploaded as
    files of the scenario version: ``result`` is the CLI's ``summary.json``; tables forecast,
    risks, actions, pipeline; charts pace and fans; files as the CLI's (``report.html``...)."""
    from salesplan.api.planning.tracking.output import charts, summary
    from salesplan.api.planning.tracking.run import run_tracking

    o = TrackOptions.model_validate(options)
    with _folder() as d:
        folder = Path(d)
        locate = _materialise(tables or {}, _mkdir(folder / "in"))
        result, _, _ = run_tracking(o, locate, folder / "out", progress)
        output = RunOutput(result=summary(result), charts=charts(result.forecast))
        return _with_files(output, _collect(folder / "out"))


KINDS: dict[str, Kind] = {
    k.name: k for k in (
        Kind("simulate", SimulateOptions, run_simulate,
             "Monte Carlo simulation of the scenario (summary with intervals, tidy frames)",
             check=_simulate_check),
        Kind("align", AlignOptions, run_align, "Territory alignment with the optimiser",
             check=_align_check),
        Kind("quotas", QuotasOptions, run_quotas_kind, "Quotas per rep by a quota method",
             check=_quotas_check),
        Kind("comp", CompOptions, run_comp_kind,
             "Incentive pay on simulated sales: cost of sales, pay per rep, pay equity, and "
             "optionally the plan design search", check=_comp_check),
        Kind("whatif", WhatifOptions, run_whatif_kind,
             "Base and variants side by side with common random numbers", check=_whatif_check),
        Kind("plan-headcount", PlanHeadcountOptions, run_plan_headcount_kind,
             "Fewest hires per region so that P(hit target) >= p", check=_headcount_check),
        Kind("track", TrackOptions, run_track_kind,
             "Actuals against targets as of a date: where we stand, where we land (P10/P50/P90, "
             "P(hit)), the baselines, the risks and the actions, from a CRM export and targets "
             "uploaded as files of the scenario version", check=_track_check),
    )
}
"""The production registry. Tests add kinds through the ``get_kinds`` dependency only."""
