"""The run worker's start-up and its replication lanes (issue #20: a what-if's first estimate
within about 5 s on midmarket).

- A worker is warm before its first run: the whatif kind imports no engine, planning module or
  numerical library before its first estimates (the control: the same run in a cold process
  does); both preload lists cover everything it imports; an idle worker imports the rest.
- Lanes: a what-if spread over 2 or 3 lane processes gives the same estimates after every
  round and the same comparison as in one process, bit for bit; a task's error comes back as
  itself; a lane that dies fails the tasks it leaves with a message naming it and its exit
  code, and the worker starts fresh lanes for its next run; shut down, the lanes end.
- Lanes die with their run worker (``kill -9`` of the worker: the parent-death signal that
  their command line arms first).
- Through the service: a what-if on a pool whose runs get 2 processes has the result of the
  same what-if in one process.
- ``run_processes``: the CPUs shared among the run workers unless set; bad values named.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psutil
import pytest
import yaml
from _run_worker_kinds import cold_execute, warm_then_execute, whatif_imports
from test_service_lifecycle_support import alive
from test_service_support import EXAMPLES, client_for, create_small, wait_final

from salesplan.api.executors import Replications, replications_on
from salesplan.api.planning.whatif import run_whatif
from salesplan.api.service.lanes import LaneError, Lanes
from salesplan.api.service.runproc import worker_main
from salesplan.api.service.settings import Settings
from salesplan.api.service.spawn import RunWorkerProcess
from salesplan.scenarios.io import load_scenario

ORPHAN_LIMIT = 2.0  # seconds: as in test_service_lifecycle


@pytest.fixture(scope="module")
def small():
    return load_scenario(EXAMPLES / "small.yaml")


def _small_job(kind) -> tuple:
    document = yaml.safe_load((EXAMPLES / "small.yaml").read_text())
    tables = {"small_accounts.csv": (EXAMPLES / "small_accounts.csv").read_text()}
    return (kind, document, tables, {})


def _outcome(conn, timeout: float = 300.0):
    """The run's last message (``done`` or ``error``), skipping progress (and the worker's
    ``ready``, sent once before its first run)."""
    deadline = time.monotonic() + timeout
    while conn.poll(max(0.0, deadline - time.monotonic())):
        msg = conn.recv()
        if msg[0] not in ("progress", "ready"):
            return msg
    raise AssertionError("the worker sent no outcome in time")


@contextmanager
def _run_worker(processes: int = 1) -> Iterator[tuple[Any, Any]]:
    """A started run worker (``processes`` replication lanes) and our end of its pipe; killed
    on the way out if it is still alive."""
    ctx = mp.get_context("spawn")
    ours, theirs = ctx.Pipe(duplex=True)
    worker = RunWorkerProcess(target=worker_main, args=(theirs, None, os.getpid(), processes),
                              daemon=True)
    worker.start()
    theirs.close()
    try:
        yield worker, ours
    finally:
        if worker.is_alive():
            worker.kill()


# ---- a warm worker -------------------------------------------------------------------------------

def _spawned(target, job) -> dict:
    """The result of ``job`` executed by ``target(conn, job)`` in a spawned process."""
    ctx = mp.get_context("spawn")
    ours, theirs = ctx.Pipe(duplex=True)
    process = ctx.Process(target=target, args=(theirs, job))
    process.start()
    theirs.close()
    try:
        status, payload = _outcome(ours)
    finally:
        process.join(timeout=30)
    assert status == "done", payload
    return payload["result"]


@pytest.mark.slow
def test_a_worker_is_warm_for_a_whatifs_first_estimate_and_the_control_is_not():
    """A worker that takes a what-if as soon as it is ready imports nothing heavy before the
    run's first estimates. The control: the same run in a process that skipped the start-up
    imports the what-if runner on the way."""
    with _run_worker(1) as (worker, ours):
        assert ours.poll(300) and ours.recv() == ("ready",)
        ours.send(_small_job(whatif_imports))  # at once: before the idle-time imports
        status, payload = _outcome(ours)
        assert status == "done", payload
        warm = payload["result"]
        ours.send(None)
        worker.join(timeout=30)
    assert warm["runner_was_loaded"] and warm["before_first_estimate"] == [], warm

    cold = _spawned(cold_execute, _small_job(whatif_imports))
    assert not cold["runner_was_loaded"]
    assert "salesplan.api.planning.whatif" in cold["before_first_estimate"]


@pytest.mark.slow
def test_both_preload_lists_cover_everything_a_whatif_imports():
    warm = _spawned(warm_then_execute, _small_job(whatif_imports))
    assert warm["new"] == [], warm


@pytest.mark.slow
def test_an_idle_worker_imports_the_rest_between_runs():
    """Left without a run, a worker imports every module of ``PRELOAD_IDLE`` (asked by a
    run now and then until it has, which also shows that a run taken meanwhile does not stop
    them for good)."""
    from _run_worker_kinds import idle_modules_loaded

    from salesplan.api.service.runproc import PRELOAD_IDLE

    with _run_worker(1) as (worker, ours):
        deadline = time.monotonic() + 300
        while True:
            ours.send(_small_job(idle_modules_loaded))
            status, payload = _outcome(ours)
            assert status == "done", payload
            if payload["result"]["loaded"] == list(PRELOAD_IDLE):
                break
            assert time.monotonic() < deadline, payload["result"]
            time.sleep(0.2)
        ours.send(None)
        worker.join(timeout=30)


class _StartingProcess:
    """Stands for a worker process still starting up (alive; it has not said it is ready)."""

    pid = -1

    def is_alive(self) -> bool:
        return True


def test_a_run_waits_in_the_queue_until_a_worker_is_ready(tmp_path):
    """The pool hands no run to a worker before its ``ready``: the run stays queued (its time
    limit and ``started`` not yet running), then the next tick after ``ready`` starts it."""
    from fastapi.testclient import TestClient
    from test_service_support import all_kinds, make_app, new_key

    from salesplan.api.service.db import Run
    from salesplan.api.service.runproc import READY
    from salesplan.api.service.worker import RunPool, _ProcessSlot, _Worker

    app = make_app(tmp_path, run_pool=False, run_workers=1)
    h = {"X-API-Key": new_key(app)}
    client = TestClient(app)
    sid = create_small(client, h)
    rid = client.post("/v1/runs", headers=h, json={"scenario_id": sid, "kind": "echo"}
                      ).json()["id"]
    pool = RunPool(app.state.db, app.state.settings, all_kinds())
    ours, theirs = mp.Pipe(duplex=True)
    pool._workers.append(_Worker(_ProcessSlot(_StartingProcess(), ours)))
    try:
        pool._tick()
        pool._tick()
        with app.state.db.session() as s:
            run = s.get(Run, rid)
            assert (run.status, run.started, run.attempts) == ("queued", None, 0)
        assert not theirs.poll() and len(pool._workers) == 1  # nothing sent, no extra worker
        theirs.send(READY)
        pool._tick()
        with app.state.db.session() as s:
            assert s.get(Run, rid).status == "running"
        assert theirs.poll(5) and theirs.recv()[0] is all_kinds()["echo"].run
    finally:
        pool.lock.release()
        app.state.db.dispose()


def test_the_pool_reads_a_workers_messages_as_they_arrive(tmp_path):
    """With a poll interval of 10 minutes, a run still starts as soon as its worker is ready,
    its estimates show while it runs, and its result is written when it ends: the monitor
    wakes on the worker's pipe, not on its poll interval (which would take 10 minutes per
    step here)."""
    from _run_worker_kinds import estimates_then_hold
    from pydantic import BaseModel
    from test_service_support import all_kinds

    from salesplan.api.service.deps import get_kinds
    from salesplan.api.service.kinds import Kind

    class NoOptions(BaseModel):
        pass

    kinds = {**all_kinds(), "estimates": Kind("estimates", NoOptions, estimates_then_hold, "")}
    t0 = time.monotonic()
    with client_for(tmp_path, run_workers=1, run_processes=1, poll_interval=600) as (client, h):
        client.app.dependency_overrides[get_kinds] = lambda: kinds
        pool = client.app.state.pool
        pool.kinds = kinds
        sid = create_small(client, h)
        rid = client.post("/v1/runs", headers=h, json={"scenario_id": sid, "kind": "estimates"}
                          ).json()["id"]
        seen = None
        while seen is None:
            body = client.get(f"/v1/runs/{rid}", headers=h).json()
            seen = body["partial"]
            assert body["status"] in ("queued", "running"), body
            assert time.monotonic() - t0 < 120, "no estimates: the monitor waited for its tick"
            time.sleep(0.02)
        assert seen == {"replications_done": 1}
        done = wait_final(client, h, rid, timeout=120)
    assert done["status"] == "succeeded", done
    assert time.monotonic() - t0 < 300  # far below the poll interval: woken, not ticked


# ---- lanes ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def in_one_process(small):
    seen: list[dict] = []
    comparison = run_whatif(small, replications=10, seed=3, workers=1, partial=seen.append)
    return seen, json.dumps(comparison.summary(), default=str)


@pytest.mark.slow
@pytest.mark.parametrize("processes", [2, 3])
def test_a_whatif_on_lanes_is_the_whatif_in_one_process(small, in_one_process, processes):
    """Every round's estimates and the comparison, bit for bit (the JSON, floats included)."""
    seen_one, summary_one = in_one_process
    lanes = Lanes(processes)
    try:
        seen: list[dict] = []
        comparison = run_whatif(small, replications=10, seed=3, executor=lanes,
                                workers=processes, partial=seen.append)
    finally:
        lanes.shutdown()
    assert [p["replications_done"] for p in seen] == [2, 8, 10]
    assert json.dumps(seen) == json.dumps(seen_one)
    assert json.dumps(comparison.summary(), default=str) == summary_one


