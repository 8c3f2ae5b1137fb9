"""Shared test fixtures."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from salesplan.scenarios import Scenario

_BASE: dict[str, Any] = {
    "name": "sim-test",
    "horizon": {"start": "2027-01-01", "months": 12},
    "regions": [{"id": "N"}],
    "segments": [{"id": "SMB"}],
    "products": [{"id": "p", "list_price": 1000.0}],
    "stages": [{"name": "s1", "conversion": 0.5,
                "duration": {"dist": "exponential", "mean": 5.0}}],
    "lead_sources": [{"id": "src", "region": "N", "segment": "SMB", "leads_per_month": 100.0}],
    "reps": [{"id": "R1", "region": "N", "capacity": 100000}],
}


def build_scenario(**sections: Any) -> Scenario:
    """A small valid scenario; each keyword replaces one top-level section."""
    data = copy.deepcopy(_BASE)
    data.update(copy.deepcopy(sections))
    return Scenario.model_validate(data)


@pytest.fixture
def make_scenario():
    """``make_scenario(stages=[...], reps=[...])``: a scenario built from a small base dict."""
    return build_scenario
