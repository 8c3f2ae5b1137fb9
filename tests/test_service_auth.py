"""API keys: every route except /health and the docs needs a valid key; no key, a bad key and
a revoked key all get 401; keys are stored hashed."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient
from test_service_support import create_small, make_app, new_key

from salesplan.api.service.db import ApiKey
from salesplan.api.service.keys import revoke_key, verify_key


@pytest.fixture
def app(tmp_path):
    # every route with a bad key: more failures than the default rate limit lets through
    # (the limit itself: test_service_workspaces_access.py)
    return make_app(tmp_path, run_pool=False, auth_failure_limit=10_000)


def protected_routes(app) -> list[tuple[str, str]]:
    out = []
    for path, item in app.openapi()["paths"].items():
        for method in item:
            if path != "/health":
                out.append((method.upper(), path.replace("{scenario_id}", "1")
                            .replace("{version}", "1").replace("{run_id}", "1")
                            .replace("{name}", "x")))
    return out


def test_open_routes_need_no_key(app):
    client = TestClient(app)
    assert client.get("/health").status_code == 200
    assert client.get("/health").json()["status"] == "ok"
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize("headers", [
    {},
    {"X-API-Key": "nope"},
    {"X-API-Key": "sp_00000000_" + "a" * 43},
    {"Authorization": "Bearer sp_00000000_" + "a" * 43},
    {"Authorization": "Basic dXNlcjpwYXNz"},
], ids=["none", "malformed", "unknown", "unknown-bearer", "basic"])
def test_every_protected_route_rejects_bad_keys(app, headers):
    client = TestClient(app)
    routes = protected_routes(app)
    assert len(routes) >= 12
    for method, path in routes:
        r = client.request(method, path, headers=headers)
        assert r.status_code == 401, (method, path, r.status_code, r.text)
        assert r.json()["detail"]


def test_valid_revoked_and_tampered_keys(app):
    client = TestClient(app)
    key = new_key(app, "alice")
    assert client.get("/v1/scenarios", headers={"X-API-Key": key}).status_code == 200
    assert client.get("/v1/scenarios",
                      headers={"Authorization": f"Bearer {key}"}).status_code == 200
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    assert client.get("/v1/scenarios", headers={"X-API-Key": tampered}).status_code == 401
    sid = create_small(client, {"X-API-Key": key})
    with app.state.db.session() as s:
        revoke_key(s, "alice")
    for path in ("/v1/scenarios", f"/v1/scenarios/{sid}"):
        r = client.get(path, headers={"X-API-Key": key})
        assert r.status_code == 401 and "revoked" in r.json()["detail"]


def test_keys_are_stored_hashed(app):
    key = new_key(app, "bob")
    with app.state.db.session() as s:
        row = s.query(ApiKey).one()
        assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
        assert key not in (row.id, row.name, row.key_hash)
        assert key.startswith(f"sp_{row.id}_")
        assert verify_key(s, key) is not None
        assert verify_key(s, None) is None