def test_the_whatif_kind_uses_the_runs_lanes(small):
    """The kind takes its executor from the run (:func:`replications_on`): with a recording
    executor, every replication chunk of a 2-replication what-if goes through it."""
    from concurrent.futures import ThreadPoolExecutor

    from salesplan.api.service.kinds import run_whatif_kind

    class Recording(ThreadPoolExecutor):
        submitted = 0

        def submit(self, fn, /, *args, **kwargs):
            Recording.submitted += 1
            return super().submit(fn, *args, **kwargs)

    with Recording(2) as pool, replications_on(Replications(pool, 2)):
        run_whatif_kind(small, {"replications": 2, "variants": []}, lambda *a, **k: None,
                        tables={})
    assert Recording.submitted == 2  # the base's 2 replications, one chunk each


def test_lanes_relay_errors_and_a_lane_that_dies_breaks_them():
    lanes = Lanes(2)
    try:
        assert lanes.submit(divmod, 7, 2).result(timeout=60) == (3, 1)
        with pytest.raises(ZeroDivisionError):
            lanes.submit(divmod, 1, 0).result(timeout=60)
        # more tasks than lanes: each answered with its own result
        futures = [lanes.submit(pow, k, 2) for k in range(7)]
        assert [f.result(timeout=60) for f in futures] == [k * k for k in range(7)]
        assert lanes.broken is None
        pids = lanes.pids
        with pytest.raises(LaneError, match=r"ended unexpectedly \(exit code 3\)"):
            lanes.submit(os._exit, 3).result(timeout=60)
        assert lanes.broken and "exit code 3" in lanes.broken
        with pytest.raises(LaneError, match="exit code 3"):
            lanes.submit(divmod, 7, 2)
    finally:
        lanes.shutdown()
    deadline = time.monotonic() + 10
    while alive(pids):
        assert time.monotonic() < deadline, f"lanes still alive after shutdown: {alive(pids)}"
        time.sleep(0.05)


