"""Workspaces and roles (issue #19, item 5): a key sees only its workspace (404 for the rest,
on every route), roles are enforced on every write route, admins manage their workspace's keys
over the API."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from test_service_support import create_small, make_app, small_upload, wait_final, wait_status

from salesplan.api.service.keys import create_key


def _file_name(path: str) -> str:
    """The name of an echo run's chart, file or table, for a route with ``{name}``."""
    return "dot" if "/charts/" in path else "report.html" if "/files/" in path else "reps"


def key(app, name: str, workspace: str, role: str) -> dict:
    with app.state.db.session() as s:
        return {"X-API-Key": create_key(s, name, workspace=workspace, role=role).key}


def all_routes(app) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in app.openapi()["paths"].items()
            for method in item if path != "/health"}


WRITES = {
    ("POST", "/v1/scenarios"), ("POST", "/v1/scenarios/upload"),
    ("PUT", "/v1/scenarios/{scenario_id}"), ("PUT", "/v1/scenarios/{scenario_id}/upload"),
    ("DELETE", "/v1/scenarios/{scenario_id}"), ("POST", "/v1/runs"),
    ("DELETE", "/v1/runs/{run_id}"),
}
KEY_ROUTES = {("POST", "/v1/keys"), ("GET", "/v1/keys"), ("DELETE", "/v1/keys/{key_ref}")}


def upload_files() -> dict:
    body = small_upload()
    return {"file": ("small.yaml", body["text"]),
            "tables": ("small_accounts.csv", body["tables"]["small_accounts.csv"])}


