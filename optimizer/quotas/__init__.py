"""Quota and target allocation: the company target to regions, reps, products, segments and
periods, by a named method, under pins and bounds, with fairness measured by simulated
probability of attainment. See ``docs/quotas.md``.

    from salesplan.optimizer.quotas import allocate_quotas, Bounds
    plan = allocate_quotas(scenario, "fair", samples=bookings, over_assign=1.1,
                           bounds=Bounds(max_change=0.25), rounding=1000)
    plan.quotas, plan.reps, plan.summary   # reconciled on the way out
"""

from ..plots import plot_attainment
from .allocation import AllocationLevel, SolveInfo, make_solver, solve_allocation
from .bounds import DEFAULT_PEER_BAND, Bounds
from .compare import compare_methods
from .context import QuotaContext
from .decomposition import DIMENSIONS, parse_by
from .errors import (
    Conflict,
    InfeasibleQuotaError,
    PinsError,
    QuotaError,
    ReconcileError,
)
from .fair import as_samples, equal_chance_quotas, normal_fair_quotas
from .fairness import attainment, gini
from .methods import (
    DEFAULT_METHOD,
    Blended,
    Capacity,
    Even,
    Fair,
    History,
    Pipeline,
    Potential,
    ProportionalMethod,
    QuotaMethod,
    get_method,
    method_names,
    register_method,
    unregister_method,
)
from .pins import Pin, parse_pins, read_pins
from .plan import QUOTA_COLUMNS, QuotaPlan, allocate_quotas
from .reconcile import reconcile

__all__ = [
    "DEFAULT_METHOD",
    "DEFAULT_PEER_BAND",
    "DIMENSIONS",
    "QUOTA_COLUMNS",
    "AllocationLevel",
    "Blended",
    "Bounds",
    "Capacity",
    "Conflict",
    "Even",
    "Fair",
    "History",
    "InfeasibleQuotaError",
    "Pin",
    "PinsError",
    "Pipeline",
    "Potential",
    "ProportionalMethod",
    "QuotaContext",
    "QuotaError",
    "QuotaMethod",
    "QuotaPlan",
    "ReconcileError",
    "SolveInfo",
    "allocate_quotas",
    "as_samples",
    "attainment",
    "compare_methods",
    "equal_chance_quotas",
    "get_method",
    "gini",
    "make_solver",
    "method_names",
    "normal_fair_quotas",
    "parse_by",
    "parse_pins",
    "plot_attainment",
    "read_pins",
    "reconcile",
    "register_method",
    "solve_allocation",
    "unregister_method",
]
