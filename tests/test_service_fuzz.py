"""Property-based fuzzing of every route from the OpenAPI schema (schemathesis): no 500s, and
every response (status code, content type, body) matches the schema, with any text generated
(lone surrogates and NUL included) and non-finite numbers allowed where the schema has a number.

- one test per operation (stateless), the run submission included: ``POST /v1/runs`` is a union
  on ``kind`` with one options model per kind, and each branch is generated;
- a stateful test: chains of calls along the links schemathesis infers from the schema (a
  created scenario's id into its versions, a submitted run's id into its result, tables, charts,
  files and zip, a cancel, a listing ...), so that the routes behind an id are reached with ids
  that exist;
- the routes of a finished run (result, tables, charts, files, zip) answered with its real
  names, each response checked against the schema.

The database holds, before the first example, a scenario, a queued run and a finished ``echo``
run (with a table, a chart and a file). No run executes during the fuzzing (no run pool).

Bounded for CI: 10 examples per operation and 10 stateful scenarios, derandomised, no example
database. A deep run (offline, not in CI; figures in ``benchmarks/RESULTS.md``)::

    SALESPLAN_FUZZ_EXAMPLES=3000 SALESPLAN_FUZZ_STATEFUL=300 SALESPLAN_FUZZ_RANDOM=1 \\
        .venv/bin/python -m pytest -q -n 0 -p no:cacheprovider tests/test_service_fuzz.py \\
        --hypothesis-seed=N
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import checks
from test_service_support import EXAMPLES, make_app, new_key, wait_final

EXAMPLES_PER_OPERATION = int(os.environ.get("SALESPLAN_FUZZ_EXAMPLES", "10"))
STATEFUL_SCENARIOS = int(os.environ.get("SALESPLAN_FUZZ_STATEFUL", "10"))
RANDOM = os.environ.get("SALESPLAN_FUZZ_RANDOM") == "1"  # a deep run: --hypothesis-seed=N
_state: dict = {}


def _app():
    """The fuzzed app (no run pool) on a database where a pooled app first finished an echo
    run, so that the routes of a finished run have something to serve."""
    data_dir = Path(tempfile.mkdtemp(prefix="salesplan-fuzz-"))
    body = {"text": (EXAMPLES / "small.yaml").read_text(), "format": "yaml",
            "tables": {"small_accounts.csv": (EXAMPLES / "small_accounts.csv").read_text()}}
    setup = make_app(data_dir, run_workers=1)
    key = new_key(setup)
    h = {"X-API-Key": key}
    with TestClient(setup) as client:
        assert client.post("/v1/scenarios", json=body, headers=h).status_code == 201
        r = client.post("/v1/runs", json={"scenario_id": 1, "kind": "echo",
                                          "options": {"value": "\u00e9"}}, headers=h)
        assert r.status_code == 202, r.text
        done = wait_final(client, h, r.json()["id"], timeout=120)
        assert done["status"] == "succeeded", done
    setup.state.db.dispose()
    app = make_app(data_dir, run_pool=False, max_body_bytes=100_000)
    client = TestClient(app)
    assert client.post("/v1/runs", json={"scenario_id": 1, "kind": "echo"},
                       headers=h).status_code == 202
    _state.update(headers=h, client=client, finished=done["id"])
    return app


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())
# any text, not only what encodes as UTF-8: lone surrogates and NUL included (issue #19; the
# explicit cases are in test_service_submission.py, with the infinities JSON cannot carry)
schema.config.generation.update(codec=None, allow_x00=True)

NON_FINITE = ["Infinity", "-Infinity", "NaN", "1e400", "-1e400"]
_SLOT = "\u2063salesplan-non-finite\u2063"  # a placeholder no generated body holds


def _number_paths(value, path=()):
    """Where ``value`` (a JSON body) holds a number (not a bool): key and index paths."""
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        yield path
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _number_paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _number_paths(v, (*path, i))


def _replaced(body, path, new):
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(body, dict):
        return {**body, head: _replaced(body[head], rest, new)}
    return [_replaced(v, rest, new) if i == head else v for i, v in enumerate(body)]


def _with_non_finite(body, path, token: str) -> bytes:
    """``body`` as JSON text with the number at ``path`` written as ``token``."""
    text = json.dumps(_replaced(body, path, _SLOT))
    return text.replace(json.dumps(_SLOT), token).encode("utf-8")


@schema.hook
def flatmap_body(context, body):
    """Non-finite numbers too (schemathesis generates finite ones only, and its JSON encoder
    refuses others): half the JSON bodies that hold a number are sent as raw JSON text with one
    of them written ``Infinity``, ``-Infinity``, ``NaN`` or ``1e400`` (which Python's JSON
    parser reads as infinity), as a client could send them."""
    if isinstance(body, bytes) or context.operation is None \
            or "application/json" not in context.operation.definition.raw.get(
                "requestBody", {}).get("content", {}):
        return st.just(body)
    paths = list(_number_paths(body))
    if not paths:
        return st.just(body)
    return st.one_of(st.just(body), st.builds(lambda p, t: _with_non_finite(body, p, t),
                                              st.sampled_from(paths), st.sampled_from(NON_FINITE)))


CHECKS = [checks.not_a_server_error, checks.status_code_conformance,
          checks.content_type_conformance, checks.response_schema_conformance]
STATEFUL_CHECKS = [*CHECKS, checks.ensure_resource_availability]
SETTINGS = dict(deadline=None, derandomize=not RANDOM, database=None,
                suppress_health_check=list(HealthCheck))


def test_the_schema_offers_every_route_and_every_run_kind():
    """What the fuzzing covers: the routes of a run's outputs and the run union (one branch per
    kind, each with its own options model), so that a new route or kind is fuzzed too."""
    from salesplan.api.service.kinds import KINDS

    spec = schema.raw_schema
    paths = set(spec["paths"])
    assert {"/v1/runs/{run_id}/files/{name}", "/v1/runs/{run_id}/download",
            "/v1/runs/{run_id}/tables/{name}", "/v1/runs/{run_id}/charts/{name}",
            "/v1/runs/{run_id}/result"} <= paths
    union = spec["components"]["schemas"]["RunCreate"]
    assert union["discriminator"]["propertyName"] == "kind"
    assert set(union["discriminator"]["mapping"]) == set(KINDS)
    assert len(union["oneOf"]) == len(KINDS)
    operations = [op for op in schema.get_all_operations()]
    assert len(operations) == sum(len(v) for v in spec["paths"].values())


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, **SETTINGS)
def test_no_500_and_responses_match_the_schema(case):
    case.call_and_validate(headers=_state["headers"], checks=CHECKS)


class _Workflow(schema.as_state_machine()):  # type: ignore[misc]
    def get_call_kwargs(self, case):
        return {"headers": _state["headers"]}

    def validate_response(self, response, case, additional_checks=None, **kwargs):
        _state.setdefault("steps", []).append(
            (case.method, case.path, response.status_code))
        case.validate_response(response, checks=STATEFUL_CHECKS)


@pytest.mark.slow
def test_stateful_chains_of_calls_give_no_500_and_match_the_schema():
    _state["steps"] = []
    _Workflow.run(settings=settings(max_examples=STATEFUL_SCENARIOS, stateful_step_count=8,
                                    **SETTINGS))
    linked = {(m, p) for m, p, code in _state["steps"] if "{" in p and code < 300}
    print(f"{len(_state['steps'])} stateful steps; linked operations answered 2xx: "
          f"{sorted(linked)}")
    assert linked, "no chain reached a route behind an id: the links were not followed"


FINISHED_ROUTES = [("/v1/runs/{run_id}/result", {}),
                   ("/v1/runs/{run_id}/tables/{name}", {"name": "reps"}),
                   ("/v1/runs/{run_id}/charts/{name}", {"name": "dot"}),
                   ("/v1/runs/{run_id}/files/{name}", {"name": "report.html"}),
                   ("/v1/runs/{run_id}/download", {}),
                   ("/v1/runs/{run_id}", {})]


@pytest.mark.parametrize(("path", "names"), FINISHED_ROUTES, ids=[p for p, _ in FINISHED_ROUTES])
def test_a_finished_runs_outputs_match_the_schema(path, names):
    case = schema[path]["GET"].Case(path_parameters={"run_id": _state["finished"], **names})
    response = case.call(headers=_state["headers"])
    assert response.status_code == 200, response.text
    case.validate_response(response, checks=CHECKS)
