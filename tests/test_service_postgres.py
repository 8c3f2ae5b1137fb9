"""The service on PostgreSQL: the same persistence, auth and restart guarantees as on SQLite.

Runs when ``SALESPLAN_TEST_POSTGRES_URL`` names a database the tests may wipe (``.ci/run``
installs and starts a local PostgreSQL server and sets it); skipped otherwise, saying why.
"""

from __future__ import annotations

import os

import pytest
from fastapi.testclient import TestClient
from test_service_support import create_small, make_app, new_key, wait_final, wait_status

URL = os.environ.get("SALESPLAN_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(
    not URL, reason="SALESPLAN_TEST_POSTGRES_URL is not set (no PostgreSQL server to test on)")


@pytest.fixture
def pg_url():
    """A wiped database: every table of the service dropped before the test."""
    import sqlalchemy as sa

    from salesplan.api.service.db import Base

    engine = sa.create_engine(URL)
    Base.metadata.drop_all(engine)
    engine.dispose()
    return URL


def test_scenarios_runs_results_and_keys_on_postgres(tmp_path, pg_url):
    app = make_app(tmp_path, database_url=pg_url)
    assert app.state.db.engine.dialect.name == "postgresql"
    key = new_key(app)
    h = {"X-API-Key": key}
    with TestClient(app) as client:
        sid = create_small(client, h)
        assert client.get("/v1/scenarios", headers=h).json()["count"] == 1
        r = client.post("/v1/runs", json={"scenario_id": sid, "kind": "echo", "options": {}},
                        headers=h)
        assert r.status_code == 202, r.text
        done = wait_final(client, h, r.json()["id"])
        assert done["status"] == "succeeded", done
        assert client.get(f"/v1/runs/{done['id']}/result", headers=h).status_code == 200
        assert client.get("/v1/scenarios", headers={"X-API-Key": "nope"}).status_code == 401


def test_restart_on_postgres_loses_nothing(tmp_path, pg_url):
    app = make_app(tmp_path, database_url=pg_url, run_workers=1)
    h = {"X-API-Key": new_key(app)}
    with TestClient(app) as client:
        sid = create_small(client, h)
        ids = []
        for _ in range(3):
            r = client.post("/v1/runs", json={"scenario_id": sid, "kind": "sleep",
                                              "options": {"seconds": 1.0}}, headers=h)
            ids.append(r.json()["id"])
        wait_status(client, h, ids[0], "running")
    app2 = make_app(tmp_path, database_url=pg_url, run_workers=2)
    with TestClient(app2) as client:
        done = [wait_final(client, h, rid) for rid in ids]
    assert [d["status"] for d in done] == ["succeeded"] * 3, done
