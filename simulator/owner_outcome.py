# ruff: noqa: N806  (single capitals follow the model notation: S stages, N leads)
"""What happens to each lead if its account's owner takes it at once, ramped: computed for every
lead in one vectorised pass, so that the engine's hot path (territory routing, the owner free
and ramped) only compares a wait against a limit.

For lead i with an eligible owner (seated or not, in the lead's region and serving its segment),
with the owner's log-productivity ``x``:

- ``exit[i]``: the stages it passes without waiting (:mod:`salesplan.simulator.stages`);
- ``service[i]``: its time from first contact to close on that path (days);
- ``wait_limit[i]``: the wait for first contact at which lead-response decay makes it fail the
  first stage, ``log(p0 / U0) / (log 2 / half_life)`` days (infinite when nothing decays or the
  first stage fails anyway);
- ``first_stage_days[i]``: its first stage's duration (the service time of a deal lost there).

A lead without an eligible owner gets ``owner = -1`` (and the figures for ``x = 0``, unused).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .leads import LeadBatch
from .plan import Plan
from .stages import StageTables

__all__ = ["OwnerOutcome", "owner_outcome"]


@dataclass(frozen=True)
class OwnerOutcome:
    """Per lead (Python lists: the hot path reads single elements). ``owner_raw`` is the
    account's (or the initial deal's) owner whether eligible or not; ``owner`` only if eligible."""

    owner_raw: np.ndarray      # rep index, -1: no owner
    owner: list[int]           # eligible owner, -1: none
    exit: np.ndarray           # stages passed when the owner takes it at once (S: won)
    service: list[float]       # days from first contact to close on that path
    wait_limit: list[float]    # days of waiting at which the first stage fails (inf: never)
    first_stage_days: list[float]


def _owners(plan: Plan, leads: LeadBatch, initial_owner: np.ndarray) -> np.ndarray:
    """The owner of each lead's account when the lead arrives (initial deals: the deal's
    owner); -1 without one. An account handed over to a planned hire belongs to its previous
    owner until the hand-over day."""
    owner = np.where(leads.account >= 0, plan.account_owner[np.maximum(leads.account, 0)]
                     if plan.account_owner.size else -1, -1)
    if plan.account_previous_owner.size and (plan.account_previous_owner >= 0).any():
        acc = np.maximum(leads.account, 0)
        before = (leads.account >= 0) & (leads.arrival < plan.account_handover[acc])
        owner = np.where(before, plan.account_previous_owner[acc], owner)
    n0 = initial_owner.size
    if n0:
        owner[:n0] = initial_owner
    return owner


def owner_outcome(plan: Plan, leads: LeadBatch, tabs: StageTables,
                  initial_owner: np.ndarray) -> OwnerOutcome:
    """Every lead's outcome with its owner, taken at once and ramped (module docstring)."""
    S, N = plan.n_stages, len(leads)
    owner_np = _owners(plan, leads, initial_owner)
    # an owner is statically eligible if in the lead's region and serving its segment
    ok = owner_np >= 0
    safe = np.maximum(owner_np, 0)
    ok &= plan.rep_region[safe] == leads.region
    ok &= plan.rep_serves[safe, leads.segment]
    lp = np.asarray([*plan.rep_log_productivity, 0.0])[np.where(ok, owner_np, -1)]
    with np.errstate(over="ignore", invalid="ignore"):
        p0 = 1.0 / (1.0 + np.exp(-(tabs.a0 + lp)))
        passed0 = tabs.u0 < p0
        by_stage = tabs.run_max.T  # [S - 1, n]: contiguous rows
        later = (by_stage < lp).sum(axis=0)  # running max: a prefix passes
    exit_ = np.where(passed0, 1 + later, 0)
    service = tabs.cum[np.arange(N), np.minimum(exit_ + 1, S)].tolist()
    hl = plan.half_life
    dk = math.log(2.0) / hl if hl is not None else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        wait_limit = np.log(p0 / tabs.u0) / dk if dk else np.full(N, np.inf)
    wait_limit[exit_ == 0] = np.inf
    return OwnerOutcome(owner_raw=owner_np, owner=np.where(ok, owner_np, -1).tolist(),
                        exit=exit_, service=service, wait_limit=wait_limit.tolist(),
                        first_stage_days=tabs.cum[:, 1].tolist())
