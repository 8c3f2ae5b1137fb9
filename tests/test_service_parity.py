"""Parity of the service with the CLI (issue #19, item 6; issue #21, item 7): the same options
give the same files, every file the CLI writes can be downloaded (one by one and as a zip), the
OpenAPI spec publishes every kind's options, file options name files of the scenario version,
and align and plan-headcount report progress that moves."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from _track_history import closed_deals, write_history
from test_service_support import EXAMPLES, client_for, small_upload, wait_final

from salesplan.api.cli import main
from salesplan.api.options import OPTIONS
from salesplan.scenarios import load_scenario

pytestmark = pytest.mark.slow

TARGETS = "period,level,id,target\n2021Q3,company,,60000\n2021Q3,region,North,30000\n" \
          "2021Q3,rep,Ann,15000\n"
PINS = "level,id,value\nrep,R1,400000\n"


def _travel(sc) -> str:
    """A travel table: every account to every rep of its region, distance in km made up
    from the ids (deterministic)."""
    rows = ["account,rep,distance"]
    for a in sc.accounts:
        for r in sc.reps:
            if r.region == a.region:
                rows.append(f"{a.id},{r.id},{10 + (int(a.id[1:]) * 7 + int(r.id[1:]) * 13) % 90}")
    return "\n".join(rows) + "\n"


def _other(text: str) -> str:
    """small.yaml with a bigger company target (a comparable other plan)."""
    return text.replace("name: small", "name: small-other", 1)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """The files the CLI reads; the service gets the same as files of the scenario version."""
    d = tmp_path_factory.mktemp("inputs")
    sc = load_scenario(EXAMPLES / "small.yaml")
    (d / "small.yaml").write_text((EXAMPLES / "small.yaml").read_text())
    (d / "small_accounts.csv").write_text((EXAMPLES / "small_accounts.csv").read_text())
    (d / "other.yaml").write_text(_other((EXAMPLES / "small.yaml").read_text()))
    (d / "travel.csv").write_text(_travel(sc))
    (d / "pins.csv").write_text(PINS)
    (d / "quotas.csv").write_text("rep,quota\n" + "".join(f"{r.id},{500000 + 1000 * i}\n"
                                                          for i, r in enumerate(sc.reps)))
    rows = closed_deals(40, "2021-01-05") + closed_deals(40, "2021-05-01", seed=2)
    write_history(d, rows)  # sales_pipeline.csv and sales_teams.csv
    (d / "targets.csv").write_text(TARGETS)
    return d


ATTACHED = ("other.yaml", "travel.csv", "pins.csv", "sales_pipeline.csv", "sales_teams.csv",
            "targets.csv")


@pytest.fixture(scope="module")
def svc(tmp_path_factory, inputs):
    with client_for(tmp_path_factory.mktemp("svc"), run_workers=2) as (client, h):
        body = small_upload() | {"tables": {
            "small_accounts.csv": (inputs / "small_accounts.csv").read_text(),
            **{name: (inputs / name).read_text() for name in ATTACHED}}}
        r = client.post("/v1/scenarios", json=body, headers=h)
        assert r.status_code == 201, r.text
        yield client, h, r.json()["id"]


def _run(svc, kind: str, options: dict) -> tuple[int, dict]:
    client, h, sid = svc
    r = client.post("/v1/runs", json={"scenario_id": sid, "kind": kind, "options": options},
                    headers=h)
    assert r.status_code == 202, r.text
    done = wait_final(client, h, r.json()["id"], timeout=300)
    assert done["status"] == "succeeded", done
    res = client.get(f"/v1/runs/{done['id']}/result", headers=h).json()
    return done["id"], res


def _cli(inputs: Path, out: Path, argv: list[str], code: int = 0) -> Path:
    assert main([*argv, "--out", str(out)]) == code
    return out


def _service_files(svc, run_id: int, names: list[str]) -> dict[str, bytes]:
    client, h, _ = svc
    got = {}
    for name in names:
        r = client.get(f"/v1/runs/{run_id}/files/{name}", headers=h)
        assert r.status_code == 200, (name, r.text)
        got[name] = r.content
    return got


def _untimed(value):
    """A JSON value without its timings (keys with ``seconds``: solver and run times)."""
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if "seconds" not in k}
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    return value


def _same_files(svc, run_id: int, res: dict, out: Path, skip: tuple[str, ...] = ()) -> None:
    """The service has exactly the CLI's files, byte for byte; JSON files and CSV tables with
    a timing (``seconds``) without it (``skip``: files checked by the caller)."""
    cli = {p.name: p.read_bytes() for p in out.iterdir()}
    assert sorted(res["files"]) == sorted(cli)
    served = _service_files(svc, run_id, res["files"])
    for name in sorted(cli):
        if name in skip:
            continue
        if name.endswith(".json"):
            assert _untimed(json.loads(served[name])) == _untimed(json.loads(cli[name])), name
        elif name.endswith(".csv") and b"seconds" in cli[name].split(b"\n", 1)[0]:
            a, b = (pd.read_csv(io.BytesIO(x)) for x in (served[name], cli[name]))
            timed = [c for c in a.columns if "seconds" in c]
            pd.testing.assert_frame_equal(a.drop(columns=timed), b.drop(columns=timed))
        else:
            assert served[name] == cli[name], f"{name} differs from the CLI's"


# ---- the spec ------------------------------------------------------------------------------------

def test_openapi_publishes_each_kinds_options(svc):
    client, h, _ = svc
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    body = schemas["RunCreate"]
    assert body["discriminator"]["propertyName"] == "kind"
    assert set(body["discriminator"]["mapping"]) == set(OPTIONS)
    for kind, model in OPTIONS.items():
        ref = body["discriminator"]["mapping"][kind].rsplit("/", 1)[1]
        options = schemas[ref]["properties"]["options"]
        target = options.get("$ref") or options["allOf"][0]["$ref"]
        assert target.endswith(f"/{model.__name__}")
        assert set(schemas[model.__name__]["properties"]) == set(model.model_fields)
    assert {"history", "asof"} <= set(schemas["TrackOptions"]["required"])
    kinds = {k["name"]: k for k in client.get("/v1/kinds", headers=h).json()["data"]}
    assert set(OPTIONS) <= set(kinds)  # (and the test-only kinds)
    assert kinds["track"]["options_schema"] == OPTIONS["track"].model_json_schema()


# ---- the same files as the CLI ---------------------------------------------------------------

def test_simulate_with_quotas_and_its_funnel(svc, inputs, tmp_path):
    quotas = {r.split(",")[0]: float(r.split(",")[1])
              for r in (inputs / "quotas.csv").read_text().splitlines()[1:]}
    run_id, res = _run(svc, "simulate", {"replications": 4, "seed": 3, "quotas": quotas})
    out = _cli(inputs, tmp_path / "cli", ["simulate", str(inputs / "small.yaml"), "-n", "4",
                                          "--seed", "3", "--workers", "1", "--quotas",
                                          str(inputs / "quotas.csv")])
    _same_files(svc, run_id, res, out)
    summary = json.loads((out / "summary.json").read_text())
    assert res["result"]["funnel"] == summary["funnel"] and "win_rate" in summary["funnel"]
    assert res["result"] == summary


def test_align_with_travel_and_a_potential_cap(svc, inputs, tmp_path):
    options = {"travel": "travel.csv", "max_moved_potential": 2_000_000, "strategy": "exact"}
    run_id, res = _run(svc, "align", options)
    out = _cli(inputs, tmp_path / "cli", ["align", str(inputs / "small.yaml"), "--travel",
                                          str(inputs / "travel.csv"), "--max-moved-potential",
                                          "2000000", "--strategy", "exact"])
    _same_files(svc, run_id, res, out)
    cli = json.loads((out / "summary.json").read_text())
    assert _untimed(res["result"]) == _untimed(cli)
    assert 0 < res["result"]["moved_potential"] <= 2_000_000


def test_align_tradeoff(svc):
    client, h, _ = svc
    run_id, res = _run(svc, "align", {"tradeoff": True, "time_limit": 10})
    assert {"tradeoff.csv"} <= set(res["files"]) and res["result"]["tradeoff"]
    table = pd.read_csv(io.StringIO(client.get(f"/v1/runs/{run_id}/tables/tradeoff",
                                               headers=h).text))
    assert len(table) == len(res["result"]["tradeoff"]) and table["pareto"].any()


def test_quotas_with_pins_and_split_and_id_columns(svc, inputs, tmp_path):
    client, h, _ = svc
    run_id, res = _run(svc, "quotas", {"replications": 4, "seed": 2, "pins": "pins.csv",
                                       "by": ["product", "quarter"]})
    out = _cli(inputs, tmp_path / "cli", ["quotas", str(inputs / "small.yaml"),
                                          "--replications", "4", "--seed", "2", "--workers",
                                          "1", "--pins", str(inputs / "pins.csv"), "--by",
                                          "product,quarter"])
    _same_files(svc, run_id, res, out)
    quotas = pd.read_csv(io.StringIO(client.get(f"/v1/runs/{run_id}/tables/quotas",
                                                headers=h).text))
    assert {"rep", "region", "product", "period", "quota"} <= set(quotas.columns)
    assert quotas.groupby("rep")["quota"].sum()["R1"] == pytest.approx(400000)
    reps = pd.read_csv(io.StringIO(client.get(f"/v1/runs/{run_id}/tables/reps",
                                              headers=h).text))
    assert {"rep", "region", "quota", "p_attain"} <= set(reps.columns)


def test_quotas_compare_methods(svc, inputs, tmp_path):
    run_id, res = _run(svc, "quotas", {"replications": 4, "compare_methods": True})
    out = _cli(inputs, tmp_path / "cli", ["quotas", str(inputs / "small.yaml"),
                                          "--replications", "4", "--workers", "1",
                                          "--compare-methods"])
    _same_files(svc, run_id, res, out)
    assert {m["method"] for m in res["result"]["methods"]} >= {"even", "blended", "fair"}


def test_whatif_report_and_against(svc, inputs, tmp_path):
    options = {"replications": 3, "seed": 1, "variants": ["hire-south"],
               "against": ["other.yaml"]}
    run_id, res = _run(svc, "whatif", options)
    out = _cli(inputs, tmp_path / "cli", ["whatif", str(inputs / "small.yaml"),
                                          "--replications", "3", "--seed", "1", "--workers",
                                          "1", "--variants", "hire-south", "--against",
                                          str(inputs / "other.yaml")])
    _same_files(svc, run_id, res, out)
    report = _service_files(svc, run_id, ["report.html"])["report.html"].decode()
    assert "<h2>Side by side</h2>" in report and "other" in report
    assert set(res["result"]["variants"]) == {"base", "hire-south", "other"}


def test_plan_headcount(svc, inputs, tmp_path):
    run_id, res = _run(svc, "plan-headcount", {"replications": 10, "max_hires": 2})
    out = tmp_path / "cli"
    code = main(["plan-headcount", str(inputs / "small.yaml"), "--replications", "10",
                 "--max-hires", "2", "--workers", "1", "--out", str(out)])
    assert code == (0 if res["result"]["reached"] else 2)
    _same_files(svc, run_id, res, out)


def test_track_equals_the_cli(svc, inputs, tmp_path):
    """The issue's test: the service's track result equals the CLI's for the same seed."""
    client, h, _ = svc
    options = {"history": "sales_pipeline.csv", "asof": "2021-06-15", "targets": "targets.csv",
               "replications": 50, "seed": 5}
    run_id, res = _run(svc, "track", options)
    out = _cli(inputs, tmp_path / "cli", ["track", str(inputs / "sales_pipeline.csv"),
                                          "--asof", "2021-06-15", "--targets",
                                          str(inputs / "targets.csv"), "--replications", "50",
                                          "--seed", "5"])
    _same_files(svc, run_id, res, out)
    assert res["result"] == json.loads((out / "summary.json").read_text())
    assert {"forecast", "risks", "actions", "pipeline"} <= set(res["tables"])
    forecast = pd.read_csv(io.StringIO(client.get(f"/v1/runs/{run_id}/tables/forecast",
                                                  headers=h).text))
    assert forecast.equals(pd.read_csv(out / "forecast.csv"))


