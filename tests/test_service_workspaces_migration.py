"""A database made by the previous version (no workspaces, no roles) keeps working: at start-up
its scenarios, runs and keys move to the ``default`` workspace and its keys become admins of it;
the migration is idempotent. On a SQLite file built with the previous schema, and on PostgreSQL
when ``SALESPLAN_TEST_POSTGRES_URL`` is set."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3

import pytest
from fastapi.testclient import TestClient
from test_service_support import EXAMPLES, make_app

from salesplan.api.service import Settings
from salesplan.api.service.db import Database, migrate
from salesplan.api.service.store import validate_scenario

# the tables exactly as the previous version's SQLAlchemy models created them on SQLite
OLD_SCHEMA = """
CREATE TABLE api_keys (
    id VARCHAR(32) NOT NULL, name VARCHAR(100) NOT NULL, key_hash VARCHAR(64) NOT NULL,
    created DATETIME NOT NULL, revoked DATETIME, PRIMARY KEY (id), UNIQUE (name));
CREATE TABLE scenarios (
    id INTEGER NOT NULL, name VARCHAR(200) NOT NULL, created DATETIME NOT NULL,
    updated DATETIME NOT NULL, latest_version INTEGER NOT NULL, deleted BOOLEAN NOT NULL,
    PRIMARY KEY (id));
CREATE INDEX ix_scenarios_deleted ON scenarios (deleted);
CREATE TABLE runs (
    id INTEGER NOT NULL, scenario_id INTEGER NOT NULL, version INTEGER NOT NULL,
    kind VARCHAR(40) NOT NULL, options JSON NOT NULL, status VARCHAR(12) NOT NULL,
    progress FLOAT NOT NULL, message TEXT NOT NULL, error TEXT, attempts INTEGER NOT NULL,
    created DATETIME NOT NULL, started DATETIME, finished DATETIME, api_key_id VARCHAR(32),
    PRIMARY KEY (id), FOREIGN KEY(scenario_id) REFERENCES scenarios (id));
CREATE INDEX ix_runs_scenario_id ON runs (scenario_id);
CREATE INDEX ix_runs_status ON runs (status);
CREATE INDEX ix_runs_created ON runs (created);
CREATE TABLE scenario_versions (
    id INTEGER NOT NULL, scenario_id INTEGER NOT NULL, version INTEGER NOT NULL,
    created DATETIME NOT NULL, name VARCHAR(200) NOT NULL, document JSON NOT NULL,
    tables JSON NOT NULL, counts JSON NOT NULL, PRIMARY KEY (id),
    CONSTRAINT uq_scenario_version UNIQUE (scenario_id, version),
    FOREIGN KEY(scenario_id) REFERENCES scenarios (id));
CREATE INDEX ix_scenario_versions_scenario_id ON scenario_versions (scenario_id);
CREATE TABLE result_files (
    run_id INTEGER NOT NULL, kind VARCHAR(8) NOT NULL, name VARCHAR(100) NOT NULL,
    content BLOB NOT NULL, PRIMARY KEY (run_id, kind, name),
    FOREIGN KEY(run_id) REFERENCES runs (id));
CREATE TABLE results (
    run_id INTEGER NOT NULL, result JSON NOT NULL, created DATETIME NOT NULL,
    PRIMARY KEY (run_id), FOREIGN KEY(run_id) REFERENCES runs (id));
