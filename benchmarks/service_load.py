"""The HTTP service under load: 50 concurrent scenario uploads and 50 concurrent run
submissions against a real server process, with ``/health`` probed throughout.

Run: ``.venv/bin/python -m salesplan.benchmarks.service_load [--clients 50]
[--database-url postgresql+psycopg://...]`` (default: SQLite in a temporary folder)

The server is ``salesplan serve`` in its own process (one HTTP process, 2 run workers by
default), on a free port of 127.0.0.1, with a fresh database and one API key. Three phases:

1. **baseline**: the same uploads, one at a time (the latency a lone client sees);
2. **uploads**: ``--clients`` clients each upload ``small.yaml`` (YAML text and its accounts CSV)
   at the same moment;
3. **runs**: ``--clients`` clients each submit a ``simulate`` run (2 replications) at once; the
   benchmark then waits until every run is final.

A probe, in a process of its own (so that the load generator's own event loop does not delay
it), calls ``GET /health`` every 20 ms during phases 2 and 3. Printed per phase: responses by
status code (every non-2xx is an error), throughput, and p50/p95/p99/max latency of the requests
and of the probe. The goals of issue #19: 0 errors, ``/health`` p99 under 250 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from salesplan.benchmarks.machine import machine_line
from salesplan.scenarios.examples import EXAMPLES

PROBE_INTERVAL = 0.02
"""Seconds between the end of one ``/health`` probe and the next."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _percentiles(ms: list[float]) -> str:
    if not ms:
        return "no samples"
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    return f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms, max {max(ms):.0f} ms"


def _upload_body() -> dict:
    return {"text": (EXAMPLES / "small.yaml").read_text(), "format": "yaml",
            "tables": {"small_accounts.csv": (EXAMPLES / "small_accounts.csv").read_text()}}


async def _timed(client, method: str, url: str, **kw) -> tuple[int, float]:
    t = time.perf_counter()
    try:
        r = await client.request(method, url, **kw)
        code = r.status_code
    except Exception as exc:  # a connection dropped: counted as an error, by kind
        code = type(exc).__name__
    return code, (time.perf_counter() - t) * 1e3


def _probe_loop(base: str, interval: float, ready, stop, conn_out) -> None:
    """In a process of its own: ``GET /health`` every ``interval`` s until ``stop`` is set, then
    send the list of (status, milliseconds) down ``conn_out``. A process of its own so that the
    load generator's busy event loop (50 requests in flight, their JSON) does not add its own
    delays to the probe's latency: what is measured is the server."""
    import http.client
    from urllib.parse import urlsplit

    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    conn.request("GET", "/health")  # connected and warm before the phase starts
    conn.getresponse().read()
    ready.set()
    out = []
    while not stop.is_set():
        t = time.perf_counter()
        try:
            conn.request("GET", "/health")
            r = conn.getresponse()
            r.read()
            code = r.status
        except (OSError, http.client.HTTPException) as exc:
            code = type(exc).__name__
            conn.close()
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        out.append((code, (time.perf_counter() - t) * 1e3))
        time.sleep(interval)
    conn.close()
    conn_out.send(out)


class _Probe:
    """The ``/health`` probe of one phase, in its own process (:func:`_probe_loop`)."""

    def __init__(self, base: str, interval: float = PROBE_INTERVAL):
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        self._ready, self._stop = ctx.Event(), ctx.Event()
        self._recv, send = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=_probe_loop, daemon=True,
                                 args=(base, interval, self._ready, self._stop, send))

    def __enter__(self) -> _Probe:
        self._proc.start()
        if not self._ready.wait(60):  # the probe is probing before the burst starts
            raise RuntimeError("the /health probe process did not start")
        return self

    def results(self) -> tuple[list[float], Counter]:
        self._stop.set()
        samples = self._recv.recv()
        self._proc.join(10)
        return [ms for _, ms in samples], Counter(code for code, _ in samples)

    def __exit__(self, *exc) -> None:
        if self._proc.is_alive():
            self._proc.kill()


async def _burst(client, n: int, method: str, url: str, body_of) -> tuple[Counter, list, float]:
    t = time.perf_counter()
    results = await asyncio.gather(*(_timed(client, method, url, json=body_of(i))
                                      for i in range(n)))
    wall = time.perf_counter() - t
    return Counter(code for code, _ in results), [ms for _, ms in results], wall


