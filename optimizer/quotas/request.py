"""The inputs of one allocation, validated once at the edge of :func:`.plan.allocate_quotas`.

:class:`QuotaRequest` holds the options (method, over-assignment, rounding unit, solver, bounds,
split dimensions, region split) as checked objects; :func:`quota_context` builds the
:class:`~.context.QuotaContext` the methods read, with the simulated bookings and the territory
alignment checked against the scenario. Every problem is a :class:`~.errors.QuotaError` in a
planner's words; the checks run in a fixed order, so the first problem reported is always the
same one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pulp

from salesplan.scenarios.model import Scenario

from .allocation import make_solver
from .bounds import Bounds
from .context import QuotaContext
from .decomposition import parse_by
from .errors import QuotaError
from .fair import as_samples
from .methods import QuotaMethod, get_method

__all__ = ["QuotaRequest", "quota_context"]


@dataclass(frozen=True)
class QuotaRequest:
    """The checked options of one allocation.

    ``method``: the quota method. ``over_assign``: rep quotas sum to this times the target in
    every region (> 0, as given: 1.1 = 110%). ``rounding``: the rounding unit (whole currency
    units, >= 1). ``solver``: the PuLP solver of the allocation model. ``bounds``: the bounds on
    rep quotas. ``dims``: the within-rep split dimensions (see :func:`.decomposition.parse_by`).
    ``region_split``: ``"targets"``, ``"method"`` or None (the method's default), as asked.
    """

    method: QuotaMethod
    over_assign: float
    rounding: int
    solver: pulp.LpSolver
    bounds: Bounds
    dims: tuple[str, ...]
    region_split: str | None = None

    @classmethod
    def build(
        cls,
        scenario: Scenario,
        method: str | QuotaMethod,
        *,
        over_assign: float = 1.0,
        rounding: int = 1000,
        solver: object = None,
        bounds: Bounds | None = None,
        by: Sequence[str] | str | None = ("product", "segment", "month"),
        region_split: str | None = None,
        method_options: Mapping[str, Any] | None = None,
    ) -> QuotaRequest:
        """Check the options (the arguments of :func:`.plan.allocate_quotas` of the same
        names) and the scenario's targets; raise :class:`QuotaError` on the first problem."""
        if scenario.targets is None:
            raise QuotaError(
                f"scenario {scenario.name!r} has no targets: add a targets section "
                "with the company target"
            )
        if not (
            isinstance(over_assign, int | float) and math.isfinite(over_assign)
            and over_assign > 0
        ):
            raise QuotaError(
                f"over-assignment must be a number > 0 (1.1 = 110%), got {over_assign}"
            )
        if not (isinstance(rounding, int | np.integer) and rounding >= 1):
            raise QuotaError(f"rounding must be a whole number >= 1 (e.g. 1000), got {rounding}")
        lp_solver = make_solver(solver)
        bounds = bounds or Bounds()
        dims = parse_by(by)
        m = get_method(method, **dict(method_options or {}))
        return cls(m, over_assign, int(rounding), lp_solver, bounds, dims, region_split)

    def ideal(self, ctx: QuotaContext, reps: Sequence[str], total: float) -> pd.Series:
        """The method's ideal quotas for ``reps`` summing to ``total`` (currency), with ramp
        relief when the bounds ask for it (:meth:`QuotaMethod.relieved`)."""
        if self.bounds.ramp_relief:
            return self.method.relieved(ctx, reps, total)
        return self.method.ideal(ctx, reps, total)


def _note_unused_samples(ctx: QuotaContext, samples: object) -> None:
    """Note the columns of a wide samples frame that are not reps of the scenario."""
    extra = getattr(samples, "columns", None)
    if extra is not None and "rep" not in set(map(str, extra)):
        unused = sorted(set(map(str, extra)) - set(ctx.rep_ids))
        if unused:
            more = " ..." if len(unused) > 5 else ""
            ctx.note(f"samples: {len(unused)} column(s) that are not reps of the scenario "
                     f"were ignored ({', '.join(unused[:5])}{more})")


def _check_alignment(ctx: QuotaContext, alignment: Mapping[str, str]) -> None:
    """Raise when the alignment names unknown reps or accounts; note the accounts it leaves
    out (they count for no rep's potential)."""
    scenario = ctx.scenario
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


def quota_context(scenario: Scenario, *, samples: object = None,
                  alignment: Mapping[str, str] | None = None) -> QuotaContext:
    """The :class:`QuotaContext` of one allocation: ``samples`` (simulated horizon bookings,
    any form :func:`.fair.as_samples` takes) checked against the scenario's reps, and
    ``alignment`` (account id -> rep id) against its reps and accounts."""
    ctx = QuotaContext(scenario, alignment=alignment)
    if samples is not None:
        ctx.samples = as_samples(samples, ctx.rep_ids)
        _note_unused_samples(ctx, samples)
    if alignment is not None:
        _check_alignment(ctx, alignment)
    return ctx
