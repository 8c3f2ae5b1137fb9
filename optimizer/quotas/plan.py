"""``allocate_quotas``: the company target to regions, reps and cells, in one call.

The steps, each in its own module:

1. the inputs, checked once (:mod:`.request`): options into a :class:`.request.QuotaRequest`,
   simulated bookings and a territory alignment into the :class:`.context.QuotaContext` the
   methods (:mod:`.methods`) read; pins (:mod:`.pins`) against the scenario and the cell grid;
2. company -> region (:mod:`.region_targets`): region targets from ``targets.by_region``
   (``region_split="targets"``) or the roll-up of the method's company-wide ideal
   (``"method"``, the default for ``fair`` and when the scenario gives no region shares); region
   pins fixed, the rest absorbing (:mod:`.allocation`), rounded to the unit (:mod:`.rounding`);
3. region -> rep (:mod:`.rep_quotas`): each region's reps carry ``target x over_assign``; pins,
   bounds (:mod:`.bounds`) and the lexicographic min-max model (:mod:`.allocation`), checked
   first by :mod:`.diagnosis`; rounded to the unit with the exact total;
4. rep -> cells: product (or category) x segment x period (:mod:`.decomposition`);
5. the result tables (:mod:`.tables`): fairness and "why this quota" per rep
   (:mod:`.fairness`), the regions, the summary; then :func:`.reconcile.reconcile`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salesplan.scenarios.model import Scenario

from .allocation import SolveInfo
from .bounds import Bounds
from .decomposition import build_cells, split_reps
from .errors import InfeasibleQuotaError
from .methods import DEFAULT_METHOD, QuotaMethod
from .pins import Pin, as_pins, check_pins, pins_by_level
from .reconcile import reconcile
from .region_targets import allocate_regions
from .rep_quotas import allocate_reps
from .request import QuotaRequest, quota_context
from .tables import binding_notes, plan_summary, region_table, rep_table

__all__ = ["QUOTA_COLUMNS", "QuotaPlan", "allocate_quotas"]

QUOTA_COLUMNS = ["rep", "region", "product", "segment", "period", "quota"]


@dataclass
class QuotaPlan:
    """A reconciled quota plan.

    ``quotas``: tidy cells (``rep, region, product, segment, period, quota``; whole currency
    units). ``reps``: per-rep fairness and explanation (index ``rep``; see :mod:`.fairness`),
    plus ``lower_bound``, ``upper_bound``, ``pinned``. ``regions``: per region (index
    ``region``) ``ideal_target``, ``target``, ``rep_total`` (target x over-assignment),
    ``pinned``, ``reps``. ``summary``: plan-level figures (JSON-ready). ``notes``: every
    assumption or degradation made. ``solve``: :class:`SolveInfo` per level. ``reconcile_report``:
    the frame from :func:`reconcile`.
    """

    method: str
    scenario: str
    currency: str
    target: int
    total_quota: int
    over_assign: float
    rounding: int
    by: tuple[str, ...]
    quotas: pd.DataFrame
    reps: pd.DataFrame
    regions: pd.DataFrame
    summary: dict[str, Any]
    notes: list[str]
    pins: list[Pin]
    solve: dict[str, SolveInfo] = field(default_factory=dict)
    reconcile_report: pd.DataFrame | None = None

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write ``quotas.csv``, ``reps.csv`` and ``summary.json`` into ``out_dir``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = [out / "quotas.csv", out / "reps.csv", out / "summary.json"]
        self.quotas[QUOTA_COLUMNS].to_csv(paths[0], index=False)
        self.reps.reset_index().to_csv(paths[1], index=False)
        paths[2].write_text(
            json.dumps(self.summary, indent=2, default=_json_default) + "\n", encoding="utf-8"
        )
        return paths


def _json_default(o: object) -> object:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return None if not np.isfinite(o) else float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def allocate_quotas(
    scenario: Scenario,
    method: str | QuotaMethod = DEFAULT_METHOD,
    *,
    samples: object = None,
    over_assign: float = 1.0,
    pins: object = None,
    bounds: Bounds | None = None,
    by: Sequence[str] | str | None = ("product", "segment", "month"),
    rounding: int = 1000,
    solver: object = None,
    alignment: Mapping[str, str] | None = None,
    region_split: str | None = None,
    method_options: Mapping[str, Any] | None = None,
) -> QuotaPlan:
    """Allocate ``scenario.targets.company`` by ``method`` (default :data:`.methods.DEFAULT_METHOD`,
    the blend of capacity, history and potential) and return a reconciled plan.

    ``samples``: simulated horizon bookings per rep (see :func:`.fair.as_samples`); required by
    ``fair``, optional otherwise (without them the attainment columns are NaN/None).
    ``over_assign``: rep quotas sum to this times the target (e.g. 1.1), in every region.
    ``pins``: a pins CSV path or a list of :class:`Pin` (or mappings with the CSV columns).
    ``bounds``: :class:`Bounds` (default: ramp relief and the peer band 0.5x-2x of the region's
    mean rep quota; ``Bounds(peer_band=None)`` switches the band off). ``by``: the within-rep
    split (``product``/``category``, ``segment``, one of ``quarter``/``month``/``week``).
    ``rounding``: rep quotas and region targets are multiples of this unit but for one remainder
    holder per group (1: whole units).
    ``solver``: ``"highs"`` (default), ``"cbc"`` or a PuLP solver. ``alignment``: account id ->
    rep id (a territory alignment; default: account owners). ``region_split``: ``"targets"`` or
    ``"method"`` (see :mod:`.region_targets`). ``method_options``: constructor options of the method
    (``{"weights": {...}}`` for ``blended``).
    """
    start = time.perf_counter()
    request = QuotaRequest.build(
        scenario, method, over_assign=over_assign, rounding=rounding, solver=solver,
        bounds=bounds, by=by, region_split=region_split, method_options=method_options,
    )
    ctx = quota_context(scenario, samples=samples, alignment=alignment)
    pin_list = as_pins(pins)
    cells = build_cells(ctx, request.dims)
    check_pins(pin_list, scenario, cells.keys, request.dims)
    by_level = pins_by_level(pin_list)
    regions = allocate_regions(ctx, request, by_level["region"])
    reps = allocate_reps(ctx, request, regions, by_level)
    quotas, conflicts = split_reps(cells, reps.quota, ctx.rep_region, by_level["cell"])
    if conflicts:
        raise InfeasibleQuotaError(conflicts)
    rep_frame = rep_table(ctx, request, reps)
    binding_notes(ctx, request, rep_frame)
    summary = plan_summary(ctx, request, regions, reps, rep_frame=rep_frame,
                           n_pins=len(pin_list))
    plan = QuotaPlan(
        method=request.method.name,
        scenario=scenario.name,
        currency=scenario.horizon.currency,
        target=regions.company,
        total_quota=reps.total,
        over_assign=float(over_assign),
        rounding=request.rounding,
        by=request.dims,
        quotas=quotas,
        reps=rep_frame,
        regions=region_table(regions, reps),
        summary=summary,
        notes=ctx.notes,
        pins=pin_list,
        solve={"region": regions.solve, "rep": reps.solve},
    )
    plan.reconcile_report = reconcile(plan)
    summary["reconciled"] = True
    summary["seconds"] = time.perf_counter() - start
    summary["notes"] = list(ctx.notes)
    return plan
