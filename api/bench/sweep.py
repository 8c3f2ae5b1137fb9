"""Strategy sweeps: instances x strategies x seeds x replications, through one executor.

A sweep runs in three steps:

1. **Designs**: one task per (instance, territory design); each builds the instance (cached per
   process) and returns the new owners and the plan's figures.
2. **Simulations**: one task per distinct (instance, territory, routing, seed), plus one
   *planning* simulation per (instance, seed) for the ``fair`` quota method (seed +
   :data:`~.strategies.PLANNING_SEED_OFFSET`). Each task runs ``replications`` replications in
   its own process (``simulate(..., workers=1)``); replication r of seed s uses the same random
   streams whatever the strategy (common random numbers), so strategies are compared on the same
   draws and their differences are paired.
3. **Metrics** (in the caller's process): quotas per (instance, territory, method) and one row
   per (instance, family, strategy, seed).

Tasks are pure functions of their arguments and rows are assembled in a fixed order, so the
results are identical, bit for bit, whichever executor ran the tasks (in this process, local
processes, a Dask cluster) and in whatever order they finished. The columns ending in
``_seconds`` are measurements of compute time and are the only exception.

Row columns (one row per instance, family, strategy, seed):

===================  ==========================================================================
instance, family,    what ran (``territory``, ``routing``, ``quota`` are the three settings)
strategy, seed
replications         replications behind each simulated figure
bookings             mean company bookings over the replications (currency)
bookings_sd          their standard deviation
p_hit_target         share of replications with bookings >= the company target (NaN: no target)
won_deals            mean deals won
attainment_spread    population standard deviation across reps of P(attainment >= 100%) (the
                     fairness measure of the quota issue; 0 = every rep equally likely)
share_at_quota       mean over replications of the share of quota-carrying reps at quota (both
                     by :mod:`salesplan.optimizer.quotas.fairness`, as the quota plans report them)
lead_wait_days       mean days from a lead's arrival to first contact, over the leads contacted
                     within the horizon (pooled); read it with ``uncontacted_share``
uncontacted_share    share of the horizon's routed leads still waiting for first contact at
                     the horizon end (a strategy that leaves leads queued looks fast on waits)
leads                mean horizon leads per replication (identical across strategies for a seed:
                     arrivals do not depend on the strategy)
unrouted_leads       mean leads per replication no eligible rep could take
balance_cv           coefficient of variation of territory potential / pool target across reps
weighted_km          potential-weighted mean distance, account to rep (km)
moves                accounts whose rep differs from the instance's current owner (NaN where the
                     design could not be measured: as-is with accounts left without an owner)
design_status        the territory design's status (gap, soft band, ...)
quota_notes          what the quota engine reported (a basis that fell back to even, ...)
compute_seconds      the strategy's own compute: the routing family's simulation, the territory
                     design, the quota allocation (fair: with its planning simulation)
simulate_seconds     the evaluation simulation's wall time
===================  ==========================================================================
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd

from salesplan.optimizer import silence_highs_banner
from salesplan.optimizer.quotas.fairness import attainment, share_attaining
from salesplan.scenarios import Scenario
from salesplan.scenarios.errors import SalesplanError
from salesplan.simulator import RoutingStrategy, get_routing, simulate

from ..planning.quotas import horizon_quotas
from ..planning.realign import with_owners
from .instances import build_instance
from .strategies import (
    DEFAULT_ROUTING,
    DEFAULT_TERRITORY,
    FAMILIES,
    PLANNING_SEED_OFFSET,
    ROUTINGS,
    Design,
    Strategy,
    design_territory,
    strategies,
)

__all__ = ["RESULT_COLUMNS", "SweepError", "SweepSpec", "open_executor", "process_pool",
           "run_sweep"]

RESULT_COLUMNS = (
    "instance", "family", "strategy", "seed", "territory", "routing", "quota", "replications",
    "bookings", "bookings_sd", "p_hit_target", "won_deals", "attainment_spread",
    "share_at_quota", "lead_wait_days", "uncontacted_share", "leads", "unrouted_leads",
    "balance_cv", "weighted_km", "moves", "design_status", "quota_notes", "compute_seconds",
    "simulate_seconds",
)
TIMING_COLUMNS = ("compute_seconds", "simulate_seconds")


class SweepError(SalesplanError):
    """A sweep that cannot run (an unreachable cluster...)."""


@dataclass(frozen=True)
class SweepSpec:
    """What to sweep. ``seeds`` are the evaluation seeds (0..n-1 when given as a count);
    ``routings`` may name strategies registered with :func:`salesplan.simulator.register_routing`,
    or be :class:`RoutingStrategy` instances (picklable, to reach worker processes)."""

    instances: tuple[str, ...]
    seeds: tuple[int, ...]
    replications: int
    families: tuple[str, ...] = FAMILIES
    routings: tuple[str | RoutingStrategy, ...] = ROUTINGS

    def __post_init__(self) -> None:
        problems = []
        if self.replications < 2:
            problems.append(f"replications must be >= 2, got {self.replications}")
        if not self.seeds or min(self.seeds) < 0 or max(self.seeds) >= PLANNING_SEED_OFFSET:
            problems.append(f"seeds must be 0..{PLANNING_SEED_OFFSET - 1}")
        if not self.instances:
            problems.append("no instances")
        if problems:
            raise SweepError("; ".join(problems))
        names = self.routing_names()
        for what, items in (("instances", self.instances), ("seeds", self.seeds),
                            ("families", self.families), ("routings", names)):
            repeated = sorted({str(x) for x in items if list(items).count(x) > 1})
            if repeated:
                raise SweepError(f"{what} named more than once: {', '.join(repeated)}")

    def routing_names(self) -> tuple[str, ...]:
        return tuple(r if isinstance(r, str) else r.name for r in self.routings)


@dataclass(frozen=True)
class _SimOut:
    rep_ids: tuple[str, ...]
    rep_bookings: np.ndarray  # [R, reps]
    total: np.ndarray  # [R]
    won: np.ndarray  # [R]
    wait_sum: float
    wait_n: float
    routed: float  # horizon leads routed to a rep, summed over replications
    leads: float  # mean horizon leads per replication
    unrouted: float
    seconds: float


def design_task(instance: str, design: str) -> Design:
    """Worker task: one territory design on one instance."""
    return design_territory(build_instance(instance).scenario, design)


def simulation_task(instance: str, owners: dict[str, str] | None, routing: RoutingStrategy,
                    seed: int, replications: int) -> _SimOut:
    """Worker task: ``replications`` replications of ``seed`` with the given owners/routing."""
    sc = with_owners(build_instance(instance).scenario, owners)
    start = time.perf_counter()
    res = simulate(sc, replications, seed, workers=1, routing=routing, keep_deals=0)
    seconds = time.perf_counter() - start
    return _SimOut(tuple(res.rep_ids), res.rep_bookings(), res.total_bookings(),
                   res.total_won(), float(res.stack("wait_sum").sum()),
                   float(res.stack("wait_n").sum()), float(res.stack("created").sum()),
                   float(res.stack("leads").mean()),
                   float(res.stack("unrouted").sum(axis=1).mean()), seconds)


class _Inline(Executor):
    """Runs each task at submission, in this process (``workers=1``)."""

    def submit(self, fn, /, *args, **kwargs):
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            fut.set_exception(exc)
        return fut


def process_pool(workers: int) -> ProcessPoolExecutor:
    """Local worker processes, started with ``spawn``: HiGHS keeps a thread pool that a forked
    child inherits in a broken state (a child that solves a MILP after the parent has solved
    one spins forever), so design tasks must not run in forked processes."""
    return ProcessPoolExecutor(max_workers=workers, initializer=silence_highs_banner,
                               mp_context=multiprocessing.get_context("spawn"))


@contextmanager
def open_executor(scheduler: str | None = None, workers: int | None = None
                  ) -> Iterator[tuple[Executor, str]]:
    """The sweep's executor and a description of it: a Dask ``distributed`` cluster when
    ``scheduler`` (``tcp://host:8786``) is given, else local processes (``workers``, default
    one per CPU; 1 runs in this process)."""
    if scheduler:
        from salesplan.api.extras import require

        require("dask", "--scheduler (a Dask cluster)")
        from distributed import Client

        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise SweepError(f"cannot reach the Dask scheduler at {scheduler} ({exc}); start "
                             "one with `dask scheduler` and workers with `dask worker "
                             f"{scheduler}`, or leave out --scheduler to use local "
                             "processes") from exc
        try:
            n = len(client.scheduler_info().get("workers", {}))
            yield client.get_executor(), f"Dask cluster {scheduler} ({n} workers)"
        finally:
            client.close()
        return
    n = workers or os.cpu_count() or 1
    if n == 1:
        yield _Inline(), "this process"
        return
    with process_pool(n) as pool:
        yield pool, f"{n} local processes"


def _gather(executor: Executor, calls: dict, progress: Callable[[str], None] | None) -> dict:
    futures = {executor.submit(fn, *args): key for key, (fn, args) in calls.items()}
    out = {}
    try:
        for fut in as_completed(futures):
            out[futures[fut]] = fut.result()
            if progress:
                progress(str(futures[fut][0]))
    except BaseException:
        for fut in futures:  # a failed task stops the sweep: drop what has not started
            fut.cancel()
        raise
    return out


def _rep_quotas(sc: Scenario, method: str, samples: _SimOut | None, rep_ids: Sequence[str]
                ) -> tuple[np.ndarray, float, str]:
    """Horizon quota per rep (in ``rep_ids`` order), seconds, and the engine's notes."""
    start = time.perf_counter()
    draws = (pd.DataFrame(samples.rep_bookings, columns=list(samples.rep_ids))
             if samples is not None else None)
    per_rep, notes = horizon_quotas(sc, method, draws)
    q = np.array([per_rep.get(r, 0.0) for r in rep_ids])
    return q, time.perf_counter() - start, "; ".join(notes)


