"""``reconcile(plan)``: prove that a quota plan conserves its totals at every level.

Run on every plan :func:`~salesplan.optimizer.quotas.plan.allocate_quotas` returns (it raises
:class:`ReconcileError` on any failure), and callable on a plan someone has edited. The report is
a frame with one row per check: ``level``, ``id``, ``expected``, ``actual``, ``difference``,
``ok``. Levels:

=================  ===========================================================================
company            sum of region targets = company target
total_quota        total quota = round(target x over-assignment); sum of region rep totals = it
over_assign        each region's rep total is its target x over-assignment (within 1 unit)
region             sum of the region's rep quotas = the region's rep total
rep                sum of the rep's cells = the rep's quota
cells              sum of every cell = total quota; every cell a whole, non-negative amount
rounding           at most one free rep per region (one region) off the rounding unit
pin                every pin holds exactly (region target, rep quota, cell)
bound              every free rep within its bounds (floor, cap, change, ramp relief)
=================  ===========================================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .errors import ReconcileError

if TYPE_CHECKING:
    from .plan import QuotaPlan

__all__ = ["reconcile"]

_COLS = ["level", "id", "expected", "actual", "difference", "ok"]


def _rows(level: str, ids: list, expected: np.ndarray, actual: np.ndarray,
          ok: np.ndarray | None = None) -> pd.DataFrame:
    expected = np.asarray(expected, dtype=float)
    actual = np.asarray(actual, dtype=float)
    diff = actual - expected
    if ok is None:
        ok = diff == 0
    return pd.DataFrame({"level": level, "id": [str(i) for i in ids], "expected": expected,
                         "actual": actual, "difference": diff, "ok": np.asarray(ok, dtype=bool)})


def _total_rows(plan: QuotaPlan) -> list[pd.DataFrame]:
    """company, total_quota, over_assign, region, rep and cells: every level adds up."""
    parts = []
    reg, reps, cells = plan.regions, plan.reps, plan.quotas
    parts.append(_rows("company", ["company"], [plan.target], [reg["target"].sum()]))
    over_total = round(plan.over_assign * plan.target)
    parts.append(_rows("total_quota", ["target x over-assignment", "sum of region rep totals"],
                       [over_total, plan.total_quota],
                       [plan.total_quota, reg["rep_total"].sum()]))
    want = reg["target"].to_numpy(dtype=float) * plan.over_assign
    got = reg["rep_total"].to_numpy(dtype=float)
    parts.append(_rows("over_assign", list(reg.index), want, got, np.abs(got - want) < 1.0))
    by_region = reps.groupby("region")["quota"].sum().reindex(reg.index, fill_value=0)
    parts.append(_rows("region", list(reg.index), reg["rep_total"].to_numpy(),
                       by_region.to_numpy()))
    by_rep = cells.groupby("rep")["quota"].sum().reindex(reps.index, fill_value=0)
    parts.append(_rows("rep", list(reps.index), reps["quota"].to_numpy(), by_rep.to_numpy()))
    q = cells["quota"].to_numpy()
    whole = bool(np.all(q >= 0) and np.all(np.asarray(q, dtype=float) % 1 == 0))
    parts.append(_rows("cells", ["sum of cells", "whole non-negative amounts"],
                       [plan.total_quota, 1], [q.sum(), 1 if whole else 0]))
    return parts


def _rounding_rows(plan: QuotaPlan) -> list[pd.DataFrame]:
    """rounding: at most one free rep per region, and one region, off the unit grid."""
    unit, reg, reps = plan.rounding, plan.regions, plan.reps
    if unit <= 1:
        return []
    free = reps[~reps["pinned"]]
    off = (free["quota"] % unit != 0).groupby(free["region"]).sum()
    off = off.reindex(reg.index, fill_value=0)
    free_reg = reg[~reg["pinned"]]
    n_off = int((free_reg["target"] % unit != 0).sum())
    return [_rows("rounding", [f"reps of {g}" for g in reg.index],
                  np.ones(len(off)), off.to_numpy(), off.to_numpy() <= 1),
            _rows("rounding", ["region targets"], [1], [n_off], [n_off <= 1])]


def _pin_rows(plan: QuotaPlan) -> list[pd.DataFrame]:
    """pin: every pin holds exactly."""
    cells = plan.quotas
    cell_value: dict[tuple, float] = {}
    if any(p.level == "cell" for p in plan.pins):
        wanted = {p.id for p in plan.pins if p.level == "cell"}
        sub = cells[cells["rep"].isin(wanted)]
        cell_value = sub.groupby(["rep", "product", "segment", "period"])["quota"].sum().to_dict()
    parts = []
    for p in plan.pins:
        if p.level == "region":
            actual = plan.regions.at[p.id, "target"]
        elif p.level == "rep":
            actual = plan.reps.at[p.id, "quota"]
        else:
            key = (p.id, p.product or "all", p.segment or "all", p.period or "all")
            actual = cell_value.get(key, float("nan"))
        parts.append(_rows("pin", [p.where()], [p.value], [actual]))
    return parts


def _bound_rows(plan: QuotaPlan) -> list[pd.DataFrame]:
    """bound: every free rep within its bounds."""
    free = plan.reps[~plan.reps["pinned"]]
    lo = free["lower_bound"].to_numpy(dtype=float)
    hi = free["upper_bound"].to_numpy(dtype=float)
    fq = free["quota"].to_numpy(dtype=float)
    bad_lo = fq < lo - 1e-6
    bad_hi = fq > hi + 1e-6
    return [_rows("bound", [f"{r} lower" for r in free.index], lo, fq, ~bad_lo),
            _rows("bound", [f"{r} upper" for r in free.index],
                  np.where(np.isfinite(hi), hi, np.nan), fq, ~bad_hi)]


def reconcile(plan: QuotaPlan, raise_on_error: bool = True) -> pd.DataFrame:
    """Every conservation check of ``plan`` (see the module docstring), one row per check;
    raises :class:`ReconcileError` on any failure unless ``raise_on_error`` is False."""
    parts = _total_rows(plan) + _rounding_rows(plan) + _pin_rows(plan) + _bound_rows(plan)
    report = pd.concat(parts, ignore_index=True)[_COLS]
    if raise_on_error and not report["ok"].all():
        fails = report[~report["ok"]]
        raise ReconcileError([f"{r.level} {r.id}: expected {r.expected:,.2f}, got "
                              f"{r.actual:,.2f}" for r in fails.itertuples()], report)
    return report
