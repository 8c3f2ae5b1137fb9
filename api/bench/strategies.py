"""The strategies a benchmark compares, in three families, each varied with the others held at
their defaults:

========== ===================================================== ==========================
family     strategies                                            held fixed
========== ===================================================== ==========================
routing    territory_owner, round_robin, least_loaded,           territory as-is,
           skill_match, and any registered strategy              quota method potential
territory  as_is, milp_carve, milp_realign, greedy_lpt, nearest  routing territory_owner,
                                                                 quota method potential
quota      even, history, potential, capacity, pipeline, fair    territory as-is, routing
                                                                 territory_owner
========== ===================================================== ==========================

Territory designs (all respect region and segment-skill eligibility and locks):

- ``as_is``: the instance's current owners (no optimisation; the reference).
- ``milp_carve`` / ``milp_realign``: :func:`salesplan.optimizer.align` with a ±10% potential band
  (carve from scratch / re-align with the disruption penalty), HiGHS, 60 s limit, 0.5% gap. When the
  hard band cannot hold (ruled out before solving, proven infeasible, or no plan within the time
  limit), the soft band is used and the row says so. The time-limit case depends on the machine's
  speed; ``design_status`` shows it.
- ``greedy_lpt``: the ``b2b-territory-optimization`` peer's greedy longest-processing-time rule
  on potential (:func:`salesplan.optimizer.greedy_lpt`).
- ``nearest``: every account to its nearest eligible rep (:func:`salesplan.optimizer.nearest_rep`).

Quota methods are those of :mod:`salesplan.optimizer.quotas`; ``fair`` sets quotas of equal
probability of attainment from a separate *planning* simulation (seed + ``PLANNING_SEED_OFFSET``),
never from the draws it is judged on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from salesplan.optimizer import (
    AlignmentOptions,
    AlignmentProblem,
    BalanceBand,
    InfeasibleInputError,
    InfeasiblePlanError,
    NoSolutionError,
    greedy_lpt,
    measure_plan,
    nearest_rep,
    solve_alignment,
)
from salesplan.optimizer.territory.result import AlignmentResult
from salesplan.scenarios import Scenario

__all__ = [
    "DEFAULT_QUOTA",
    "DEFAULT_ROUTING",
    "FAMILIES",
    "PLANNING_SEED_OFFSET",
    "QUOTA_METHODS",
    "ROUTINGS",
    "TERRITORY_DESIGNS",
    "Design",
    "Strategy",
    "design_territory",
    "strategies",
]

ROUTINGS = ("territory_owner", "round_robin", "least_loaded", "skill_match")
TERRITORY_DESIGNS = ("as_is", "milp_carve", "milp_realign", "greedy_lpt", "nearest")
QUOTA_METHODS = ("even", "history", "potential", "capacity", "pipeline", "fair")
FAMILIES = ("routing", "territory", "quota")
DEFAULT_ROUTING = "territory_owner"
DEFAULT_TERRITORY = "as_is"
DEFAULT_QUOTA = "potential"
PLANNING_SEED_OFFSET = 1_000_000
"""Planning simulations (for ``fair`` quotas) use seed + this, disjoint from evaluation seeds."""
POTENTIAL_BAND = 0.10
MILP_TIME_LIMIT = 60.0


@dataclass(frozen=True)
class Strategy:
    """One row of a benchmark: which family it varies and the three settings it runs with."""

    family: str
    name: str
    territory: str
    routing: str
    quota: str


def strategies(families: tuple[str, ...] = FAMILIES,
               routings: tuple[str, ...] = ROUTINGS) -> list[Strategy]:
    """Every strategy of ``families`` (routing: ``routings``, which may name registered
    strategies), each with the other two settings at their defaults."""
    out = []
    for fam in families:
        if fam == "routing":
            out += [Strategy(fam, r, DEFAULT_TERRITORY, r, DEFAULT_QUOTA) for r in routings]
        elif fam == "territory":
            out += [Strategy(fam, t, t, DEFAULT_ROUTING, DEFAULT_QUOTA)
                    for t in TERRITORY_DESIGNS]
        elif fam == "quota":
            out += [Strategy(fam, q, DEFAULT_TERRITORY, DEFAULT_ROUTING, q)
                    for q in QUOTA_METHODS]
        else:
            raise ValueError(f"unknown family {fam!r} (known: {', '.join(FAMILIES)})")
    return out


@dataclass(frozen=True)
class Design:
    """A territory design's outcome: owners (account id -> rep id; None = as-is), the measured
    plan figures and the compute time (s, a measurement: not reproducible bit for bit)."""

    name: str
    owners: dict[str, str] | None
    balance_cv: float
    weighted_km: float
    moves: float  # NaN: not measured
    status: str
    seconds: float


def _measure(name: str, res: AlignmentResult, owners: bool, seconds: float,
             status: str | None = None) -> Design:
    m = res.metrics
    n = len(res.assignment)
    own = dict(zip(res.assignment["account"], res.assignment["rep"], strict=True)) \
        if owners else None
    return Design(name, own, float(m.balance["potential"]["cv"]),
                  float(m.weighted_distance / n), int(m.moves), status or m.status, seconds)


def design_territory(sc: Scenario, name: str) -> Design:
    """Run territory design ``name`` on ``sc`` (see the module doc)."""
    problem = AlignmentProblem.from_scenario(sc)
    start = time.perf_counter()
    if name == "as_is":
        if any(a.owner is None for a in sc.accounts):
            orphans = sum(a.owner is None for a in sc.accounts)
            return Design(name, None, float("nan"), float("nan"), float("nan"),
                          f"{orphans} accounts without owner: not measured", 0.0)
        res = measure_plan(problem, problem.owner_index(), name="as is")
        return _measure(name, res, False, 0.0, "current owners")
    if name == "nearest":
        res = nearest_rep(problem)
        return _measure(name, res, True, time.perf_counter() - start, "heuristic (no bound)")
    if name == "greedy_lpt":
        res = greedy_lpt(problem)
        return _measure(name, res, True, time.perf_counter() - start, "heuristic (no bound)")
    if name in ("milp_carve", "milp_realign"):
        mode = "carve" if name == "milp_carve" else "realign"
        opts = AlignmentOptions(mode=mode, balance=(BalanceBand("potential", POTENTIAL_BAND),),
                                time_limit=MILP_TIME_LIMIT)
        try:
            res = solve_alignment(problem, opts)
            status = res.metrics.status
        except (InfeasibleInputError, InfeasiblePlanError, NoSolutionError):
            soft = AlignmentOptions(mode=mode, soft_balance=True, time_limit=MILP_TIME_LIMIT,
                                    balance=(BalanceBand("potential", POTENTIAL_BAND),))
            res = solve_alignment(problem, soft)
            status = f"soft band (hard ±{POTENTIAL_BAND:.0%} cannot hold): {res.metrics.status}"
        return _measure(name, res, True, time.perf_counter() - start, status)
    raise ValueError(f"unknown territory design {name!r} "
                     f"(known: {', '.join(TERRITORY_DESIGNS)})")
