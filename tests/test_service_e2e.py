"""End to end with the test client: scenarios, versions, runs of each kind, results as JSON,
CSV and PNG, cancellation and the run-time limit."""

from __future__ import annotations

import importlib
import io
import time

import pandas as pd
import pytest
from test_service_support import (
    EXAMPLES,
    PNG,
    client_for,
    create_small,
    wait_final,
    wait_status,
)


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


@pytest.fixture
def svc(tmp_path):
    with client_for(tmp_path) as pair:
        yield pair


def test_scenario_lifecycle(svc):
    client, h = svc
    sid = create_small(client, h)
    r = client.get(f"/v1/scenarios/{sid}", headers=h)
    assert r.status_code == 200
    body = r.json()
    assert body["name"] == "small" and body["latest_version"] == 1
    assert body["latest"]["counts"]["accounts"] == 100 and body["latest"]["counts"]["reps"] == 6

    # a new version from a multipart upload; version 1 is unchanged
    text = (EXAMPLES / "small.yaml").read_text().replace("name: small", "name: small-v2", 1)
    files = [("file", ("small.yaml", text, "application/yaml")),
             ("tables", ("small_accounts.csv", (EXAMPLES / "small_accounts.csv").read_bytes(),
                         "text/csv"))]
    r = client.put(f"/v1/scenarios/{sid}/upload", files=files, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["latest_version"] == 2 and r.json()["name"] == "small-v2"
    v1 = client.get(f"/v1/scenarios/{sid}/versions/1", headers=h).json()
    v2 = client.get(f"/v1/scenarios/{sid}/versions/2", headers=h).json()
    assert v1["document"]["name"] == "small" and v2["document"]["name"] == "small-v2"
    assert v1["document"]["accounts"] == "small_accounts.csv"
    assert set(v1["tables"]) == {"small_accounts.csv"}

    # a new version from a JSON body (the stored document of version 1, renamed)
    r = client.put(f"/v1/scenarios/{sid}", json={"document": {**v1["document"], "name": "v3"},
                                                  "tables": v1["tables"]}, headers=h)
    assert r.status_code == 200 and r.json()["latest_version"] == 3
    assert client.get(f"/v1/scenarios/{sid}/versions/3", headers=h).json()["name"] == "v3"
    assert client.get(f"/v1/scenarios/{sid}/versions/4", headers=h).status_code == 404

    # JSON document with inline tables, as another scenario
    doc = dict(v1["document"])
    r = client.post("/v1/scenarios", json={"document": doc, "tables": v1["tables"]}, headers=h)
    assert r.status_code == 201, r.text
    listing = client.get("/v1/scenarios", headers=h).json()
    assert listing["count"] == 2 and len(listing["data"]) == 2

    assert client.delete(f"/v1/scenarios/{sid}", headers=h).status_code == 204
    assert client.get(f"/v1/scenarios/{sid}", headers=h).status_code == 404
    assert client.get("/v1/scenarios", headers=h).json()["count"] == 1
    r = client.post("/v1/runs", json={"scenario_id": sid, "kind": "echo"}, headers=h)
    assert r.status_code == 404


def test_multipart_create(svc):
    client, h = svc
    files = [("file", ("small.yaml", (EXAMPLES / "small.yaml").read_bytes(), "text/yaml")),
             ("tables", ("small_accounts.csv", (EXAMPLES / "small_accounts.csv").read_bytes(),
                         "text/csv"))]
    r = client.post("/v1/scenarios/upload", files=files, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["latest"]["counts"]["accounts"] == 100


def test_echo_run_results_csv_png(svc):
    client, h = svc
    sid = create_small(client, h)
    r = client.post("/v1/runs", json={"scenario_id": sid, "kind": "echo",
                                      "options": {"value": [1, "two"]}}, headers=h)
    assert r.status_code == 202, r.text
    run = r.json()
    assert run["status"] in ("queued", "running") and r.headers["location"].endswith(
        str(run["id"]))
    assert run["options"] == {"value": [1, "two"], "replications": 1}  # defaults filled in
    done = wait_final(client, h, run["id"])
    assert done["status"] == "succeeded", done
    assert done["progress"] == 1.0 and done["attempts"] == 1 and done["seconds"] >= 0
    res = client.get(f"/v1/runs/{run['id']}/result", headers=h).json()
    assert res["result"] == {"scenario": "small", "value": [1, "two"], "reps": 6, "nan": None}
    assert res["tables"] == ["reps"] and res["charts"] == ["dot"]
    csv = client.get(f"/v1/runs/{run['id']}/tables/reps", headers=h)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    frame = pd.read_csv(io.StringIO(csv.text))
    assert list(frame.columns) == ["rep", "region"] and len(frame) == 6
    assert client.get(f"/v1/runs/{run['id']}/tables/reps.csv", headers=h).text == csv.text
    png = client.get(f"/v1/runs/{run['id']}/charts/dot", headers=h)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content == PNG
    assert client.get(f"/v1/runs/{run['id']}/tables/nope", headers=h).status_code == 404
    listing = client.get("/v1/runs", params={"status": "succeeded"}, headers=h).json()
    assert [x["id"] for x in listing["data"]] == [run["id"]]


def test_failed_runs_carry_the_reason(svc):
    client, h = svc
    sid = create_small(client, h)
    ids = {}
    for how in ("planner", "bug", "crash"):
        r = client.post("/v1/runs", json={"scenario_id": sid, "kind": "fail",
                                          "options": {"how": how}}, headers=h)
        ids[how] = r.json()["id"]
    out = {how: wait_final(client, h, rid) for how, rid in ids.items()}
    assert all(o["status"] == "failed" for o in out.values())
    assert out["planner"]["error"] == "the plan is infeasible: 3 reps short in North"
    assert "internal error (RuntimeError): boom" in out["bug"]["error"]
    assert "exited unexpectedly (exit code 3)" in out["crash"]["error"]
    r = client.get(f"/v1/runs/{ids['planner']}/result", headers=h)
    assert r.status_code == 409 and "3 reps short" in r.json()["detail"]


def test_cancel_queued_and_running(tmp_path):
    with client_for(tmp_path, run_workers=1) as (client, h):
        sid = create_small(client, h)
        post = {"scenario_id": sid, "kind": "sleep", "options": {"seconds": 60}}
        first = client.post("/v1/runs", json=post, headers=h).json()["id"]
        second = client.post("/v1/runs", json=post, headers=h).json()["id"]
        wait_status(client, h, first, "running")
        assert client.get(f"/v1/runs/{second}", headers=h).json()["status"] == "queued"
        r = client.delete(f"/v1/runs/{second}", headers=h)
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
        r = client.delete(f"/v1/runs/{first}", headers=h)
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
        pool = client.app.state.pool
        for _ in range(100):
            if not pool.active:
                break
            time.sleep(0.05)
        assert pool.active == []  # the process was stopped
        assert client.delete(f"/v1/runs/{first}", headers=h).status_code == 409
        assert client.get(f"/v1/runs/{first}", headers=h).json()["status"] == "cancelled"


def test_run_time_limit(tmp_path):
    with client_for(tmp_path, run_time_limit=4) as (client, h):
        sid = create_small(client, h)
        rid = client.post("/v1/runs", json={"scenario_id": sid, "kind": "sleep",
                                            "options": {"seconds": 30}}, headers=h).json()["id"]
        deadline = time.monotonic() + 20
        while True:  # progress is reported while the run is running
            body = client.get(f"/v1/runs/{rid}", headers=h).json()
            if body["status"] == "running" and body["progress"] > 0:
                assert body["message"].startswith("slept") and body["seconds"] > 0
                break
            assert time.monotonic() < deadline and body["status"] in ("queued", "running")
            time.sleep(0.05)
        done = wait_final(client, h, rid, timeout=30)
        assert done["status"] == "failed"
        assert "run time limit of 4 s" in done["error"]


def test_run_memory_limit(tmp_path):
    with client_for(tmp_path, run_memory_mb=1500, run_workers=1) as (client, h):
        sid = create_small(client, h)
        hog = client.post("/v1/runs", json={"scenario_id": sid, "kind": "hog"}, headers=h)
        echo = client.post("/v1/runs", json={"scenario_id": sid, "kind": "echo"}, headers=h)
        done = wait_final(client, h, hog.json()["id"])
        assert done["status"] == "failed" and "ran out of memory" in done["error"]
        assert wait_final(client, h, echo.json()["id"])["status"] == "succeeded"


def test_kinds_listing(svc):
    client, h = svc
    body = client.get("/v1/kinds", headers=h).json()
    names = {k["name"] for k in body["data"]}
    assert {"simulate", "align", "quotas", "whatif", "plan-headcount"} <= names
    sim = next(k for k in body["data"] if k["name"] == "simulate")
    assert "replications" in sim["options_schema"]["properties"]


@pytest.mark.slow
def test_engine_kinds_end_to_end(svc):
    """simulate, align, quotas and plan-headcount through the real engines."""
    client, h = svc
    sid = create_small(client, h)
    runs = {kind: client.post("/v1/runs", json={"scenario_id": sid, "kind": kind,
                                                "options": opts}, headers=h).json()["id"]
            for kind, opts in (("simulate", {"replications": 4, "seed": 7}), ("align", {}),
                               ("quotas", {"replications": 5, "method": "potential"}),
                               ("plan-headcount", {"replications": 10, "max_hires": 2}))}
    for kind, rid in runs.items():
        done = wait_final(client, h, rid, timeout=120)
        assert done["status"] == "succeeded", done
        res = client.get(f"/v1/runs/{rid}/result", headers=h).json()
        assert res["tables"], kind
        for name in res["tables"]:
            csv = client.get(f"/v1/runs/{rid}/tables/{name}", headers=h)
            assert csv.status_code == 200 and csv.text.strip()
    sim = client.get(f"/v1/runs/{runs['simulate']}/result", headers=h).json()
    assert sim["result"]["seed"] == 7 and sim["result"]["replications"] == 4
    assert "bookings" in sim["tables"]
    al = client.get(f"/v1/runs/{runs['align']}/result", headers=h).json()
    assert set(al["tables"]) == {"assignment", "territories"} and al["result"]["accounts"] == 100
    qu = client.get(f"/v1/runs/{runs['quotas']}/result", headers=h).json()
    assert qu["result"]["method"] == "potential" and {"quotas", "reps"} <= set(qu["tables"])
    hc = client.get(f"/v1/runs/{runs['plan-headcount']}/result", headers=h).json()
    assert hc["result"]["p_required"] == 0.8 and "hires" in hc["result"]


@pytest.mark.slow
@pytest.mark.skipif(not _importable("salesplan.api.planning.whatif"),
                    reason="salesplan.api.planning.whatif is not importable yet")
def test_whatif_end_to_end(svc):
    """The issue's scenario: create a scenario, run a what-if, poll, fetch results and CSV."""
    client, h = svc
    sid = create_small(client, h)
    r = client.post("/v1/runs", json={"scenario_id": sid, "kind": "whatif",
                                      "options": {"replications": 8, "seed": 1}}, headers=h)
    assert r.status_code == 202, r.text
    done = wait_final(client, h, r.json()["id"], timeout=180)
    assert done["status"] == "succeeded", done
    res = client.get(f"/v1/runs/{done['id']}/result", headers=h).json()
    assert set(res["result"]["variants"]) >= {"hire-south", "leads-minus-20"}
    assert {"comparison", "regions", "reps"} <= set(res["tables"])
    table = pd.read_csv(io.StringIO(
        client.get(f"/v1/runs/{done['id']}/tables/comparison", headers=h).text))
    assert len(table) == 3
    for name in res["charts"]:
        png = client.get(f"/v1/runs/{done['id']}/charts/{name}", headers=h)
        assert png.content.startswith(b"\x89PNG")
