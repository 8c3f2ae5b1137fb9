"""The allocation model: ideal quotas in, the closest plan that meets every constraint out.

For items ``i`` (reps, or regions) in groups ``g`` (regions, or the company) with group totals
``R_g``, ideal values ``I_i`` (summing to ``R_g`` in each group), bounds ``L_i <= U_i`` and pins
``F_i`` (pinned items are constants, not variables)::

    weights   w_i = 1 / max(I_i, 0.01 x mean ideal of the group)   (deviation as a share of ideal)
    aims      A_i = min(max(I_i, L_i), U_i)     (the ideal clipped to the item's own bounds)

    stage 1   min  sum_g t_g
              s.t. Q_i - A_i = d+_i - d-_i                 dev_{i}          for free i
                   w_i (d+_i + d-_i) <= t_g(i)             worst_{i}        for free i
                   sum_{i in g} Q_i = R_g - sum_{pinned i in g} F_i
                                                           total_{g}        for every group g
                   Q_i >= L_i                              {kind of L}_{i}  (floor, min_change, ...)
                   Q_i <= U_i                              {kind of U}_{i}  (cap, max_change, ...)
                   Q_i, d+_i, d-_i, t_g >= 0

    stage 2   min  sum_i (d+_i + d-_i)                     (total deviation, currency)
              s.t. the same, and t_g <= t*_g (1 + 1e-7) + 1e-9
                                                           worst_case_fixed_{g}

Stage 1 makes the largest relative deviation from the ideal as small as possible in every group
(the groups share no constraint, so minimising the sum of the ``t_g`` minimises each one and the
overall worst case; a single company-wide ``t`` would let a group whose worst case is below it
push its whole adjustment onto one rep); stage 2 keeps those worst cases and spreads the rest with
the smallest total deviation (lexicographic).
Deviations are measured from the ideal clipped to the item's own bounds: for ``Q_i`` inside
``[L_i, U_i]``, ``|Q_i - I_i| = |Q_i - A_i| + dist(I_i, [L_i, U_i])``, so the total deviation is the
same up to a constant, and the part a rep's own floor or cap forces (a new hire raised 40x to a
floor) does not set the worst case and let the rest of the group absorb unevenly. Without
binding bounds or pins the answer is the ideal itself (t* = 0). A pin or a bound moves the rest of
its group proportionally to their ideals (equal relative deviations), which is how "the rest
absorbs" is made precise. The model is a linear programme; the solver is injected (HiGHS by
default, CBC selectable) and its status is read from ``prob.sol_status``.

One level of the cascade (the regions of the company, or the reps of every region) is an
:class:`AllocationLevel`: the items, their groups and totals, bounds and pins, and the words
a conflict message names them with; :func:`.diagnosis.diagnose` checks it and
:func:`solve_allocation` solves it.
"""

from __future__ import annotations

import re
import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pulp

from .errors import Conflict, InfeasibleQuotaError, QuotaError

__all__ = ["AllocationLevel", "SolveInfo", "make_solver", "solve_allocation"]

_SOLVERS = {"highs": "HiGHS", "cbc": "PULP_CBC_CMD"}


def make_solver(solver: object = None) -> pulp.LpSolver:
    """``None``/``"highs"``: HiGHS through highspy; ``"cbc"``: CBC; or a PuLP solver as is."""
    if isinstance(solver, pulp.LpSolver):
        return solver
    name = "highs" if solver is None else str(solver).lower()
    if name not in _SOLVERS:
        raise QuotaError(f"unknown solver {solver!r}; choose one of {', '.join(_SOLVERS)}")
    if _SOLVERS[name] not in pulp.listSolvers(onlyAvailable=True):
        raise QuotaError(f"solver {name} is not available on this machine")
    with warnings.catch_warnings():
        # PuLP 3.3 announces that its bundled CBC moves to an extra in 4.0; still the CBC we use
        warnings.simplefilter("ignore", DeprecationWarning)
        return pulp.getSolver(_SOLVERS[name], msg=False)


@dataclass(frozen=True)
class SolveInfo:
    """How one allocation was solved: ``status`` ``"optimal"`` or ``"direct"`` (no model needed:
    the ideal already met every constraint, so ``t* = 0``); ``worst_deviation`` the stage-1
    objective (largest relative deviation beyond what each item's own bounds force);
    ``total_deviation`` the sum of ``|Q_i - I_i|`` over free items (currency, before rounding);
    the solver name, wall seconds, and model size."""

    status: str
    worst_deviation: float
    total_deviation: float
    solver: str
    seconds: float
    variables: int = 0
    constraints: int = 0


