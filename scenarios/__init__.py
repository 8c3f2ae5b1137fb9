"""salesplan scenarios: the data layer every engine reads.

A :class:`Scenario` is one planning problem (horizon, regions, segments, products, funnel stages,
lead sources, reps, accounts, targets, policies, what-if variants), validated once into frozen
objects. Load files with :func:`load_scenario`; write them with :func:`dump_scenario`;
:func:`scenario_warnings` lists what a valid scenario may still get wrong (advisory, not errors).
"""

from .advisories import TERRITORY_ROUTINGS, scenario_warnings
from .distributions import Distribution, Empirical, Exponential, Fixed, Gamma, Lognormal
from .errors import SalesplanError, ScenarioError
from .examples import EXAMPLES
from .io import dump_scenario, load_scenario, loads_scenario, parse_scenario
from .levers import LEVERS, Lever, Variant
from .model import (
    Account,
    AttritionPolicy,
    Grade,
    Horizon,
    LeadSource,
    PipelineDeal,
    Policies,
    Product,
    Region,
    Rep,
    Scenario,
    Segment,
    SourcingPolicy,
    Stage,
    StageOverride,
    Targets,
)
from .references import Problem, check_references

__all__ = [
    "EXAMPLES",
    "LEVERS",
    "TERRITORY_ROUTINGS",
    "Account",
    "AttritionPolicy",
    "Distribution",
    "Empirical",
    "Exponential",
    "Fixed",
    "Gamma",
    "Grade",
    "Horizon",
    "LeadSource",
    "Lever",
    "Lognormal",
    "PipelineDeal",
    "Policies",
    "Problem",
    "Product",
    "Region",
    "Rep",
    "SalesplanError",
    "Scenario",
    "ScenarioError",
    "Segment",
    "SourcingPolicy",
    "Stage",
    "StageOverride",
    "Targets",
    "Variant",
    "check_references",
    "dump_scenario",
    "load_scenario",
    "loads_scenario",
    "parse_scenario",
    "scenario_warnings",
]