"""
OLD_KEY = "sp_0123abcd_" + "k" * 43
WHEN = "2026-11-30 09:00:00.000000"


def old_rows() -> list[tuple[str, tuple]]:
    """A key, a scenario with one version, a succeeded run with its result and a table."""
    v = validate_scenario(Settings(),
                          text=(EXAMPLES / "small.yaml").read_text(), fmt="yaml",
                          tables={"small_accounts.csv":
                                  (EXAMPLES / "small_accounts.csv").read_text()})
    return [
        ("INSERT INTO api_keys VALUES (?, ?, ?, ?, NULL)",
         ("0123abcd", "legacy", hashlib.sha256(OLD_KEY.encode()).hexdigest(), WHEN)),
        ("INSERT INTO scenarios VALUES (1, ?, ?, ?, 1, 0)", ("small", WHEN, WHEN)),
        ("INSERT INTO scenario_versions VALUES (1, 1, 1, ?, ?, ?, ?, ?)",
         (WHEN, "small", json.dumps(v.document), json.dumps(v.tables), json.dumps(v.counts))),
        ("INSERT INTO runs VALUES (1, 1, 1, 'echo', '{}', 'succeeded', 1.0, 'done', NULL, 1, "
         "?, ?, ?, '0123abcd')", (WHEN, WHEN, WHEN)),
        ("INSERT INTO results VALUES (1, ?, ?)", (json.dumps({"value": 42}), WHEN)),
        ("INSERT INTO result_files VALUES (1, 'table', 'reps', ?)", (b"rep,region\nR1,N\n",)),
    ]


@pytest.fixture
def old_sqlite(tmp_path):
    """``salesplan.db`` in ``tmp_path`` as the previous version left it."""
    path = tmp_path / "salesplan.db"
    con = sqlite3.connect(path)
    con.executescript(OLD_SCHEMA)
    for sql, params in old_rows():
        con.execute(sql, params)
    con.commit()
    con.close()
    return path


def check_old_data_served(app) -> None:
    legacy = {"X-API-Key": OLD_KEY}
    with TestClient(app) as client:
        # the old key works, as admin of `default`, and sees the old data
        listed = client.get("/v1/scenarios", headers=legacy).json()
        assert [s["name"] for s in listed["data"]] == ["small"]
        assert client.get("/v1/scenarios/1/versions/1", headers=legacy).status_code == 200
        assert client.get("/v1/runs/1", headers=legacy).json()["status"] == "succeeded"
        assert client.get("/v1/runs/1/result", headers=legacy).json()["result"] == {"value": 42}
        assert client.get("/v1/runs/1/tables/reps", headers=legacy).text.startswith("rep,")
        keys = client.get("/v1/keys", headers=legacy).json()["data"]
        assert [(k["name"], k["workspace"], k["role"]) for k in keys] == [
            ("legacy", "default", "admin")]
        # it manages keys; a key of another workspace sees none of the old data
        made = client.post("/v1/keys", json={"name": "reader"}, headers=legacy).json()
        assert (made["workspace"], made["role"]) == ("default", "viewer")
        with app.state.db.session() as s:
            from salesplan.api.service.keys import create_key
            other = {"X-API-Key": create_key(s, "other", workspace="elsewhere").key}
        assert client.get("/v1/scenarios", headers=other).json()["count"] == 0
        assert client.get("/v1/runs/1", headers=other).status_code == 404
        # new scenarios and runs of the old key go on in `default`
        r = client.post("/v1/runs", json={"scenario_id": 1, "kind": "echo"}, headers=legacy)
        assert r.status_code == 202, r.text


def test_an_old_sqlite_database_is_migrated_at_start_up(tmp_path, old_sqlite):
    app = make_app(tmp_path, run_pool=False)
    assert sorted(app.state.db.migrated) == sorted([
        "api_keys.role", "api_keys.workspace", "runs.workspace", "scenarios.workspace",
        "ix_runs_workspace", "ix_scenarios_workspace"])
    check_old_data_served(app)
    app.state.db.dispose()
    # idempotent: a second start adds nothing and keeps everything
    again = Database(f"sqlite:///{old_sqlite}")
    assert again.migrated == []
    assert migrate(again.engine) == []
    con = sqlite3.connect(old_sqlite)
    assert con.execute("SELECT workspace, role FROM api_keys WHERE name='legacy'").fetchall() \
        == [("default", "admin")]
    assert con.execute("SELECT DISTINCT workspace FROM runs").fetchall() == [("default",)]
    con.close()
    again.dispose()


def test_a_new_database_needs_no_migration(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'new.db'}")
    assert db.migrated == []
    db.dispose()


PG_URL = os.environ.get("SALESPLAN_TEST_POSTGRES_URL")


@pytest.mark.skipif(not PG_URL, reason="SALESPLAN_TEST_POSTGRES_URL is not set (no PostgreSQL "
                                       "server to test on)")
def test_an_old_postgres_database_is_migrated_at_start_up(tmp_path):
    import sqlalchemy as sa

    from salesplan.api.service.db import MIGRATIONS, Base

    new_columns = {(table, column) for table, column, _ in MIGRATIONS}
    engine = sa.create_engine(PG_URL)
    Base.metadata.drop_all(engine)
    old = sa.MetaData()  # the current tables without the columns the migration adds
    for table in Base.metadata.sorted_tables:
        sa.Table(table.name, old, *[c._copy() for c in table.columns
                                    if (table.name, c.name) not in new_columns])
    old.create_all(engine)
    with engine.begin() as conn:
        for sql, params in old_rows():
            sql = sql.replace("?", "%s").replace("1, 0)", "1, false)")  # PostgreSQL's boolean
            conn.exec_driver_sql(sql, params)
        conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('runs', 'id'), 1)")
        conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('scenarios', 'id'), 1)")
        conn.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('scenario_versions', 'id'), 1)")
    engine.dispose()
    app = make_app(tmp_path, run_pool=False, database_url=PG_URL)
    assert len(app.state.db.migrated) == 6
    check_old_data_served(app)
    app.state.db.dispose()
    again = Database(PG_URL)
    assert again.migrated == []
    again.dispose()