def test_a_worker_replaces_broken_lanes_before_its_next_run():
    """A run that kills a lane fails with the lane's message; the worker's next run gets fresh
    lanes and succeeds."""
    from _run_worker_kinds import kill_a_lane, lane_pids

    with _run_worker(2) as (worker, ours):
        ours.send(_small_job(lane_pids))
        status, payload = _outcome(ours)
        assert status == "done", payload
        first = payload["result"]["pids"]
        ours.send(_small_job(kill_a_lane))
        status, message = _outcome(ours)
        assert status == "error" and "ended unexpectedly (exit code 5)" in message, message
        ours.send(_small_job(lane_pids))
        status, payload = _outcome(ours)
        assert status == "done", payload
        second = payload["result"]["pids"]
        assert len(second) == 2 and not set(first) & set(second)
        ours.send(None)
        worker.join(timeout=30)
        assert worker.exitcode == 0


@pytest.mark.slow
def test_lanes_die_with_their_run_worker():
    with _run_worker(2) as (worker, _ours):  # our end stays open: the worker waits on it
        deadline = time.monotonic() + 120
        while True:  # until both lanes are past their start-up (their watch thread runs)
            lanes = psutil.Process(worker.pid).children()
            if len(lanes) == 2 and all(p.num_threads() >= 2 for p in lanes):
                break
            assert time.monotonic() < deadline, "the lanes never started"
            time.sleep(0.05)
        commands = [" ".join(p.cmdline()) for p in lanes]
        assert all("lane_main" in c and ".prctl(1, 9, 0, 0, 0)" in c for c in commands)
        pids = [p.pid for p in lanes]
        os.kill(worker.pid, signal.SIGKILL)
        worker.join(timeout=10)
        t0 = time.monotonic()
        while alive(pids):
            assert time.monotonic() - t0 < 10, f"lanes outlived their worker: {alive(pids)}"
            time.sleep(0.01)
        gone_after = time.monotonic() - t0
    print(f"lanes gone {gone_after:.3f} s after their worker's kill -9")
    assert gone_after < ORPHAN_LIMIT


