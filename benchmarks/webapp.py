"""The web app in a real browser: page load (first paint of the scenario list) and the time to
a what-if's first estimate on ``midmarket`` (issue #20).

Run: ``.venv/bin/python -m salesplan.benchmarks.webapp [--loads 10] [--estimates 3] [--settle 8]``

Needs the system Chromium (Debian's ``chromium``) and Playwright for Python (the ``dev``
extra); without them it says so and exits 0. It starts ``salesplan serve`` on a free port with
a fresh database in a temporary folder and one planner key, and uploads ``midmarket``.

1. **Page load**, ``--loads`` times in a fresh browser context (cold cache) at 1280x800:
   first contentful paint and the moment the scenario list is on the page (the page's
   ``scenarios-listed`` performance mark), both in ms from navigation start. Baseline, same
   run: ``GET /v1/scenarios`` alone from Python (the request the list waits on).
2. **Time to first estimate**, ``--estimates`` times each way: from submitting a ``whatif`` of
   every midmarket variant (200 replications, the default) to (a) the API's first ``partial``
   and (b) the page showing it (the run page's "First estimates"); the run is then cancelled.
   Two ways: on a server left idle ``--settle`` seconds (default 8) before the submission, as
   when a planner builds a what-if and runs it (the cancelled run's worker has been replaced
   by a warm one), and right after the previous run was cancelled (its replacement worker is
   still starting: the run waits for it). Baseline, same run: a 2-replication what-if of the
   same variants from submission to its result (the first round's work as a run of its own).

The server runs one run worker (``--workers 1``) with the default ``run_processes`` (the CPUs
divided among run workers: 2 on a 2-core machine), printed with the machine line.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from salesplan.scenarios.examples import EXAMPLES

SALESPLAN = [sys.executable, "-c", "from salesplan.api.cli import run; run()"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stats(xs: list[float]) -> str:
    a = np.array(xs)
    return (f"median {np.median(a):7.0f}  p90 {np.percentile(a, 90):7.0f}  "
            f"min {a.min():7.0f}  max {a.max():7.0f}  (n={len(a)})")


def _wait_final(http, base: str, run_id: int, timeout: float = 600) -> dict:
    start = time.monotonic()
    while True:
        run = http.get(f"{base}v1/runs/{run_id}").json()
        if run["status"] in ("succeeded", "failed", "cancelled"):
            return run
        if time.monotonic() - start > timeout:
            raise TimeoutError(run)
        time.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--loads", type=int, default=10)
    ap.add_argument("--estimates", type=int, default=3)
    ap.add_argument("--settle", type=float, default=8.0,
                    help="seconds the server is left idle before an 'idle server' submission")
    args = ap.parse_args(argv)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        print("skipped: playwright is not installed (pip install -e '.[dev]')")
        return 0
    if chromium is None:
        print("skipped: no Chromium on PATH (apt-get install chromium)")
        return 0

    version = subprocess.run([chromium, "--version"], text=True, capture_output=True).stdout
    from salesplan.api.service.settings import Settings

    processes = Settings(run_workers=1).resolved_run_processes
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, {version.strip()}; load average before the run "
          f"{os.getloadavg()[0]:.1f}; server: 1 run worker, {processes} replication "
          f"process(es) per run")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SALESPLAN_DATA_DIR": tmp}
        key = subprocess.run([*SALESPLAN, "apikey", "create", "bench", "--role", "planner"],
                             env=env, capture_output=True, text=True, check=True).stdout.strip()
        port = _free_port()
        base = f"http://127.0.0.1:{port}/"
        with Path(tmp, "server.log").open("w") as log:
            server = subprocess.Popen([*SALESPLAN, "serve", "--port", str(port), "--workers",
                                       "1"], env=env, stdout=log, stderr=subprocess.STDOUT)
            _measure(server, key, base, args)
    return 0


def _measure(server, key: str, base: str, args) -> None:
    """Both measurements against the started ``server``, which is stopped after."""
    import httpx
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    http = httpx.Client(headers={"X-API-Key": key}, timeout=30)
    try:
        for _ in range(600):
            try:
                if http.get(base + "health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        files = [("file", ("midmarket.yaml", (EXAMPLES / "midmarket.yaml").read_bytes()))] + [
            ("tables", (n, (EXAMPLES / n).read_bytes()))
            for n in ("midmarket_accounts.csv", "midmarket_reps.csv")]
        sid = http.post(base + "v1/scenarios/upload", files=files).json()["id"]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium)
            _page_load(browser, http, base, key, args.loads)
            _first_estimate(browser, http, base, key, sid, args.estimates, args.settle)
            browser.close()
    finally:
        http.close()
        server.terminate()
        server.wait(timeout=30)


def _context(browser, key: str):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(f"sessionStorage.setItem('salesplan.apiKey', {key!r})")
    return context


def _page_load(browser, http, base: str, key: str, loads: int) -> None:
    fcp, listed, api = [], [], []
    for _ in range(loads):
        context = _context(browser, key)
        page = context.new_page()
        page.goto(base + "#/scenarios")
        page.wait_for_selector("#scenario-list table")
        fcp.append(page.evaluate("performance.getEntriesByName('first-contentful-paint')[0]"
                                 ".startTime"))
        listed.append(page.evaluate("performance.getEntriesByName('scenarios-listed')[0]"
                                    ".startTime"))
        context.close()
        t = time.perf_counter()
        http.get(base + "v1/scenarios?limit=500").raise_for_status()
        api.append((time.perf_counter() - t) * 1000)
    print("\npage load, ms from navigation start (fresh context each time, 1280x800):")
    print(f"  first contentful paint    {_stats(fcp)}")
    print(f"  scenario list on the page {_stats(listed)}")
    print(f"  baseline: GET /v1/scenarios alone {_stats(api)}")


def _one_estimate(browser, http, base: str, key: str, sid: int) -> tuple[float, float]:
    """Submit the midmarket what-if, open its run page; ms from submission to the API's first
    ``partial`` and to the page's "First estimates"; then cancel it."""
    context = _context(browser, key)
    page = context.new_page()
    page.goto(base + "#/runs")
    page.wait_for_selector("main h1")
    t0 = time.perf_counter()
    run = http.post(base + "v1/runs", json={"scenario_id": sid, "kind": "whatif",
                                            "options": {"replications": 200}}).json()
    page.goto(f"{base}#/runs/{run['id']}")
    while http.get(f"{base}v1/runs/{run['id']}").json().get("partial") is None:
        time.sleep(0.02)
    api_ms = (time.perf_counter() - t0) * 1000
    page.wait_for_selector("section.early", timeout=120_000)
    page_ms = (time.perf_counter() - t0) * 1000
    http.delete(f"{base}v1/runs/{run['id']}")
    _wait_final(http, base, run["id"])
    context.close()
    return api_ms, page_ms


