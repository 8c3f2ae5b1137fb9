"""``salesplan simulate``: Monte Carlo runs of the pipeline simulator, written to a folder.

Outputs in ``--out``: ``summary.json`` (replications, seed, bookings and won_deals with mean,
ci95, p10, p50, p90, p_hit_target when a target exists, funnel overall figures), ``deals.csv``
(the deals of the first ``--keep-deals`` replications), ``bookings.csv`` (rep x month per
replication), ``bookings_region.csv``, ``bookings_product.csv``, ``bookings_segment.csv``,
``funnel.csv``, ``coverage.csv`` (pipeline coverage per month end), ``reps.csv``, and charts:
``funnel.png``, ``bookings_fan.png`` (cumulative bookings by month against the target),
``attainment.png`` (distribution of attainment per rep; of bookings without quotas).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from salesplan.api.console import err, frame_table, money, out
from salesplan.scenarios import load_scenario
from salesplan.scenarios.errors import SalesplanError
from salesplan.simulator.results import SimulationResult
from salesplan.simulator.runner import simulate as run_simulation


class QuotaFileError(SalesplanError):
    """A quotas CSV that cannot be used."""


def read_quotas(path: Path) -> dict[str, float]:
    """Quotas from a CSV with a ``rep`` (or ``rep_id``/``id``) and a ``quota`` column."""
    try:
        df = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise QuotaFileError(f"{path}: cannot read quotas ({exc})") from exc
    rep_col = next((c for c in ("rep", "rep_id", "id") if c in df.columns), None)
    if rep_col is None or "quota" not in df.columns:
        raise QuotaFileError(f"{path}: needs columns 'rep' and 'quota', got "
                             f"{', '.join(map(str, df.columns))}")
    quota = pd.to_numeric(df["quota"], errors="coerce")
    bad = df.loc[quota.isna() | (quota <= 0), rep_col].astype(str).tolist()
    if bad:
        raise QuotaFileError(f"{path}: quota must be a positive number (reps {', '.join(bad)})")
    return dict(zip(df[rep_col].astype(str).str.strip(), quota.astype(float), strict=True))


def _clean(x: Any) -> Any:
    """JSON-safe: NaN and infinities become null, numpy scalars plain numbers."""
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def write_outputs(res: SimulationResult, out_dir: Path) -> list[Path]:
    """Write every table, the summary and the charts; returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = dict(res.summary)
    summary["funnel"] = res.funnel_overall
    files = {"summary.json": None}
    (out_dir / "summary.json").write_text(json.dumps(_clean(summary), indent=2))
    tables = {
        "deals.csv": res.deals,
        "bookings.csv": res.bookings,
        "bookings_region.csv": res.bookings_by("region"),
        "bookings_product.csv": res.bookings_by("product"),
        "bookings_segment.csv": res.bookings_by("segment"),
        "funnel.csv": res.funnel,
        "coverage.csv": res.coverage,
        "reps.csv": res.reps,
    }
    for name, df in tables.items():
        df.to_csv(out_dir / name, index=False)
        files[name] = None
    for name in _charts(res, out_dir):
        files[name] = None
    return [out_dir / f for f in files]


