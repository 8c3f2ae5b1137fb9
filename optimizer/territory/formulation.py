r"""The territory alignment model, built with PuLP (the solver is injected, see :mod:`.solver`).

Formulation (the standard commercial territory design model: Hess & Samuels 1971; Zoltners &
Sinha 1983, 2005; Kalcsics, Nickel & Schroeder 2005; Rios-Mercado & Fernandez 2009; realignment
with similarity to the current plan: Rios-Mercado & Lopez-Perez 2013). Accounts i, reps j,
balance metrics a (workload hours/yr, potential currency/yr, account count), candidate pairs
C (the k nearest eligible reps of each account, plus its owner o(i)):

    min   sum_{(i,j) in C} w_i (d_ij + lambda [j != o(i)]) x_ij                 (compactness +
          + sum_{a,j} rho_aj (s+_aj + s-_aj)                  [soft bands only]   disruption)
    s.t.  assign_i:          sum_j x_ij = 1                                  every account i
          balance_max_a_j:   sum_i (v_ia / mu_aj) x_ij - s+_aj <= 1 + tau_a    every rep j, band a
          balance_min_a_j:   sum_i (v_ia / mu_aj) x_ij + s-_aj >= 1 - tau_a
          capacity_j:        sum_i h_i x_ij <= cap_j                         reps with a capacity
          locked_i:          x_i,o(i) = 1                                    locked accounts
          move_cap:          sum_{i owned} sum_{j != o(i)} x_ij <= M         (re-align)
          moved_potential_cap: sum_{i owned} sum_{j != o(i)} p_i x_ij <= P   (re-align)
          x_ij in {0, 1};  s+, s- >= 0 (fixed to 0 in hard mode: the variables are not created)

w_i is the account's distance weight (potential by default) normalised to mean 1 and floored;
d_ij the distance (km, or minutes from a travel table); lambda the disruption weight (distance
units; 0 in carve mode); v_ia the account's value on metric a; mu_aj the rep's band centre
(:mod:`.balance`); tau_a the band tolerance; h_i workload hours; rho_aj = soft penalty x band
weight x (sum_i w_i / m), so a violation of 100% of the mean (s = 1) costs as much as moving
the rep's average territory ``soft_penalty`` distance units farther. Band rows are written
relative to mu (and capacity rows relative to the capacity), so that every row is O(1): with raw
currency coefficients (up to 1e6) HiGHS declared feasible 50,000-account LPs infeasible.

Constraints are named from domain ids (``assign_A-0193``, ``balance_max_potential_R-07``,
``capacity_R-07``; PuLP shows ``-`` as ``_`` in LP files) and variables are keyed by
``(account_id, rep_id)``. :func:`build_model` also builds the *sub-model* of fix-and-resolve:
only the free accounts get variables; the loads, moves and cost of fixed accounts become
constants.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pulp

__all__ = ["BandSpec", "BuiltModel", "ModelSpec", "assignment_of", "build_model"]


@dataclass(frozen=True, eq=False)
class BandSpec:
    """One balance band: values v_i, centres mu_j, tolerance, soft weight."""

    metric: str
    values: np.ndarray
    mu: np.ndarray
    tolerance: float
    weight: float = 1.0


@dataclass(frozen=True, eq=False)
class ModelSpec:
    """Everything the model needs besides the candidate pairs (arrays over accounts/reps)."""

    account_ids: list[str]
    rep_ids: list[str]
    cost: np.ndarray  # (n, m) w_i (d_ij + lambda [j != o(i)]); only candidate cells are read
    owner: np.ndarray  # owner column, -1 none / not a rep
    has_owner: np.ndarray  # previous owner given (even if not a rep here)
    locked: np.ndarray
    potential: np.ndarray
    workload: np.ndarray
    bands: tuple[BandSpec, ...]
    capacity: np.ndarray  # inf = none
    soft: bool = False
    soft_unit: float = 0.0  # sum_i w_i / m x soft_penalty
    elastic_unit: float = 0.0  # the (much larger) penalty unit of elastic repair models
    max_moves: int | None = None
    max_moved_potential: float | None = None
    drop: frozenset[str] = field(default_factory=frozenset)


@dataclass(eq=False)
class BuiltModel:
    """A PuLP problem and its variables: ``x[(account_id, rep_id)]``; ``pair_i``/``pair_j``
    and ``x_list`` are aligned arrays of the candidate pairs with variables."""

    prob: pulp.LpProblem
    x: dict[tuple[str, str], pulp.LpVariable]
    x_list: list[pulp.LpVariable]
    pair_i: np.ndarray
    pair_j: np.ndarray
    slack: dict[tuple[str, str, str], pulp.LpVariable]
    slack_rows: list[tuple[pulp.LpConstraint, pulp.LpVariable, float]] = field(
        default_factory=list)
    elastic: bool = False

    def values(self) -> np.ndarray:
        return np.array([v.varValue or 0.0 for v in self.x_list], dtype=float)

    def set_start(self, assign: np.ndarray) -> None:
        """Set variable values to the plan ``assign`` (rep column per account) and the slacks
        to the violations it implies: a MIP start for :meth:`SolverSpec.solve`."""
        chosen = assign[self.pair_i] == self.pair_j
        for var, on in zip(self.x_list, chosen.tolist(), strict=True):
            var.varValue = 1.0 if on else 0.0
        for _, var, _ in self.slack_rows:
            var.varValue = 0.0
        for row, var, sign in self.slack_rows:
            excess = float(row.value() or 0.0) * sign
            var.varValue = max(0.0, excess)


def build_model(spec: ModelSpec, pair_i: np.ndarray, pair_j: np.ndarray, *,
                fixed: np.ndarray | None = None, name: str = "territory_alignment",
                elastic: bool = False) -> BuiltModel:
    """Build the model over candidate pairs. ``fixed[i] >= 0`` pins account i to that rep as a
    constant (its pairs are skipped); ``fixed`` None means every account is free.

    ``elastic`` (used by fix-and-resolve repair) makes hard bands soft with the large penalty
    ``spec.elastic_unit``, so the sub-model always has a solution; its band violations tell
    the repair loop where to free more accounts."""
    n = len(spec.account_ids)
    if fixed is None:
        fixed = np.full(n, -1, dtype=np.int64)
    b = _Build.start(spec, pair_i, pair_j, fixed, name)
    _add_assign_rows(b)
    slack, slack_rows = _add_band_rows(b, soft=spec.soft or elastic,
                                       unit=spec.soft_unit if spec.soft else spec.elastic_unit)
    _add_capacity_rows(b)
    _add_move_caps(b)
    b.prob.setObjective(pulp.LpAffineExpression(b.terms, constant=b.const_cost))
    return BuiltModel(b.prob, b.x, b.x_list, b.pi, b.pj, slack, slack_rows,
                      elastic and not spec.soft)


def assignment_of(values: np.ndarray, pi: np.ndarray, pj: np.ndarray, n: int,
                  base: np.ndarray | None = None) -> np.ndarray:
    """Rep column per account from the values of pairs (pi, pj): the largest value wins.
    Accounts without a pair keep ``base`` (default -1)."""
    assign = np.full(n, -1, dtype=np.int64) if base is None else base.copy()
    order = np.argsort(values, kind="stable")
    # later writes (larger values) win
    assign[pi[order]] = pj[order]
    return assign


@dataclass(eq=False)
class _Build:
    """A model being built: the problem, the free pairs (``pi``, ``pj``) with their variables,
    the fixed accounts' rows and columns, the pairs grouped by rep, and the objective terms."""

    spec: ModelSpec
    prob: pulp.LpProblem
    pi: np.ndarray
    pj: np.ndarray
    x_list: list[pulp.LpVariable]
    x: dict[tuple[str, str], pulp.LpVariable]
    fixed_rows: np.ndarray
    fixed_cols: np.ndarray
    const_cost: float
    terms: list[tuple[pulp.LpVariable, float]]
    by_rep: np.ndarray
    rep_starts: np.ndarray
    rep_ends: np.ndarray

    @classmethod
    def start(cls, spec: ModelSpec, pair_i: np.ndarray, pair_j: np.ndarray,
              fixed: np.ndarray, name: str) -> _Build:
        """Variables x_ij of the free pairs, the fixed accounts' cost as a constant."""
        m = len(spec.rep_ids)
        free_pair = fixed[pair_i] < 0
        pi, pj = pair_i[free_pair], pair_j[free_pair]
        acc, rep = spec.account_ids, spec.rep_ids
        prob = pulp.LpProblem(name, pulp.LpMinimize)
        x_list = [pulp.LpVariable(f"x_{acc[i]}__{rep[j]}", lowBound=0, upBound=1,
                                  cat="Binary")
                  for i, j in zip(pi.tolist(), pj.tolist(), strict=True)]
        x = {(acc[i], rep[j]): v
             for i, j, v in zip(pi.tolist(), pj.tolist(), x_list, strict=True)}
        cost = spec.cost[pi, pj]
        fixed_rows = np.flatnonzero(fixed >= 0)
        fixed_cols = fixed[fixed_rows]
        const_cost = float(spec.cost[fixed_rows, fixed_cols].sum()) if fixed_rows.size else 0.0
        terms = list(zip(x_list, cost.tolist(), strict=True))
        # per-rep rows: pairs grouped by rep
        by_rep = np.argsort(pj, kind="stable")
        rep_of = pj[by_rep]
        return cls(spec, prob, pi, pj, x_list, x, fixed_rows, fixed_cols, const_cost, terms,
                   by_rep, np.searchsorted(rep_of, np.arange(m), side="left"),
                   np.searchsorted(rep_of, np.arange(m), side="right"))

    def pairs_of_rep(self, j: int) -> np.ndarray:
        """Indices into the free pairs of rep j."""
        return self.by_rep[self.rep_starts[j]:self.rep_ends[j]]