def test_a_track_file_problem_fails_the_run_naming_the_file_not_a_folder(svc, inputs):
    """A targets file without an ``id`` column is found when the run reads it: the run fails
    with the reader's words and the file's name (never the run's private folder)."""
    client, h, sid = svc
    body = small_upload()
    body["tables"] |= {n: (inputs / n).read_text() for n in ("sales_pipeline.csv",
                                                             "sales_teams.csv")}
    body["tables"]["bad_targets.csv"] = "period,level,target\n2021Q3,rep,1000\n"
    r = client.put(f"/v1/scenarios/{sid}", json=body, headers=h)
    assert r.status_code == 200, r.text
    version = r.json()["latest_version"]
    r = client.post("/v1/runs", headers=h, json={
        "scenario_id": sid, "version": version, "kind": "track",
        "options": {"history": "sales_pipeline.csv", "asof": "2021-06-15",
                    "targets": "bad_targets.csv", "replications": 10}})
    assert r.status_code == 202, r.text
    done = wait_final(client, h, r.json()["id"])
    assert done["status"] == "failed", done
    assert "targets file bad_targets.csv: missing column(s) id" in done["error"], done
    assert "salesplan-" not in done["error"] and "/tmp" not in done["error"]


# ---- downloads -----------------------------------------------------------------------------------

