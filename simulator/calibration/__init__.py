"""Calibration from CRM history and backtesting (beside the simulator).

- :func:`calibrate`: a :class:`~salesplan.scenarios.crm.reader.History` -> :class:`Calibration`
  (a validated scenario and every estimate with its uncertainty);
- :func:`backtest`: calibrate before a cut, simulate after it, compare with what happened;
- the steps of :func:`calibrate`, one module each: :mod:`.cut`, :mod:`.cycle`,
  :mod:`.dimensions`, :mod:`.stages`, :mod:`.reps`, :mod:`.sourcing` (rep-sourced deals),
  :mod:`.lead_sources`, :mod:`.deal_sizes`, :mod:`.pipeline`, :mod:`.group_rates` (win rates
  by source and segment), :mod:`.assemble` (see :mod:`.calibrate`);
- :mod:`.shapes`: generated histories with known parameters in the shapes real exports come in
  (won-only, losses at one age, zero amounts, data that ends early, rates by source);
- the models: :mod:`.fits` (censored/truncated lognormal and gamma duration fits),
  :mod:`.outcomes` (the competing-outcome model), :mod:`.incidence` (Aalen-Johansen cumulative
  incidence); :mod:`.estimators`: arrivals, deal sizes, rep productivity (empirical Bayes);
  :mod:`.hazards`: the closing-hazard model of the open pipeline; :mod:`.forecast_error`: its
  model error from inner cuts before the cut;
- the backtest's parts: :mod:`.draws` (parameter draws), :mod:`.coverage` (the Monte Carlo error
  of the coverage); :mod:`.report`: JSON and HTML.

Imports ``scenarios``, numpy, scipy and pandas only (and the simulator's public ``simulate`` for
the backtest); never ``api``.
"""

from .backtest import BacktestResult, backtest
from .calibrate import Calibration, CalibrationError, calibrate, history_at
from .estimators import ArrivalFit, fit_arrivals, fit_deal_size, jeffreys_interval, rep_productivity
from .fits import DurationFit, fit_duration, kaplan_meier
from .forecast_error import pipeline_model_error
from .hazards import ClosingHazards, fit_closing_hazards
from .incidence import CumulativeIncidence, aalen_johansen
from .outcomes import OutcomeFit, fit_outcomes
from .report import write_backtest, write_calibration

__all__ = [
    "ArrivalFit",
    "BacktestResult",
    "Calibration",
    "CalibrationError",
    "ClosingHazards",
    "CumulativeIncidence",
    "DurationFit",
    "OutcomeFit",
    "aalen_johansen",
    "backtest",
    "calibrate",
    "fit_arrivals",
    "fit_closing_hazards",
    "fit_deal_size",
    "fit_duration",
    "fit_outcomes",
    "history_at",
    "jeffreys_interval",
    "kaplan_meier",
    "pipeline_model_error",
    "rep_productivity",
    "write_backtest",
    "write_calibration",
]
