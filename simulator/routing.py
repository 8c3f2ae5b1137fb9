"""Lead routing strategies: one small class per strategy behind one interface, chosen by name.

A strategy answers one question: to which rep does this lead go? The engine hands it the lead,
the *candidates* (the reps eligible right now: same region as the lead, serving its segment,
started and not departed; a tuple of rep indices in scenario order, never empty) and the
:class:`RoutingState` (current time, each rep's load, the scenario's reps, a per-replication
scratch dict and the replication's routing random generator). It returns one of the candidates.
Ineligible reps are never offered, so they can never be chosen; a strategy that returns anything
else is a bug and raises :class:`RoutingError`.

Register your own with :func:`register_routing` or pass an instance to ``simulate(routing=...)``;
instances must be picklable (plain classes are) to run in worker processes. Keep per-run memory in
``state.memory``, not on the instance, so that replications stay independent.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from salesplan.scenarios.errors import SalesplanError
from salesplan.scenarios.model import Rep

__all__ = [
    "ROUTING_STRATEGIES",
    "FunctionRouting",
    "Lead",
    "LeastLoaded",
    "RoundRobin",
    "RoutingError",
    "RoutingState",
    "RoutingStrategy",
    "SkillMatch",
    "TerritoryOwner",
    "get_routing",
    "least_loaded",
    "register_routing",
    "register_routing_function",
]


class RoutingError(SalesplanError):
    """An unknown routing strategy, or a strategy that chose an ineligible rep."""


@dataclass(frozen=True, slots=True)
class Lead:
    """What a strategy may know about a lead. ``arrival_date`` in days since horizon start;
    ``owner`` is the rep index owning the lead's account (None: no account or no owner)."""

    index: int
    arrival_date: float
    source: str
    region: str
    segment: str
    product: str
    grade: str
    account: str | None
    owner: int | None


class RoutingState:
    """The simulation state a strategy may read. ``load(rep)`` is the number of deals the rep
    has open or queued at ``time`` (days); ``rep_load(rep, time)`` is the engine's count
    (:meth:`salesplan.simulator.reps.Desk.load`)."""

    def __init__(self, reps: list[Rep], rep_load: Callable[[int, float], int],
                 rng: np.random.Generator):
        self.reps = reps
        self.rep_ids = [r.id for r in reps]
        self._rep_load = rep_load
        self.rng = rng
        self.time = 0.0
        self.memory: dict[Any, Any] = {}

    def load(self, rep: int) -> int:
        return self._rep_load(rep, self.time)


class RoutingStrategy(ABC):
    """Base class. ``owner_first = True`` declares that an eligible account owner is always
    chosen; the engine then skips the call for such leads (a speed-up, same result)."""

    name: ClassVar[str] = ""
    owner_first: ClassVar[bool] = False

    @abstractmethod
    def choose(self, lead: Lead, candidates: tuple[int, ...], state: RoutingState) -> int:
        """Return one of ``candidates`` (rep indices)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def least_loaded(candidates: tuple[int, ...], load: Callable[[int], int]) -> int:
    """The candidate with the smallest ``load(rep)`` (ties: the earlier rep in scenario order).
    The one least-loaded choice: routing strategies and the engine's reassignments use it."""
    best, best_load = candidates[0], load(candidates[0])
    for r in candidates[1:]:
        n = load(r)
        if n < best_load:
            best, best_load = r, n
    return best


class LeastLoaded(RoutingStrategy):
    """The candidate with the fewest open or queued deals (ties: scenario order)."""

    name = "least_loaded"

    def choose(self, lead: Lead, candidates: tuple[int, ...], state: RoutingState) -> int:
        return least_loaded(candidates, state.load)


class TerritoryOwner(RoutingStrategy):
    """The account's owner; if there is none, or the owner is not eligible (absent, departed,
    other region, not serving the segment), the least-loaded candidate."""

    name = "territory_owner"
    owner_first = True

    def choose(self, lead: Lead, candidates: tuple[int, ...], state: RoutingState) -> int:
        if lead.owner is not None and lead.owner in candidates:
            return lead.owner
        return least_loaded(candidates, state.load)


