"""What ``salesplan simulate`` writes: every table of a Monte Carlo run, its summary and its
charts, and the quotas file it may read.

Outputs in the folder: ``summary.json`` (replications, seed, bookings and won_deals with mean,
ci95, p10, p50, p90, p_hit_target with its Wilson interval when a target exists, funnel overall
figures), ``funnel.csv``, ``coverage.csv`` (pipeline coverage per month end), ``reps.csv``; the
tables with a row per replication gzip-compressed (``pandas.read_csv`` reads them as they are):
``bookings.csv.gz`` (rep x month per replication), ``bookings_region.csv.gz``,
``bookings_product.csv.gz``, ``bookings_segment.csv.gz`` and, when deals are kept
(``keep_deals`` > 0), ``deals.csv.gz`` (the deals of the first ``keep_deals`` replications); and
with the ``plots`` extra the charts ``funnel.png``, ``bookings_fan.png`` (cumulative bookings by
month against the target) and ``attainment.png`` (distribution of attainment per rep; of
bookings without quotas).

Floats are rounded for people and diffs (:func:`salesplan.numbers.round_floats`): money to the
cent, everything else to 6 decimals.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from salesplan.scenarios.errors import SalesplanError
from salesplan.simulator import plots
from salesplan.simulator.results import SimulationResult

from ..formatting import jsonable, round_floats

__all__ = ["CHARTS", "GZIP", "MONEY_COLUMNS", "QuotaFileError", "SimulationFiles", "read_quotas",
           "write_outputs"]

CHARTS = {"funnel.png": plots.funnel_figure, "bookings_fan.png": plots.bookings_fan_figure,
          "attainment.png": plots.attainment_figure}


MONEY_COLUMNS = ("bookings", "bookings_p10", "bookings_p90", "value", "open_pipeline_value",
                 "cumulative_bookings", "remaining_target")
"""The money columns of the tables written (rounded to the cent)."""
GZIP = {"method": "gzip", "compresslevel": 6, "mtime": 0}
"""How the per-replication tables are compressed (``mtime`` 0: the same run, the same bytes)."""


@dataclass(frozen=True)
class SimulationFiles:
    """The files written, and the charts not drawn because matplotlib is not installed."""

    written: list[Path]
    charts_skipped: list[str]


class QuotaFileError(SalesplanError):
    """A quotas CSV that cannot be used."""


def read_quotas(path: Path) -> dict[str, float]:
    """Horizon quota per rep (currency) from a CSV with a ``rep`` (or ``rep_id``/``id``) and a
    ``quota`` column. Rows of the same rep are added up, so the ``quotas.csv`` that ``salesplan
    quotas`` writes (one row per rep x product x segment x month) gives each rep's total. Every
    row must be a non-negative number and every rep's total positive."""
    try:
        df = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise QuotaFileError(f"{path}: cannot read quotas ({exc})") from exc
    rep_col = next((c for c in ("rep", "rep_id", "id") if c in df.columns), None)
    if rep_col is None or "quota" not in df.columns:
        raise QuotaFileError(f"{path}: needs columns 'rep' and 'quota', got "
                             f"{', '.join(map(str, df.columns))}")
    reps = df[rep_col].astype(str).str.strip()
    quota = pd.to_numeric(df["quota"], errors="coerce")
    bad = reps[quota.isna() | (quota < 0) | ~np.isfinite(quota.fillna(0))].tolist()
    if bad:
        raise QuotaFileError(f"{path}: quota must be a positive number (reps "
                             f"{', '.join(dict.fromkeys(bad))})")
    total = quota.astype(float).groupby(reps, sort=False).sum()
    bad = total.index[total <= 0].tolist()
    if bad:
        raise QuotaFileError(f"{path}: quota must be a positive number (reps {', '.join(bad)})")
    return {str(rep): float(q) for rep, q in total.items()}


def write_outputs(res: SimulationResult, out_dir: Path) -> SimulationFiles:
    """Write every table, the summary and (with the ``plots`` extra) the charts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = dict(res.summary)
    summary["funnel"] = res.funnel_overall
    files = {"summary.json": None}
    (out_dir / "summary.json").write_text(json.dumps(jsonable(summary), indent=2))
    tables = {
        "funnel.csv": res.funnel,
        "coverage.csv": res.coverage,
        "reps.csv": res.reps,
        "bookings.csv.gz": res.bookings,
        "bookings_region.csv.gz": res.bookings_by("region"),
        "bookings_product.csv.gz": res.bookings_by("product"),
        "bookings_segment.csv.gz": res.bookings_by("segment"),
    }
    if len(res.deals):
        tables["deals.csv.gz"] = res.deals
    for name, df in tables.items():
        round_floats(df, MONEY_COLUMNS).to_csv(
            out_dir / name, index=False, compression=GZIP if name.endswith(".gz") else None)
        files[name] = None
    if not plots.available():
        return SimulationFiles([out_dir / f for f in files], list(CHARTS))
    for name, draw in CHARTS.items():
        plots.save_png(draw(res), out_dir / name)
        files[name] = None
    return SimulationFiles([out_dir / f for f in files], [])
