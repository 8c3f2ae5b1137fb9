"""The service on a Dask cluster when things go wrong (issue #19): a ``LocalCluster`` of two
single-threaded worker processes, started once for the module (lock leases of 3 s instead of
30 s, so that the lock of a run whose worker was restarted frees quickly).

- ``kill -9`` of a server (a real process) while its run is on the cluster: the scheduler drops
  the dead client's task, the run task and its replication chunks stop on the workers within a
  few seconds, and the restarted server runs the run once more as attempt 2, after the first
  attempt ended (never both at once);
- the same with a run that does not stop (a call that does not return, as an alignment inside
  its solver): the restarted server's attempt waits for the run's lock, and after
  ``dask_stop_grace`` the server restarts the worker that holds it; the first attempt never
  finishes;
- a run that does not stop on ``DELETE``: its worker is restarted after ``dask_stop_grace``, and
  the run is not executed again;
- the scheduler goes away mid-run: the run is re-queued with a message that says so, no run
  starts while there is no scheduler, and when a scheduler is back at the address the server
  reconnects and runs it (attempt 2).
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest
from test_service_lifecycle_support import (
    alive,
    free_port,
    lifecycle_kinds,
    start_server,
    stop_server,
    wait_health,
)
from test_service_support import create_small, make_app, new_key, wait_final, wait_status

distributed = pytest.importorskip("distributed")

from _dask_cluster import executing, local_cluster, wait_idle  # noqa: E402

from salesplan.api.service.cluster import TOPIC, scope_of  # noqa: E402

STOP_LIMIT = 5.0  # seconds: a run task and its chunks stop this soon after their server died
RUNS_AND_CHUNKS = ("salesplan-run-", "_run_chunk")  # the keys of runs and their chunks


def _events(dask_client, job: str) -> list[tuple[float, dict]]:
    return [(t, m) for t, m in dask_client.get_events(TOPIC) if m.get("job") == job]


def _wait_event(dask_client, job: str, event: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        found = [m for _, m in _events(dask_client, job) if m.get("event") == event]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"{job}: no {event!r} event"
        time.sleep(0.05)


def _prefix(data_dir: Path) -> str:
    app = make_app(data_dir, run_pool=False)
    prefix = f"salesplan-run-{scope_of(app.state.settings.resolved_database_url)}-"
    app.state.db.dispose()
    return prefix


def _key(data_dir: Path) -> dict:
    app = make_app(data_dir, run_pool=False)
    key = new_key(app)
    app.state.db.dispose()
    return {"X-API-Key": key}


def _kill_9(server) -> None:
    server.send_signal(signal.SIGKILL)
    server.wait(timeout=10)


@pytest.mark.slow
def test_kill_9_stops_the_run_on_the_cluster_and_the_restart_runs_it_once(
        tmp_path, cluster, dask_client):
    h, prefix, port = _key(tmp_path), _prefix(tmp_path), free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(tmp_path, port, tmp_path / "server1.log",
                          dask_scheduler=cluster.scheduler_address)
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            wait_health(client, server)
            sid = create_small(client, h)
            r = client.post("/v1/runs", headers=h, json={
                "scenario_id": sid, "kind": "simulate",
                "options": {"replications": 800, "seed": 3, "keep_deals": 0}})
            assert r.status_code == 202, r.text
            rid = r.json()["id"]
            deadline = time.monotonic() + 60
            while (body := client.get(f"/v1/runs/{rid}", headers=h).json())["progress"] <= 0:
                assert body["status"] in ("queued", "running") and time.monotonic() < deadline
                time.sleep(0.05)
        assert executing(dask_client, RUNS_AND_CHUNKS)
        _kill_9(server)
        stopped_after = wait_idle(dask_client, timeout=30, prefixes=RUNS_AND_CHUNKS)
    finally:
        if server.poll() is None:
            _kill_9(server)
    print(f"run task and chunks stopped {stopped_after:.2f} s after the server's kill -9")
    assert stopped_after < STOP_LIMIT
    first, second = f"{prefix}{rid}-1", f"{prefix}{rid}-2"
    ended = _wait_event(dask_client, first, "ended", timeout=10)
    assert ended

    server2 = start_server(tmp_path, port, tmp_path / "server2.log",
                           dask_scheduler=cluster.scheduler_address)
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            wait_health(client, server2)
            done = wait_final(client, h, rid, timeout=180)
    finally:
        stop_server(server2, timeout=60)
    assert (done["status"], done["attempts"]) == ("succeeded", 2), done
    # attempt 2 computed (its first progress) only after attempt 1 had ended
    end_1 = max(t for t, m in _events(dask_client, first) if m["event"] == "ended")
    progress_2 = min(t for t, m in _events(dask_client, second) if m["event"] == "progress")
    assert end_1 <= progress_2
    assert not _events(dask_client, f"{prefix}{rid}-3")


def _journal_lines(journal: Path) -> list[list[str]]:
    return [line.split() for line in journal.read_text().splitlines()] if journal.exists() \
        else []


def _wait_lines(journal: Path, n: int, timeout: float) -> list[list[str]]:
    deadline = time.monotonic() + timeout
    while len(lines := _journal_lines(journal)) < n:
        assert time.monotonic() < deadline, f"journal: {lines}"
        time.sleep(0.02)
    return lines


@pytest.mark.slow
def test_a_stuck_attempt_of_a_killed_server_is_stopped_before_the_restart_runs_the_run(
        tmp_path, cluster, dask_client):
    """Attempt 1 sleeps 120 s without a progress report (it cannot see that it was cancelled).
    The restarted server's attempt 2 waits for the run's lock; after ``dask_stop_grace`` (2 s)
    the server restarts the worker that executes attempt 1, and attempt 2 runs (0.5 s) once
    attempt 1's lock lease has expired. Attempt 1 never finishes, and attempt 2 starts only
    once attempt 1's process is gone."""
    h, port = _key(tmp_path), free_port()
    base = f"http://127.0.0.1:{port}"
    journal = tmp_path / "journal.txt"
    settings = {"dask_scheduler": cluster.scheduler_address, "dask_stop_grace": 2.0}
    server = start_server(tmp_path, port, tmp_path / "server1.log", **settings)
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            wait_health(client, server)
            sid = create_small(client, h)
            r = client.post("/v1/runs", headers=h, json={
                "scenario_id": sid, "kind": "journal",
                "options": {"seconds": 120, "again_seconds": 0.5, "journal": str(journal)}})
            assert r.status_code == 202, r.text
            rid = r.json()["id"]
            ((_, stuck_pid),) = _wait_lines(journal, 1, timeout=60)
        _kill_9(server)
    finally:
        if server.poll() is None:
            _kill_9(server)
    assert alive([int(stuck_pid)])  # cancelled by the scheduler, still inside its call
    t0 = time.monotonic()
    server2 = start_server(tmp_path, port, tmp_path / "server2.log", **settings)
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            wait_health(client, server2)
            lines = _wait_lines(journal, 2, timeout=60)
            assert not alive([int(stuck_pid)]), "attempt 2 started beside attempt 1"
            done = wait_final(client, h, rid, timeout=60)
    finally:
        stop_server(server2, timeout=60)
    print(f"attempt 2 started {time.monotonic() - t0:.1f} s after the restart")
    assert (done["status"], done["attempts"]) == ("succeeded", 2), done
    lines = _journal_lines(journal)
    assert [w for w, _ in lines] == ["start", "start", "end"], lines
    assert lines[1][1] == lines[2][1] != stuck_pid
    dask_client.wait_for_workers(2, timeout=60)