def _report(name: str, codes: Counter, ms: list[float], wall: float, probe: list[float],
            probe_codes: Counter) -> int:
    errors = sum(v for k, v in codes.items() if not (isinstance(k, int) and k < 300))
    errors += sum(v for k, v in probe_codes.items() if not (isinstance(k, int) and k < 300))
    print(f"{name}: {dict(codes)}; {len(ms) / wall:.1f} requests/s over {wall:.1f} s; "
          f"latency {_percentiles(ms)}")
    if probe:
        print(f"  /health during it: {len(probe)} probes {dict(probe_codes)}; "
              f"{_percentiles(probe)}")
    return errors


async def _run(base: str, key: str, clients: int) -> int:
    import httpx

    headers = {"X-API-Key": key}
    body = _upload_body()
    limits = httpx.Limits(max_connections=clients + 4)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=300,
                                 limits=limits) as client:
        seq, t0 = [], time.perf_counter()
        codes = Counter()
        for _ in range(5):
            code, ms = await _timed(client, "POST", "/v1/scenarios", json=body)
            codes[code] += 1
            seq.append(ms)
        errors = _report("baseline: 5 uploads one at a time", codes, seq,
                         time.perf_counter() - t0, [], Counter())
        sid = None
        r = await client.post("/v1/scenarios", json=body)
        sid = r.json()["id"]
        for name, method, url, body_of in (
            (f"uploads: {clients} at once", "POST", "/v1/scenarios", lambda i: body),
            (f"runs: {clients} simulate submissions at once", "POST", "/v1/runs",
             lambda i: {"scenario_id": sid, "kind": "simulate",
                        "options": {"replications": 2, "seed": i}}),
        ):
            with _Probe(base) as probe:
                codes, ms, wall = await _burst(client, clients, method, url, body_of)
                if url == "/v1/runs":
                    await _wait_runs(client, clients, sid)
                probe_ms, probe_codes = probe.results()
            errors += _report(name, codes, ms, wall, probe_ms, probe_codes)
        return errors


async def _wait_runs(client, expected: int, scenario_id: int, timeout: float = 600.0) -> None:
    """Until the ``expected`` runs of this burst (on the scenario this run uploaded, so that a
    reused database's older runs do not count) are final."""
    t = time.perf_counter()
    while time.perf_counter() - t < timeout:
        r = await client.get("/v1/runs", params={"limit": 500, "scenario_id": scenario_id})
        runs = r.json()["data"]
        final = [x for x in runs if x["status"] in ("succeeded", "failed", "cancelled")]
        if len(final) >= expected:
            bad = Counter(x["status"] for x in final)
            print(f"  runs final after {time.perf_counter() - t:.1f} s: {dict(bad)}")
            return
        await asyncio.sleep(0.5)
    print(f"  runs not final after {timeout:.0f} s")


def _start_server(data: Path, port: int, database_url: str | None) -> tuple[subprocess.Popen,
                                                                            str]:
    env = {**os.environ, "SALESPLAN_DATA_DIR": str(data)}
    if database_url:
        env["SALESPLAN_DATABASE_URL"] = database_url
    exe = [sys.executable, "-m", "salesplan"]
    key = subprocess.run([*exe, "apikey", "create", f"load-{port}"], env=env, check=True,
                         capture_output=True, text=True).stdout.strip().splitlines()[-1]
    log = (data / "server.log").open("wb")  # a pipe nobody reads would fill up and block it
    proc = subprocess.Popen([*exe, "serve", "--port", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    return proc, key


def _wait_up(base: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    import httpx

    t = time.perf_counter()
    while time.perf_counter() - t < timeout:
        if proc.poll() is not None:
            raise RuntimeError("the server exited during start-up (see its log)")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not come up")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--database-url", default=None,
                    help="a SQLAlchemy URL (e.g. PostgreSQL); default SQLite in a temp folder")
    args = ap.parse_args(argv)
    print(machine_line(load=True))
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        proc, key = _start_server(Path(tmp), port, args.database_url)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_up(base, proc)
            print(f"server: salesplan serve (2 run workers), database "
                  f"{'given URL' if args.database_url else 'SQLite (WAL)'}")
            errors = asyncio.run(_run(base, key, args.clients))
            log = (Path(tmp) / "server.log").read_text(errors="replace")
            causes = Counter(line.split(": ", 1)[-1][:120] for line in log.splitlines()
                             if "Error:" in line and not line.startswith(" "))
            for cause, n in causes.most_common(3):
                print(f"  server log: {n} x {cause}")
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(f"errors (non-2xx responses or dropped connections): {errors}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
