"""Failed-authentication limit per client: after ``limit`` failures from one remote address
within ``window`` seconds, that address gets 429 (with ``Retry-After``) until the oldest of
those failures leaves the window. Requests with a valid key never count.

In memory, per server process: a restart forgets the failures. Behind a reverse proxy the remote
address is the proxy's unless uvicorn trusts its ``X-Forwarded-For`` (``--forwarded-allow-ips``).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["FailureLimiter"]


class FailureLimiter:
    """Sliding-window count of failures per client. ``clock``: seconds (monotonic)."""

    MAX_CLIENTS = 100_000  # addresses tracked at once; the stalest are dropped past it

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float] | None:
        times = self._failures.get(client)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[client]
            return None
        return times

    def retry_after(self, client: str) -> int | None:
        """Seconds until ``client`` may try again, or None if it may now."""
        with self._lock:
            now = self.clock()
            times = self._recent(client, now)
            if times is None or len(times) < self.limit:
                return None
            return max(1, math.ceil(times[0] + self.window - now))

    def failed(self, client: str) -> None:
        with self._lock:
            now = self.clock()
            times = self._recent(client, now)
            if times is None:
                if len(self._failures) >= self.MAX_CLIENTS:
                    self._prune(now)
                times = self._failures.setdefault(client, deque())
            times.append(now)
            while len(times) > self.limit:  # only the last `limit` failures matter
                times.popleft()

    def _prune(self, now: float) -> None:
        for client in list(self._failures):
            self._recent(client, now)
        while len(self._failures) >= self.MAX_CLIENTS:
            self._failures.pop(next(iter(self._failures)))
