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

__all__ = ["SolveInfo", "make_solver", "solve_allocation"]

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


def solve_allocation(ideal: pd.Series, group: pd.Series, totals: dict[str, float],
                     bounds: pd.DataFrame, fixed: pd.Series, solver: object = None,
                     level: str = "rep") -> tuple[pd.Series, SolveInfo]:
    """Solve the model above; ``bounds`` has ``lo``, ``lo_kind``, ``hi``, ``hi_kind`` per item,
    ``fixed`` the pinned values (NaN: free). Returns the (unrounded) values and the solve info.

    Call :func:`salesplan.optimizer.quotas.diagnosis.diagnose` first: it names the pin or bound that
    cannot hold; an infeasible model here is reported as a whole.
    """
    items = list(ideal.index)
    free = [i for i in items if pd.isna(fixed[i])]
    lo = bounds["lo"].reindex(items).fillna(0.0)
    hi = bounds["hi"].reindex(items).fillna(np.inf)
    start = time.perf_counter()
    values = ideal.astype(float).copy()
    values[fixed.notna()] = fixed[fixed.notna()]
    # the ideal itself is the optimum (t* = 0) when it meets every constraint
    sums_ok = all(abs(values[group == g].sum() - totals[g]) <= 1e-6 * max(1.0, abs(totals[g]))
                  for g in totals)
    free_ok = ((values[free] >= lo[free] - 1e-9) & (values[free] <= hi[free] + 1e-9)).all()
    if sums_ok and free_ok:
        return values, SolveInfo("direct", 0.0, 0.0, "none", time.perf_counter() - start)

    tok = _tokens(items)
    grp = group.reindex(items).to_dict()
    ide = ideal.astype(float).to_dict()
    lod, hid = lo.to_dict(), hi.to_dict()
    lo_kind, hi_kind = bounds["lo_kind"].to_dict(), bounds["hi_kind"].to_dict()
    mean_ideal = ideal.groupby(group).mean().to_dict()
    prob = pulp.LpProblem(f"quota_allocation_{level}", pulp.LpMinimize)
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
    pinned_sum = fixed[fixed.notna()].groupby(group).sum().to_dict()
    for g, total in totals.items():
        if not members[g]:
            continue
        prob += (pulp.lpSum(q[i] for i in members[g]) == float(total) - pinned_sum.get(g, 0.0),
                 f"total_{gtok[g]}")
    prob += pulp.lpSum(t.values())
    slv = make_solver(solver)
    prob.solve(slv)
    if _status(prob) != 1:
        raise InfeasibleQuotaError([Conflict(
            f"{level} allocation",
            f"the solver reports the model {pulp.LpStatus.get(prob.status, prob.status)} "
            "(pins and bounds together admit no plan)")])
    worst = {g: float(v.varValue or 0.0) for g, v in t.items()}
    for g, v in t.items():
        prob += (v <= worst[g] * (1 + 1e-7) + 1e-9, f"worst_case_fixed_{gtok[g]}")
    prob.setObjective(pulp.lpSum(dp[i] + dm[i] for i in free))
    prob.solve(slv)
    if _status(prob) != 1:
        raise QuotaError(f"{level} allocation: the second (total deviation) solve ended with "
                         f"status {pulp.LpStatus.get(prob.status, prob.status)}")
    for i in free:
        values[i] = float(q[i].varValue or 0.0)
    total_dev = float((values[free] - ideal[free]).abs().sum())
    info = SolveInfo("optimal", max(worst.values(), default=0.0), total_dev,
                     slv.name, time.perf_counter() - start,
                     prob.numVariables(), prob.numConstraints())
    return values, info