def _add_assign_rows(b: _Build) -> None:
    """assign_i (pairs are sorted by account) and locked_i for locked owned accounts."""
    spec, pi, x_list = b.spec, b.pi, b.x_list
    acc, rep = spec.account_ids, spec.rep_ids
    starts = np.flatnonzero(np.r_[True, pi[1:] != pi[:-1]]) if pi.size else np.array([], int)
    ends = np.r_[starts[1:], pi.size]
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        i = int(pi[s])
        b.prob.addConstraint(pulp.LpConstraint(
            pulp.LpAffineExpression([(v, 1.0) for v in x_list[s:e]]), pulp.LpConstraintEQ,
            rhs=1.0, name=f"assign_{acc[i]}"))
        if spec.locked[i] and "locks" not in spec.drop and spec.owner[i] >= 0:
            owner_var = b.x.get((acc[i], rep[spec.owner[i]]))
            if owner_var is not None:
                b.prob.addConstraint(pulp.LpConstraint(
                    pulp.LpAffineExpression([(owner_var, 1.0)]), pulp.LpConstraintEQ, rhs=1.0,
                    name=f"locked_{acc[i]}"))


def _add_band_rows(b: _Build, soft: bool, unit: float
                   ) -> tuple[dict[tuple[str, str, str], pulp.LpVariable],
                              list[tuple[pulp.LpConstraint, pulp.LpVariable, float]]]:
    """balance_max/min rows of every band not dropped, relative to mu_j; with ``soft``, the
    slacks s+/s- at penalty ``unit`` (x the band's weight in soft mode). Returns the slacks by
    (side, metric, rep id) and (row, slack, sign) triples."""
    spec, m = b.spec, len(b.spec.rep_ids)
    slack: dict[tuple[str, str, str], pulp.LpVariable] = {}
    slack_rows: list[tuple[pulp.LpConstraint, pulp.LpVariable, float]] = []
    for band in spec.bands:
        if f"balance:{band.metric}" in spec.drop:
            continue
        base = np.bincount(b.fixed_cols, weights=band.values[b.fixed_rows], minlength=m)
        for j in range(m):
            mu = float(band.mu[j])
            if mu <= 0:
                continue
            # rows are scaled by mu (loads as a fraction of the target): every band row is O(1)
            expr = [(b.x_list[t], float(band.values[b.pi[t]]) / mu)
                    for t in b.pairs_of_rep(j).tolist()]
            hi = (1.0 + band.tolerance) - base[j] / mu
            lo = (1.0 - band.tolerance) - base[j] / mu
            up_terms, lo_terms = list(expr), list(expr)
            if soft:
                rho = unit * (band.weight if spec.soft else 1.0)
                rep = spec.rep_ids[j]
                s_up = pulp.LpVariable(f"over_{band.metric}_{rep}", lowBound=0)
                s_lo = pulp.LpVariable(f"under_{band.metric}_{rep}", lowBound=0)
                slack[("over", band.metric, rep)] = s_up
                slack[("under", band.metric, rep)] = s_lo
                up_terms.append((s_up, -1.0))
                lo_terms.append((s_lo, 1.0))
                b.terms += [(s_up, rho), (s_lo, rho)]
            row_up = pulp.LpConstraint(
                pulp.LpAffineExpression(up_terms), pulp.LpConstraintLE, rhs=hi,
                name=f"balance_max_{band.metric}_{spec.rep_ids[j]}")
            row_lo = pulp.LpConstraint(
                pulp.LpAffineExpression(lo_terms), pulp.LpConstraintGE, rhs=lo,
                name=f"balance_min_{band.metric}_{spec.rep_ids[j]}")
            b.prob.addConstraint(row_up)
            b.prob.addConstraint(row_lo)
            if soft:
                slack_rows += [(row_up, s_up, 1.0), (row_lo, s_lo, -1.0)]
    return slack, slack_rows


