"""Shared test fixtures, and the Hypothesis profiles.

Hypothesis runs under one of two profiles:

- ``ci`` (``.ci/run`` sets ``HYPOTHESIS_PROFILE=ci``; also the default when ``CI=true``):
  derandomized, no example database: the same examples on every run, so CI is deterministic;
- ``dev`` (the default elsewhere): random examples, with one seed for the whole session, printed
  in the header (``hypothesis seed: N``): re-run a failure with ``--hypothesis-seed=N`` or
  ``SALESPLAN_HYPOTHESIS_SEED=N``.
"""

from __future__ import annotations

import copy
import os
import random
from typing import Any

import pytest
from hypothesis import settings

from salesplan.scenarios import Scenario

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev", print_blob=True)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or (
    "ci" if os.environ.get("CI") == "true" else "dev")
settings.load_profile(PROFILE)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Under ``dev``, one random seed for the session (xdist workers inherit it through the
    environment), unless ``--hypothesis-seed`` gives one."""
    if PROFILE != "dev" or getattr(config.option, "hypothesis_seed", None) is not None:
        return
    seed = os.environ.setdefault("SALESPLAN_HYPOTHESIS_SEED",
                                 str(random.SystemRandom().randrange(2**32)))
    config.option.hypothesis_seed = seed


def pytest_report_header(config: pytest.Config) -> str:
    seed = getattr(config.option, "hypothesis_seed", None)
    return (f"hypothesis profile: {PROFILE}"
            + (f"; hypothesis seed: {seed} (re-run with --hypothesis-seed={seed})"
               if seed is not None else " (derandomized)"))

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


@pytest.fixture(scope="module")
def cluster():
    """A local Dask cluster of two worker processes of one thread each (``_dask_cluster``), one
    per test module that asks for it."""
    from _dask_cluster import local_cluster

    lc = local_cluster(n_workers=2)
    try:
        yield lc
    finally:
        lc.close()


@pytest.fixture(scope="module")
def dask_client(cluster):
    """A client of :func:`cluster` (not the process's default client)."""
    import distributed

    with distributed.Client(cluster.scheduler_address, set_as_default=False) as c:
        yield c