_BAD = re.compile(r"[^A-Za-z0-9_]")


def _tokens(ids: list[str]) -> dict[str, str]:
    """Ids made safe and unique for constraint names (PuLP rewrites ``-``, spaces, ...)."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for i, x in enumerate(ids):
        t = _BAD.sub("_", str(x))
        if t in used:
            t = f"{t}__{i}"
        used.add(t)
        out[x] = t
    return out


def _status(prob: pulp.LpProblem) -> int:
    return int(getattr(prob, "sol_status", prob.status))


@dataclass(frozen=True)
class AllocationLevel:
    """One level of the cascade, as the model above sees it: items (regions, or reps) in groups
    (the company, or regions), each group with a total to share.

    ``level`` (``"region"`` or ``"rep"``) names the model, its constraints and the items in
    messages. ``ideal``: item -> ideal value (currency; its index is the item order).
    ``group``: item -> group id. ``totals``: group -> total to allocate (currency).
    ``group_text``: group -> how a conflict message names the group's total. ``bounds``: per
    item ``lo``, ``lo_kind``, ``lo_label``, ``hi``, ``hi_kind``, ``hi_label`` (currency; ``lo``
    0 and ``hi`` inf when no bound applies). ``fixed``: item -> pinned value (NaN: free).
    ``pin_where``: item -> how a message names the pin on it.
    """

    level: str
    ideal: pd.Series
    group: pd.Series
    totals: dict[str, float]
    group_text: dict[str, str]
    bounds: pd.DataFrame
    fixed: pd.Series
    pin_where: dict[str, str]

    @property
    def items(self) -> list[str]:
        """The item ids, in order."""
        return list(self.ideal.index)


def _ideal_if_feasible(level: AllocationLevel, free: list[str], lo: pd.Series,
                       hi: pd.Series) -> pd.Series | None:
    """The ideal with pins substituted when it already meets every constraint (then it is the
    optimum, ``t* = 0``), else None."""
    fixed, group, totals = level.fixed, level.group, level.totals
    values = level.ideal.astype(float).copy()
    values[fixed.notna()] = fixed[fixed.notna()]
    sums_ok = all(abs(values[group == g].sum() - totals[g]) <= 1e-6 * max(1.0, abs(totals[g]))
                  for g in totals)
    free_ok = ((values[free] >= lo[free] - 1e-9) & (values[free] <= hi[free] + 1e-9)).all()
    return values if sums_ok and free_ok else None


_HOLD_SLACK = (1e-6, 1e-4)
"""Relative (and absolute) slack on each group's stage-1 worst case in stage 2, tried in turn."""


@dataclass
class _Model:
    """The stage-1 model and its variables, keyed by item (``q``, ``over``, ``under``) and by
    group (``worst``); ``group_tokens`` are the groups' names in constraint names."""

    prob: pulp.LpProblem
    q: dict[str, pulp.LpVariable]
    over: dict[str, pulp.LpVariable]
    under: dict[str, pulp.LpVariable]
    worst: dict[str, pulp.LpVariable]
    group_tokens: dict[str, str]