def test_files_and_the_zip_of_the_whole_result(svc):
    client, h, _ = svc
    run_id, res = _run(svc, "whatif", {"replications": 2, "variants": ["hire-south"]})
    r = client.get(f"/v1/runs/{run_id}/files/report.html", headers=h)
    assert r.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert client.get(f"/v1/runs/{run_id}/files/summary.json",
                      headers=h).headers["content-type"] == "application/json"
    assert client.get(f"/v1/runs/{run_id}/files/nope.csv", headers=h).status_code == 404
    z = client.get(f"/v1/runs/{run_id}/download", headers=h)
    assert z.status_code == 200 and z.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(z.content)).namelist()
    assert set(names) == ({"result.json", *res["files"]}
                          | {f"tables/{t}.csv" for t in res["tables"]}
                          | {f"charts/{c}.png" for c in res["charts"]})
    archive = zipfile.ZipFile(io.BytesIO(z.content))
    assert json.loads(archive.read("result.json")) == res["result"]
    assert archive.read("report.html") == r.content
    again = client.get(f"/v1/runs/{run_id}/download", headers=h).content
    assert again == z.content  # the same result, the same bytes


# ---- file options at submission --------------------------------------------------------------

@pytest.mark.parametrize(("kind", "options", "path"), [
    ("align", {"travel": "nope.csv"}, "options.travel"),
    ("quotas", {"pins": "../pins.csv"}, "options.pins"),
    ("whatif", {"against": ["other.yaml", "gone.yaml"]}, "options.against[1]"),
    ("track", {"history": "nope.csv", "asof": "2021-06-15", "targets": "targets.csv"},
     "options.history"),
    ("track", {"history": "sales_pipeline.csv", "asof": "2021-06-15", "targets": "t.csv"},
     "options.targets"),
    ("track", {"history": "sales_pipeline.csv", "asof": "2021-06-15", "mapping": "my.yaml",
               "targets": "targets.csv"}, "options.mapping"),
    ("track", {"history": "sales_pipeline.csv", "asof": "June 15"}, "options.asof"),
    ("track", {"history": "sales_pipeline.csv", "asof": "2021-06-15"}, "options"),
])
def test_file_options_must_name_files_of_the_version(svc, kind, options, path):
    client, h, sid = svc
    before = client.get("/v1/runs", headers=h).json()["count"]
    r = client.post("/v1/runs", json={"scenario_id": sid, "kind": kind, "options": options},
                    headers=h)
    assert r.status_code == 422, r.text
    problems = {p["path"]: p["message"] for p in r.json()["problems"]}
    assert path in problems, problems
    assert client.get("/v1/runs", headers=h).json()["count"] == before


