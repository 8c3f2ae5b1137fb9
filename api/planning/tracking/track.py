"""``track``: actuals against plan at an as-of date, the landing with honest odds, the
baselines, the early warnings and the actions that would close the gap.

:func:`forecast` runs the parts a back-test needs (the state, the model, the simulation, the
forecast table); :func:`track` adds the risks and the actions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from salesplan.scenarios.crm.reader import History

from .forecast import forecast_table, landing_samples
from .landing import Draws, draw, simulate_landing
from .model import LandingModel, fit_landing_model
from .standing import open_pipeline
from .state import AsOfState, as_of_state
from .targets import check_targets

__all__ = ["Forecast", "TrackResult", "forecast", "track"]

DEFAULT_REPLICATIONS = 1000


@dataclass
class Forecast:
    """``state``, ``model``, ``draws``, ``targets`` (checked), ``won`` (``[R, cells,
    months]``), ``landing`` (``[R, targets]``), ``table`` (:mod:`.forecast`), ``pipeline``
    (the open deals, :func:`~.standing.open_pipeline`), ``seed``, ``notes``."""

    state: AsOfState
    model: LandingModel
    draws: Draws
    targets: pd.DataFrame
    won: np.ndarray
    landing: np.ndarray
    table: pd.DataFrame
    pipeline: pd.DataFrame
    seed: int
    notes: list[str] = field(default_factory=list)


@dataclass
class TrackResult:
    """A :class:`Forecast` with ``risks`` (:mod:`.risks`) and ``actions`` (:mod:`.actions`)."""

    forecast: Forecast
    risks: pd.DataFrame
    actions: pd.DataFrame


def tracked_months(targets: pd.DataFrame) -> list[pd.Period]:
    """Every calendar month from the earliest target period's start to the latest's end."""
    first = min(p.start for p in targets["period"])
    last = max(p.end for p in targets["period"])
    return list(pd.period_range(first, last, freq="M"))


def forecast(history: History, asof: str | pd.Timestamp, targets: pd.DataFrame, *,
             replications: int = DEFAULT_REPLICATIONS, seed: int = 0,
             reps: dict[str, str] | None = None) -> Forecast:
    """Where we stand and where we land for every target row (``targets`` from
    :func:`~.targets.read_targets`), as known at the end of day ``asof``; ``reps``: rep ->
    region from a plan."""
    state = as_of_state(history, asof, reps)
    check_targets(targets, state)
    targets = targets.reset_index(drop=True)
    model = fit_landing_model(state, tracked_months(targets))
    draws = draw(model, replications, seed)
    won = simulate_landing(model, draws)
    landing = landing_samples(state, model, won, targets)
    op = open_pipeline(state)
    table = forecast_table(state, model, targets, landing, op)
    return Forecast(state=state, model=model, draws=draws, targets=targets, won=won,
                    landing=landing, table=table, pipeline=op, seed=seed,
                    notes=state.notes + model.notes)


def track(history: History, asof: str | pd.Timestamp, targets: pd.DataFrame, *,
          replications: int = DEFAULT_REPLICATIONS, seed: int = 0,
          reps: dict[str, str] | None = None, max_actions: int = 12) -> TrackResult:
    """:func:`forecast`, then the risk list and the candidate actions (paired what-ifs on the
    same draws) for the riskiest targets."""
    from .actions import evaluate_actions
    from .risks import risk_list

    f = forecast(history, asof, targets, replications=replications, seed=seed, reps=reps)
    risks = risk_list(f)
    actions = evaluate_actions(f, risks, max_actions=max_actions)
    return TrackResult(forecast=f, risks=risks, actions=actions)
