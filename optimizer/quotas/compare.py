"""Every method side by side on the same simulated draws (what ``--compare-methods`` shows)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from salesplan.scenarios.model import Scenario

from .errors import QuotaError
from .methods import method_names

__all__ = ["COMPARE_COLUMNS", "compare_methods"]

COMPARE_COLUMNS = [
    "method", "target", "total_quota", "p_attain_spread", "p_attain_std", "p_attain_min",
    "p_attain_max", "expected_share_attaining", "expected_share_attaining_se",
    "quota_potential_gini", "quota_potential_cv", "attainment_size_corr", "worst_deviation",
    "seconds",
]


def compare_methods(scenario: Scenario, samples: object, methods: Sequence[str] | None = None,
                    **options: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Allocate with each method (default: every registered one) on the same ``samples`` and the
    same options; returns (one summary row per method, ``{method: QuotaPlan}``). A method that
    cannot run on this scenario (for example ``pipeline`` without open deals still runs, evenly,
    and says so in its notes) is reported in a ``error`` column instead of stopping the rest."""
    from .plan import allocate_quotas

    rows, plans = [], {}
    for name in methods or method_names():
        try:
            plan = allocate_quotas(scenario, name, samples=samples, **options)
        except QuotaError as exc:
            rows.append({"method": name, "error": str(exc)})
            continue
        plans[name] = plan
        row = {k: plan.summary.get(k) for k in COMPARE_COLUMNS}
        row["error"] = None
        row["notes"] = " | ".join(plan.notes)
        rows.append(row)
    return pd.DataFrame(rows).set_index("method"), plans
