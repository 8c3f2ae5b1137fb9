"""Preparation of an alignment: everything derived from the problem and the options before a
model is built, in :class:`Prepared`.

Eligibility (region, segment skill, ``max_distance``), owner columns, the balance pools and
their band centres mu_j (:mod:`.balance`; dedicated territories: :mod:`.dedicated`), rep
capacities (hours/yr), distance weights w_i (normalised to mean 1, floored) and the cost
matrix ``w_i (d_ij + lambda [j != o(i)])`` of :mod:`.formulation`. What was ignored, clipped or
floored on the way is said in ``notes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .balance import Pools, metric_values, pools_of, targets
from .dedicated import Dedication, dedicate_oversized
from .eligibility import eligibility_matrix
from .formulation import BandSpec, ModelSpec
from .options import AlignmentOptions
from .problem import AlignmentProblem

__all__ = ["Prepared", "band_targets", "prepare"]

_ELASTIC_KM = 1e5
"""Penalty unit of the elastic repair models: a band violation of 100% of the mean costs as
much as moving a rep's average territory 100,000 distance units farther."""


@dataclass(eq=False)
class Prepared:
    """Derived arrays shared by the model, the diagnosis and the report: ``eligible`` (n x m
    bool), ``owner`` (owner column per account, -1 none or not a rep), the ``pools``, the hard
    or soft ``bands``, ``capacity`` (hours/yr per rep, inf: none), ``weight`` (distance weight
    w_i per account, mean 1), the model ``spec``, ``notes`` and the ``dedicated``
    territories."""

    eligible: np.ndarray
    owner: np.ndarray
    pools: Pools
    bands: tuple[BandSpec, ...]
    capacity: np.ndarray
    weight: np.ndarray
    spec: ModelSpec
    notes: list[str] = field(default_factory=list)
    dedicated: tuple[Dedication, ...] = ()


def prepare(problem: AlignmentProblem, options: AlignmentOptions) -> Prepared:
    """Eligibility, pools, band targets, capacities, costs: everything before the model."""
    p = problem
    notes = list(p.notes)
    eligible = eligibility_matrix(p.account_region, p.account_segment, p.rep_region,
                                  p.rep_segments, p.distance, options.max_distance)
    owner = p.owner_index()
    notes += _unknown_owner_notes(p, owner)
    shares = _rep_shares(p, options, notes)
    capacity = _capacity(p, options.max_workload_hours, notes)
    if options.dedicate_oversized:
        eligible, pools, dedicated, more = dedicate_oversized(p, options, eligible, owner,
                                                              shares, capacity)
        notes += more + [_dedication_note(p, d) for d in dedicated]
    else:
        pools, dedicated = pools_of(p, eligible, shares), []
    notes += _idle_rep_notes(p, eligible)
    bands = _bands(p, options, pools, dedicated, notes)
    weight = _distance_weight(p, options, notes)
    spec = _model_spec(p, options, eligible=eligible, owner=owner, weight=weight,
                       bands=bands, capacity=capacity)
    return Prepared(eligible, owner, pools, bands, capacity, weight, spec, notes,
                    tuple(dedicated))


def band_targets(values: np.ndarray, pools: Pools, dedicated) -> np.ndarray:
    """Band centres mu_j (the metric's unit per rep); 0 (no band) for dedicated reps."""
    mu = targets(values, pools)
    mu[[d.rep for d in dedicated]] = 0.0
    return mu


def _unknown_owner_notes(p: AlignmentProblem, owner: np.ndarray) -> list[str]:
    unknown_owner = sum(1 for o, j in zip(p.owner, owner, strict=True) if o is not None and j < 0)
    if not unknown_owner:
        return []
    return [f"{unknown_owner} account(s) have a previous owner who is not a rep here; "
            "they move necessarily"]


def _rep_shares(p: AlignmentProblem, options: AlignmentOptions, notes: list[str]
                ) -> dict[str, float]:
    """Relative territory size by rep id; names of unknown reps are noted and ignored."""
    shares = dict(options.rep_shares or {})
    unknown = sorted(set(shares) - set(p.rep_ids))
    if unknown:
        notes.append(f"rep_shares name unknown reps, ignored: {', '.join(unknown[:5])}")
    return shares


