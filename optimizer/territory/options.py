"""Options of a territory alignment: what to balance, how hard, and how to solve.

Units: distances in the problem's unit (km by default, minutes with a drive-time table);
workload in hours/year; potential in currency/year; the disruption weight in distance units
(see :class:`AlignmentOptions`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from .errors import InfeasibleInputError
from .solver import SolverSpec

__all__ = ["METRICS", "AlignmentOptions", "BalanceBand", "parse_balance"]

METRICS: dict[str, str] = {
    "workload": "hours/yr",
    "potential": "currency/yr",
    "accounts": "accounts",
}
"""Balance metrics and their units: workload hours, potential, account count."""


@dataclass(frozen=True)
class BalanceBand:
    """Keep every rep's ``metric`` within ``(1 +/- tolerance) x`` its pool mean.

    ``weight`` scales the violation penalty in soft mode (ignored in hard mode).
    """

    metric: str
    tolerance: float
    weight: float = 1.0

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise InfeasibleInputError(
                [f"unknown balance metric {self.metric!r} (known: {', '.join(METRICS)})"],
                "invalid balance option")
        if not 0.0 <= self.tolerance < 10.0:
            raise InfeasibleInputError(
                [f"balance tolerance for {self.metric} must be in [0, 10), got "
                 f"{self.tolerance:g}"], "invalid balance option")
        if self.weight < 0:
            raise InfeasibleInputError([f"balance weight for {self.metric} must be >= 0"],
                                       "invalid balance option")


def parse_balance(text: str) -> tuple[BalanceBand, ...]:
    """Parse ``"workload=0.05,potential=0.05"`` (optionally ``metric=tol:weight``)."""
    bands = []
    for chunk in (c.strip() for c in text.split(",")):
        if not chunk:
            continue
        name, sep, value = chunk.partition("=")
        if not sep:
            raise InfeasibleInputError(
                [f"balance item {chunk!r} must look like metric=tolerance, e.g. workload=0.05"],
                "invalid balance option")
        tol_text, _, weight_text = value.partition(":")
        try:
            tol = float(tol_text)
            weight = float(weight_text) if weight_text else 1.0
        except ValueError:
            raise InfeasibleInputError(
                [f"balance item {chunk!r}: tolerance and weight must be numbers"],
                "invalid balance option") from None
        bands.append(BalanceBand(name.strip().lower(), tol, weight))
    names = [b.metric for b in bands]
    if len(set(names)) != len(names):
        raise InfeasibleInputError(["a balance metric is given twice"], "invalid balance option")
    return tuple(bands)


@dataclass(frozen=True)
class AlignmentOptions:
    """How to align.

    - ``mode``: ``"carve"`` ignores current owners (no disruption term, moves are still counted
      against the previous owner for the report); ``"realign"`` adds the disruption penalty.
      Locked accounts stay with their owner in both modes.
    - ``balance``: the bands (any subset of workload, potential, accounts, each with its own
      tolerance). ``soft_balance``: penalise band violations instead of forbidding them; a
      violation of 100% of the mean on one rep costs as much as serving that rep's average
      territory ``soft_penalty`` distance units farther (times the band's weight).
    - ``dedicate_oversized``: an account above the upper band of every eligible rep gets a
      dedicated territory (one rep serves it alone, outside the bands and the balance
      figures) and the other reps are balanced around the mean without it; see
      :mod:`.dedicated`. Off by default: such an account makes hard bands infeasible, and the
      diagnosis says so.
    - ``rep_shares``: relative territory size per rep id (default 1: equal shares within a pool),
      e.g. 0.5 for a half-time rep. The band target of rep j in pool g is
      ``share_j / sum(shares of g) x total of g``.
    - ``max_workload_hours``: rep capacity in hours/yr, one number for every rep or a mapping
      rep id -> hours (reps absent from the mapping are uncapped).
    - ``max_distance``: accounts farther than this (distance units) from a rep are ineligible.
    - ``disruption``: penalty for moving an account away from its owner, in distance units per
      unit of distance weight: moving an account costs as much as serving it that much farther.
    - ``max_moves`` / ``max_moved_potential``: caps on moved accounts / moved potential
      (currency/yr), re-align mode only.
    - ``candidates``: each account may go only to its k nearest eligible reps (plus its owner);
      None uses every eligible rep. Widened automatically when it makes the model infeasible.
    - ``distance_weight``: ``"potential"`` (default), ``"workload"`` or ``"uniform"``: the weight
      w_i of account i in the compactness term, normalised to mean 1, floored at
      ``weight_floor`` so that accounts with no potential still prefer a nearby rep.
    - ``strategy``: ``"exact"`` (one MILP), ``"fix"`` (LP relaxation, fix integral assignments,
      solve the fractional remainder as a MILP, repair by freeing neighbours) or ``"auto"``
      (``exact`` up to ``exact_max_pairs`` candidate pairs, else ``fix``).
    - ``split_pools``: solve each balance pool (a region, or a skill group within one) as a
      model of its own when no move cap ties them (:mod:`.decompose`): the same optimum and
      bound, from smaller models. False solves one model over every pool.
    - ``solver``: a :class:`SolverSpec` or ``"highs"`` / ``"cbc"``; ``time_limit`` (s) and
      ``gap`` (relative) are passed to it.
    """

    mode: Literal["carve", "realign"] = "realign"
    balance: tuple[BalanceBand, ...] = (BalanceBand("workload", 0.10),)
    soft_balance: bool = False
    soft_penalty: float = 1000.0
    dedicate_oversized: bool = False
    rep_shares: Mapping[str, float] | None = None
    max_workload_hours: float | Mapping[str, float] | None = None
    max_distance: float | None = None
    disruption: float = 100.0
    max_moves: int | None = None
    max_moved_potential: float | None = None
    candidates: int | None = 8
    distance_weight: Literal["potential", "workload", "uniform"] = "potential"
    weight_floor: float = 0.01
    strategy: Literal["auto", "exact", "fix"] = "auto"
    exact_max_pairs: int = 30_000
    split_pools: bool = True
    solver: SolverSpec | str = "highs"
    time_limit: float = 120.0
    gap: float = 0.005

    def __post_init__(self) -> None:
        problems = []
        if self.mode not in ("carve", "realign"):
            problems.append(f"mode must be carve or realign, got {self.mode!r}")
        if self.mode == "carve" and (self.max_moves is not None
                                     or self.max_moved_potential is not None):
            problems.append("a move cap needs mode realign (carve ignores current owners)")
        if self.max_moves is not None and self.max_moves < 0:
            problems.append("max_moves must be >= 0")
        if self.max_moved_potential is not None and self.max_moved_potential < 0:
            problems.append("max_moved_potential must be >= 0")
        if self.candidates is not None and self.candidates < 1:
            problems.append("candidates must be >= 1 (or None for every eligible rep)")
        if self.disruption < 0:
            problems.append("disruption must be >= 0")
        if self.time_limit <= 0:
            problems.append("time_limit must be > 0 seconds")
        if not 0 <= self.gap < 1:
            problems.append("gap must be in [0, 1)")
        if self.strategy not in ("auto", "exact", "fix"):
            problems.append(f"strategy must be auto, exact or fix, got {self.strategy!r}")
        if self.distance_weight not in ("potential", "workload", "uniform"):
            problems.append(f"unknown distance_weight {self.distance_weight!r}")
        if self.max_distance is not None and self.max_distance <= 0:
            problems.append("max_distance must be > 0")
        cap = self.max_workload_hours
        caps = cap.values() if isinstance(cap, Mapping) else [] if cap is None else [cap]
        if any(c < 0 for c in caps):
            problems.append("max_workload_hours must be >= 0")
        if self.rep_shares and any(v <= 0 for v in self.rep_shares.values()):
            problems.append("rep_shares must be > 0")
        metrics = [b.metric for b in self.balance]
        if len(set(metrics)) != len(metrics):
            problems.append("a balance metric is given twice")
        if problems:
            raise InfeasibleInputError(problems, "invalid alignment options")

    @property
    def disruption_weight(self) -> float:
        """The disruption weight actually used (0 in carve mode)."""
        return 0.0 if self.mode == "carve" else self.disruption

    def solver_spec(self) -> SolverSpec:
        if isinstance(self.solver, SolverSpec):
            return self.solver
        return SolverSpec(name=self.solver, time_limit=self.time_limit, gap=self.gap)
