"""Results that sharpen as replications finish: a what-if run in rounds reports its estimates
after each round, and ends with exactly the comparison of a run in one go; the service shows a
running run's estimates as its ``partial`` (issue #20).

The rounds rest on the simulator's ``first``: replications ``first..`` of a seed are those a
longer run ends with, so rounds put together are one run.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from pydantic import BaseModel, ConfigDict
from test_service_support import EXAMPLES, all_kinds, create_small, make_app, new_key, wait_final

from salesplan.api.planning.whatif import PARTIAL_ROUNDS, rounds, run_whatif
from salesplan.api.service.kinds import Kind, RunOutput, run_whatif_kind
from salesplan.scenarios.io import load_scenario
from salesplan.simulator import simulate
from salesplan.simulator.runner import SimulationError


@pytest.fixture(scope="module")
def small():
    return load_scenario(EXAMPLES / "small.yaml")


def test_replications_from_first_are_the_tail_of_a_longer_run(small):
    whole = simulate(small, 7, seed=11, workers=1, keep_deals=0)
    head = simulate(small, 3, seed=11, workers=1, keep_deals=0)
    tail = simulate(small, 4, seed=11, workers=1, keep_deals=0, first=3)
    assert [o.index for o in tail.outputs] == [3, 4, 5, 6]
    for a, b in zip(whole.outputs, head.outputs + tail.outputs, strict=True):
        assert a.index == b.index
        np.testing.assert_array_equal(a.bookings, b.bookings)
    with pytest.raises(SimulationError, match="first must be >= 0, got -1"):
        simulate(small, 2, seed=0, workers=1, first=-1)


@pytest.mark.parametrize("n", [2, 3, 8, 9, 200, 513, 2000])
def test_rounds_increase_to_the_total(n):
    r = rounds(n)
    assert r[-1] == n and r == sorted(set(r))
    assert all(k in PARTIAL_ROUNDS for k in r[:-1]) and r[0] >= 2


def test_a_run_in_rounds_is_the_run_in_one_go_and_its_last_estimates_are_its_result(small):
    seen: list[dict] = []
    in_rounds = run_whatif(small, replications=10, seed=3, workers=1, partial=seen.append)
    at_once = run_whatif(small, replications=10, seed=3, workers=1)
    dump = lambda c: json.dumps(c.summary(), default=str)  # noqa: E731
    assert dump(in_rounds) == dump(at_once)
    assert [p["replications_done"] for p in seen] == [2, 8, 10]
    final = at_once.summary()["variants"]
    for name, v in seen[-1]["variants"].items():
        assert v["p_hit"] == final[name]["p_hit_target"]
        assert v["bookings_mean"] == pytest.approx(final[name]["bookings_mean"], rel=1e-12)
        assert v["diff_vs_base_ci95"] == pytest.approx(final[name]["diff_vs_base_ci95"])
    # the first round's estimates are those of a 2-replication run
    two = run_whatif(small, replications=2, seed=3, workers=1).summary()["variants"]
    assert {n: v["p_hit"] for n, v in seen[0]["variants"].items()} == {
        n: v["p_hit_target"] for n, v in two.items()}
    lo, hi = seen[0]["variants"]["base"]["p_hit_ci95"]
    assert 0 <= lo <= seen[0]["variants"]["base"]["p_hit"] <= hi <= 1


def test_the_whatif_kind_sends_its_estimates_with_its_progress(small):
    calls: list[tuple] = []
    run_whatif_kind(small, {"replications": 9, "seed": 1},
                    lambda *args, **kw: calls.append((*args, kw.get("partial"))))
    sent = [c for c in calls if len(c) > 2 and c[2] is not None]
    assert [c[2]["replications_done"] for c in sent] == [2, 8, 9]
    assert [c[0] for c in sent] == [pytest.approx(2 / 9), pytest.approx(8 / 9), 1.0]
    assert sent[0][1] == "estimates from 2 of 9 replications"


class _Steps(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hold: float = 30.0


def estimates_then_wait(scenario, options: dict, progress) -> RunOutput:
    """Test kind: one set of estimates, then wait (until cancelled or ``hold`` seconds)."""
    progress(0.25, "estimates from 1 of 4", {"replications_done": 1, "p": 0.5})
    deadline = time.monotonic() + options.get("hold", 30.0)
    while time.monotonic() < deadline:
        time.sleep(0.05)
    return RunOutput(result={"done": True})


def test_the_service_shows_a_running_runs_estimates_and_drops_them_when_it_ends(tmp_path):
    from fastapi.testclient import TestClient

    from salesplan.api.service.deps import get_kinds

    app = make_app(tmp_path)
    app.dependency_overrides[get_kinds] = lambda: {
        **all_kinds(), "estimates": Kind("estimates", _Steps, estimates_then_wait, "test")}
    headers = {"X-API-Key": new_key(app)}
    with TestClient(app) as client:
        sid = create_small(client, headers)
        run = client.post("/v1/runs", headers=headers, json={
            "scenario_id": sid, "kind": "estimates", "options": {"hold": 0.6}}).json()
        deadline = time.monotonic() + 30
        while True:
            body = client.get(f"/v1/runs/{run['id']}", headers=headers).json()
            if body["partial"] is not None:
                break
            assert body["status"] in ("queued", "running"), body
            assert time.monotonic() < deadline, body
            time.sleep(0.05)
        assert body["status"] == "running"
        assert body["partial"] == {"replications_done": 1, "p": 0.5}
        # listings never carry them; a finished run has its result instead
        listed = client.get("/v1/runs", headers=headers).json()["data"]
        assert all(r["partial"] is None for r in listed)
        done = wait_final(client, headers, run["id"])
        assert done["status"] == "succeeded" and done["partial"] is None
