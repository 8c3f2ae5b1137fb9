"""Calibrate a scenario from a CRM history: every estimate with its uncertainty, and the open
pipeline at the cut date as the scenario's initial pipeline.

Funnel identified from the data:

- **flat exports** (current stage only, e.g. Maven): one stage from the created/engaged date to
  the close. Its conversion is ``p_won`` of the competing-outcome model
  (:func:`~salesplan.simulator.calibration.outcomes.fit_outcomes`: won, lost, and, if the data
  call for it, a never-closing "stalled" share; open deals enter as censored, never as lost). Won
  and lost durations are fitted separately; the scenario stage uses the *won* duration, because
  the simulator draws one duration per stage for both outcomes and only won deals book money.
- **history exports** (stage changes with dates, e.g. Salesforce): one stage per open stage
  seen; conversion = advanced / (advanced + lost) among deals that left the stage (deals still
  in it are censored, not lost), with a Jeffreys interval; time in stage fitted with censoring.
  The whole cycle is also fitted with the competing-outcome model for the report.

The open pipeline at the cut: for a flat export, each open deal's chance of being won and its
remaining time depend on its age (an old open deal is likely stalled). The scenario model has
per-segment stage overrides but no per-deal parameters, so open deals are grouped into
entry-month cohorts, each a segment ``pipeline-YYYY-MM`` with a stage override holding
``P(won | open at the cut)`` and the won deals' remaining-time distribution.

:func:`calibrate` runs the steps, each in its own module and each returning a typed result
that the next steps read: :mod:`.cut` (the history as known at the cut, the horizon, the stale
rule of a won-only export),
:mod:`.cycle` (deal lifetimes, the competing-outcome model, the cumulative incidence, the
closing hazards and their model error), :mod:`.dimensions` (regions, segments, products,
teams), :mod:`.stages`, :mod:`.reps`, :mod:`.sourcing` (the rate of rep-sourced deals, where
the export says who sourced a deal), :mod:`.lead_sources` (arrivals of the other deals),
:mod:`.deal_sizes`, :mod:`.pipeline` (the open pipeline), :mod:`.group_rates` (win rates by
source and segment as odds multipliers); :mod:`.assemble` builds the scenario and the
estimates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from salesplan.scenarios.crm.reader import History
from salesplan.scenarios.model import Scenario

from .assemble import CalibrationParts, build_scenario, estimates_document
from .cut import cut_history, history_at
from .cycle import fit_cycle, fit_pipeline_hazards
from .deal_sizes import deal_sizes
from .dimensions import scenario_dimensions
from .documents import jsonable
from .errors import CalibrationError
from .estimators import ArrivalFit
from .group_rates import group_rates
from .hazards import ClosingHazards
from .incidence import CumulativeIncidence
from .lead_sources import arrival_window, lead_sources
from .outcomes import OutcomeFit
from .pipeline import open_pipeline
from .reps import rep_estimates
from .sourcing import RepSourcing, rep_sourcing
from .stages import funnel_stages

__all__ = ["Calibration", "CalibrationError", "calibrate", "calibration_parts", "history_at"]


@dataclass
class Calibration:
    """The calibrated scenario and every estimate behind it (``estimates`` is JSON-ready).

    ``outcomes``: the competing-outcome model (None: not fitted, history exports only);
    ``deals``: the deals known at the cut with their dimensions filled; ``reps``: per-rep
    productivity; ``arrivals``: one fit per lead source; ``stage_fits``: per stage of a history
    export; ``cif``: the cumulative incidence; ``hazards``: the closing-hazard model (flat
    exports)."""

    scenario: Scenario
    estimates: dict[str, Any]
    outcomes: OutcomeFit | None
    deals: pd.DataFrame
    reps: pd.DataFrame
    arrivals: list[ArrivalFit] = field(default_factory=list)
    stage_fits: dict[str, Any] = field(default_factory=dict)
    cif: CumulativeIncidence | None = None
    hazards: ClosingHazards | None = None
    sourcing: RepSourcing | None = None


def calibration_parts(history: History, cutoff: str | dt.date | pd.Timestamp | None = None,
                      *, horizon_months: int = 12, pipeline_bias: bool = True
                      ) -> CalibrationParts:
    """Run every step of :func:`calibrate` (same arguments) and return their results."""
    cut = cut_history(history, cutoff, horizon_months)
    cycle = fit_cycle(cut)
    dims = scenario_dimensions(cut.known)
    hazards = fit_pipeline_hazards(cut, dims.deals, pipeline_bias=pipeline_bias)
    stages = funnel_stages(cut, dims.deals, outcomes=cycle.outcomes, hazards=hazards.model)
    reps = rep_estimates(cut, dims)
    window = arrival_window(dims.deals["created_date"], cut.truncation, cut.cut)
    sourcing = rep_sourcing(cut, dims.deals, reps, window.full_months())
    sources = lead_sources(cut, dims.deals, rep_sourced=sourcing.deal_ids, window=window)
    sizes = deal_sizes(dims)
    pipeline = open_pipeline(cut, dims.deals, hazards=hazards.model, reps=set(reps.region_of),
                             stage_names=stages.names)
    groups = group_rates(dims.deals, flat=cut.flat, cut=cut.cut, rep_multipliers={
        d["id"]: d["productivity"] for d in reps.documents})
    return CalibrationParts(cut=cut, cycle=cycle, dims=dims, hazards=hazards, stages=stages,
                            sources=sources, sizes=sizes, reps=reps, pipeline=pipeline,
                            sourcing=sourcing, groups=groups)


def calibrate(history: History, cutoff: str | dt.date | pd.Timestamp | None = None,
              horizon_months: int = 12, name: str | None = None,
              currency: str = "USD", pipeline_bias: bool = True) -> Calibration:
    """Estimate a scenario from ``history`` as known at ``cutoff`` (default: the day after the
    export's last date). The horizon starts at the cut (rounded up to a first of month) and runs
    ``horizon_months``. ``pipeline_bias`` (flat exports with the closing-hazard model): scale
    every open-pipeline cohort's ``P(won | open)`` by the bias ratio the inner cuts measured
    (realised over forecast wins, :mod:`.forecast_error`); False keeps the model's forecast (the
    ratio is still reported). ``name``: the scenario's (default ``calibrated-<mapping>``);
    ``currency``: of the export's amounts."""
    parts = calibration_parts(history, cutoff, horizon_months=horizon_months,
                              pipeline_bias=pipeline_bias)
    scenario = build_scenario(parts, name=name, currency=currency)
    return Calibration(scenario, jsonable(estimates_document(parts)), parts.cycle.outcomes,
                       parts.dims.deals, parts.reps.frame, parts.sources.fits,
                       parts.stages.fits, parts.cycle.cif, parts.hazards.model,
                       parts.sourcing)