def call(client, method: str, path: str, headers: dict, ids: dict, **extra):
    """One request to a route template with ``ids`` filled in and a valid body for writes."""
    url = path.format(**ids)
    kwargs: dict = {}
    if (method, path) in {("POST", "/v1/scenarios"), ("PUT", "/v1/scenarios/{scenario_id}")}:
        kwargs["json"] = small_upload()
    elif path.endswith("/upload"):
        kwargs["files"] = upload_files()
    elif (method, path) == ("POST", "/v1/runs"):
        kwargs["json"] = {"scenario_id": ids["scenario_id"], "kind": "echo"}
    elif (method, path) == ("POST", "/v1/keys"):
        kwargs["json"] = {"name": extra.get("new_key", "someone"), "role": "viewer"}
    return client.request(method, url, headers=headers, **kwargs)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Workspace A with a scenario (2 versions), a succeeded run with a table and a chart, and
    a running run; keys: A admin, A planner, A viewer, B admin."""
    app = make_app(tmp_path_factory.mktemp("ws"))
    keys = {"a_admin": key(app, "a-admin", "a", "admin"),
            "a_planner": key(app, "a-planner", "a", "planner"),
            "a_viewer": key(app, "a-viewer", "a", "viewer"),
            "b_admin": key(app, "b-admin", "b", "admin")}
    with TestClient(app) as client:
        a = keys["a_admin"]
        sid = create_small(client, a)
        assert client.put(f"/v1/scenarios/{sid}", json=small_upload(),
                          headers=a).status_code == 200
        done = client.post("/v1/runs", json={"scenario_id": sid, "kind": "echo"},
                           headers=a).json()["id"]
        assert wait_final(client, a, done)["status"] == "succeeded"
        busy = client.post("/v1/runs", json={"scenario_id": sid, "kind": "sleep",
                                             "options": {"seconds": 120}},
                           headers=a).json()["id"]
        wait_status(client, a, busy, "running")
        yield app, client, keys, {"scenario_id": sid, "version": 1, "run_id": done,
                                  "busy_run": busy, "name": "reps"}
        client.delete(f"/v1/runs/{busy}", headers=a)


def test_another_workspace_sees_nothing_on_every_route(world):
    app, client, keys, ids = world
    b = keys["b_admin"]
    a_key_id = keys["a_viewer"]["X-API-Key"].split("_")[1]
    checked = set()
    for method, path in sorted(all_routes(app)):
        if (method, path) in KEY_ROUTES:
            continue  # below
        route_ids = dict(ids, name=_file_name(path))
        if (method, path) == ("DELETE", "/v1/runs/{run_id}"):
            route_ids["run_id"] = ids["busy_run"]
        r = call(client, method, path, b, route_ids)
        checked.add((method, path))
        if (method, path) in {("POST", "/v1/scenarios"), ("POST", "/v1/scenarios/upload")}:
            assert r.status_code == 201, r.text  # created in B, not in A
            continue
        if (method, path) in {("GET", "/v1/scenarios"), ("GET", "/v1/runs")}:
            assert r.status_code == 200
            if path == "/v1/runs":
                assert r.json()["count"] == 0
            else:
                assert ids["scenario_id"] not in {row["id"] for row in r.json()["data"]}
            continue
        if path == "/v1/kinds":
            assert r.status_code == 200
            continue
        if path == "/v1/keys/me":  # B's key is told about itself, nothing of A
            assert r.status_code == 200
            assert r.json() == {"name": "b-admin", "workspace": "b", "role": "admin"}
            continue
        assert r.status_code == 404, (method, path, r.status_code, r.text)
        assert r.json()["detail"]
    # B's listings hold only B's own scenarios (the two it just created), no runs
    listed = client.get("/v1/scenarios", headers=b).json()
    assert listed["count"] == 2 and ids["scenario_id"] not in {s["id"] for s in listed["data"]}
    assert client.get("/v1/runs", headers=b).json()["count"] == 0
    for status in ("succeeded", "running"):
        assert client.get(f"/v1/runs?status={status}", headers=b).json()["count"] == 0
    assert client.get(f"/v1/runs?scenario_id={ids['scenario_id']}",
                      headers=b).json()["count"] == 0
    # keys: B's admin neither lists nor revokes A's keys
    assert a_key_id not in client.get("/v1/keys", headers=b).text
    assert client.delete(f"/v1/keys/{a_key_id}", headers=b).status_code == 404
    assert client.delete("/v1/keys/a-viewer", headers=b).status_code == 404
    checked |= KEY_ROUTES
    assert checked == all_routes(app)
    # and A's data is untouched: scenario there, busy run still running, viewer key alive
    a = keys["a_viewer"]
    assert client.get(f"/v1/scenarios/{ids['scenario_id']}", headers=a).status_code == 200
    assert client.get(f"/v1/runs/{ids['busy_run']}", headers=a).json()["status"] == "running"
    assert client.get(f"/v1/runs/{ids['run_id']}/result", headers=a).status_code == 200
    listed_runs = {r["id"] for r in client.get("/v1/runs", headers=a).json()["data"]}
    assert {ids["run_id"], ids["busy_run"]} <= listed_runs


def test_a_viewer_reads_everything_and_writes_nothing(world):
    app, client, keys, ids = world
    v = keys["a_viewer"]
    writes = {(m, p) for m, p in all_routes(app) if m in ("POST", "PUT", "DELETE")}
    assert writes == WRITES | {("POST", "/v1/keys"), ("DELETE", "/v1/keys/{key_ref}")}
    for method, path in sorted(WRITES):
        route_ids = dict(ids, run_id=ids["busy_run"])
        r = call(client, method, path, v, route_ids)
        assert r.status_code == 403, (method, path, r.status_code, r.text)
        assert "viewer" in r.json()["detail"] and "planner" in r.json()["detail"]
    for method, path in sorted(KEY_ROUTES):
        r = call(client, method, path, v, {"key_ref": "a-planner"})
        assert r.status_code == 403 and "admin" in r.json()["detail"], (method, path)
    reads = {(m, p) for m, p in all_routes(app) if m == "GET"} - KEY_ROUTES
    for method, path in sorted(reads):
        route_ids = dict(ids, name=_file_name(path))
        r = call(client, method, path, v, route_ids)
        assert r.status_code == 200, (method, path, r.status_code, r.text)
    # nothing changed: the busy run still runs, the scenario still has 2 versions
    assert client.get(f"/v1/runs/{ids['busy_run']}", headers=v).json()["status"] == "running"
    assert client.get(f"/v1/scenarios/{ids['scenario_id']}",
                      headers=v).json()["latest_version"] == 2


def test_a_planner_writes_but_manages_no_keys(world):
    _app, client, keys, _ids = world
    p = keys["a_planner"]
    for method, path in sorted(KEY_ROUTES):
        r = call(client, method, path, p, {"key_ref": "a-viewer"})
        assert r.status_code == 403 and "admin" in r.json()["detail"], (method, path)
    sid = create_small(client, p)
    r = client.post("/v1/scenarios/upload", files=upload_files(), headers=p)
    assert r.status_code == 201
    assert client.put(f"/v1/scenarios/{sid}", json=small_upload(), headers=p).status_code == 200
    assert client.put(f"/v1/scenarios/{sid}/upload", files=upload_files(),
                      headers=p).status_code == 200
    run = client.post("/v1/runs", json={"scenario_id": sid, "kind": "sleep",
                                        "options": {"seconds": 60}}, headers=p).json()
    assert client.delete(f"/v1/runs/{run['id']}", headers=p).json()["status"] == "cancelled"
    assert client.delete(f"/v1/scenarios/{sid}", headers=p).status_code == 204
    # the admin of A sees what the planner made (same workspace)
    assert client.get(f"/v1/runs/{run['id']}", headers=keys["a_admin"]).status_code == 200


def test_every_key_is_told_its_name_workspace_and_role_never_the_key(world):
    """``GET /v1/keys/me`` (the web app's header): any role, its own key only."""
    _app, client, keys, _ids = world
    expected = {"a_admin": ("a-admin", "a", "admin"), "a_planner": ("a-planner", "a", "planner"),
                "a_viewer": ("a-viewer", "a", "viewer"), "b_admin": ("b-admin", "b", "admin")}
    for who, (name, workspace, role) in expected.items():
        r = client.get("/v1/keys/me", headers=keys[who])
        assert r.status_code == 200, r.text
        assert r.json() == {"name": name, "workspace": workspace, "role": role}
        secret = keys[who]["X-API-Key"]
        assert secret not in r.text and secret.split("_")[2] not in r.text
    assert client.get("/v1/keys/me").status_code == 401
    assert client.get("/v1/keys/me", headers={"X-API-Key": "sp_00000000_nope"}).status_code == 401


def test_admin_manages_the_keys_of_its_workspace(world):
    app, client, keys, ids = world
    a = keys["a_admin"]
    r = client.post("/v1/keys", json={"name": "carol", "role": "planner"}, headers=a)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["workspace"] == "a" and made["role"] == "planner"
    secret = made["key"]
    assert secret.startswith(f"sp_{made['id']}_")
    carol = {"X-API-Key": secret}
    # the new key works, in workspace A
    assert client.get(f"/v1/scenarios/{ids['scenario_id']}", headers=carol).status_code == 200
    # listed without secrets, only workspace A
    listed = client.get("/v1/keys", headers=a)
    assert listed.status_code == 200
    body = listed.json()
    assert {k["name"] for k in body["data"]} >= {"a-admin", "a-planner", "a-viewer", "carol"}
    assert {k["workspace"] for k in body["data"]} == {"a"}
    assert "b-admin" not in listed.text
    assert secret not in listed.text and all("key" not in k for k in body["data"])
    with app.state.db.session() as s:  # stored hashed
        from salesplan.api.service.db import ApiKey
        assert secret not in {row.key_hash for row in s.query(ApiKey)}
    # names are unique; roles are checked; the body is checked
    assert client.post("/v1/keys", json={"name": "carol"}, headers=a).status_code == 409
    assert client.post("/v1/keys", json={"name": "dave", "role": "owner"},
                       headers=a).status_code == 422
    assert client.post("/v1/keys", json={"name": "bad name"}, headers=a).status_code == 422
    # default role: viewer
    assert client.post("/v1/keys", json={"name": "erin"}, headers=a).json()["role"] == "viewer"
    # revoke by id, then the key answers 401; revoking again keeps it revoked
    r = client.delete(f"/v1/keys/{made['id']}", headers=a)
    assert r.status_code == 200 and r.json()["revoked"] is not None
    assert client.get("/v1/scenarios", headers=carol).status_code == 401
    assert client.delete("/v1/keys/carol", headers=a).status_code == 200
    assert client.delete("/v1/keys/nobody", headers=a).status_code == 404
    # not its own key (409), which keeps working
    r = client.delete("/v1/keys/a-admin", headers=a)
    assert r.status_code == 409 and "salesplan apikey revoke" in r.json()["detail"]
    assert client.get("/v1/keys", headers=a).status_code == 200
    # an admin may create an admin of its own workspace, never of another
    r = client.post("/v1/keys", json={"name": "frank", "role": "admin", "workspace": "b"},
                    headers=a)
    assert r.status_code == 422  # no workspace field: always the caller's


def test_submitting_a_run_for_another_workspaces_scenario_is_not_found(world):
    _app, client, keys, ids = world
    b = keys["b_admin"]
    r = client.post("/v1/runs", json={"scenario_id": ids["scenario_id"], "kind": "echo",
                                      "version": 1}, headers=b)
    assert r.status_code == 404 and f"no scenario {ids['scenario_id']}" in r.json()["detail"]
    # the same answer as for a scenario that does not exist
    r2 = client.post("/v1/runs", json={"scenario_id": 999999, "kind": "echo"}, headers=b)
    assert r2.status_code == 404


def test_cli_creates_keys_in_a_workspace_with_a_role(tmp_path, monkeypatch, capsys):
    from salesplan.api.cli import main

    url = f"sqlite:///{tmp_path / 'keys.db'}"
    monkeypatch.setenv("SALESPLAN_DATABASE_URL", url)
    assert main(["apikey", "create", "vic", "--workspace", "sales-emea", "--role",
                 "viewer"]) == 0
    out = capsys.readouterr()
    vic = {"X-API-Key": out.out.strip().splitlines()[-1]}
    assert "viewer of workspace 'sales-emea'" in out.err
    assert main(["apikey", "create", "root"]) == 0  # defaults: admin of `default`
    root = {"X-API-Key": capsys.readouterr().out.strip().splitlines()[-1]}
    assert main(["apikey", "list"]) == 0
    listing = capsys.readouterr().out
    assert "sales-emea  viewer" in listing and "default  admin" in listing
    assert main(["apikey", "list", "--workspace", "sales-emea"]) == 0
    listing = capsys.readouterr().out
    assert "vic" in listing and "root" not in listing
    assert main(["apikey", "create", "x", "--role", "owner"]) == 2
    assert "unknown role 'owner'" in capsys.readouterr().err
    assert main(["apikey", "create", "y", "--workspace", "no spaces"]) == 2
    assert "workspace name" in capsys.readouterr().err

    app = make_app(tmp_path, run_pool=False, database_url=url)
    client = TestClient(app)
    sid = create_small(client, root)
    assert client.get(f"/v1/scenarios/{sid}", headers=vic).status_code == 404
    assert client.get("/v1/scenarios", headers=vic).json()["count"] == 0
    assert client.post("/v1/scenarios", json=small_upload(), headers=vic).status_code == 403
