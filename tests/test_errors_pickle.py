"""User errors keep their message across a trip to and from a worker process (pickle), so a
sweep or simulation that fails in a worker reports the same planner-worded text."""

from __future__ import annotations

import pickle

import pytest

from salesplan.api.bench.sweep import SweepError
from salesplan.optimizer import InfeasibleInputError, InfeasiblePlanError, NoSolutionError
from salesplan.optimizer.quotas import InfeasibleQuotaError, PinsError, ReconcileError
from salesplan.optimizer.quotas.errors import Conflict
from salesplan.scenarios.errors import ScenarioError
from salesplan.simulator import RoutingError, SimulationError

ERRORS = [
    InfeasibleInputError(["account A-1 alone exceeds the band", "widen it"]),
    InfeasiblePlanError(["relax the potential band"], "custom headline"),
    NoSolutionError(["raise the time limit"]),
    InfeasibleQuotaError([Conflict("region East", "pins exceed the target", 1000.0)]),
    PinsError(["line 3: unknown rep"], source="pins.csv"),
    ReconcileError(["region East: 1 != 2"]),
    ScenarioError(["reps[0].capacity: -1 is not >= 1"], source="s.yaml"),
    SimulationError("replications must be >= 1, got 0"),
    RoutingError("unknown routing strategy 'x'"),
    SweepError("cannot reach the Dask scheduler"),
]


@pytest.mark.parametrize("error", ERRORS, ids=[type(e).__name__ for e in ERRORS])
def test_user_errors_survive_pickling(error):
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error)
    assert str(again) == str(error)