@pytest.mark.parametrize(("name", "text", "says"), [
    ("../escape.csv", "a,b\n1,2\n", "plain file name"),
    (".hidden.csv", "a,b\n1,2\n", "plain file name"),
    ("nul.csv", "a,b\n1,\x002\n", "NUL"),
])
def test_attached_files_are_checked(svc, name, text, says):
    client, h, _ = svc
    body = small_upload()
    body["tables"][name] = text
    r = client.post("/v1/scenarios", json=body, headers=h)
    assert r.status_code == 422, r.text
    assert any(says in p["message"] for p in r.json()["problems"])


# ---- progress that moves -----------------------------------------------------------------------

class _Recorder:
    def __init__(self):
        self.calls: list[tuple[float, str]] = []

    def __call__(self, fraction: float, message: str = "") -> None:
        self.calls.append((fraction, message))


def test_align_reports_its_phases():
    from salesplan.api.service.kinds import run_align

    rec = _Recorder()
    run_align(load_scenario(EXAMPLES / "small.yaml"), {"strategy": "fix"}, rec)
    fractions = [f for f, _ in rec.calls]
    assert fractions == sorted(fractions) and fractions[0] >= 0 and fractions[-1] < 1
    text = " | ".join(m for _, m in rec.calls)
    for phase in ("preparing", "candidates", "LP relaxation", "rounding and repairing",
                  "building the result"):
        assert phase in text, text
    assert len({round(f, 3) for f in fractions}) >= 6


def test_plan_headcount_reports_its_steps():
    from salesplan.api.service.kinds import run_plan_headcount_kind

    rec = _Recorder()
    run_plan_headcount_kind(load_scenario(EXAMPLES / "small.yaml"),
                            {"replications": 10, "max_hires": 2}, rec)
    fractions = [f for f, _ in rec.calls]
    assert fractions == sorted(fractions) and all(0 < f <= 1 for f in fractions)
    assert len(set(fractions)) >= 3
    assert all("plans evaluated" in m or "fresh seed" in m for _, m in rec.calls)
