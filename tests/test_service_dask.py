"""The service and the engines on a Dask cluster (``SALESPLAN_DASK_SCHEDULER``): a
``distributed.LocalCluster`` of two single-threaded worker processes on loopback, started once
for the module.

- the engines' executor seam: a simulation and a what-if through the cluster's executor equal
  the in-process ones bit for bit;
- the service pointed at the cluster: a simulate and a whatif run equal, JSON and CSV byte for
  byte, the same runs of the local process pool, and their replications ran as cluster tasks;
- cancel: progress moves, ``DELETE`` cancels the run's Dask future, and the run task and its
  replication chunks stop on the workers;
- shutdown: stopping the server mid-run re-queues the run and leaves nothing executing on the
  cluster;
- a worker that dies mid-run: Dask runs the task again elsewhere, the message says so, and the
  result is the same;
- settings: a malformed address is refused naming the field, an unreachable scheduler gets a
  plain message.
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from test_service_support import (
    EXAMPLES,
    client_for,
    create_small,
    make_app,
    new_key,
    wait_final,
    wait_status,
)

distributed = pytest.importorskip("distributed")

from _dask_cluster import executing, wait_idle  # noqa: E402

from salesplan.api.service.cluster import TOPIC  # noqa: E402


def _outputs(client, h, run_id: int) -> dict:
    """Everything a run produced: its result JSON and each table's CSV text."""
    body = client.get(f"/v1/runs/{run_id}/result", headers=h).json()
    tables = {name: client.get(f"/v1/runs/{run_id}/tables/{name}", headers=h).text
              for name in body["tables"]}
    return {"result": body["result"], "tables": tables}


def _submit(client, h, sid: int, kind: str, options: dict) -> int:
    r = client.post("/v1/runs", json={"scenario_id": sid, "kind": kind, "options": options},
                    headers=h)
    assert r.status_code == 202, r.text
    return r.json()["id"]


RUNS = [("simulate", {"replications": 24, "seed": 5, "keep_deals": 1}),
        ("whatif", {"replications": 6, "seed": 2})]


def _run_all(client, h) -> list[dict]:
    sid = create_small(client, h)
    ids = [_submit(client, h, sid, kind, options) for kind, options in RUNS]
    for rid in ids:
        body = wait_final(client, h, rid, timeout=120)
        assert body["status"] == "succeeded", body
    return [_outputs(client, h, rid) for rid in ids]


# ---- the engines' seam --------------------------------------------------------------------------

def test_simulate_and_whatif_through_the_cluster_executor_equal_in_process(dask_client):
    from salesplan.api.planning.whatif import run_whatif
    from salesplan.scenarios.io import load_scenario
    from salesplan.simulator import simulate

    small = load_scenario(EXAMPLES / "small.yaml")
    executor = dask_client.get_executor(pure=False)
    here = simulate(small, 12, 7, workers=1, keep_deals=2)
    there = simulate(small, 12, 7, workers=2, executor=executor, keep_deals=2)
    for frame in ("bookings", "reps", "funnel", "deals"):
        a, b = getattr(here, frame), getattr(there, frame)
        assert a.equals(b), frame
    assert repr(here.summary) == repr(there.summary)  # repr: NaN equals NaN

    a = run_whatif(small, replications=4, seed=1, workers=1)
    b = run_whatif(small, replications=4, seed=1, workers=2, executor=executor)
    assert a.table().equals(b.table()) and a.rep_table().equals(b.rep_table())


