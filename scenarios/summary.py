"""A readable summary of a scenario: what ``salesplan describe`` shows.

All figures are computed from the scenario alone (no simulation): counts, sums, the funnel's
cumulative conversion (the product of stage rates, before grade, rep and queueing effects) and the
expected leads per month from the arrival-rate formula in :mod:`salesplan.scenarios.calendar`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .calendar import expected_leads_by_month, month_labels
from .model import Scenario

__all__ = ["ScenarioSummary", "summarise"]


@dataclass(frozen=True)
class ScenarioSummary:
    """Tables describing a scenario (see the column notes on each)."""

    headline: dict
    regions: pd.DataFrame
    """region, reps, accounts, potential (currency/yr), workload_hours (h/yr), leads_per_year."""
    stages: pd.DataFrame
    """stage, conversion, cumulative_conversion, mean_days (for a stage with durations by
    month of quarter, the mean of the three), cumulative_days."""
    leads_by_month: pd.DataFrame
    """month (YYYY-MM), expected_leads."""


def summarise(sc: Scenario) -> ScenarioSummary:
    months = month_labels(sc.horizon)
    leads = np.zeros(len(months))
    leads_by_region: dict[str, float] = dict.fromkeys(sc.region_ids, 0.0)
    for src in sc.lead_sources:
        per_month = expected_leads_by_month(src, sc.horizon)
        leads += per_month
        leads_by_region[src.region] += float(per_month.sum())

    rep_count = pd.Series([r.region for r in sc.reps]).value_counts()
    acc = pd.DataFrame(
        [(a.region, a.potential, a.workload_hours) for a in sc.accounts],
        columns=["region", "potential", "workload_hours"],
    )
    by_region = acc.groupby("region").agg(
        accounts=("potential", "size"), potential=("potential", "sum"),
        workload_hours=("workload_hours", "sum"))
    regions = pd.DataFrame({
        "region": sc.region_ids,
        "reps": [int(rep_count.get(r, 0)) for r in sc.region_ids],
        "accounts": [int(by_region["accounts"].get(r, 0)) for r in sc.region_ids],
        "potential": [float(by_region["potential"].get(r, 0.0)) for r in sc.region_ids],
        "workload_hours": [float(by_region["workload_hours"].get(r, 0.0)) for r in sc.region_ids],
        "leads_per_year": [leads_by_region[r] * 12 / max(len(months), 1) for r in sc.region_ids],
    })

    conv = np.array([s.conversion for s in sc.stages])
    # a stage with durations by month of quarter: the mean over the three months
    mean_days = np.array([np.mean([d.mean_value for d in s.duration_by_quarter_month])
                          if s.duration_by_quarter_month else s.duration.mean_value
                          for s in sc.stages])
    stages = pd.DataFrame({
        "stage": sc.stage_names,
        "conversion": conv,
        "cumulative_conversion": np.cumprod(conv),
        "mean_days": mean_days,
        "cumulative_days": np.cumsum(mean_days),
    })
    headline = {
        "name": sc.name,
        "horizon": f"{sc.horizon.start.isoformat()} + {sc.horizon.months} months",
        "currency": sc.horizon.currency,
        "regions": len(sc.regions),
        "segments": len(sc.segments),
        "products": len(sc.products),
        "stages": len(sc.stages),
        "reps": len(sc.reps),
        "accounts": len(sc.accounts),
        "lead_sources": len(sc.lead_sources),
        "expected_leads": float(leads.sum()),
        "win_rate_product_of_stages": float(conv.prod()),
        "target": sc.targets.company if sc.targets else None,
        "routing": sc.policies.routing,
        "variants": [v.name for v in sc.variants],
    }
    return ScenarioSummary(
        headline=headline,
        regions=regions,
        stages=stages,
        leads_by_month=pd.DataFrame({"month": months, "expected_leads": leads}),
    )
