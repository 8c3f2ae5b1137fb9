"""Shared helpers for the web app's browser tests (no tests here): the system Chromium (or a
skip that says why; under ``CI=true`` a failure instead), a real ``salesplan serve`` on a free
port with a temporary database and a planner key, and the page's number formats written out
in Python so a test can compare the page with the API's JSON."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "scenarios" / "examples"
SCREENSHOTS = ROOT / "tests" / ".screenshots"
"""Screenshots of every page at 1280x800 (git-ignored): look at them after a change."""


def chromium_path() -> str:
    """The system Chromium (Debian's ``chromium`` package; ``.ci/run`` installs it). Never a
    browser Playwright downloads: ``playwright install`` is not part of the setup."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    reason = ("no Chromium found on PATH (apt-get install chromium); the web app's browser "
              "tests need a real browser")
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; .ci/run installs it in CI", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SALESPLAN = [sys.executable, "-c", "from salesplan.api.cli import run; run()"]
"""The ``salesplan`` command of this interpreter (whatever the PATH holds)."""


def _salesplan(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([*SALESPLAN, *args], env=env,
                          capture_output=True, text=True, check=True)


@contextmanager
def live_server(data_dir: Path, workers: int = 2) -> Iterator[tuple[str, dict[str, str]]]:
    """``salesplan serve`` on a free port of 127.0.0.1 with its database in ``data_dir``: the
    base URL and keys by role (``planner``, ``viewer``), stopped after."""
    env = {**os.environ, "SALESPLAN_DATA_DIR": str(data_dir), "SALESPLAN_POLL_INTERVAL": "0.1"}
    keys = {role: _salesplan("apikey", "create", f"web-{role}", "--role", role,
                             env=env).stdout.strip() for role in ("planner", "viewer")}
    port = free_port()
    log = (data_dir / "server.log").open("w")
    proc = subprocess.Popen([*SALESPLAN, "serve", "--port",
                             str(port), "--workers", str(workers)], env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/"
    try:
        start = time.monotonic()
        while True:
            assert proc.poll() is None, (data_dir / "server.log").read_text()
            try:
                if httpx.get(base + "health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() - start < 60, "salesplan serve did not start"
            time.sleep(0.1)
        yield base, keys
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def upload_small(base: str, key: str) -> dict:
    """The shipped small.yaml with its accounts table, uploaded over the API."""
    files = [("file", ("small.yaml", (EXAMPLES / "small.yaml").read_bytes())),
             ("tables", ("small_accounts.csv", (EXAMPLES / "small_accounts.csv").read_bytes()))]
    r = httpx.post(base + "v1/scenarios/upload", files=files, headers={"X-API-Key": key})
    assert r.status_code == 201, r.text
    return r.json()


def wait_run(base: str, key: str, run_id: int, timeout: float = 120) -> dict:
    start = time.monotonic()
    while True:
        run = httpx.get(f"{base}v1/runs/{run_id}", headers={"X-API-Key": key}).json()
        if run["status"] in ("succeeded", "failed", "cancelled"):
            return run
        assert time.monotonic() - start < timeout, run
        time.sleep(0.2)


# ---- the page's formats (api/web/app/format.js), for comparing the page with the JSON -------

def _fixed(x: float, digits: int) -> str:
    """JavaScript's ``x.toFixed(digits)`` for x >= 0: the exact binary value, ties up."""
    q = Decimal(1).scaleb(-digits)
    return f"{Decimal(x).quantize(q, rounding=ROUND_HALF_UP):.{digits}f}"


def pct(v: float, digits: int = 0) -> str:
    return f"{_fixed(v * 100, digits)}%" if v >= 0 else f"-{_fixed(-v * 100, digits)}%"


def points(v: float, digits: int = 1) -> str:
    """format.js ``points``: 0.05 -> "+5.0 pts" (the minus sign is U+2212)."""
    return f"{'+' if v >= 0 else '−'}{_fixed(abs(v * 100), digits)} pts"


def money_short(v: float, currency: str = "USD", sign: bool = False) -> str:
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency, f"{currency} ")
    a = abs(v)
    if a >= 1e9:
        body = f"{_fixed(a / 1e9, 2)}B"
    elif a >= 1e6:
        body = f"{_fixed(a / 1e6, 0 if a >= 1e8 else 2)}M"
    elif a >= 1e3:
        body = f"{_fixed(a / 1e3, 0 if a >= 1e5 else 1)}k"
    else:
        body = _fixed(a, 0)
    lead = "−" if v < 0 else "+" if sign else ""
    return f"{lead}{symbol}{body}"
