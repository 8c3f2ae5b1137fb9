"""salesplan simulator: a SimPy discrete-event model of leads, reps and funnel stages, run as a
Monte Carlo with common random numbers.

``simulate(scenario, replications, seed)`` returns a :class:`SimulationResult` (tidy frames and a
summary with intervals). Routing strategies are looked up by name in ``ROUTING_STRATEGIES``, or
passed as instances. See ``docs/simulator.md`` for the model and its assumptions.
"""

from salesplan.stats import describe

from .plan import RAMP_START, Plan, compile_plan
from .replication import ReplicationOutput
from .results import SimulationResult
from .routing import (
    ROUTING_STRATEGIES,
    FunctionRouting,
    Lead,
    LeastLoaded,
    RoundRobin,
    RoutingError,
    RoutingState,
    RoutingStrategy,
    SkillMatch,
    TerritoryOwner,
    get_routing,
    register_routing,
    register_routing_function,
)
from .runner import SimulationError, simulate
from .streams import PURPOSES, replication_seed

__all__ = [
    "PURPOSES",
    "RAMP_START",
    "ROUTING_STRATEGIES",
    "FunctionRouting",
    "Lead",
    "LeastLoaded",
    "Plan",
    "ReplicationOutput",
    "RoundRobin",
    "RoutingError",
    "RoutingState",
    "RoutingStrategy",
    "SimulationError",
    "SimulationResult",
    "SkillMatch",
    "TerritoryOwner",
    "compile_plan",
    "describe",
    "get_routing",
    "register_routing",
    "register_routing_function",
    "replication_seed",
    "simulate",
]
