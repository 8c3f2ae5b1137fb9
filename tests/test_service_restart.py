"""Restart: a stopped (or crashed) server loses nothing. Runs that were running are re-queued
and finish on the next start, or are failed with the reason after ``max_attempts`` starts;
queued runs are picked up; nothing is left ``running``."""

from __future__ import annotations

from fastapi.testclient import TestClient
from test_service_support import (
    create_small,
    make_app,
    new_key,
    wait_final,
    wait_status,
)

from salesplan.api.service.db import Run


def _submit(client, h, sid, seconds):
    r = client.post("/v1/runs", json={"scenario_id": sid, "kind": "sleep",
                                      "options": {"seconds": seconds}}, headers=h)
    assert r.status_code == 202
    return r.json()["id"]


def test_graceful_stop_mid_run_then_restart(tmp_path):
    app = make_app(tmp_path, run_workers=2)
    h = {"X-API-Key": new_key(app)}
    with TestClient(app) as client:
        sid = create_small(client, h)
        ids = [_submit(client, h, sid, 1.5) for _ in range(4)]
        wait_status(client, h, ids[0], "running")
    # the app is stopped: two runs were interrupted mid-run, two were still queued
    with app.state.db.session() as s:
        statuses = {r.id: r.status for r in s.query(Run)}
    assert set(statuses.values()) <= {"queued", "succeeded"}, statuses

    app2 = make_app(tmp_path, run_workers=2)  # same database
    with TestClient(app2) as client:
        done = [wait_final(client, h, rid) for rid in ids]
    assert [d["status"] for d in done] == ["succeeded"] * 4, done
    assert done[0]["attempts"] == 2  # interrupted once, then finished
    assert sorted(d["id"] for d in done) == ids  # none lost, none duplicated
    with app2.state.db.session() as s:
        assert s.query(Run).count() == 4


def test_crash_mid_run_requeues_then_fails_after_max_attempts(tmp_path):
    app = make_app(tmp_path, run_workers=1, max_attempts=2)
    h = {"X-API-Key": new_key(app)}
    with TestClient(app) as client:
        sid = create_small(client, h)
        long_run = _submit(client, h, sid, 60)
        short_run = _submit(client, h, sid, 0.2)
        wait_status(client, h, long_run, "running")
        app.state.pool.stop(requeue=False)  # as if the server died: rows stay "running"
    with app.state.db.session() as s:
        assert s.get(Run, long_run).status == "running"

    app2 = make_app(tmp_path, run_workers=1, max_attempts=2)
    with TestClient(app2) as client:
        wait_status(client, h, long_run, "running")  # re-queued and started again
        assert client.get(f"/v1/runs/{long_run}", headers=h).json()["attempts"] == 2
        app2.state.pool.stop(requeue=False)  # second crash

    app3 = make_app(tmp_path, run_workers=1, max_attempts=2)
    with TestClient(app3) as client:
        failed = wait_final(client, h, long_run)
        short = wait_final(client, h, short_run)
    assert failed["status"] == "failed"
    assert "interrupted by a server stop or crash 2 time(s)" in failed["error"]
    assert short["status"] == "succeeded"  # the queued run was picked up


def test_unknown_kind_after_restart_fails_with_reason(tmp_path):
    """A run whose kind the restarted server does not offer ends failed, not stuck."""
    app = make_app(tmp_path, run_pool=False)
    h = {"X-API-Key": new_key(app)}
    client = TestClient(app)
    sid = create_small(client, h)
    rid = _submit(client, h, sid, 0.1)

    from salesplan.api.service import Settings, create_app

    plain = create_app(Settings(data_dir=tmp_path, poll_interval=0.05))  # production kinds only
    with TestClient(plain) as c2:
        done = wait_final(c2, h, rid)
    assert done["status"] == "failed" and "unknown run kind 'sleep'" in done["error"]
