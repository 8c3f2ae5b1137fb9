"""The whole-cycle models of the deals known at the cut: each deal's lifetime, the
competing-outcome model (won, lost, stalled), the Aalen-Johansen cumulative incidence, and, for a
one-stage funnel, the closing-hazard model of the open pipeline with its model error measured at
inner cuts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .cut import CutHistory
from .errors import CalibrationError
from .forecast_error import bias_correction, pipeline_model_error
from .hazards import ClosingHazards, fit_closing_hazards
from .incidence import CumulativeIncidence, aalen_johansen
from .outcomes import OutcomeFit, fit_outcomes

__all__ = ["CycleModels", "Lifetimes", "PipelineHazards", "deal_lifetimes", "fit_cycle",
           "fit_pipeline_hazards"]


@dataclass(frozen=True)
class Lifetimes:
    """Per deal known at the cut (the rows of ``CutHistory.deals``): ``days`` to close (won,
    lost) or age at the cut (open), in days, NaN without a created date; ``entry``: the
    left-truncation age in days (0: none, and for deals without a created date); ``outcome``:
    won, lost or open."""

    days: np.ndarray
    entry: np.ndarray
    outcome: np.ndarray


def deal_lifetimes(cut: CutHistory) -> Lifetimes:
    """The deals' :class:`Lifetimes`: open deals are censored at the cut; with a truncation
    date, a deal created before it enters at the age it had then."""
    d = cut.deals
    created = d["created_date"]
    age = (cut.cut - created).dt.days.astype(float)
    cycle = (d["close_date"] - created).dt.days.astype(float)
    t = np.where(d["outcome"].eq("open"), age, cycle)
    entry = np.zeros(len(d))
    if cut.truncation is not None:
        entry = np.maximum((cut.truncation - created).dt.days.fillna(0).to_numpy(dtype=float),
                           0.0)
    has_t = created.notna().to_numpy()
    return Lifetimes(days=np.where(has_t, t, np.nan), entry=np.where(has_t, entry, 0.0),
                     outcome=d["outcome"].to_numpy())


@dataclass
class CycleModels:
    """``lifetimes``; ``outcomes``: the competing-outcome model (None: a history export whose
    deals cannot support it; its stages then come from the stage history alone); ``cif``: the
    Aalen-Johansen cumulative incidence of won and lost; ``notes``."""

    lifetimes: Lifetimes
    outcomes: OutcomeFit | None
    cif: CumulativeIncidence
    notes: list[str] = field(default_factory=list)


def fit_cycle(cut: CutHistory) -> CycleModels:
    """Fit the whole cycle of the deals known at the cut; raise when a one-stage funnel's
    outcomes cannot be estimated (its only stage needs them)."""
    life = deal_lifetimes(cut)
    notes: list[str] = []
    if cut.truncation is not None:
        notes.append(f"left truncation: deals created before {cut.truncation.date()} enter the "
                     "likelihoods conditionally on lasting until then")
    outcomes: OutcomeFit | None
    try:
        outcomes = fit_outcomes(life.days, life.outcome, entry=life.entry)
    except ValueError as exc:
        if cut.flat:
            raise CalibrationError(f"outcomes and cycle times cannot be estimated before "
                                   f"{cut.cut.date()}: {exc}") from None
        outcomes = None
        notes.append(f"whole-cycle outcome model not fitted ({exc}); stages from history only")
    cif = aalen_johansen(life.days, life.outcome, life.entry)
    return CycleModels(lifetimes=life, outcomes=outcomes, cif=cif, notes=notes)


@dataclass
class PipelineHazards:
    """The closing-hazard model of a one-stage funnel, with its model error in
    ``model.model_error`` (None: a history export's funnel, or the model could not be fitted);
    ``notes``."""

    model: ClosingHazards | None
    notes: list[str] = field(default_factory=list)


def fit_pipeline_hazards(cut: CutHistory, deals: pd.DataFrame, *, pipeline_bias: bool
                         ) -> PipelineHazards:
    """Fit the closing-hazard model to ``deals`` (the deals known at the cut) for a one-stage
    funnel, then size its model error at inner cuts (:mod:`.forecast_error`);
    ``pipeline_bias``: apply the bias the inner cuts measured (see
    :func:`~.forecast_error.bias_correction`)."""
    if not cut.flat:
        return PipelineHazards(None)
    try:
        hazards = fit_closing_hazards(deals["created_date"], deals["close_date"],
                                      deals["outcome"].to_numpy(), cut.cut, cut.truncation)
    except ValueError as exc:
        return PipelineHazards(None, [f"closing-hazard model not fitted ({exc}): open deals "
                                      "keep the stage's conversion and duration"])
    notes = []
    left = {k: v for k, v in hazards.dropped.items() if v}
    if left:
        notes.append("closing-hazard model: left out " + ", ".join(
            f"{v} deals ({k.replace('_', ' ')})" for k, v in left.items()))
    if hazards.calendar_note:
        notes.append(f"closing-hazard model: {hazards.calendar_note}")
    if hazards.loss_rule:
        notes.append(f"closing-hazard model: {hazards.loss_rule['rule']}")
    notes += _size_model_error(hazards, deals, cut, pipeline_bias)
    return PipelineHazards(hazards, notes)


def _size_model_error(hazards: ClosingHazards, deals: pd.DataFrame, cut: CutHistory,
                      pipeline_bias: bool) -> list[str]:
    """Set ``hazards.model_error`` (with its bias correction) from inner cuts before the cut;
    the notes that say what was found."""
    hazards.model_error = me = pipeline_model_error(
        deals["created_date"], deals["close_date"], deals["outcome"].to_numpy(), cut.cut,
        cut.truncation, horizon_months=cut.horizon_months, calendar=hazards.calendar)
    me["bias_correction"], bias_note = bias_correction(me, pipeline_bias)
    notes = []
    if bias_note:
        notes.append(f"open-pipeline forecast: {bias_note}")
    if me.get("log_variance") is None:
        notes.append(f"open-pipeline forecast: model error {me['note']}")
        return notes
    notes.append("open-pipeline forecast: model error from "
                 f"{len(me['origins'])} inner cut(s) before the cut, log-sd "
                 f"{me['log_sd']:.3f} per entry-month cohort; drawn in the backtest's "
                 "parameter draws as frailties on P(won | open) of log-sd "
                 f"{math.sqrt(hazards.common_log_var):.3f} common to all cohorts and "
                 f"{math.sqrt(hazards.cohort_log_var):.3f} each cohort's own "
                 f"({me['split']})"
                 + (f"; {me['note']}" if me.get("note") else ""))
    return notes
