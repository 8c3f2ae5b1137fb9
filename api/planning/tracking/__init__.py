"""Performance control during the period (issue #21): actuals against plan at an as-of date, a
re-forecast with honest odds, early warnings and the actions that close the gap.

Composes the CRM reader (:mod:`salesplan.scenarios.crm`) and the calibration's closing-hazard
model and its model error (:mod:`salesplan.simulator.calibration`). The modules, in the order a
run uses them: :mod:`.periods` and :mod:`.targets` (what to track against), :mod:`.state` (the
history at the as-of date, in cells that add up), :mod:`.standing` (where we stand),
:mod:`.model` and :mod:`.landing` (where we land, on common random numbers),
:mod:`.baselines`, :mod:`.forecast` (the table), :mod:`.risks` (early warnings),
:mod:`.actions` (paired what-ifs), :mod:`.track` (runs them) and :mod:`.output` (the files).
"""

from .errors import TrackingError
from .periods import Period, parse_period
from .targets import read_targets
from .track import Forecast, TrackResult, forecast, track

__all__ = ["Forecast", "Period", "TrackResult", "TrackingError", "forecast", "parse_period",
           "read_targets", "track"]
