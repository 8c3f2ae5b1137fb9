"""The ``comp`` run kind through the HTTP service: listed with its options, a run gives the
comp summary, the payouts (and design) tables and both charts, the same figures as ``salesplan
comp`` for the same seed, and bad options are a 422 naming the field."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from test_service_support import EXAMPLES, client_for, create_small, make_app, new_key, wait_final

from salesplan.api.cli import main

SMALL = EXAMPLES / "small.yaml"
N, SEED = 12, 5


@pytest.fixture
def svc(tmp_path):
    with client_for(tmp_path) as pair:
        yield pair


def _problems(r) -> dict[str, str]:
    return {p["path"]: p["message"] for p in r.json()["problems"]}


def test_comp_kind_is_listed_with_its_options(svc):
    client, h = svc
    kinds = {k["name"]: k for k in client.get("/v1/kinds", headers=h).json()["data"]}
    assert "comp" in kinds
    props = kinds["comp"]["options_schema"]["properties"]
    assert {"replications", "seed", "method", "quotas", "budget_cost_of_sales",
            "share_at_quota"} <= set(props)


def test_comp_run_matches_the_cli_for_the_same_seed(svc, tmp_path):
    client, h = svc
    sid = create_small(client, h)
    options = {"replications": N, "seed": SEED, "budget_cost_of_sales": 0.3,
               "share_at_quota": [0.6, 0.7]}
    r = client.post("/v1/runs", json={"scenario_id": sid, "kind": "comp", "options": options},
                    headers=h)
    assert r.status_code == 202, r.text
    done = wait_final(client, h, r.json()["id"], timeout=180)
    assert done["status"] == "succeeded", done
    res = client.get(f"/v1/runs/{done['id']}/result", headers=h).json()
    assert set(res["tables"]) == {"payouts", "design"}
    assert set(res["charts"]) == {"pay_curve", "pay_distribution"}
    for name in res["charts"]:
        png = client.get(f"/v1/runs/{done['id']}/charts/{name}", headers=h)
        assert png.content.startswith(b"\x89PNG")

    out = tmp_path / "cli"
    assert main(["comp", str(SMALL), "--replications", str(N), "--seed", str(SEED),
                 "--workers", "1", "--budget-cost-of-sales", "0.3", "--share-at-quota",
                 "0.6,0.7", "--out", str(out)]) == 0
    cli = json.loads((out / "summary.json").read_text())
    assert res["result"] == cli
    payouts = pd.read_csv(io.StringIO(client.get(
        f"/v1/runs/{done['id']}/tables/payouts", headers=h).text))
    pd.testing.assert_frame_equal(payouts, pd.read_csv(out / "payouts.csv"))


def test_comp_run_with_quotas_by_rep(svc):
    client, h = svc
    sid = create_small(client, h)
    quotas = {f"R{i}": 250_000.0 for i in range(1, 7)}
    r = client.post("/v1/runs", json={"scenario_id": sid, "kind": "comp", "options": {
        "replications": 4, "seed": 1, "quotas": quotas}}, headers=h)
    assert r.status_code == 202, r.text
    done = wait_final(client, h, r.json()["id"], timeout=180)
    assert done["status"] == "succeeded", done
    res = client.get(f"/v1/runs/{done['id']}/result", headers=h).json()
    assert res["result"]["quotas"] == "file" and res["tables"] == ["payouts"]
    payouts = pd.read_csv(io.StringIO(client.get(
        f"/v1/runs/{done['id']}/tables/payouts", headers=h).text))
    assert (payouts["quota"] == 250_000).all()


def test_quotas_for_unknown_reps_are_refused_at_submission(svc):
    client, h = svc
    sid = create_small(client, h)
    r = client.post("/v1/runs", json={"scenario_id": sid, "kind": "comp", "options": {
        "replications": 2, "quotas": {"R1": 1000.0, "R99": 1000.0}}}, headers=h)
    assert r.status_code == 422, r.text
    assert "R99" in _problems(r)["options.quotas"]
    assert client.get("/v1/runs", headers=h).json()["count"] == 0


@pytest.mark.parametrize(("options", "field", "says"), [
    ({"replications": 1}, "options.replications", "greater than or equal to 2"),
    ({"method": "lottery"}, "options.method", "unknown quota method 'lottery'"),
    ({"quotas": {"R1": -5.0}}, "options.quotas", "finite and >= 0"),
    ({"quotas": {"R1": "lots"}}, "options.quotas.R1", ""),
    ({"share_at_quota": [0.8, 0.6], "budget_cost_of_sales": 0.3}, "options.share_at_quota",
     "0 <= low <= high <= 1"),
    ({"budget_cost_of_sales": 12, "share_at_quota": [0.6, 0.7]},
     "options.budget_cost_of_sales", "less than 10"),
    ({"budget_cost_of_sales": 0.3}, "options", "needs both"),
    ({"bogus": 1}, "options.bogus", ""),
])
def test_bad_options_are_a_422_naming_the_field(tmp_path, options, field, says):
    app = make_app(tmp_path, run_pool=False)
    client = TestClient(app)
    h = {"X-API-Key": new_key(app)}
    sid = create_small(client, h)
    r = client.post("/v1/runs", json={"scenario_id": sid, "kind": "comp", "options": options},
                    headers=h)
    assert r.status_code == 422, r.text
    problems = _problems(r)
    assert field in problems, problems
    assert says in problems[field]


def test_replications_follow_the_server_limit(tmp_path):
    app = make_app(tmp_path, run_pool=False, max_replications=50)
    client = TestClient(app)
    h = {"X-API-Key": new_key(app)}
    sid = create_small(client, h)
    r = client.post("/v1/runs", json={"scenario_id": sid, "kind": "comp",
                                      "options": {"replications": 51}}, headers=h)
    assert r.status_code == 422 and "limit of 50" in _problems(r)["options.replications"]


def test_quotas_run_reports_what_the_quotas_do_to_pay(svc):
    client, h = svc
    sid = create_small(client, h)
    r = client.post("/v1/runs", json={"scenario_id": sid, "kind": "quotas",
                                      "options": {"replications": 4, "seed": 2}}, headers=h)
    done = wait_final(client, h, r.json()["id"], timeout=180)
    assert done["status"] == "succeeded", done
    pay = client.get(f"/v1/runs/{done['id']}/result", headers=h).json()["result"]["pay"]
    assert {"cost_of_sales", "share_at_on_target_pay", "gini_pay_ratio",
            "territory_share"} <= set(pay)