def _charts(res: SimulationResult, out_dir: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cur = res.currency
    made = []
    # funnel
    f = res.funnel
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.barh(f["stage"][::-1], f["entered"][::-1], color="#4C72B0", label="entered")
    ax.barh(f["stage"][::-1], f["advanced"][::-1], color="#55A868", label="advanced / won")
    for y, (e, c) in enumerate(zip(f["entered"][::-1], f["conversion"][::-1], strict=True)):
        ax.text(e, y, f"  {c:.0%}", va="center", fontsize=8)
    ax.set_xlabel("deals per replication (mean)")
    ax.set_title(f"Funnel, {res.plan.scenario.name} ({res.replications} replications)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(out_dir / "funnel.png", dpi=110)
    plt.close(fig)
    made.append("funnel.png")
    # fan chart of cumulative bookings
    cum = np.cumsum(res.stack("bookings").sum(axis=1), axis=1)
    x = np.arange(1, cum.shape[1] + 1)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for lo, hi, alpha in ((10, 90, 0.2), (25, 75, 0.35)):
        ax.fill_between(x, np.percentile(cum, lo, axis=0), np.percentile(cum, hi, axis=0),
                        color="#4C72B0", alpha=alpha, lw=0, label=f"P{lo}-P{hi}")
    ax.plot(x, np.median(cum, axis=0), color="#4C72B0", lw=2, label="median")
    path = res.target_path()
    if path is not None:
        ax.plot(x, path, color="#C44E52", ls="--", lw=1.5, label="target (cumulative)")
    ax.set_xticks(x, res.months, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel(f"cumulative bookings ({cur})")
    ax.set_title("Cumulative bookings by month")
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(out_dir / "bookings_fan.png", dpi=110)
    plt.close(fig)
    made.append("bookings_fan.png")
    # attainment (or bookings) per rep
    att = res.attainment()
    data = att if att is not None else res.rep_bookings()
    keep = ~np.all(np.isnan(data), axis=0)
    labels = [r for r, k in zip(res.rep_ids, keep, strict=True) if k]
    fig, ax = plt.subplots(figsize=(max(6, 0.28 * len(labels) + 2), 4.5))
    ax.boxplot([data[:, j][~np.isnan(data[:, j])] for j in np.flatnonzero(keep)],
               showfliers=False)
    ax.set_xticks(np.arange(1, len(labels) + 1), labels, rotation=90, fontsize=7)
    if att is not None:
        ax.axhline(1.0, color="#C44E52", ls="--", lw=1)
        ax.set_ylabel("attainment (bookings / quota)")
        ax.set_title("Attainment per rep across replications")
    else:
        ax.set_ylabel(f"bookings ({cur})")
        ax.set_title("Bookings per rep across replications (no quotas given)")
    fig.tight_layout()
    fig.savefig(out_dir / "attainment.png", dpi=110)
    plt.close(fig)
    made.append("attainment.png")
    return made


def simulate(
    file: Annotated[Path, typer.Argument(help="Scenario file (.yaml, .yml or .json)")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the outputs")],
    replications: Annotated[int, typer.Option("--replications", "-n", min=1,
                                              help="Monte Carlo replications")] = 200,
    seed: Annotated[int, typer.Option(min=0, help="Random seed (results depend only on it)")
                    ] = 1,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes (default: CPUs)")
                       ] = None,
    quotas: Annotated[Path | None, typer.Option(help="CSV with columns rep, quota")] = None,
    routing: Annotated[str | None, typer.Option(
        help="Routing strategy (default: the scenario's policy)")] = None,
    keep_deals: Annotated[int, typer.Option(min=0, help="Replications whose deals are "
                                                        "written to deals.csv")] = 10,
) -> None:
    """Simulate a scenario's pipeline: bookings, funnel, reps and their uncertainty."""
    sc = load_scenario(file)
    quota_map = read_quotas(quotas) if quotas is not None else None
    progress = Progress(TextColumn("simulating"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=err, transient=True)
    with progress:
        task = progress.add_task("sim", total=replications)
        res = run_simulation(sc, replications, seed, workers=workers, quotas=quota_map,
                             routing=routing, keep_deals=keep_deals,
                             progress=lambda done, total: progress.update(task, completed=done))
    files = write_outputs(res, out_dir)
    _print_summary(res)
    out.print(f"Wrote {len(files)} files to {out_dir}")


def _print_summary(res: SimulationResult) -> None:
    s = res.summary
    cur = res.currency
    rows = []
    for key, label, fmt in (("bookings", "Bookings", lambda v: money(v, cur)),
                            ("won_deals", "Won deals", lambda v: f"{v:,.1f}")):
        d = s[key]
        ci = f"{fmt(d['ci95'][0])} to {fmt(d['ci95'][1])}" if d["ci95"] else "-"
        rows.append({"measure": label, "mean": fmt(d["mean"]), "95% CI of mean": ci,
                     "P10": fmt(d["p10"]), "P50": fmt(d["p50"]), "P90": fmt(d["p90"])})
    out.print(frame_table(pd.DataFrame(rows), f"{s['scenario']}: {s['replications']} "
                                              f"replications, seed {s['seed']}"))
    if "p_hit_target" in s:
        out.print(f"Target {money(s['target'], cur)}: P(hit) = {s['p_hit_target']:.1%} "
                  f"(± {1.96 * s['p_hit_target_se']:.1%})")
    fo = res.funnel_overall
    out.print(f"Win rate {fo['win_rate']:.1%}, cycle time {fo['cycle_time_mean_days']:.1f} "
              f"days (mean); unrouted leads per replication: {s['unrouted_leads']:,.1f}")


def register(app: typer.Typer) -> None:
    app.command()(simulate)