class RoundRobin(RoutingStrategy):
    """Turn by turn within the region: the next candidate after the region's last choice, in
    scenario order (wrapping around)."""

    name = "round_robin"

    def choose(self, lead: Lead, candidates: tuple[int, ...], state: RoutingState) -> int:
        key = ("round_robin", lead.region)
        last = state.memory.get(key, -1)
        pick = next((r for r in candidates if r > last), candidates[0])
        state.memory[key] = pick
        return pick


class SkillMatch(RoutingStrategy):
    """Best segment-skill match, then least loaded: a rep whose only skill is the lead's segment
    beats one listing several, which beats a generalist (no listed skills)."""

    name = "skill_match"

    def choose(self, lead: Lead, candidates: tuple[int, ...], state: RoutingState) -> int:
        def score(r: int) -> int:
            segs = state.reps[r].segments
            if not segs:
                return 0
            return 2 if len(segs) == 1 else 1

        top = max(score(r) for r in candidates)
        return least_loaded(tuple(r for r in candidates if score(r) == top), state.load)


class FunctionRouting(RoutingStrategy):
    """A strategy from a plain function ``fn(lead, candidates, state) -> rep index``, for
    researchers who would rather not write a class. ``fn`` must be a module-level function to
    reach worker processes (a Dask cluster also ships lambdas and closures)."""

    def __init__(self, name: str, fn: Callable[[Lead, tuple[int, ...], RoutingState], int]):
        if not name:
            raise RoutingError("a routing function needs a non-empty name")
        if not callable(fn):
            raise RoutingError(f"routing {name!r}: {fn!r} is not callable")
        self.name = name  # type: ignore[misc] - per-instance name
        self.fn = fn

    def choose(self, lead: Lead, candidates: tuple[int, ...], state: RoutingState) -> int:
        return self.fn(lead, candidates, state)

    def __repr__(self) -> str:
        return f"FunctionRouting({self.name!r}, {getattr(self.fn, '__name__', self.fn)!r})"


ROUTING_STRATEGIES: dict[str, type[RoutingStrategy] | Callable[[], RoutingStrategy]] = {}


def register_routing(cls: type[RoutingStrategy]) -> type[RoutingStrategy]:
    """Add a strategy class to the registry under ``cls.name`` (usable as a decorator)."""
    if not isinstance(cls, type) or not issubclass(cls, RoutingStrategy):
        raise RoutingError(f"{cls!r} is not a RoutingStrategy class (for a plain function use "
                           "register_routing_function)")
    if not cls.name:
        raise RoutingError(f"{cls.__name__} needs a non-empty `name`")
    ROUTING_STRATEGIES[cls.name] = cls
    return cls


def register_routing_function(name: str, fn: Callable[[Lead, tuple[int, ...], RoutingState],
                                                     int]) -> FunctionRouting:
    """Register ``fn(lead, candidates, state) -> rep index`` under ``name``; returns the
    strategy instance (pass it to ``simulate(routing=...)`` or a benchmark sweep). The one
    instance is shared by every run in this process: keep per-run memory in ``state.memory``,
    never in ``fn``'s closure or globals, or in-process and worker-process runs will differ."""
    strategy = FunctionRouting(name, fn)
    ROUTING_STRATEGIES[name] = lambda: strategy
    return strategy


for _cls in (TerritoryOwner, RoundRobin, LeastLoaded, SkillMatch):
    register_routing(_cls)


def get_routing(routing: str | RoutingStrategy) -> RoutingStrategy:
    """A strategy instance from a registered name (or the instance itself)."""
    if isinstance(routing, RoutingStrategy):
        return routing
    cls = ROUTING_STRATEGIES.get(routing)
    if cls is None:
        known = ", ".join(sorted(ROUTING_STRATEGIES))
        raise RoutingError(f"unknown routing strategy {routing!r} (registered: {known})")
    return cls()
