"""Bad input gets a 4xx with a message (every problem with its path), never a 500: malformed
YAML, schema violations, oversized bodies, unknown run kinds, bad options, limits."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from test_service_support import EXAMPLES, create_small, make_app, new_key, small_upload


@pytest.fixture
def svc(tmp_path):
    app = make_app(tmp_path, run_pool=False, max_body_bytes=200_000, max_accounts=50,
                   max_replications=500)
    client = TestClient(app, raise_server_exceptions=True)
    return client, {"X-API-Key": new_key(app)}


def _problems(r) -> dict[str, str]:
    return {p["path"]: p["message"] for p in r.json()["problems"]}


def test_malformed_yaml(svc):
    client, h = svc
    r = client.post("/v1/scenarios", json={"text": "name: [unclosed\nregions: {", "format": "yaml"},
                    headers=h)
    assert r.status_code == 422
    assert "line" in r.json()["problems"][0]["message"]
    files = {"file": ("s.yaml", b"a: b: c: : -\n  - ]", "text/yaml")}
    r = client.post("/v1/scenarios/upload", files=files, headers=h)
    assert r.status_code == 422 and r.json()["problems"]


def test_malformed_json_and_not_utf8(svc):
    client, h = svc
    r = client.post("/v1/scenarios", json={"text": "{\"name\": ", "format": "json"}, headers=h)
    assert r.status_code == 422 and "not valid JSON" in r.json()["problems"][0]["message"]
    r = client.post("/v1/scenarios", content=b"{not json", headers={
        **h, "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["problems"]
    r = client.post("/v1/scenarios/upload", files={"file": ("s.yaml", b"\xff\xfe\x00bad")},
                    headers=h)
    assert r.status_code == 422 and "UTF-8" in r.json()["problems"][0]["message"]


def test_schema_violations_list_every_problem_with_its_path(svc):
    client, h = svc
    text = (EXAMPLES / "small.yaml").read_text()
    text = text.replace("conversion: 0.5", "conversion: 1.5", 1).replace(
        "months: 12", "months: -3", 1)
    body = {**small_upload(), "text": text}
    r = client.post("/v1/scenarios", json=body, headers=h)
    assert r.status_code == 422, r.text
    problems = _problems(r)
    assert any(p.startswith("stages[0]") or p.startswith("stages[lead]") for p in problems), \
        problems
    assert any(p.startswith("horizon.months") for p in problems), problems
    assert "2 problems" in r.json()["detail"] or len(problems) >= 2


def test_missing_table_and_bad_csv_row(svc):
    client, h = svc
    body = {**small_upload(), "tables": {}}
    r = client.post("/v1/scenarios", json=body, headers=h)
    assert r.status_code == 422 and "accounts" in _problems(r)
    csv = (EXAMPLES / "small_accounts.csv").read_text().splitlines()
    header = csv[0].split(",")
    col = header.index("potential")
    row = csv[3].split(",")
    row[col] = "-5"
    csv[3] = ",".join(row)
    r = client.post("/v1/scenarios", json={**small_upload(),
                                           "tables": {"small_accounts.csv": "\n".join(csv)}},
                    headers=h)
    assert r.status_code == 422
    assert "small_accounts.csv line 4" in _problems(r)


def test_request_shape_errors(svc):
    client, h = svc
    r = client.post("/v1/scenarios", json={"text": "x", "document": {}}, headers=h)
    assert r.status_code == 422 and "exactly one" in r.text
    r = client.post("/v1/scenarios", json={"txt": "x"}, headers=h)
    assert r.status_code == 422 and "body.txt" in _problems(r)
    assert client.get("/v1/scenarios/abc", headers=h).status_code == 422
    assert client.get("/v1/scenarios?limit=0", headers=h).status_code == 422
    assert client.get("/v1/scenarios/999", headers=h).status_code == 404


def test_oversized_body_is_413(svc):
    client, h = svc
    big = {"text": "name: x\n" + "#" * 300_000, "format": "yaml"}
    r = client.post("/v1/scenarios", json=big, headers=h)
    assert r.status_code == 413 and "limit is 200000 bytes" in r.json()["detail"]
    files = {"file": ("s.yaml", b"#" * 300_000)}
    assert client.post("/v1/scenarios/upload", files=files, headers=h).status_code == 413

    def chunks():
        for _ in range(30):
            yield b"#" * 10_000

    r = client.post("/v1/scenarios", content=chunks(),
                    headers={**h, "Content-Type": "application/json"})
    assert r.status_code == 413


def test_scenario_size_limits(svc):
    client, h = svc  # max_accounts=50; the example has 100
    r = client.post("/v1/scenarios", json=small_upload(), headers=h)
    assert r.status_code == 422
    assert "accounts" in _problems(r) and "limit of 50" in _problems(r)["accounts"]


def test_unknown_kind_and_bad_options(tmp_path):
    app = make_app(tmp_path, run_pool=False, max_replications=500)
    client = TestClient(app)
    h = {"X-API-Key": new_key(app)}
    sid = create_small(client, h)

    def submit(**body):
        return client.post("/v1/runs", json={"scenario_id": sid, **body}, headers=h)

    r = submit(kind="rm -rf /")
    assert r.status_code == 422 and "unknown run kind" in _problems(r)["kind"]
    r = submit(kind="simulate", options={"replications": 0, "bogus": 1})
    assert r.status_code == 422
    assert {"options.replications", "options.bogus"} <= set(_problems(r))
    r = submit(kind="simulate", options={"replications": 501})
    assert r.status_code == 422 and "limit of 500" in _problems(r)["options.replications"]
    r = submit(kind="simulate", options={"routing": "__import__('os')"})
    assert r.status_code == 422 and "unknown routing strategy" in _problems(r)["options.routing"]
    r = submit(kind="align", options={"balance": {"workload": -1}, "solver": "gurobi"})
    assert r.status_code == 422
    assert {"options.balance", "options.solver"} <= set(_problems(r))
    r = submit(kind="quotas", options={"peer_band": [2, 3]})
    assert r.status_code == 422
    assert "peer_band must have 0 <= low <= 1 <= high" in _problems(r)["options.peer_band"]
    r = submit(kind="simulate", version=7)
    assert r.status_code == 404
    r = client.post("/v1/runs", json={"scenario_id": 0, "kind": "simulate"}, headers=h)
    assert r.status_code == 422
    assert client.get("/v1/runs/12345", headers=h).status_code == 404
    assert client.get("/v1/runs?status=weird", headers=h).status_code == 422
    r = submit(kind="echo")
    assert r.status_code == 202
    rid = r.json()["id"]
    r = client.get(f"/v1/runs/{rid}/result", headers=h)  # queued: no pool in this app
    assert r.status_code == 409 and "queued" in r.json()["detail"]
    assert client.get(f"/v1/runs/{rid}/tables/..%2Fetc", headers=h).status_code in (404, 422)


def test_deep_nesting_and_yaml_alias_bombs(svc):
    client, h = svc
    deep = "[" * 50_000 + "]" * 50_000
    for fmt in ("json", "yaml"):
        r = client.post("/v1/scenarios", json={"text": deep, "format": fmt}, headers=h)
        # JSON: "nested too deeply" (our RecursionError guard); YAML: libyaml's own limit,
        # "exceeded maximum nesting depth", with its line and column
        assert r.status_code == 422 and ("nested too deeply" in r.text
                                         or "maximum nesting depth" in r.text), (fmt, r.text)
    body = '{"document": {"regions": ' + "[" * 5000 + "]" * 5000 + "}}"
    r = client.post("/v1/scenarios", content=body, headers={**h,
                                                            "Content-Type": "application/json"})
    assert 400 <= r.status_code < 500
    lines = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    prev = "a"
    for i in range(10):  # 9**11 values once expanded
        lines.append(f"n{i}: &n{i} [" + ", ".join([f"*{prev}"] * 9) + "]")
        prev = f"n{i}"
    lines.append(f"regions: *{prev}")
    r = client.post("/v1/scenarios", json={"text": "\n".join(lines)}, headers=h)
    assert r.status_code == 422 and "aliases" in r.json()["problems"][0]["message"]
