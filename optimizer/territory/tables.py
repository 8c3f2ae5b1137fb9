"""The result tables of an alignment: the plan measured into an :class:`AlignmentResult`.

The ``assignment`` and ``territories`` frames are documented in :mod:`.result`; the balance
figures are measured against the same pool targets the model balanced to (dedicated reps have
none). Used by the MILP (:mod:`.alignment`) and the heuristics (:mod:`.heuristics`) alike, so
their plans compare.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .balance import balance_stats, metric_values
from .options import METRICS
from .preparation import Prepared, band_targets
from .problem import AlignmentProblem
from .result import AlignmentMetrics, AlignmentResult, status_text
from .state import Outcome

__all__ = ["RunInfo", "build_result"]


@dataclass(frozen=True)
class RunInfo:
    """How the plan came about: ``seconds`` (wall time of the whole solve), the ``solver``'s
    name, the final ``candidates`` k (None: every eligible rep, or no candidates), the
    ``bound_scope`` in words, and the ``notes`` so far."""

    seconds: float
    solver: str
    candidates: int | None
    bound_scope: str
    notes: tuple[str, ...]


def build_result(problem: AlignmentProblem, prep: Prepared, outcome: Outcome, run: RunInfo
                 ) -> AlignmentResult:
    """Frames and metrics of ``outcome``'s plan (it must have one). Notes add each soft band
    left open and the candidate restriction."""
    p, assign = problem, outcome.assign
    dist = p.distance[np.arange(p.n_accounts), assign]
    moved = prep.spec.has_owner & (assign != prep.owner)
    notes = list(run.notes)
    assignment = _assignment_frame(p, assign, dist, moved)
    terr = _territory_columns(p, prep, assign, dist, moved)
    balance, violation = _balance_columns(p, prep, assign, terr, notes)
    territories = pd.DataFrame(terr)
    metrics = _metrics(p, prep, outcome, run, dist=dist, moved=moved, balance=balance,
                       violation=violation)
    if "column generation" in run.bound_scope:
        notes.append("candidates: the LP relaxation was solved over every eligible pair by "
                     "column generation (only the pairs its duals priced in were in the "
                     "model); the plan uses those pairs and the nearest candidates; the bound "
                     "is over every eligible pair")
    elif run.candidates is not None:
        notes.append(f"candidates: each account could go to its {run.candidates} nearest "
                     "eligible reps, its owner, and reps for which it is among the nearest "
                     "accounts; the bound is over those candidates")
    return AlignmentResult(assignment, territories, metrics, tuple(notes))


def _assignment_frame(p: AlignmentProblem, assign: np.ndarray, dist: np.ndarray,
                      moved: np.ndarray) -> pd.DataFrame:
    """One row per account (columns in :mod:`.result`)."""
    rep_ids = np.array(p.rep_ids, dtype=object)
    frame = {
        "account": list(p.account_ids),
        "rep": rep_ids[assign].tolist(),
        "previous_owner": list(p.owner),
        "moved": moved,
        "locked": np.asarray(p.locked, dtype=bool),
        "distance": dist,
        "potential": np.asarray(p.potential, float),
        "workload_hours": np.asarray(p.workload, float),
    }
    if p.account_region is not None:
        frame["region"] = list(p.account_region)
    if p.account_segment is not None:
        frame["segment"] = list(p.account_segment)
    return pd.DataFrame(frame)


def _territory_columns(p: AlignmentProblem, prep: Prepared, assign: np.ndarray,
                       dist: np.ndarray, moved: np.ndarray) -> dict[str, object]:
    """One entry per rep of every territory column but the balance ones."""
    m = p.n_reps
    count = np.bincount(assign, minlength=m).astype(float)
    dsum = np.bincount(assign, weights=dist, minlength=m)
    dmax = np.zeros(m)
    np.maximum.at(dmax, assign, dist)
    terr = {
        "rep": list(p.rep_ids),
        "region": list(p.rep_region) if p.rep_region is not None else [None] * m,
        "pool": [prep.pools.names[g] for g in prep.pools.rep_pool],
        "accounts": count.astype(int),
        "potential": np.bincount(assign, weights=p.potential, minlength=m),
        "workload_hours": np.bincount(assign, weights=p.workload, minlength=m),
        "capacity_hours": np.where(np.isfinite(prep.capacity), prep.capacity, np.nan),
        "mean_distance": np.divide(dsum, count, out=np.full(m, np.nan), where=count > 0),
        "max_distance": dmax,
        "moved_in": np.bincount(assign[moved], minlength=m),
        "dedicated_to": [None] * m,
    }
    for d in prep.dedicated:
        terr["dedicated_to"][d.rep] = p.account_ids[d.account]
    return terr


def _balance_columns(p: AlignmentProblem, prep: Prepared, assign: np.ndarray,
                     terr: dict[str, object], notes: list[str]
                     ) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Add ``{metric}_target`` and ``{metric}_dev`` to ``terr`` for every metric; return the
    balance figures by metric and, for each band, its largest violation (fraction of the
    target; a note for each soft band left open)."""
    m = p.n_reps
    balance = {}
    violation = {}
    band_by_metric = {b.metric: b for b in prep.bands}
    for metric in METRICS:
        values = metric_values(p, metric)
        mu = band_targets(values, prep.pools, prep.dedicated)
        load = np.bincount(assign, weights=values, minlength=m)
        terr[f"{metric}_target"] = mu
        terr[f"{metric}_dev"] = np.divide(load, mu, out=np.full(m, np.nan), where=mu > 0) - 1
        balance[metric] = balance_stats(load, mu)
        if metric in band_by_metric:
            tau = band_by_metric[metric].tolerance
            ok = mu > 0
            over = np.maximum(np.abs(load[ok] / mu[ok] - 1) - tau, 0.0)
            violation[metric] = float(over.max()) if over.size else 0.0
            n_out = int((over > 1e-9).sum())
            if n_out:
                notes.append(f"soft band on {metric} (±{tau:.1%}): {n_out} rep(s) outside it, "
                             f"worst by {violation[metric]:.1%} of the mean")
    return balance, violation


def _metrics(p: AlignmentProblem, prep: Prepared, outcome: Outcome, run: RunInfo, *,
             dist: np.ndarray, moved: np.ndarray, balance: dict[str, dict[str, float]],
             violation: dict[str, float]) -> AlignmentMetrics:
    """The headline figures; the gap is (objective - bound) / |objective|, 0 at objective 0."""
    objective = float(outcome.objective)
    bound = outcome.bound
    gap = None
    if bound is not None:
        gap = max(0.0, (objective - bound) / abs(objective)) if abs(objective) > 1e-9 else 0.0
    return AlignmentMetrics(
        status=status_text(gap, outcome.solver_optimal, time_limited=outcome.incumbent),
        objective=objective, bound=bound, gap=gap, bound_scope=run.bound_scope,
        solve_seconds=run.seconds, strategy=outcome.strategy, solver=run.solver,
        candidates=run.candidates, moves=int(moved.sum()),
        moved_potential=float(p.potential[moved].sum()),
        weighted_distance=float((prep.weight * dist).sum()), total_distance=float(dist.sum()),
        distance_unit=p.distance_unit, balance=balance, max_band_violation=violation,
        time_limited_plan=outcome.incumbent,
    )