def _add_capacity_rows(b: _Build) -> None:
    """capacity_j rows (relative to the capacity) for reps with a finite capacity."""
    spec, m = b.spec, len(b.spec.rep_ids)
    if "capacity" in spec.drop:
        return
    base = np.bincount(b.fixed_cols, weights=spec.workload[b.fixed_rows], minlength=m)
    for j in range(m):
        if not np.isfinite(spec.capacity[j]):
            continue
        scale = max(float(spec.capacity[j]), 1.0)
        b.prob.addConstraint(pulp.LpConstraint(
            pulp.LpAffineExpression(
                [(b.x_list[t], float(spec.workload[b.pi[t]]) / scale)
                 for t in b.pairs_of_rep(j).tolist()]),
            pulp.LpConstraintLE, rhs=float(spec.capacity[j] - base[j]) / scale,
            name=f"capacity_{spec.rep_ids[j]}"))


def _add_move_caps(b: _Build) -> None:
    """move_cap and moved_potential_cap (re-align mode), less what fixed accounts use."""
    spec, pi, x_list, rows = b.spec, b.pi, b.x_list, b.fixed_rows
    fixed_moved = spec.has_owner[rows] & (b.fixed_cols != spec.owner[rows])
    moving = spec.has_owner[pi] & (b.pj != spec.owner[pi])
    if spec.max_moves is not None and "move_cap" not in spec.drop:
        b.prob.addConstraint(pulp.LpConstraint(
            pulp.LpAffineExpression([(x_list[t], 1.0) for t in np.flatnonzero(moving)]),
            pulp.LpConstraintLE, rhs=float(spec.max_moves - int(fixed_moved.sum())),
            name="move_cap"))
    if spec.max_moved_potential is not None and "move_cap" not in spec.drop:
        scale = max(float(spec.max_moved_potential), 1.0)
        b.prob.addConstraint(pulp.LpConstraint(
            pulp.LpAffineExpression([(x_list[t], float(spec.potential[pi[t]]) / scale)
                                     for t in np.flatnonzero(moving)]),
            pulp.LpConstraintLE,
            rhs=float(spec.max_moved_potential
                      - spec.potential[rows][fixed_moved].sum()) / scale,
            name="moved_potential_cap"))