@pytest.mark.slow
def test_a_run_that_does_not_stop_on_cancel_has_its_worker_restarted(
        tmp_path, cluster, dask_client):
    from fastapi.testclient import TestClient

    from salesplan.api.service.deps import get_kinds

    journal = tmp_path / "journal.txt"
    app = make_app(tmp_path, dask_scheduler=cluster.scheduler_address, dask_stop_grace=2.0)
    app.dependency_overrides[get_kinds] = lifecycle_kinds
    h = {"X-API-Key": new_key(app)}
    with TestClient(app) as client:
        sid = create_small(client, h)
        r = client.post("/v1/runs", headers=h, json={
            "scenario_id": sid, "kind": "journal",
            "options": {"seconds": 120, "journal": str(journal)}})
        rid = r.json()["id"]
        ((_, pid),) = _wait_lines(journal, 1, timeout=60)
        t0 = time.monotonic()
        assert client.delete(f"/v1/runs/{rid}", headers=h).status_code == 200
        assert wait_final(client, h, rid)["status"] == "cancelled"
        deadline = time.monotonic() + 30
        while alive([int(pid)]):
            assert time.monotonic() < deadline, "the stuck worker was not restarted"
            time.sleep(0.05)
        restarted_after = time.monotonic() - t0
        wait_idle(dask_client, timeout=10, prefixes=RUNS_AND_CHUNKS)
        time.sleep(1.0)  # a few ticks: nothing runs the cancelled run again
        body = client.get(f"/v1/runs/{rid}", headers=h).json()
        assert (body["status"], body["attempts"]) == ("cancelled", 1), body
    print(f"stuck worker restarted {restarted_after:.1f} s after the cancel (grace 2 s)")
    assert restarted_after >= 2.0
    assert _journal_lines(journal) == [["start", pid]]
    dask_client.wait_for_workers(2, timeout=60)


