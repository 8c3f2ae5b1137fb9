"""Shared helpers for the service tests (no tests here): an app on a temporary database, an API
key, the example scenario as an upload, and test-only run kinds registered through the
``get_kinds`` dependency override (never in the production registry).

The kind functions live at module level so that a spawned run process can import them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from salesplan.api.service.kinds import KINDS, Kind, RunOutput
from salesplan.scenarios.errors import SalesplanError

EXAMPLES = Path(__file__).resolve().parents[1] / "scenarios" / "examples"
FINAL = ("succeeded", "failed", "cancelled")

# a 1x1 PNG
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


class EchoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: Any = None
    replications: int = Field(1, ge=1)


def echo(scenario, options: dict, progress) -> RunOutput:
    progress(0.5, "echoing")
    frame = pd.DataFrame({"rep": [r.id for r in scenario.reps],
                          "region": [r.region for r in scenario.reps]})
    return RunOutput(result={"scenario": scenario.name, "value": options.get("value"),
                             "reps": len(scenario.reps), "nan": float("nan")},
                     tables={"reps": frame}, charts={"dot": PNG},
                     files={"report.html": b"<p>echo</p>"})


class SleepOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: float = Field(1.0, ge=0, le=600)


def sleep(scenario, options: dict, progress) -> RunOutput:
    seconds = float(options.get("seconds", 1.0))
    steps = max(1, int(seconds / 0.1))
    for i in range(steps):
        time.sleep(seconds / steps)
        progress((i + 1) / steps, f"slept {(i + 1) * seconds / steps:.1f} s")
    return RunOutput(result={"slept": seconds, "pid": os.getpid()})


class FailOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    how: str = "planner"


def fail(scenario, options: dict, progress) -> RunOutput:
    how = options.get("how")
    if how == "crash":
        os._exit(3)
    if how == "bug":
        raise RuntimeError("boom")
    raise SalesplanError("the plan is infeasible: 3 reps short in North")


def hog(scenario, options: dict, progress) -> RunOutput:
    block = bytearray(8 * 1024**3)  # 8 GB: past any test memory limit
    return RunOutput(result={"size": len(block)})


TEST_KINDS = {
    "echo": Kind("echo", EchoOptions, echo, "test: echo the options"),
    "sleep": Kind("sleep", SleepOptions, sleep, "test: sleep"),
    "fail": Kind("fail", FailOptions, fail, "test: fail"),
    "hog": Kind("hog", FailOptions, hog, "test: allocate 8 GB"),
}


def all_kinds() -> dict[str, Kind]:
    return {**KINDS, **TEST_KINDS}


def make_app(data_dir: Path, run_pool: bool = True, **settings: Any):
    from salesplan.api.service import Settings, create_app
    from salesplan.api.service.deps import get_kinds

    defaults = {"poll_interval": 0.05, "run_workers": 2}
    app = create_app(Settings(data_dir=data_dir, **{**defaults, **settings}), run_pool=run_pool)
    app.dependency_overrides[get_kinds] = all_kinds
    return app


def new_key(app, name: str = "tester") -> str:
    from salesplan.api.service.keys import create_key

    with app.state.db.session() as s:
        return create_key(s, name).key


@contextmanager
def client_for(data_dir: Path, **settings: Any) -> Iterator[tuple[Any, dict]]:
    """A started app (run pool included), a test client and the headers with a fresh key."""
    from fastapi.testclient import TestClient

    app = make_app(data_dir, **settings)
    key = new_key(app)
    with TestClient(app) as client:
        yield client, {"X-API-Key": key}


def small_upload() -> dict:
    """The small example as a JSON body (YAML text and its accounts CSV)."""
    return {"text": (EXAMPLES / "small.yaml").read_text(), "format": "yaml",
            "tables": {"small_accounts.csv": (EXAMPLES / "small_accounts.csv").read_text()}}


def create_small(client, headers: dict) -> int:
    r = client.post("/v1/scenarios", json=small_upload(), headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def wait_final(client, headers: dict, run_id: int, timeout: float = 90.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        r = client.get(f"/v1/runs/{run_id}", headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        if body["status"] in FINAL:
            return body
        assert time.monotonic() < deadline, f"run {run_id} still {body['status']}"
        time.sleep(0.1)


def wait_status(client, headers: dict, run_id: int, status: str,
                timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/v1/runs/{run_id}", headers=headers).json()
        if body["status"] == status:
            return body
        assert time.monotonic() < deadline, f"run {run_id} is {body['status']}, not {status}"
        time.sleep(0.05)