def _attainment(sim: _SimOut, q: np.ndarray) -> tuple[float, float]:
    """The quota engine's fairness measures on this simulation's draws: the population sd of
    P(attain) across quota-carrying reps, and the mean share of them at quota."""
    if not (q > 0).any():
        return float("nan"), float("nan")
    reps = list(sim.rep_ids)
    p_attain = attainment(pd.Series(q, index=reps),
                          pd.DataFrame(sim.rep_bookings, columns=reps))["p_attain"]
    return float(np.nanstd(p_attain)), float(share_attaining(sim.rep_bookings, q).mean())


def run_sweep(spec: SweepSpec, executor: Executor | None = None,
              progress: Callable[[str, int, int], None] | None = None) -> pd.DataFrame:
    """Run ``spec`` on ``executor`` (default: in this process) and return the rows (see the
    module doc), sorted by instance (spec order), family, strategy, seed."""
    executor = executor or _Inline()
    plan = strategies(spec.families, spec.routing_names())
    routing_by_name = {(r if isinstance(r, str) else r.name): get_routing(r)
                       for r in spec.routings}
    if not isinstance(executor, _Inline):
        for name, strategy in routing_by_name.items():
            try:
                pickle.dumps(strategy)
            except Exception as exc:
                raise SweepError(
                    f"routing {name!r} cannot be sent to worker processes ({exc}): define it "
                    "(class or function) at module level in an importable module, or run in "
                    "this process (--workers 1)") from exc
    routing_by_name.setdefault(DEFAULT_ROUTING, get_routing(DEFAULT_ROUTING))
    designs_needed = sorted({s.territory for s in plan})
    sims_needed = sorted({(s.territory, s.routing) for s in plan})
    fair = any(s.quota == "fair" for s in plan)

    design_calls = {(inst, d): (design_task, (inst, d))
                    for inst in spec.instances for d in designs_needed}
    n_sims = len(spec.instances) * len(spec.seeds) * (len(sims_needed) + int(fair))
    total = len(design_calls) + n_sims
    done = 0

    def tick(label: str) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(label, done, total)

    designs = _gather(executor, design_calls, tick)
    sim_calls = {}
    for inst in spec.instances:
        for seed in spec.seeds:
            for terr, routing in sims_needed:
                sim_calls[(inst, "eval", terr, routing, seed)] = (
                    simulation_task, (inst, designs[(inst, terr)].owners,
                                      routing_by_name[routing], seed, spec.replications))
            if fair:
                sim_calls[(inst, "plan", DEFAULT_TERRITORY, DEFAULT_ROUTING, seed)] = (
                    simulation_task, (inst, designs[(inst, DEFAULT_TERRITORY)].owners,
                                      routing_by_name[DEFAULT_ROUTING],
                                      seed + PLANNING_SEED_OFFSET, spec.replications))
    sims = _gather(executor, sim_calls, tick)
    return _rows(spec, plan, designs, sims)