def _build_model(level: AllocationLevel, free: list[str], lo: pd.Series,
                 hi: pd.Series) -> _Model:
    """Stage 1 of the model in the module docstring: variables, rows and objective."""
    ideal, group, bounds, totals = level.ideal, level.group, level.bounds, level.totals
    tok = _tokens(level.items)
    grp = group.reindex(level.items).to_dict()
    ide = ideal.astype(float).to_dict()
    lod, hid = lo.to_dict(), hi.to_dict()
    lo_kind, hi_kind = bounds["lo_kind"].to_dict(), bounds["hi_kind"].to_dict()
    mean_ideal = ideal.groupby(group).mean().to_dict()
    prob = pulp.LpProblem(f"quota_allocation_{level.level}", pulp.LpMinimize)
    q = {i: prob.add_variable(f"quota_{tok[i]}", lowBound=0) for i in free}
    dp = {i: prob.add_variable(f"over_{tok[i]}", lowBound=0) for i in free}
    dm = {i: prob.add_variable(f"under_{tok[i]}", lowBound=0) for i in free}
    gtok = _tokens(list(totals))
    t = {g: prob.add_variable(f"worst_deviation_{gtok[g]}", lowBound=0) for g in totals}
    members: dict[str, list[str]] = {g: [] for g in totals}
    for i in free:
        members[grp[i]].append(i)
        w = 1.0 / max(ide[i], 0.01 * mean_ideal[grp[i]], 1e-9)
        aim = min(max(ide[i], lod[i]), hid[i])
        prob += (q[i] - dp[i] + dm[i] == aim, f"dev_{tok[i]}")
        prob += (w * dp[i] + w * dm[i] - t[grp[i]] <= 0, f"worst_{tok[i]}")
        if lod[i] > 0:
            prob += (q[i] >= lod[i], f"{lo_kind.get(i) or 'lower'}_{tok[i]}")
        if np.isfinite(hid[i]):
            prob += (q[i] <= hid[i], f"{hi_kind.get(i) or 'upper'}_{tok[i]}")
    fixed = level.fixed
    pinned_sum = fixed[fixed.notna()].groupby(group).sum().to_dict()
    for g, total in totals.items():
        if not members[g]:
            continue
        prob += (pulp.lpSum(q[i] for i in members[g]) == float(total) - pinned_sum.get(g, 0.0),
                 f"total_{gtok[g]}")
    prob += pulp.lpSum(t.values())
    return _Model(prob, q, dp, dm, t, gtok)


def _solve_lexicographic(model: _Model, free: list[str], slv: pulp.LpSolver,
                         level: str) -> dict[str, float]:
    """Stage 1, then stage 2 with each group's worst case held; returns the stage-1 worst case
    per group. Raises when either stage is not optimal."""
    prob, t = model.prob, model.worst
    prob.solve(slv)
    if _status(prob) != 1:
        raise InfeasibleQuotaError([Conflict(
            f"{level} allocation",
            f"the solver reports the model {pulp.LpStatus.get(prob.status, prob.status)} "
            "(pins and bounds together admit no plan)")])
    worst = {g: float(v.varValue or 0.0) for g, v in t.items()}
    prob.setObjective(pulp.lpSum(model.over[i] + model.under[i] for i in free))
    # The worst case is a relative deviation; hold it with a slack above the solver's
    # feasibility tolerance (1e-7), or a stage-1 optimum at that tolerance (a worst case of
    # 1e-8, say) can read as infeasible in stage 2. A wider slack is tried before giving up.
    for slack in _HOLD_SLACK:
        held = []
        for g, v in t.items():
            name = f"worst_case_fixed_{model.group_tokens[g]}"
            prob += (v <= worst[g] * (1 + slack) + slack, name)
            held.append(name)
        prob.solve(slv)
        if _status(prob) == 1:
            return worst
        for name in held:
            del prob.constraints[name]
    raise QuotaError(f"{level} allocation: the second (total deviation) solve ended with "
                     f"status {pulp.LpStatus.get(prob.status, prob.status)}")


def solve_allocation(level: AllocationLevel,
                     solver: object = None) -> tuple[pd.Series, SolveInfo]:
    """Solve the model above for one level; ``solver`` as :func:`make_solver` takes it.
    Returns the (unrounded) values, pinned items at their pins, and the solve info.

    Call :func:`salesplan.optimizer.quotas.diagnosis.diagnose` first: it names the pin or bound that
    cannot hold; an infeasible model here is reported as a whole.
    """
    items, fixed = level.items, level.fixed
    free = [i for i in items if pd.isna(fixed[i])]
    lo = level.bounds["lo"].reindex(items).fillna(0.0)
    hi = level.bounds["hi"].reindex(items).fillna(np.inf)
    start = time.perf_counter()
    direct = _ideal_if_feasible(level, free, lo, hi)
    if direct is not None:
        return direct, SolveInfo("direct", 0.0, 0.0, "none", time.perf_counter() - start)
    values = level.ideal.astype(float).copy()
    values[fixed.notna()] = fixed[fixed.notna()]
    model = _build_model(level, free, lo, hi)
    slv = make_solver(solver)
    worst = _solve_lexicographic(model, free, slv, level.level)
    for i in free:
        values[i] = float(model.q[i].varValue or 0.0)
    total_dev = float((values[free] - level.ideal[free]).abs().sum())
    info = SolveInfo("optimal", max(worst.values(), default=0.0), total_dev,
                     slv.name, time.perf_counter() - start,
                     model.prob.numVariables(), model.prob.numConstraints())
    return values, info
