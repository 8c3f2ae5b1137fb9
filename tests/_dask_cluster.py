"""A local Dask cluster for the service's Dask tests (``test_service_dask*.py``) and what they
look at on its workers; the module fixtures ``cluster`` and ``dask_client`` built on it are in
``conftest.py``. Imported only after ``pytest.importorskip("distributed")``."""

from __future__ import annotations

import time

import distributed

LOCK_CONFIG = {"distributed.scheduler.locks.lease-timeout": "3s",
               "distributed.scheduler.locks.lease-validation-interval": "1s"}
"""Lock leases expire after 3 s instead of 30 s, so that a run whose worker was killed does
not wait half a minute for its lock."""


def local_cluster(**kwargs) -> distributed.LocalCluster:
    """Worker processes of one thread each, with :data:`LOCK_CONFIG`."""
    import dask

    with dask.config.set(LOCK_CONFIG):
        return distributed.LocalCluster(threads_per_worker=1, processes=True,
                                        dashboard_address=None, silence_logs=40, **kwargs)


def executing(dask_client: distributed.Client,
              prefixes: tuple[str, ...] | None = None) -> list[str]:
    """Keys executing (or cancelled but still running) on any worker of the cluster; with
    ``prefixes``, only those starting with one of them."""

    def busy(dask_worker) -> list[str]:
        return [str(k) for k, ts in dask_worker.state.tasks.items()
                if ts.state in ("executing", "long-running", "cancelled")]

    keys = [k for ks in dask_client.run(busy).values() for k in ks]
    return sorted(k for k in keys if prefixes is None or k.startswith(prefixes))


def wait_idle(dask_client: distributed.Client, timeout: float = 30.0,
              prefixes: tuple[str, ...] | None = None) -> float:
    """Seconds until nothing (of ``prefixes``) executes on the cluster; fails past ``timeout``."""
    t0 = time.monotonic()
    while busy := executing(dask_client, prefixes):
        assert time.monotonic() - t0 < timeout, f"still executing: {busy}"
        time.sleep(0.05)
    return time.monotonic() - t0