def _rows(spec: SweepSpec, plan: list[Strategy], designs: dict, sims: dict) -> pd.DataFrame:
    rows = []
    quota_cache: dict[tuple, tuple[np.ndarray, float]] = {}
    for inst in spec.instances:
        base = build_instance(inst).scenario
        target = base.targets.company if base.targets else None
        for s in plan:
            design = designs[(inst, s.territory)]
            sc = with_owners(base, design.owners)
            for seed in spec.seeds:
                sim = sims[(inst, "eval", s.territory, s.routing, seed)]
                if s.quota == "fair":
                    planning = sims[(inst, "plan", DEFAULT_TERRITORY, DEFAULT_ROUTING, seed)]
                    q, qsec, qnotes = _rep_quotas(sc, "fair", planning, sim.rep_ids)
                    qsec += planning.seconds
                else:
                    key = (inst, s.territory, s.quota)
                    if key not in quota_cache:
                        quota_cache[key] = _rep_quotas(sc, s.quota, None, sim.rep_ids)
                    q, qsec, qnotes = quota_cache[key]
                spread, share = _attainment(sim, q)
                compute = {"routing": sim.seconds, "territory": design.seconds,
                           "quota": qsec}[s.family]
                rows.append({
                    "instance": inst, "family": s.family, "strategy": s.name, "seed": seed,
                    "territory": s.territory, "routing": s.routing, "quota": s.quota,
                    "replications": spec.replications,
                    "bookings": float(sim.total.mean()),
                    "bookings_sd": float(sim.total.std(ddof=1)),
                    "p_hit_target": (float((sim.total >= target).mean())
                                     if target is not None else float("nan")),
                    "won_deals": float(sim.won.mean()),
                    "attainment_spread": spread, "share_at_quota": share,
                    "lead_wait_days": sim.wait_sum / sim.wait_n if sim.wait_n else float("nan"),
                    "uncontacted_share": (1.0 - sim.wait_n / sim.routed if sim.routed
                                          else float("nan")),
                    "leads": sim.leads,
                    "unrouted_leads": sim.unrouted,
                    "balance_cv": design.balance_cv, "weighted_km": design.weighted_km,
                    "moves": design.moves, "design_status": design.status,
                    "quota_notes": qnotes,
                    "compute_seconds": compute, "simulate_seconds": sim.seconds,
                })
    return pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