def _capacity(p: AlignmentProblem, cap: float | Mapping[str, float] | None,
              notes: list[str]) -> np.ndarray:
    """Capacity per rep in hours/yr (inf: uncapped)."""
    if cap is None:
        return np.full(p.n_reps, np.inf)
    if isinstance(cap, Mapping):
        capacity = np.array([cap.get(r, np.inf) for r in p.rep_ids], dtype=float)
        extra = sorted(set(cap) - set(p.rep_ids))
        if extra:
            notes.append(f"capacities name unknown reps, ignored: {', '.join(extra[:5])}")
        return capacity
    return np.full(p.n_reps, float(cap))


def _dedication_note(p: AlignmentProblem, d: Dedication) -> str:
    return (f"account {p.account_ids[d.account]} ({d.ratio:.2f} x the mean {d.metric} of its "
            f"reps, above every rep's {d.metric} band) has a dedicated territory: rep "
            f"{p.rep_ids[d.rep]} serves it alone, outside the bands and the balance figures; "
            "the other reps are balanced around the mean without it")


def _idle_rep_notes(p: AlignmentProblem, eligible: np.ndarray) -> list[str]:
    idle = [p.rep_ids[j] for j in np.flatnonzero(~eligible.any(axis=0))]
    if not idle:
        return []
    return [f"{len(idle)} rep(s) have no eligible account and get an empty territory: "
            + ", ".join(idle[:5]) + (" ..." if len(idle) > 5 else "")]


def _bands(p: AlignmentProblem, options: AlignmentOptions, pools: Pools, dedicated,
           notes: list[str]) -> tuple[BandSpec, ...]:
    """One :class:`BandSpec` per balance option; a band on a metric every account has 0 of
    is skipped (noted)."""
    bands = []
    for b in options.balance:
        values = metric_values(p, b.metric)
        mu = band_targets(values, pools, dedicated)
        if not (mu > 0).any():
            notes.append(f"balance band on {b.metric} skipped: every account has 0 {b.metric}")
            continue
        bands.append(BandSpec(b.metric, values, mu, b.tolerance, b.weight))
    return tuple(bands)


def _distance_weight(p: AlignmentProblem, options: AlignmentOptions, notes: list[str]
                     ) -> np.ndarray:
    """w_i: potential, workload or 1 per account, over its mean, floored at
    ``options.weight_floor``."""
    if options.distance_weight == "uniform":
        raw = np.ones(p.n_accounts)
    else:
        raw = np.asarray(p.potential if options.distance_weight == "potential"
                         else p.workload, dtype=float)
    mean = raw.mean() if raw.size and raw.mean() > 0 else 1.0
    weight = np.maximum(raw / mean, options.weight_floor)
    if (raw / mean < options.weight_floor).any():
        notes.append(f"{int((raw / mean < options.weight_floor).sum())} account(s) have a "
                     f"distance weight below {options.weight_floor:g} x the mean; floored to it")
    return weight


def _model_spec(p: AlignmentProblem, options: AlignmentOptions, *, eligible: np.ndarray,
                owner: np.ndarray, weight: np.ndarray, bands: tuple[BandSpec, ...],
                capacity: np.ndarray) -> ModelSpec:
    """The model's data: costs ``w_i (d_ij + lambda [j != o(i)])`` (distance units), penalty
    units, move caps (re-align mode only)."""
    has_owner = np.array([o is not None for o in p.owner], dtype=bool)
    lam = options.disruption_weight
    dist = np.where(np.isfinite(p.distance), p.distance, 0.0)
    not_owner = np.ones_like(eligible, dtype=bool)
    rows = np.flatnonzero(owner >= 0)
    not_owner[rows, owner[rows]] = False
    cost = weight[:, None] * (dist + lam * (not_owner & has_owner[:, None]))
    realign = options.mode == "realign"
    return ModelSpec(
        account_ids=list(p.account_ids), rep_ids=list(p.rep_ids), cost=cost, owner=owner,
        has_owner=has_owner, locked=np.asarray(p.locked, dtype=bool),
        potential=np.asarray(p.potential, float), workload=np.asarray(p.workload, float),
        bands=bands, capacity=capacity, soft=options.soft_balance,
        soft_unit=float(weight.sum() / max(p.n_reps, 1) * options.soft_penalty),
        elastic_unit=float(weight.sum() / max(p.n_reps, 1) * _ELASTIC_KM),
        max_moves=options.max_moves if realign else None,
        max_moved_potential=options.max_moved_potential if realign else None,
    )
