"""Submission validates everything (issue #19): what would fail later is refused with 422 at
submission, naming the field, and nothing is stored; the service keeps serving every listing."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from test_service_support import create_small, make_app, new_key


@pytest.fixture
def svc(tmp_path):
    app = make_app(tmp_path, run_pool=False, max_replications=500)
    client = TestClient(app, raise_server_exceptions=True)
    h = {"X-API-Key": new_key(app)}
    return client, h, create_small(client, h)


def _submit(client, h, sid, kind, options):
    """Post the body as JSON text with non-ASCII escaped (a lone surrogate as ``\\ud800``, as a
    client would send it) and non-finite numbers as ``Infinity``/``NaN`` (Python's reading of
    JSON accepts them)."""
    body = json.dumps({"scenario_id": sid, "kind": kind, "options": options})
    return client.post("/v1/runs", content=body,
                       headers={**h, "Content-Type": "application/json"})


def _paths(r) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in r.json()["problems"]:
        out[p["path"]] = (out[p["path"]] + " | " if p["path"] in out else "") + p["message"]
    return out


@pytest.mark.parametrize(("kind", "options", "path", "words"), [
    ("whatif", {"variants": ["\ud800"], "replications": 2}, "options.variants[0]",
     "lone surrogate"),
    ("whatif", {"variants": ["nope"]}, "options.variants", "'nope' is not a variant"),
    ("whatif", {"replications": 1}, "options.replications", "greater than or equal to 2"),
    ("whatif", {"replications": True}, "options.replications", "valid integer"),
    ("quotas", {"replications": 1}, "options.replications", "greater than or equal to 2"),
    ("plan-headcount", {"replications": 1}, "options.replications",
     "greater than or equal to 10"),
    ("plan-headcount", {"regions": ["Atlantis"]}, "options.regions",
     "'Atlantis' is not a region"),
    ("align", {"disruption": float("inf")}, "options.disruption", "finite number"),
    ("simulate", {"routing": "a\x00"}, "options.routing", "NUL"),
    ("comp", {"quotas": {"R1": 1.0, "R99": 2.0}}, "options.quotas", "R99"),
])
def test_refused_at_submission_with_the_field(svc, kind, options, path, words):
    client, h, sid = svc
    r = _submit(client, h, sid, kind, options)
    assert r.status_code == 422, r.text
    problems = _paths(r)
    assert path in problems, problems
    assert words in problems[path], problems
    # nothing stored, and every listing still answers
    assert client.get("/v1/runs", headers=h).json()["count"] == 0
    for q in ("", "?status=queued", f"?scenario_id={sid}"):
        assert client.get(f"/v1/runs{q}", headers=h).status_code == 200


def test_infinity_in_a_json_body_is_refused(svc):
    client, h, sid = svc
    body = '{"scenario_id": ' + str(sid) + ', "kind": "align", "options": {"disruption": 1e400}}'
    r = client.post("/v1/runs", content=body, headers={**h, "Content-Type": "application/json"})
    assert r.status_code == 422, r.text


def test_valid_options_are_still_accepted(svc):
    client, h, sid = svc
    r = _submit(client, h, sid, "whatif", {"variants": ["hire-south"], "replications": 2})
    assert r.status_code == 202, r.text
    r = _submit(client, h, sid, "comp", {"replications": 2})
    assert r.status_code == 202, r.text


def test_scenario_text_with_a_lone_surrogate_is_refused_and_listings_still_work(svc):
    client, h, sid = svc
    from test_service_support import small_upload

    body = small_upload()
    body["text"] = body["text"].replace("name: small", "name: \"\\ud800\"", 1)
    assert "\\ud800" in body["text"]
    r = client.post("/v1/scenarios", content=json.dumps(body),
                    headers={**h, "Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    # libyaml refuses the escape while parsing; the pure-Python loader reads it and the
    # scenario's text check refuses it: either way a 422 that names the problem
    assert "lone surrogate" in r.text or "invalid Unicode character" in r.text
    table = next(iter(body["tables"]))
    body = small_upload()
    lines = body["tables"][table].splitlines()
    lines[1] = lines[1].replace(lines[1].split(",")[1], "\udc00", 1)
    body["tables"][table] = "\n".join(lines) + "\n"
    r = client.post("/v1/scenarios", content=json.dumps(body),
                    headers={**h, "Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert client.get("/v1/scenarios", headers=h).status_code == 200
    assert client.get(f"/v1/scenarios/{sid}/versions/1", headers=h).status_code == 200


def test_a_lone_surrogate_in_a_json_scenario_is_refused_by_the_text_check(svc):
    """JSON reads ``\\ud800`` into text; the scenario's own check refuses it with the path."""
    client, h, _ = svc
    import yaml

    from salesplan.scenarios.examples import EXAMPLES

    doc = yaml.safe_load((EXAMPLES / "small.yaml").read_text())
    doc["name"] = "\ud800"
    body = {"text": json.dumps(doc), "format": "json",
            "tables": {"small_accounts.csv": (EXAMPLES / "small_accounts.csv").read_text()}}
    r = client.post("/v1/scenarios", content=json.dumps(body),
                    headers={**h, "Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert _paths(r)["name"].startswith("contains a lone surrogate U+D800")
