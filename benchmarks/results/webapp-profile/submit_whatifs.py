"""Drive a real ``salesplan serve`` (1 run worker): upload midmarket, submit what-ifs of all its
variants (200 replications), wait for each one's first ``partial``, cancel it.

Usage: ``submit_whatifs.py N_RUNS SECONDS_BETWEEN``. With ``SPTRACE=<file>`` and this folder
on ``PYTHONPATH``, the code instrumented by ``instrument.patch`` writes its timestamps there.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import sptrace

from salesplan.scenarios.examples import EXAMPLES

SALESPLAN = [sys.executable, "-c", "from salesplan.api.cli import run; run()"]
TABLES = ("midmarket_accounts.csv", "midmarket_reps.csv")


def _submit(http: httpx.Client, base: str, sid: int, i: int) -> float:
    sptrace.t(f"client: === run {i} submit")
    t0 = time.perf_counter()
    run = http.post(base + "v1/runs", json={"scenario_id": sid, "kind": "whatif",
                                            "options": {"replications": 200}}).json()
    sptrace.t("client: submit returned")
    while http.get(f"{base}v1/runs/{run['id']}").json().get("partial") is None:
        time.sleep(0.02)
    sptrace.t("client: sees partial")
    seconds = time.perf_counter() - t0
    http.delete(f"{base}v1/runs/{run['id']}")
    while http.get(f"{base}v1/runs/{run['id']}").json()["status"] == "running":
        time.sleep(0.05)
    return seconds


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    between = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SALESPLAN_DATA_DIR": tmp}
        key = subprocess.run([*SALESPLAN, "apikey", "create", "bench", "--role", "planner"],
                             env=env, capture_output=True, text=True, check=True).stdout.strip()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        base = f"http://127.0.0.1:{port}/"
        with Path(tmp, "server.log").open("w") as log:
            server = subprocess.Popen([*SALESPLAN, "serve", "--port", str(port), "--workers",
                                       "1"], env=env, stdout=log, stderr=subprocess.STDOUT)
            http = httpx.Client(headers={"X-API-Key": key}, timeout=30)
            try:
                for _ in range(600):
                    try:
                        if http.get(base + "health").status_code == 200:
                            break
                    except httpx.TransportError:
                        time.sleep(0.1)
                files = [("file", ("midmarket.yaml", (EXAMPLES / "midmarket.yaml").read_bytes()))]
                files += [("tables", (t, (EXAMPLES / t).read_bytes())) for t in TABLES]
                sid = http.post(base + "v1/scenarios/upload", files=files).json()["id"]
                for i in range(n):
                    time.sleep(between)
                    print(f"run {i}: first partial {_submit(http, base, sid, i):.2f} s",
                          flush=True)
            finally:
                http.close()
                server.terminate()
                server.wait(30)


if __name__ == "__main__":
    main()
