"""``salesplan bench``: strategy benchmarks for researchers, and the performance benchmarks.

- ``bench strategies``: sweep a suite of instances x strategies x seeds x replications (local
  processes, or a Dask cluster with ``--scheduler``) and write ``results.csv`` (one row per
  instance, family, strategy, seed), ``summary.csv`` and ``summary.md`` (the ranked tables),
  ``pairs.csv`` (every pair of strategies: paired difference, CI, Holm-corrected verdict),
  ``instances.json`` (the recipes and fingerprints of the instances used), ``run.json`` (the
  command, versions, machine and executor) and ``plots/<family>.png``.
- ``bench instances``: list the instance set; ``--verify`` rebuilds instances and compares their
  fingerprints with the committed manifest.
- ``bench perf``: run the simulator, territory and quota performance benchmarks in one go and
  print their tables (``--quick`` for reduced sizes).
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from salesplan.errors import SalesplanError

from ..console import err, out

bench = typer.Typer(help="Strategy benchmarks (bench strategies) and performance benchmarks "
                         "(bench perf).", no_args_is_help=True)


class BenchError(SalesplanError):
    """A benchmark request that cannot run."""


def _split(text: str | None, known: tuple[str, ...] | list[str], what: str) -> tuple[str, ...]:
    if text is None:
        return tuple(known)
    items = tuple(x.strip() for x in text.split(",") if x.strip())
    unknown = [x for x in items if x not in known]
    if unknown or not items:
        raise BenchError(f"--{what}: unknown {', '.join(unknown) or '(empty)'} "
                         f"(known: {', '.join(known)})")
    repeated = sorted({x for x in items if items.count(x) > 1})
    if repeated:
        raise BenchError(f"--{what}: {', '.join(repeated)} named more than once")
    return items


def load_plugins(modules: list[str] | None) -> None:
    """Import each module (from the current folder or the installed packages) so that the
    routing strategies it registers can be named in ``--routings``."""
    if not modules:
        return
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as ``python -m`` does; spawned workers inherit it
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:
            raise BenchError(f"--plugin {name}: cannot import it ({type(exc).__name__}: "
                             f"{exc})") from exc


def machine() -> str:
    """A one-line description of this machine."""
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}")


@bench.command("strategies")
def strategies_cmd(
    out_dir: Annotated[Path, typer.Option(
        "--out", help="The folder for the results (created if missing).")] = Path("bench-output"),
    suite: Annotated[str, typer.Option(help="The suite: small, standard or full.")] = "small",
    seeds: Annotated[int | None, typer.Option(help="Run seeds 0..N-1 (default: the suite's).")]
    = None,
    replications: Annotated[int | None, typer.Option(
        help="Replications per seed (default: the suite's).")] = None,
    instances: Annotated[str | None, typer.Option(
        help="Comma-separated instance names (default: the suite's).")] = None,
    families: Annotated[str | None, typer.Option(
        help="Comma-separated families: routing, territory, quota (default: all).")] = None,
    routings: Annotated[str | None, typer.Option(
        help="Comma-separated routing strategies (default: the four built in).")] = None,
    scheduler: Annotated[str | None, typer.Option(
        help="A Dask scheduler address (tcp://host:8786); default: local processes.")] = None,
    workers: Annotated[int | None, typer.Option(
        help="Local worker processes (default: one per CPU; 1 = this process).")] = None,
    plugin: Annotated[list[str] | None, typer.Option(
        help="Import this module first (it registers routing strategies); repeatable.")] = None,
) -> None:
    """Compare routing, territory and quota strategies on a suite of instances."""
    from salesplan.api.bench.instances import INSTANCES, SUITES
    from salesplan.api.bench.strategies import FAMILIES, ROUTINGS
    from salesplan.api.bench.sweep import SweepSpec
    from salesplan.simulator import ROUTING_STRATEGIES

    load_plugins(plugin)
    if suite not in SUITES:
        raise BenchError(f"--suite: unknown {suite!r} (known: {', '.join(SUITES)})")
    cfg = SUITES[suite]
    names = _split(instances, list(INSTANCES), "instances") if instances else cfg["instances"]
    n_seeds = seeds if seeds is not None else cfg["seeds"]
    reps = replications if replications is not None else cfg["replications"]
    if n_seeds < 1:
        raise BenchError(f"--seeds must be >= 1, got {n_seeds}")
    if reps < 2:
        raise BenchError(f"--replications must be >= 2, got {reps}")
    if workers is not None and workers < 1:
        raise BenchError(f"--workers must be >= 1, got {workers}")
    spec = SweepSpec(instances=names, seeds=tuple(range(n_seeds)), replications=reps,
                     families=_split(families, FAMILIES, "families"),
                     routings=_split(routings, sorted(ROUTING_STRATEGIES), "routings")
                     if routings else ROUTINGS)
    out_dir.mkdir(parents=True, exist_ok=True)
    _sweep_and_write(spec, suite, scheduler, workers, out_dir)


def _sweep_and_write(spec, suite: str, scheduler: str | None, workers: int | None,
                     out_dir: Path) -> None:
    """Run the sweep with a progress bar and write its tables, manifest, run record and plots."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from salesplan.api.bench.instances import INSTANCE_SET_VERSION, manifest
    from salesplan.api.bench.summary import pairwise, summarise, summary_markdown
    from salesplan.api.bench.sweep import open_executor, run_sweep
    from salesplan.api.extras import charts_skipped, have

    names, n_seeds, reps = spec.instances, len(spec.seeds), spec.replications
    start = time.perf_counter()
    with open_executor(scheduler, workers) as (executor, where):
        err.print(f"bench strategies: {len(names)} instances, {n_seeds} seeds x {reps} "
                  f"replications, on {where}")
        progress = Progress(TextColumn("{task.description}"), BarColumn(),
                            MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                            transient=True)
        with progress:
            task = progress.add_task("sweeping", total=None)

            def tick(label: str, done: int, total: int) -> None:
                progress.update(task, completed=done, total=total, description=label)

            results = run_sweep(spec, executor, tick)
    seconds = time.perf_counter() - start
    summary = summarise(results)
    command = "salesplan " + " ".join(shlex.quote(a) for a in sys.argv[1:]) \
        if Path(sys.argv[0]).name == "salesplan" else f"salesplan bench strategies --suite {suite}"
    header = (f"# Strategy benchmark: suite `{suite}`\n\n"
              f"Instance set {INSTANCE_SET_VERSION}; {n_seeds} seeds x {reps} replications; "
              f"ran on {where} in {seconds:.0f} s ({machine()}).\n\n"
              f"Command: `{command}`")
    results.to_csv(out_dir / "results.csv", index=False)
    summary.to_csv(out_dir / "summary.csv", index=False)
    pairwise(results).to_csv(out_dir / "pairs.csv", index=False)
    (out_dir / "summary.md").write_text(summary_markdown(results, summary, header))
    (out_dir / "instances.json").write_text(json.dumps(manifest(names), indent=2))
    (out_dir / "run.json").write_text(json.dumps({
        "command": command, "suite": suite, "instances": list(names), "seeds": n_seeds,
        "replications": reps, "families": list(spec.families),
        "routings": list(spec.routing_names()), "executor": where,
        "instance_set": INSTANCE_SET_VERSION, "seconds": round(seconds, 1),
        "machine": machine()}, indent=2))
    plots = []
    if have("plots"):
        from salesplan.api.plots import plot_families

        plots = plot_families(summary, out_dir / "plots")
    else:
        err.print(charts_skipped(["plots/<family>.png"]), markup=False)
    out.print(f"{len(results)} rows in {seconds:.0f} s; wrote results.csv, summary.csv, "
              f"pairs.csv, summary.md, instances.json, run.json and {len(plots)} plots to "
              f"{out_dir}")