# ---- through the service -------------------------------------------------------------------------

@pytest.mark.slow
def test_a_whatif_through_a_pool_with_lanes_has_the_in_process_result(tmp_path, small):
    options = {"replications": 8, "seed": 5}
    with client_for(tmp_path, run_workers=1, run_processes=2) as (client, h):
        sid = create_small(client, h)
        r = client.post("/v1/runs", headers=h, json={"scenario_id": sid, "kind": "whatif",
                                                     "options": options})
        assert r.status_code == 202, r.text
        done = wait_final(client, h, r.json()["id"], timeout=300)
        assert done["status"] == "succeeded", done
        result = client.get(f"/v1/runs/{done['id']}/result", headers=h).json()["result"]
    expected = run_whatif(small, replications=8, seed=5, workers=1).summary()
    assert json.dumps(result, sort_keys=True) == json.dumps(
        json.loads(json.dumps(_jsonable(expected))), sort_keys=True)


def _jsonable(value):
    from salesplan.api.formatting import jsonable

    return jsonable(value)


# ---- the setting ---------------------------------------------------------------------------------

def test_run_processes_shares_the_cpus_among_run_workers_unless_set(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert Settings(run_workers=2).resolved_run_processes == 4
    assert Settings(run_workers=3).resolved_run_processes == 2
    assert Settings(run_workers=16).resolved_run_processes == 1
    assert Settings(run_workers=2, run_processes=3).resolved_run_processes == 3
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert Settings(run_workers=1).resolved_run_processes == 1


@pytest.mark.parametrize("value", ["0", "many", "65"])
def test_a_bad_run_processes_names_the_field(value):
    with pytest.raises(ValueError, match="run_processes") as info:
        Settings.from_env({"SALESPLAN_RUN_PROCESSES": value})
    assert value in str(info.value)
