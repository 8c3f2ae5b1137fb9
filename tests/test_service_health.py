"""``/health`` answers while every request thread is busy: its route and the dependencies it
uses (``get_db``, the request) run on the event loop, and its database query on threads of its
own (``app.state.health_threads``), never on FastAPI's shared thread pool, which a burst of
uploads fills (issue #19: the probe waited for a free request thread).

No timing is asserted: the shared pool is shrunk to two threads and both are held until the
probe has answered; a probe that needed one of them would wait for ever (the 60 s bound only
turns that into a failure)."""

from __future__ import annotations

import asyncio
import threading

import anyio
import httpx
from test_service_support import make_app


async def _get_with_pool_full(app, path: str, timeout: float = 60.0,
                              threads: int = 2) -> httpx.Response:
    """``GET path`` while all ``threads`` threads of the shared pool are held."""
    limiter = anyio.to_thread.current_default_thread_limiter()
    limiter.total_tokens = threads
    release = threading.Event()
    blockers = [asyncio.ensure_future(anyio.to_thread.run_sync(release.wait))
                for _ in range(threads)]
    try:
        while limiter.borrowed_tokens < threads:  # every thread taken before the request
            await asyncio.sleep(0.01)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await asyncio.wait_for(client.get(path, headers={"X-API-Key": "x"}),
                                          timeout)
    finally:
        release.set()
        await asyncio.gather(*blockers)


def test_health_answers_while_every_request_thread_is_busy(tmp_path):
    app = make_app(tmp_path, run_pool=False)
    r = asyncio.run(_get_with_pool_full(app, "/health"))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ok" and r.json()["database"] == "sqlite"


def test_a_keyed_route_does_need_a_request_thread(tmp_path):
    """The control: a route that reads the database through a key does wait for a request
    thread, so the test above would see a probe that needed one."""
    app = make_app(tmp_path, run_pool=False)

    async def scenario():
        try:
            await _get_with_pool_full(app, "/v1/scenarios", timeout=2)
        except TimeoutError:
            return "waited"
        return "answered"

    assert asyncio.run(scenario()) == "waited"
