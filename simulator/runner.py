"""Monte Carlo: independent replications, in parallel, bit-identical whatever the workers.

Replication ``r`` of ``seed`` is seeded only by ``SeedSequence(seed).spawn(n)[r]``, so its
results do not depend on which process runs it or in which order. Replications are sent to the
executor in chunks (several per task) to amortise pickling; results are put back in replication
order.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed

from salesplan.scenarios.errors import SalesplanError
from salesplan.scenarios.model import Scenario

from .plan import compile_plan
from .replication import ReplicationOutput, run_replication
from .results import SimulationResult
from .routing import RoutingStrategy, get_routing

__all__ = ["SimulationError", "simulate"]

class SimulationError(SalesplanError):
    """A simulation request that cannot run (bad replication count, unknown rep in quotas...)."""


def _run_chunk(scenario: Scenario, routing: RoutingStrategy, seed: int,
               indices: Sequence[int], keep_deals: int) -> list[ReplicationOutput]:
    """Worker task: compile the scenario (milliseconds) and run some replications."""
    plan = compile_plan(scenario)
    return [run_replication(plan, seed, r, routing, keep_deals=r < keep_deals)
            for r in indices]


def simulate(
    scenario: Scenario,
    replications: int,
    seed: int,
    workers: int | None = None,
    executor: Executor | None = None,
    quotas: Mapping[str, float] | None = None,
    progress: Callable[[int, int], None] | None = None,
    routing: str | RoutingStrategy | None = None,
    keep_deals: int = 10,
    first: int = 0,
) -> SimulationResult:
    """Run ``replications`` independent replications of ``scenario``.

    - ``seed``: any non-negative int; the result is a pure function of (scenario, replications,
      seed, routing), never of ``workers`` or the executor.
    - ``workers``: processes for the default ``ProcessPoolExecutor`` (None: one per CPU, at most
      one per chunk; 1: run in this process). Ignored if ``executor`` is given.
    - ``executor``: any ``concurrent.futures.Executor`` (threads, a cluster...); not shut down.
    - ``quotas``: rep id -> quota for the horizon (currency), for attainment statistics.
    - ``progress``: called as ``progress(done, total)`` after each finished chunk.
    - ``routing``: a registered strategy name or a :class:`RoutingStrategy` instance
      (default: the scenario's ``policies.routing``).
    - ``keep_deals``: per-deal records are kept for the first ``keep_deals`` replications only
      (the deals frame grows with leads x replications).
    - ``first``: run replications ``first .. first + replications - 1`` of ``seed``, the ones a
      run of ``first + replications`` would end with (to extend an earlier run in rounds: the
      outputs of both, in order, are those of the longer run).
    """
    if replications < 1:
        raise SimulationError(f"replications must be >= 1, got {replications}")
    if seed < 0:
        raise SimulationError(f"seed must be >= 0, got {seed}")
    if first < 0:
        raise SimulationError(f"first must be >= 0, got {first}")
    if quotas is not None:
        unknown = sorted(set(quotas) - {r.id for r in scenario.reps})
        if unknown:
            raise SimulationError(f"quotas name reps not in the scenario: {', '.join(unknown)}")
        bad = sorted(k for k, v in quotas.items() if not (v > 0 and math.isfinite(v)))
        if bad:
            raise SimulationError(f"quotas must be positive numbers (reps {', '.join(bad)})")
    strategy = get_routing(routing if routing is not None else scenario.policies.routing)

    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    if n_workers < 1:
        raise SimulationError(f"workers must be >= 1, got {n_workers}")
    lanes = 1 if executor is None and n_workers == 1 else max(n_workers, 1)
    size = max(1, min(50, math.ceil(replications / (lanes * 4))))
    end = first + replications
    chunks = [list(range(a, min(a + size, end))) for a in range(first, end, size)]
    outputs: list[ReplicationOutput] = []
    done = 0
    if executor is None and n_workers == 1:
        for ch in chunks:
            outputs.extend(_run_chunk(scenario, strategy, seed, ch, keep_deals))
            done += len(ch)
            if progress:
                progress(done, replications)
    else:
        own = executor is None
        pool = executor or ProcessPoolExecutor(max_workers=min(n_workers, len(chunks)))
        futures = []
        try:
            futures = [pool.submit(_run_chunk, scenario, strategy, seed, ch, keep_deals)
                       for ch in chunks]
            for fut in as_completed(futures):
                res = fut.result()
                outputs.extend(res)
                done += len(res)
                if progress:
                    progress(done, replications)
        except BaseException:
            for fut in futures:  # a failed or stopped chunk ends the run: drop what is left
                fut.cancel()
            raise
        finally:
            if own:
                pool.shutdown(wait=True, cancel_futures=True)
    outputs.sort(key=lambda o: o.index)
    return SimulationResult(compile_plan(scenario), outputs, seed=seed,
                            quotas=dict(quotas) if quotas else None, routing=strategy)