@pytest.mark.slow
def test_losing_the_scheduler_requeues_the_run_and_a_scheduler_back_runs_it(
        tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from salesplan.api.service import cluster as cluster_module
    from salesplan.api.service import worker as worker_module

    monkeypatch.setattr(cluster_module, "CONNECT_TIMEOUT", 3.0)  # how long the client retries
    monkeypatch.setattr(worker_module, "CONNECT_RETRY", 1.0)
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    lc = local_cluster(n_workers=1, scheduler_port=port)
    lc2 = None
    app = make_app(tmp_path, dask_scheduler=address)
    h = {"X-API-Key": new_key(app)}
    try:
        with TestClient(app) as client:
            sid = create_small(client, h)
            r = client.post("/v1/runs", headers=h, json={
                "scenario_id": sid, "kind": "simulate",
                "options": {"replications": 2000, "keep_deals": 0}})
            rid = r.json()["id"]
            deadline = time.monotonic() + 60
            while client.get(f"/v1/runs/{rid}", headers=h).json()["progress"] <= 0:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            lc.close()
            body = wait_status(client, h, rid, "queued")
            assert body["attempts"] == 1 and body["error"] is None, body
            assert body["message"] == (
                f"re-queued: the connection to the Dask scheduler at {address} was lost while "
                "the run was on the cluster (the scheduler stopped, restarted or is "
                "unreachable)"), body
            pool = client.app.state.pool
            deadline = time.monotonic() + 30
            while pool.cluster is not None:  # the client gave up; the pool dropped it
                assert time.monotonic() < deadline
                time.sleep(0.05)
            r2 = client.post("/v1/runs", headers=h, json={
                "scenario_id": sid, "kind": "simulate", "options": {"replications": 4}})
            time.sleep(2.0)  # several connection attempts: nothing starts without a scheduler
            for run_id in (rid, r2.json()["id"]):
                assert client.get(f"/v1/runs/{run_id}", headers=h).json()["status"] == "queued"
            lc2 = local_cluster(n_workers=1, scheduler_port=port)
            body = wait_status(client, h, rid, "running", timeout=60)
            assert body["attempts"] == 2
            assert client.delete(f"/v1/runs/{rid}", headers=h).status_code == 200
            assert wait_final(client, h, r2.json()["id"])["status"] == "succeeded"
    finally:
        lc.close()
        if lc2 is not None:
            lc2.close()