@bench.command("instances")
def instances_cmd(
    verify: Annotated[bool, typer.Option(
        help="Rebuild each instance and compare it with the manifest.")] = False,
    suite: Annotated[str | None, typer.Option(help="List only this suite's instances.")] = None,
    write_lock: Annotated[bool, typer.Option(
        help="Rebuild every instance and rewrite the manifest (after a deliberate change; "
             "bump INSTANCE_SET_VERSION).")] = False,
) -> None:
    """List the benchmark instance set (recipes, sizes, fingerprints)."""
    from salesplan.api.bench.instances import (
        INSTANCE_SET_VERSION,
        INSTANCES,
        SUITES,
        build_instance,
        locked_manifest,
    )
    from salesplan.api.bench.instances import write_lock as write_lock_file
    if write_lock:
        out.print(f"wrote {write_lock_file()}")
        return
    if suite is not None and suite not in SUITES:
        raise BenchError(f"--suite: unknown {suite!r} (known: {', '.join(SUITES)})")
    names = SUITES[suite]["instances"] if suite else tuple(INSTANCES)
    locked = locked_manifest()
    out.print(f"instance set {INSTANCE_SET_VERSION} (manifest {locked['version']})")
    bad = []
    for name in names:
        spec = INSTANCES[name]
        line = f"  {name:28s} {spec.kind:9s} {spec.description}"
        if verify:
            inst = build_instance(name)
            want = locked["instances"].get(name, {}).get("fingerprint")
            ok = want == inst.fingerprint
            if not ok:
                bad.append(name)
            line += f"  [{'ok' if ok else 'DIFFERS'} {inst.fingerprint[:12]}]"
        out.print(line, markup=False)
    if bad:
        raise BenchError(f"{len(bad)} instance(s) differ from the manifest: {', '.join(bad)} "
                         "(a recipe, the generator or the simulator changed: bump "
                         "INSTANCE_SET_VERSION and regenerate instances.lock.json)")


PERF = (
    ("CLI start-up", "salesplan.benchmarks.cli_startup", [], ["--runs", "5"]),
    ("simulator speed", "salesplan.benchmarks.sim_speed",
     [], ["--baseline-reps", "5", "--ours-reps", "20", "--big-reps", "100"]),
    ("territory alignment", "salesplan.benchmarks.territory_bench",
     [], ["--sizes", "1k", "--no-counties", "--no-cbc"]),
    ("territory alignment, real shapes", "salesplan.benchmarks.territory_bench",
     ["--sizes", "", "--no-counties", "--no-cbc", "--geo", "geo-10k,geo-33k,geo-50k,geo-100k"],
     ["--sizes", "", "--no-counties", "--no-cbc", "--geo", "geo-10k", "--time-limit", "60"]),
    ("quota allocation speed", "salesplan.benchmarks.quota_speed",
     [], ["--repeat", "1", "--replications", "200"]),
    ("quota fairness", "salesplan.benchmarks.quota_fairness", [], ["--replications", "100"]),
)


@bench.command("perf")
def perf_cmd(
    quick: Annotated[bool, typer.Option(
        help="Run reduced sizes (minutes instead of about 25 min).")] = False,
) -> None:
    """Run the performance benchmarks: CLI start-up, simulator, territory and quota engines."""
    for title, module, full, short in PERF:
        out.print(f"\n=== {title} ({module}) ===")
        importlib.import_module(module).main(short if quick else full)


def register(app: typer.Typer) -> None:
    app.add_typer(bench, name="bench")