def _without_timings(value):
    """``value`` without the wall-clock fields (``seconds``: solver and run times), in the
    CLI's JSON files (``summary.json``) too."""
    if isinstance(value, dict):
        return {k: _without_timings(json.loads(v) if k.endswith(".json")
                                    and isinstance(v, bytes) else v)
                for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


@pytest.mark.parametrize(("kind", "options"), [
    ("quotas", {"replications": 6, "seed": 1}),
    ("comp", {"replications": 6, "seed": 1}),
    ("plan-headcount", {"replications": 10, "seed": 1, "max_hires": 3}),
])
def test_every_kind_that_fans_out_gives_the_same_output_on_the_cluster(dask_client, kind,
                                                                        options):
    """The kinds' seam (``run_replications``) with the cluster's executor, as a run task sets
    it, against the default (in process, as in a local run process): the same output but for
    the wall-clock fields."""
    import json

    from salesplan.api.executors import Replications, StoppableExecutor, replications_on
    from salesplan.api.service.kinds import KINDS
    from salesplan.api.service.runproc import execute
    from salesplan.scenarios.io import loads_scenario

    tables = {"small_accounts.csv": (EXAMPLES / "small_accounts.csv").read_text()}
    scenario = loads_scenario((EXAMPLES / "small.yaml").read_text(), "yaml", tables=tables,
                              source="small.yaml")
    document = json.loads(scenario.model_dump_json())
    full = KINDS[kind].options.model_validate(options).model_dump(mode="json")
    outcomes: list[tuple] = []

    def keep(message: tuple) -> None:
        if message[0] != "progress":
            outcomes.append(message)

    execute(KINDS[kind].run, document, tables, full, keep)
    executor = StoppableExecutor(dask_client.get_executor(pure=False))
    with distributed.get_task_stream(dask_client) as stream, \
            replications_on(Replications(executor, 2)):
        execute(KINDS[kind].run, document, tables, full, keep)
    here, there = outcomes
    # the replications did go to the cluster
    assert any(str(t["key"]).startswith("_run_chunk") for t in stream.data)
    assert here[0] == there[0] == "done", outcomes
    assert _without_timings(here[1]) == _without_timings(there[1])


# ---- the service on the cluster ----------------------------------------------------------------

@pytest.mark.slow
def test_service_runs_on_the_cluster_equal_the_local_pool(tmp_path, cluster, dask_client):
    with distributed.get_task_stream(dask_client) as stream, client_for(
            tmp_path / "dask", dask_scheduler=cluster.scheduler_address) as (client, h):
        on_cluster = _run_all(client, h)
    with client_for(tmp_path / "local") as (client, h):
        local = _run_all(client, h)
    assert on_cluster == local
    prefixes = {str(t["key"]).split("-")[0] for t in stream.data}
    # the runs were cluster tasks, and so were their replication chunks
    assert {"salesplan", "_run_chunk"} <= prefixes, prefixes


@pytest.mark.slow
def test_cancel_stops_the_run_on_the_cluster(tmp_path, cluster, dask_client):
    with client_for(tmp_path, dask_scheduler=cluster.scheduler_address) as (client, h):
        sid = create_small(client, h)
        rid = _submit(client, h, sid, "simulate", {"replications": 2000, "keep_deals": 0})
        deadline = time.monotonic() + 60
        while (body := client.get(f"/v1/runs/{rid}", headers=h).json())["progress"] <= 0:
            assert body["status"] in ("queued", "running"), body
            assert time.monotonic() < deadline, body
            time.sleep(0.05)
        assert body["status"] == "running" and 0 < body["progress"] < 1
        assert client.delete(f"/v1/runs/{rid}", headers=h).status_code == 200
        wait_idle(dask_client)
        body = wait_final(client, h, rid)
        assert body["status"] == "cancelled" and body["progress"] < 1
        pool = client.app.state.pool
        assert pool.active == [] and pool.cluster.executing() == []
        # the cluster is free for the next run
        rid2 = _submit(client, h, sid, "simulate", {"replications": 4})
        assert wait_final(client, h, rid2)["status"] == "succeeded"


@pytest.mark.slow
def test_shutdown_requeues_and_leaves_nothing_running(tmp_path, cluster, dask_client):
    from fastapi.testclient import TestClient

    from salesplan.api.service.db import Run

    app = make_app(tmp_path, dask_scheduler=cluster.scheduler_address)
    h = {"X-API-Key": new_key(app)}
    with TestClient(app) as client:
        sid = create_small(client, h)
        rid = _submit(client, h, sid, "simulate", {"replications": 2000, "keep_deals": 0})
        wait_status(client, h, rid, "running")
        deadline = time.monotonic() + 60
        while not any(k.startswith("salesplan-run-") for k in executing(dask_client)):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    # the app's shutdown returned: its run task has ended, and so do its last chunks
    assert not [k for k in executing(dask_client) if k.startswith("salesplan-run-")]
    wait_idle(dask_client, timeout=10)
    with app.state.db.session() as s:
        row = s.get(Run, rid)
        assert (row.status, row.attempts) == ("queued", 1) and "server stopped" in row.message

    # a restarted server takes the run up again on the cluster (its second attempt)
    app2 = make_app(tmp_path, dask_scheduler=cluster.scheduler_address)
    with TestClient(app2) as client:
        body = wait_status(client, h, rid, "running")
        assert body["attempts"] == 2
        assert client.delete(f"/v1/runs/{rid}", headers=h).status_code == 200
        assert wait_final(client, h, rid)["status"] == "cancelled"
    wait_idle(dask_client, timeout=10)


@pytest.mark.slow
def test_a_worker_that_dies_mid_run_is_replaced_and_the_result_is_the_same(
        tmp_path, cluster, dask_client):
    options = {"replications": 300, "seed": 11, "keep_deals": 0}
    with client_for(tmp_path, dask_scheduler=cluster.scheduler_address) as (client, h):
        sid = create_small(client, h)
        rid = _submit(client, h, sid, "simulate", options)
        job = f"{client.app.state.pool.cluster.prefix}{rid}-1"
        deadline = time.monotonic() + 60
        host = None
        while host is None:
            assert time.monotonic() < deadline
            events = dask_client.get_events(TOPIC)
            host = next((m["worker"] for _, m in events
                         if m.get("event") == "started" and m["job"] == job), None)
            time.sleep(0.05)
        pid = dask_client.run(os.getpid, workers=[host])[host]
        os.kill(pid, signal.SIGKILL)
        messages = set()
        while (body := client.get(f"/v1/runs/{rid}", headers=h).json())["status"] == "running":
            messages.add(body["message"])
            time.sleep(0.05)
        assert body["status"] == "succeeded", body
        assert any("restarted on Dask worker tcp://" in m and f"running it ({host}) died" in m
                   for m in messages), messages
        killed = _outputs(client, h, rid)
        rid2 = _submit(client, h, sid, "simulate", options)
        assert wait_final(client, h, rid2)["status"] == "succeeded"
        assert _outputs(client, h, rid2) == killed
    dask_client.wait_for_workers(2, timeout=60)


# ---- settings ------------------------------------------------------------------------------------

def test_a_malformed_scheduler_address_is_refused_naming_the_field():
    from pydantic import ValidationError

    from salesplan.api.service.settings import Settings

    with pytest.raises(ValidationError) as info:
        Settings.from_env({"SALESPLAN_DASK_SCHEDULER": "localhost:8786"})
    text = str(info.value)
    assert "dask_scheduler" in text and "tcp://host:8786" in text and "localhost:8786" in text
    assert Settings.from_env({"SALESPLAN_DASK_SCHEDULER": "tcp://h:1"}).dask_scheduler == \
        "tcp://h:1"


def test_an_unreachable_scheduler_gets_a_plain_message():
    from salesplan.api.service.cluster import Cluster, ClusterError

    with pytest.raises(ClusterError, match=r"cannot reach the Dask scheduler at "
                                           r"tcp://127\.0\.0\.1:9 .*dask worker"):
        Cluster("tcp://127.0.0.1:9", "test", connect_timeout=1.0)


def test_serve_refuses_a_bad_or_unreachable_scheduler_in_one_line(capsys, monkeypatch):
    from salesplan.api.cli import main

    assert main(["serve", "--dask-scheduler", "localhost:8786"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: SALESPLAN_DASK_SCHEDULER (--dask-scheduler): must be a Dask "
                          "scheduler address such as tcp://host:8786")
    assert "Traceback" not in err
    monkeypatch.setenv("SALESPLAN_RUN_WORKERS", "many")
    assert main(["serve"]) == 2
    assert "SALESPLAN_RUN_WORKERS (--workers): " in capsys.readouterr().err
    monkeypatch.delenv("SALESPLAN_RUN_WORKERS")
    monkeypatch.setattr("salesplan.api.service.cluster.CONNECT_TIMEOUT", 1.0)
    assert main(["serve", "--dask-scheduler", "tcp://127.0.0.1:9"]) == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in capsys.readouterr().err
    assert main(["serve", "--help"]) == 0
    assert "--dask-scheduler" in capsys.readouterr().out


def test_a_whatif_on_the_cluster_shows_its_estimates_while_it_runs(tmp_path, cluster,
                                                                    dask_client):
    """The web app's first estimates come through the cluster too (the run task's progress
    events carry the kind's ``partial``)."""
    with client_for(tmp_path, dask_scheduler=cluster.scheduler_address) as (client, h):
        sid = create_small(client, h)
        rid = _submit(client, h, sid, "whatif", {"replications": 400})
        deadline = time.monotonic() + 90
        while (body := client.get(f"/v1/runs/{rid}", headers=h).json())["partial"] is None:
            assert body["status"] in ("queued", "running"), body
            assert time.monotonic() < deadline, body
            time.sleep(0.05)
        partial = body["partial"]
        assert partial["replications"] == 400 and partial["replications_done"] in (2, 8, 32, 128)
        assert set(partial["variants"]) == {"base", "hire-south", "leads-minus-20"}
        assert client.delete(f"/v1/runs/{rid}", headers=h).status_code == 200
        assert wait_final(client, h, rid)["status"] == "cancelled"
        wait_idle(dask_client)
