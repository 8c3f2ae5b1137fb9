"""salesplan optimisers: territory alignment (:mod:`salesplan.optimizer.territory`) and quota
allocation (:mod:`salesplan.optimizer.quotas`); their public APIs are re-exported here. Engines
import only :mod:`scenarios` (never ``simulator`` or ``api``)."""

from .highs_banner import silence_highs_banner
from .quotas import (
    Bounds,
    InfeasibleQuotaError,
    Pin,
    PinsError,
    QuotaError,
    QuotaPlan,
    allocate_quotas,
    compare_methods,
    method_names,
    plot_attainment,
    read_pins,
    reconcile,
    register_method,
)
from .territory import *  # noqa: F403
from .territory import __all__ as _territory_all

__all__ = [
    *_territory_all,
    "Bounds",
    "InfeasibleQuotaError",
    "Pin",
    "PinsError",
    "QuotaError",
    "QuotaPlan",
    "allocate_quotas",
    "compare_methods",
    "method_names",
    "plot_attainment",
    "read_pins",
    "reconcile",
    "register_method",
    "silence_highs_banner",
]
