"""Workers die with the server, and a run executes at most once at a time (issue #19).

- ``kill -9`` of a real server process: within 2 s no process of its worker tree is alive; the
  restarted server runs the run again, and it completes exactly once.
- The portable parent watch alone (no parent-death signal) also ends an orphaned worker.
- A stale claim (a server whose run was re-queued and claimed again) can write neither progress
  nor a result, and its worker is stopped on its next tick.
- A run failed after repeated crashes says why in its message.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import psutil
import pytest
from fastapi.testclient import TestClient
from test_service_lifecycle_support import (
    alive,
    free_port,
    lifecycle_kinds,
    middle,
    start_server,
    wait_health,
)
from test_service_support import create_small, make_app, new_key, wait_final, wait_status

from salesplan.api.service.db import Result, Run
from salesplan.api.service.deps import get_kinds
from salesplan.api.service.worker import RunPool, recover_interrupted

ORPHAN_LIMIT = 2.0  # seconds: a worker whose server is gone must be gone by then


def _wait_gone(pids: list[int], timeout: float) -> float:
    """Seconds until none of ``pids`` is alive (fails past ``timeout``)."""
    t0 = time.monotonic()
    while alive(pids):
        assert time.monotonic() - t0 < timeout, f"still alive: {alive(pids)}"
        time.sleep(0.01)
    return time.monotonic() - t0


def _stop(proc) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.mark.slow
def test_kill_9_leaves_no_worker_and_the_run_completes_once(tmp_path):
    setup = make_app(tmp_path, run_pool=False)
    key = new_key(setup)
    setup.state.db.dispose()
    h = {"X-API-Key": key}
    journal = tmp_path / "journal.txt"
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    server = start_server(tmp_path, port, tmp_path / "server1.log")
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            wait_health(client, server)
            sid = create_small(client, h)
            r = client.post("/v1/runs", headers=h, json={
                "scenario_id": sid, "kind": "journal",
                "options": {"seconds": 4, "journal": str(journal)}})
            assert r.status_code == 202, r.text
            rid = r.json()["id"]
            wait_status(client, h, rid, "running")
            deadline = time.monotonic() + 30
            while not journal.exists():  # the worker has started executing the run
                assert time.monotonic() < deadline
                time.sleep(0.02)
        tree = [p.pid for p in psutil.Process(server.pid).children(recursive=True)]
        assert tree, "the server has no worker process"
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
        gone_after = _wait_gone(tree, timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)
    print(f"worker tree of {len(tree)} process(es) gone {gone_after:.3f} s after kill -9")
    assert gone_after < ORPHAN_LIMIT
    first = journal.read_text().split()
    assert first[0] == "start" and "end" not in first  # killed mid-run, never finished

    server2 = start_server(tmp_path, port, tmp_path / "server2.log")
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            wait_health(client, server2)
            done = wait_final(client, h, rid)
    finally:
        _stop(server2)
    assert done["status"] == "succeeded", done
    assert done["attempts"] == 2
    lines = journal.read_text().splitlines()
    assert len(lines) == 3 and lines[1].startswith("start") and lines[2].startswith("end"), lines
    assert lines[1].split()[1] == lines[2].split()[1] == str(_result_pid(tmp_path, rid))


def _result_pid(data_dir: Path, rid: int) -> int:
    app = make_app(data_dir, run_pool=False)
    with app.state.db.session() as s:
        rows = s.query(Result).filter(Result.run_id == rid).all()
        assert len(rows) == 1
        pid = rows[0].result["pid"]
    app.state.db.dispose()
    return pid


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["sentinel", "poll"])
def test_parent_watch_alone_ends_an_orphan(tmp_path, mode):
    """Without the parent-death signal (as on macOS or Windows) the watch thread ends the
    worker: through the multiprocessing parent sentinel, or by polling ``os.getppid()``."""
    pid_file = tmp_path / "child.pid"
    parent = mp.get_context("spawn").Process(target=middle, args=(str(pid_file), mode))
    parent.start()
    try:
        deadline = time.monotonic() + 60
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline and parent.is_alive()
            time.sleep(0.02)
        child = int(pid_file.read_text())
        time.sleep(0.5)  # the child arms its watch right after start-up
        assert alive([child])
        os.kill(parent.pid, signal.SIGKILL)
        parent.join(timeout=10)
        gone_after = _wait_gone([child], timeout=10)
    finally:
        if parent.is_alive():
            parent.kill()
    print(f"{mode}: orphan gone {gone_after:.3f} s after its parent's kill -9")
    assert gone_after < ORPHAN_LIMIT


def _pool(app) -> RunPool:
    return RunPool(app.state.db, app.state.settings, lifecycle_kinds())


def test_a_stale_claim_cannot_write_and_its_worker_stops(tmp_path):
    """Server A runs a run; a second server B re-queues and claims it again (attempt 2). A can
    no longer write progress or a result for it, stops its process on its next tick, and B's
    result is the only one."""
    app = make_app(tmp_path, run_pool=False)
    app.dependency_overrides[get_kinds] = lifecycle_kinds
    h = {"X-API-Key": new_key(app)}
    journal = tmp_path / "journal.txt"
    client = TestClient(app)
    sid = create_small(client, h)
    rid = client.post("/v1/runs", headers=h, json={
        "scenario_id": sid, "kind": "journal",
        "options": {"seconds": 1.5, "journal": str(journal)}}).json()["id"]

    a = _pool(app)
    a.start()
    try:
        wait_status(client, h, rid, "running")
        (worker_a,) = [w for w in a._workers if w.run_id == rid]
        # a second server starts on the same database: the run looks interrupted to it
        assert recover_interrupted(app.state.db, max_attempts=3) == (1, 0)
        b = _pool(app)
        b.start()
        try:
            body = wait_final(client, h, rid)
            deadline = time.monotonic() + 10
            while worker_a.process.is_alive():  # A noticed the take-over and stopped it
                assert time.monotonic() < deadline
                time.sleep(0.02)
            assert a.active == []
        finally:
            b.stop()
        # A's stale attempt 1 writes after B's attempt 2 succeeded: nothing changes
        a._finish(rid, 1, "succeeded", None, {"result": {"pid": -1}, "tables": {},
                                              "charts": {}})
        a._finish(rid, 1, "failed", "stale failure")
    finally:
        a.stop()
    assert body["status"] == "succeeded" and body["attempts"] == 2, body
    after = client.get(f"/v1/runs/{rid}", headers=h).json()
    assert after["status"] == "succeeded" and after["error"] is None
    result = client.get(f"/v1/runs/{rid}/result", headers=h).json()
    assert result["result"]["pid"] != -1
    lines = journal.read_text().splitlines()
    assert sum(line.startswith("end") for line in lines) == 1, lines  # completed once


def test_stale_progress_and_result_are_discarded(tmp_path):
    """The fence itself: writes under an attempt the row no longer carries change nothing."""
    app = make_app(tmp_path, run_pool=False)
    h = {"X-API-Key": new_key(app)}
    client = TestClient(app)
    sid = create_small(client, h)
    rid = client.post("/v1/runs", headers=h, json={"scenario_id": sid, "kind": "sleep",
                                                   "options": {"seconds": 1}}).json()["id"]
    with app.state.db.session() as s:  # claimed by attempt 2 (attempt 1 was re-queued)
        run = s.get(Run, rid)
        run.status, run.attempts, run.message = "running", 2, "starting"
    pool = _pool(app)
    pool._finish(rid, 1, "succeeded", None, {"result": {"stale": True}, "tables": {},
                                            "charts": {}})
    with app.state.db.session() as s:
        run = s.get(Run, rid)
        assert (run.status, run.message, run.attempts) == ("running", "starting", 2)
        assert s.get(Result, rid) is None
    pool._finish(rid, 2, "succeeded", None, {"result": {"stale": False}, "tables": {},
                                            "charts": {}})
    result = client.get(f"/v1/runs/{rid}/result", headers=h).json()
    assert result["result"] == {"stale": False}


def test_failed_after_crashes_says_why_in_its_message(tmp_path):
    app = make_app(tmp_path, run_pool=False)
    h = {"X-API-Key": new_key(app)}
    client = TestClient(app)
    sid = create_small(client, h)
    rid = client.post("/v1/runs", headers=h, json={"scenario_id": sid, "kind": "sleep",
                                                   "options": {"seconds": 1}}).json()["id"]
    with app.state.db.session() as s:  # the third start was interrupted by a crash
        run = s.get(Run, rid)
        run.status, run.attempts, run.message = "running", 3, "starting"
    assert recover_interrupted(app.state.db, max_attempts=3) == (0, 1)
    body = client.get(f"/v1/runs/{rid}", headers=h).json()
    assert body["status"] == "failed"
    assert body["message"] == "failed: interrupted by a server stop or crash 3 time(s)"
    assert "not retried (max_attempts=3)" in body["error"]
