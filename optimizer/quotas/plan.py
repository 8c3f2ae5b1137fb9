"""``allocate_quotas``: the company target to regions, reps and cells, in one call.

The steps (each documented in its module):

1. the method's ideal (:mod:`.methods`), with ramp relief (:mod:`.bounds`);
2. company -> region: region targets from ``targets.by_region`` (``region_split="targets"``) or
   the roll-up of the method's company-wide ideal (``"method"``, the default for ``fair`` and
   when the scenario gives no region shares); region pins fixed, the rest absorbing
   (:mod:`.allocation`), rounded to the unit (:mod:`.rounding`);
3. region -> rep: each region's reps carry ``target x over_assign``; pins, bounds and the
   lexicographic min-max model (:mod:`.allocation`), checked first by :mod:`.diagnosis`;
   rounded to the unit with the exact total;
4. rep -> cells: product (or category) x segment x period (:mod:`.decomposition`);
5. fairness per rep and for the plan (:mod:`.fairness`), then :func:`.reconcile.reconcile`.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salesplan.scenarios.model import Scenario

from .allocation import SolveInfo, make_solver, solve_allocation
from .bounds import Bounds, rep_bounds
from .context import QuotaContext
from .decomposition import build_cells, parse_by, split_reps
from .diagnosis import diagnose
from .errors import InfeasibleQuotaError, PinsError, QuotaError
from .fair import as_samples
from .fairness import attainment, plan_measures
from .methods import QuotaMethod, get_method
from .pins import Pin, parse_pins, pins_by_level, read_pins
from .reconcile import reconcile
from .rounding import apportion, round_group

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


def _check_pins(
    pins: Sequence[Pin], scenario: Scenario, cell_keys: pd.DataFrame, dims: tuple[str, ...]
) -> None:
    problems = []
    regions, reps = set(scenario.region_ids), set(scenario.rep_index)
    valid = {c: set(cell_keys[c]) for c in ("product", "segment", "period")}
    dim_of = {
        "product": ("product", "category"),
        "segment": ("segment",),
        "period": ("quarter", "month", "week"),
    }
    for p in pins:
        if p.level == "region" and p.id not in regions:
            problems.append(f"{p.where()}: unknown region {p.id!r}")
        elif p.level in ("rep", "cell") and p.id not in reps:
            problems.append(f"{p.where()}: unknown rep {p.id!r}")
        if p.level == "cell":
            for col in ("product", "segment", "period"):
                v = getattr(p, col)
                split = any(d in dims for d in dim_of[col])
                if v is not None and not split:
                    problems.append(
                        f"{p.where()}: the plan does not split by {col} "
                        f"(--by {','.join(dims) or 'nothing'})"
                    )
                elif v is None and split:
                    problems.append(f"{p.where()}: names no {col} but the plan splits by it")
                elif v is not None and v not in valid[col]:
                    shown = ", ".join(sorted(valid[col])[:8])
                    problems.append(
                        f"{p.where()}: unknown {col} {v!r} (known: {shown}"
                        f"{' ...' if len(valid[col]) > 8 else ''})"
                    )
    if problems:
        raise PinsError(problems)


def _check_alignment(alignment: Mapping[str, str], scenario: Scenario,
                     ctx: QuotaContext) -> None:
    reps = set(scenario.rep_index)
    accounts = {a.id for a in scenario.accounts}
    bad_reps = sorted({r for r in alignment.values() if r not in reps})
    bad_accounts = sorted(a for a in alignment if a not in accounts)
    if bad_reps or bad_accounts:
        parts = []
        if bad_reps:
            parts.append(f"unknown rep(s) {', '.join(bad_reps[:5])}")
        if bad_accounts:
            parts.append(f"unknown account(s) {', '.join(bad_accounts[:5])}")
        raise QuotaError("the territory alignment names " + " and ".join(parts))
    missing = len(accounts - set(alignment))
    if missing:
        ctx.note(f"alignment: {missing} account(s) not in the alignment count for no rep's "
                 "potential")


def _as_pins(pins: object) -> list[Pin]:
    if pins is None:
        return []
    if isinstance(pins, str | Path):
        return read_pins(pins)
    out = list(pins)  # type: ignore[call-overload]
    if all(isinstance(p, Pin) for p in out):
        return out
    return parse_pins([p if isinstance(p, Mapping) else asdict(p) for p in out])


def allocate_quotas(
    scenario: Scenario,
    method: str | QuotaMethod = "potential",
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
    """Allocate ``scenario.targets.company`` by ``method`` and return a reconciled plan.

    ``samples``: simulated horizon bookings per rep (see :func:`.fair.as_samples`); required by
    ``fair``, optional otherwise (without them the attainment columns are NaN/None).
    ``over_assign``: rep quotas sum to this times the target (e.g. 1.1), in every region.
    ``pins``: a pins CSV path or a list of :class:`Pin` (or mappings with the CSV columns).
    ``bounds``: :class:`Bounds`. ``by``: the within-rep split (``product``/``category``,
    ``segment``, one of ``quarter``/``month``/``week``). ``rounding``: rep quotas and region
    targets are multiples of this unit but for one remainder holder per group (1: whole units).
    ``solver``: ``"highs"`` (default), ``"cbc"`` or a PuLP solver. ``alignment``: account id ->
    rep id (a territory alignment; default: account owners). ``region_split``: ``"targets"`` or
    ``"method"`` (see :mod:`.plan`). ``method_options``: constructor options of the method
    (``{"weights": {...}}`` for ``blended``).
    """
    start = time.perf_counter()
    if scenario.targets is None:
        raise QuotaError(
            f"scenario {scenario.name!r} has no targets: add a targets section "
            "with the company target"
        )
    if not (
        isinstance(over_assign, int | float) and math.isfinite(over_assign) and over_assign > 0
    ):
        raise QuotaError(f"over-assignment must be a number > 0 (1.1 = 110%), got {over_assign}")
    if not (isinstance(rounding, int | np.integer) and rounding >= 1):
        raise QuotaError(f"rounding must be a whole number >= 1 (e.g. 1000), got {rounding}")
    rounding = int(rounding)
    solver = make_solver(solver)
    bounds = bounds or Bounds()
    dims = parse_by(by)
    m = get_method(method, **dict(method_options or {}))
    ctx = QuotaContext(scenario, alignment=alignment)
    rep_ids = ctx.rep_ids
    if samples is not None:
        ctx.samples = as_samples(samples, rep_ids)
        extra = getattr(samples, "columns", None)
        if extra is not None and "rep" not in set(map(str, extra)):
            unused = sorted(set(map(str, extra)) - set(rep_ids))
            if unused:
                more = " ..." if len(unused) > 5 else ""
                ctx.note(f"samples: {len(unused)} column(s) that are not reps of the scenario "
                         f"were ignored ({', '.join(unused[:5])}{more})")
    if alignment is not None:
        _check_alignment(alignment, scenario, ctx)
    pin_list = _as_pins(pins)
    cells = build_cells(ctx, dims)
    _check_pins(pin_list, scenario, cells.keys, dims)
    lv = pins_by_level(pin_list)
    ideal_fn = m.relieved if bounds.ramp_relief else m.ideal

    # ---- company -> region ----
    target_total = round(scenario.targets.company)
    if target_total != scenario.targets.company:
        ctx.note(f"company target {scenario.targets.company:,.2f} rounded to {target_total:,}")
    regions = scenario.region_ids
    by_region = scenario.targets.by_region
    split = region_split or m.region_split
    if split not in ("targets", "method"):
        raise QuotaError(f"region_split must be 'targets' or 'method', got {split!r}")
    if split == "targets" and not by_region:
        if region_split == "targets":
            raise QuotaError("region_split='targets' needs targets.by_region in the scenario")
        split = "method"
    region_of = ctx.rep_region
    n_reps = region_of.value_counts().reindex(regions, fill_value=0)
    if split == "targets":
        ideal_g = pd.Series({g: target_total * by_region.get(g, 0.0) for g in regions})  # type: ignore[union-attr]
    else:
        # the roll-up of the reps' ideal at the over-assigned total, per unit of over-assignment
        # (the same for proportional methods; for fair the quantile level depends on the total)
        ideal_all = ideal_fn(ctx, rep_ids, float(over_assign * target_total)) / over_assign
        ideal_g = ideal_all.groupby(region_of).sum().reindex(regions, fill_value=0.0)
    ctx.note(f"region targets from {'targets.by_region' if split == 'targets' else m.name}")
    gb = pd.DataFrame(
        {
            "lo": 0.0,
            "lo_kind": "",
            "lo_label": "",
            "hi": np.where(n_reps > 0, np.inf, 0.0),
            "hi_kind": np.where(n_reps > 0, "", "no_reps"),
            "hi_label": np.where(n_reps > 0, "", "no reps in the region"),
        },
        index=regions,
    )
    fixed_g = pd.Series(np.nan, index=regions)
    where_g = {g: f"region {g}" for g in regions}
    for p in lv["region"]:
        fixed_g[p.id] = p.value
        where_g[p.id] = p.where()
    company = pd.Series("company", index=regions)
    conflicts = diagnose(
        regions,
        company,
        {"company": float(target_total)},
        {"company": f"company target {target_total:,}"},
        gb,
        fixed_g,
        where_g,
        "region",
    )
    if conflicts:
        raise InfeasibleQuotaError(conflicts)
    xg, info_g = solve_allocation(
        ideal_g, company, {"company": float(target_total)}, gb, fixed_g, solver, "region"
    )
    region_target, _, conflicts = round_group(
        xg, target_total, rounding, gb["lo"], gb["hi"], fixed_g, "region targets"
    )
    if conflicts:
        raise InfeasibleQuotaError(conflicts)

    # ---- region -> rep ----
    quota_total = round(over_assign * target_total)
    rep_total = pd.Series(
        apportion(over_assign * region_target.to_numpy(dtype=float), quota_total), index=regions
    )
    ideal_r = pd.Series(0.0, index=rep_ids)
    for g in regions:
        members = region_of.index[region_of == g].tolist()
        if members:
            ideal_r[members] = ideal_fn(ctx, members, float(rep_total[g])).to_numpy()
    cell_pin_sums: dict[str, float] = {}
    for p in lv["cell"]:
        cell_pin_sums[p.id] = cell_pin_sums.get(p.id, 0.0) + p.value
    b = rep_bounds(ctx, bounds, ideal_r, cell_pin_sums, frozenset(p.id for p in lv["rep"]))
    fixed_r = pd.Series(np.nan, index=rep_ids)
    where_r = {r: f"rep {r}" for r in rep_ids}
    for p in lv["rep"]:
        fixed_r[p.id] = p.value
        where_r[p.id] = p.where()
    gtext = {
        g: (
            f"region {g} (rep total {rep_total[g]:,} = target {region_target[g]:,} "
            f"x over-assignment {over_assign:g})"
        )
        for g in regions
    }
    conflicts = diagnose(
        rep_ids,
        region_of,
        {g: float(rep_total[g]) for g in regions},
        gtext,
        b,
        fixed_r,
        where_r,
        "rep",
    )
    if conflicts:
        raise InfeasibleQuotaError(conflicts)
    x, info_r = solve_allocation(
        ideal_r, region_of, {g: float(rep_total[g]) for g in regions}, b, fixed_r, solver, "rep"
    )
    quota = pd.Series(0, index=rep_ids, dtype=np.int64)
    holders: dict[str, str | None] = {}
    for g in regions:
        members = region_of.index[region_of == g].tolist()
        if not members:
            continue
        qg, holders[g], confl = round_group(
            x[members],
            int(rep_total[g]),
            rounding,
            b["lo"][members],
            b["hi"][members],
            fixed_r[members],
            f"region {g}",
        )
        conflicts += confl
        quota[members] = qg.to_numpy()
    if conflicts:
        raise InfeasibleQuotaError(conflicts)

    # ---- rep -> cells ----
    quotas, conflicts = split_reps(cells, quota, region_of, lv["cell"])
    if conflicts:
        raise InfeasibleQuotaError(conflicts)

    # ---- fairness and explanation ----
    reps = _rep_frame(
        ctx, m, quota, ideal_r, b, fixed_r, where_r, rep_total, rounding, holders, bounds
    )
    region_frame = pd.DataFrame(
        {
            "ideal_target": ideal_g,
            "target": region_target,
            "rep_total": rep_total,
            "pinned": fixed_g.notna(),
            "reps": n_reps,
        },
        index=pd.Index(regions, name="region"),
    )
    summary: dict[str, Any] = {
        "method": m.name,
        "method_label": m.describe(),
        "scenario": scenario.name,
        "currency": scenario.horizon.currency,
        "target": target_total,
        "total_quota": quota_total,
        "over_assign": over_assign,
        "rounding": rounding,
        "by": list(dims),
        "region_split": split,
        "reps": len(rep_ids),
        "regions": len(regions),
        "pins": len(pin_list),
    }
    summary.update(plan_measures(reps, quota.astype(float), ctx.samples))
    summary["worst_deviation"] = info_r.worst_deviation
    summary["total_deviation"] = info_r.total_deviation
    summary["solve"] = {"region": asdict(info_g), "rep": asdict(info_r)}
    plan = QuotaPlan(
        method=m.name,
        scenario=scenario.name,
        currency=scenario.horizon.currency,
        target=target_total,
        total_quota=quota_total,
        over_assign=float(over_assign),
        rounding=rounding,
        by=dims,
        quotas=quotas,
        reps=reps,
        regions=region_frame,
        summary=summary,
        notes=ctx.notes,
        pins=pin_list,
        solve={"region": info_g, "rep": info_r},
    )
    plan.reconcile_report = reconcile(plan)
    summary["reconciled"] = True
    summary["seconds"] = time.perf_counter() - start
    summary["notes"] = list(ctx.notes)
    return plan


def _rep_frame(
    ctx: QuotaContext,
    m: QuotaMethod,
    quota: pd.Series,
    ideal: pd.Series,
    b: pd.DataFrame,
    fixed: pd.Series,
    where: dict[str, str],
    rep_total: pd.Series,
    unit: int,
    holders: dict[str, str | None],
    bounds: Bounds,
) -> pd.DataFrame:
    rep_ids = ctx.rep_ids
    region = ctx.rep_region.reindex(rep_ids)
    pot = ctx.potential.reindex(rep_ids)
    qf = quota.astype(float)
    att = attainment(qf, ctx.samples)
    last = ctx.last_quota.reindex(rep_ids)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(pot > 0, qf / pot.where(pot > 0, 1.0), np.nan)
        change = np.where(last > 0, qf / last.where(last > 0, 1.0) - 1.0, np.nan)
    ramp = ctx.ramp_factor.reindex(rep_ids)
    binding, why = [], []
    tol = max(unit, 1)
    bd = b.to_dict(orient="index")
    qd, idd, regd = quota.to_dict(), ideal.to_dict(), region.to_dict()
    rampd, fixd = ramp.to_dict(), fixed.to_dict()
    for r in rep_ids:
        q, ide, lo, hi = float(qd[r]), float(idd[r]), float(bd[r]["lo"]), float(bd[r]["hi"])
        g = regd[r]
        parts = [f"{m.describe()}: ideal {ide:,.0f} of region {g}'s rep total {rep_total[g]:,}"]
        if bounds.ramp_relief and rampd[r] < 1 and not m.accounts_for_ramp:
            parts.append(f"ramp relief x{rampd[r]:.2f}")
        if pd.notna(fixd[r]):
            kind = "pin"
            parts = [f"pinned by the planner ({where[r]})"]
        elif lo > 0 and ide < lo - 0.5 and q <= lo + tol:
            kind = str(bd[r]["lo_kind"])
            parts.append(f"raised to its {bd[r]['lo_label']}")
        elif math.isfinite(hi) and ide > hi + 0.5 and q >= hi - tol:
            kind = str(bd[r]["hi_kind"])
            parts.append(f"held to its {bd[r]['hi_label']}")
        elif abs(q - ide) >= tol:
            kind = "absorbs"
            parts.append(f"moved {q - ide:+,.0f} to absorb other pins or bounds in {g}")
        elif bounds.ramp_relief and rampd[r] < 1:
            kind = "ramp_relief"
        else:
            kind = "ideal"
        if kind != "pin" and unit > 1:
            parts.append(f"rounded to {unit:,}")
        if holders.get(g) == r:
            parts.append(f"carries {g}'s rounding remainder {int(q % unit):,}")
        binding.append(kind)
        why.append("; ".join(parts))
    total_pot = float(pot.sum())
    frame = pd.DataFrame(
        {
            "region": region,
            "method": m.name,
            "quota": quota.astype(np.int64),
            "ideal": ideal.round(2),
            "last_quota": last,
            "change_vs_last": change,
            "potential": pot,
            "potential_share": pot / total_pot if total_pot > 0 else np.nan,
            "quota_share": qf / qf.sum() if qf.sum() > 0 else np.nan,
            "quota_potential": rho,
            "ramp_factor": ramp,
            "capacity_factor": ctx.capacity_factor.reindex(rep_ids),
            "expected_bookings": att["expected_bookings"],
            "expected_attainment": att["expected_attainment"],
            "p_attain": att["p_attain"],
            "p_attain_se": att["p_attain_se"],
            "binding": binding,
            "why": why,
            "lower_bound": b["lo"].reindex(rep_ids),
            "upper_bound": b["hi"].reindex(rep_ids),
            "pinned": fixed.notna(),
        },
        index=pd.Index(rep_ids, name="rep"),
    )
    return frame