def _first_estimate(browser, http, base: str, key: str, sid: int, repeats: int,
                    settle: float) -> None:
    idle, after_cancel = [], []
    for _ in range(repeats):
        time.sleep(settle)  # a planner building the what-if: the server idle, its worker warm
        idle.append(_one_estimate(browser, http, base, key, sid))
        after_cancel.append(_one_estimate(browser, http, base, key, sid))
    base_ms = []
    for _ in range(repeats):
        time.sleep(settle)
        t0 = time.perf_counter()
        run = http.post(base + "v1/runs", json={"scenario_id": sid, "kind": "whatif",
                                                "options": {"replications": 2}}).json()
        assert _wait_final(http, base, run["id"])["status"] == "succeeded"
        base_ms.append((time.perf_counter() - t0) * 1000)
    print("\ntime to first estimate, midmarket what-if of all 7 variants and the base, 200 "
          "replications, ms from submission:")
    print(f"  server idle {settle:g} s before: API first partial     "
          f"{_stats([a for a, _ in idle])}")
    print(f"  server idle {settle:g} s before: page first estimates  "
          f"{_stats([p for _, p in idle])}")
    print(f"  right after a cancelled run: API first partial    "
          f"{_stats([a for a, _ in after_cancel])}")
    print(f"  right after a cancelled run: page first estimates "
          f"{_stats([p for _, p in after_cancel])}")
    print(f"  baseline: a 2-replication what-if to its result (server idle {settle:g} s "
          f"before) {_stats(base_ms)}")
    print(f"load average after the run {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    sys.exit(main())
