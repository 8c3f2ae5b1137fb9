"""The what-if runner: simulate a base scenario and its variants side by side.

``compare`` simulates every scenario with the same seed. Replication ``i`` of each uses the same
child seed and the same named random streams (arrivals, routing, conversion, durations, values,
attrition), so two scenarios that differ in one lever reuse the same draws for everything else:
common random numbers. Differences are then paired per replication and their confidence
intervals are much tighter than comparing two independent runs (both widths are reported).

Quotas: each outcome's reps get quotas from a quota method (``DEFAULT_METHOD``, the blend of
capacity, history and potential under the peer band, by default; a ``quota_method`` lever
chooses another), so the share of reps expected to reach quota can be compared across variants.
Pay: when the scenario has a pay plan (``compensation``), each outcome also carries its pay per
replication under that plan and those quotas (cost of sales, share at on-target pay, the paired
difference in pay); pay levers change only these, never bookings.
``realign`` levers re-align territories with the optimiser before the variant is simulated. The
base outcome's notes start with the scenario's validation warnings
(:func:`salesplan.scenarios.scenario_warnings`).

Another scenario file can be a variant too (:func:`run_against`, ``salesplan whatif base.yaml
--against plan-b.yaml``): it is simulated with the same seed, so the entities both files share
(same ids) draw the same random numbers; :mod:`.against` checks the two can be paired and notes
what differs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor, as_completed

import numpy as np

from salesplan.optimizer.quotas import DEFAULT_METHOD
from salesplan.scenarios import Scenario, scenario_warnings
from salesplan.scenarios.calendar import month_labels
from salesplan.scenarios.levers import AppliedVariant, LeverError, apply_levers, apply_variant
from salesplan.simulator import SimulationResult, simulate
from salesplan.stats import estimate, paired_difference, proportion

from .against import as_variant
from .compensation import scenario_payouts
from .headcount import Cost, HeadcountPlan, plan_headcount
from .outcome import Comparison, Outcome
from .quotas import rep_quotas
from .realign import realign_scenario

__all__ = ["compare", "outcome_from_result", "partial_estimates", "rounds", "run_against",
           "run_plan_headcount", "run_whatif"]

Progress = Callable[[float, str], None]


def outcome_from_result(name: str, scenario: Scenario, result: SimulationResult,
                        description: str = "", notes: Sequence[str] = (),
                        quotas: dict[str, float] | None = None,
                        quota_method: str | None = None) -> Outcome:
    """Reduce a simulation result to the per-replication arrays a comparison needs."""
    outs = result.outputs
    rep_bookings = np.stack([o.bookings.sum(axis=1) for o in outs])       # [N, R]
    monthly = np.stack([o.bookings.sum(axis=0) for o in outs])            # [N, M]
    won = np.array([float(o.won.sum()) for o in outs])
    region_of = np.array([scenario.region_ids.index(r.region) for r in scenario.reps])
    region_bookings = np.zeros((len(outs), len(scenario.region_ids)))
    for q in range(len(scenario.region_ids)):
        region_bookings[:, q] = rep_bookings[:, region_of == q].sum(axis=1)
    cost_per_day = np.array([r.cost_annual for r in scenario.reps]) / 365.25
    cost = np.array([float(o.seated_days @ cost_per_day) for o in outs])
    return Outcome(name=name, scenario=scenario, description=description, notes=list(notes),
                   bookings=monthly.sum(axis=1), won=won, monthly=monthly,
                   region_bookings=region_bookings, rep_bookings=rep_bookings, cost=cost,
                   quotas=quotas, quota_method=quota_method)


def _prepare(applied: AppliedVariant, seed: int) -> AppliedVariant:
    """Run the optimiser for a ``realign`` lever (the variant's territories change first)."""
    if applied.realign is None:
        return applied
    sc, notes = realign_scenario(applied.scenario, applied.realign)
    return AppliedVariant(applied.name, sc, [*applied.notes, *notes], applied.quota_method,
                          applied.realign, applied.mechanisms)


def _with_warnings(applied: AppliedVariant) -> AppliedVariant:
    """The base with the scenario's validation warnings in front of its notes."""
    warnings = [f"warning: {w}" for w in scenario_warnings(applied.scenario)]
    if not warnings:
        return applied
    return AppliedVariant(applied.name, applied.scenario, [*warnings, *applied.notes],
                          applied.quota_method, applied.realign)


def _outcome(applied: AppliedVariant, description: str, result: SimulationResult,
             default_method: str) -> Outcome:
    """An outcome from the variant's simulation: quotas by its method, pay under its plan."""
    sc = applied.scenario
    method = applied.quota_method.method if applied.quota_method else default_method
    over = applied.quota_method.over_assign if applied.quota_method else 1.0
    quotas = rep_quotas(sc, method, result, over_assign=over) if sc.targets else None
    out = outcome_from_result(applied.name, sc, result, description, applied.notes, quotas,
                              method if quotas else None)
    out.mechanisms = applied.mechanisms
    if sc.compensation is not None and quotas:
        add_pay(out, sc, quotas, result)
    return out


PARTIAL_ROUNDS = (2, 8, 32, 128, 512)
"""With a ``partial`` callback, every outcome is simulated up to these replication counts in
turn (then to the full count), and the estimates so far are reported after each round."""


def rounds(replications: int) -> list[int]:
    """The cumulative replication counts of the rounds: ``PARTIAL_ROUNDS`` below the total,
    then the total."""
    return [*(k for k in PARTIAL_ROUNDS if k < replications), replications]


def partial_estimates(outcomes: Sequence[Outcome], done: int, replications: int) -> dict:
    """The estimates after ``done`` of ``replications`` replications (JSON): per outcome P(hit
    target) and bookings with their 95% intervals, and the paired difference from the base
    (the first outcome). Replication ``i`` of every outcome used the same random numbers, as in
    the full comparison, whose figures these become once ``done == replications``."""
    base = outcomes[0]
    variants = {}
    for o in outcomes:
        b = estimate(o.bookings)
        hit = o.hit()
        p = proportion(hit) if hit is not None else None
        d = paired_difference(o.bookings, base.bookings) if o is not base else None
        variants[o.name] = {
            "replications": done,
            "p_hit": p.p if p else None, "p_hit_ci95": list(p.ci95) if p else None,
            "bookings_mean": b.mean, "bookings_ci95": list(b.ci95),
            "diff_vs_base_mean": d.mean if d else 0.0,
            "diff_vs_base_ci95": list(d.ci95) if d else [0.0, 0.0]}
    return {"replications_done": done, "replications": replications, "base": base.name,
            "variants": variants}


def _simulate_all(jobs: Sequence[tuple[AppliedVariant, str]], replications: int, seed: int,
                  executor: Executor | None, workers: int, progress: Progress | None,
                  partial: Callable[[dict], None] | None) -> list[SimulationResult]:
    """Every job's simulation. With ``partial``: in rounds (:func:`rounds`), each round
    extending every job's replications (``simulate(first=...)``), the estimates so far sent to
    ``partial`` after each; the results are the same as in one go. With an ``executor``, the
    jobs of a round are simulated together (:func:`_simulate_round`)."""
    steps = rounds(replications) if partial else [replications]
    outputs: list[list] = [[] for _ in jobs]
    last: list[SimulationResult | None] = [None] * len(jobs)
    done = 0
    for upto in steps:
        def told(k: int, what: str, done: int = done, upto: int = upto) -> None:
            if progress:
                progress((done * len(jobs) + k * (upto - done)) / (replications * len(jobs)),
                         what + (f" ({upto} of {replications} replications)" if partial else ""))

        results = _simulate_round([a for a, _ in jobs], done, upto, seed, executor, workers,
                                  told)
        for k, res in enumerate(results):
            outputs[k].extend(res.outputs)
            last[k] = res
        done = upto
        if partial:
            so_far = [outcome_from_result(a.name, a.scenario, _joined(last[k], outputs[k]))
                      for k, (a, _) in enumerate(jobs)]
            partial(partial_estimates(so_far, done, replications))
    return [_joined(last[k], outputs[k]) for k in range(len(jobs))]


def _simulate_round(jobs: Sequence[AppliedVariant], first: int, upto: int, seed: int,
                    executor: Executor | None, workers: int,
                    told: Callable[[int, str], None]) -> list[SimulationResult]:
    """Replications ``first .. upto - 1`` of every job's scenario, in the order given.

    In this process (no executor): one job after another, ``told(k, "simulating <name>")``
    before the ``k``-th. With an executor: every job's chunks are submitted at once (one
    waiting thread per job), so that the executor's processes are never idle between jobs: the
    first round of a what-if is 2 replications of each outcome, a chunk each, which one job at
    a time would spread over at most 2 processes. ``told(k, "simulated k of n outcomes")`` is
    then called, in this thread, as jobs finish. The results are the same either way:
    replication ``i`` of ``seed`` draws only from its own streams.
    """
    def one(job: AppliedVariant) -> SimulationResult:
        return simulate(job.scenario, upto - first, seed, workers=workers, executor=executor,
                        keep_deals=0, first=first)

    if executor is None or len(jobs) == 1:
        results = []
        for k, job in enumerate(jobs):
            told(k, f"simulating {job.name}")
            results.append(one(job))
        return results
    told(0, f"simulating {len(jobs)} outcomes together")
    with ThreadPoolExecutor(max_workers=len(jobs),
                            thread_name_prefix="salesplan-outcome") as threads:
        futures = [threads.submit(one, job) for job in jobs]
        for k, _ in enumerate(as_completed(futures), start=1):
            if k < len(jobs):
                told(k, f"simulated {k} of {len(jobs)} outcomes")
        return [f.result() for f in futures]


def _joined(res: SimulationResult, outputs: list) -> SimulationResult:
    """``res`` with the outputs of every round so far (in replication order)."""
    if len(outputs) == len(res.outputs):
        return res
    return SimulationResult(res.plan, list(outputs), seed=res.seed, quotas=res.quotas,
                            routing=res.routing)


def add_pay(out: Outcome, sc: Scenario, quotas: dict[str, float],
            result: SimulationResult) -> None:
    """Pay under the scenario's plan, per replication, on the outcome (what the comparison's
    pay columns read): total pay and the share of reps at on-target pay."""
    payouts, _, _ = scenario_payouts(sc, quotas, result)
    out.pay = payouts.total.sum(axis=1)
    out.at_on_target_pay = payouts.share_at_on_target_pay()


def compare(base: Scenario, variants: Sequence[AppliedVariant | str], replications: int = 200,
            seed: int = 0, workers: int | None = None, progress: Progress | None = None,
            quota_method: str = DEFAULT_METHOD, executor: Executor | None = None,
            descriptions: Mapping[str, str] | None = None,
            partial: Callable[[dict], None] | None = None) -> Comparison:
    """Simulate ``base`` and every variant with common random numbers and compare them.

    ``variants`` are names of the scenario's variants or already applied variants (a lever
    list applied with :func:`~salesplan.scenarios.levers.apply_levers`, or another scenario
    with :func:`~salesplan.api.planning.against.as_variant`). ``descriptions``: variant name ->
    description, beside those of the scenario's own variants. ``partial``: called with the
    estimates so far (:func:`partial_estimates`) as replications finish, every outcome
    advancing together in rounds; the comparison is the same with or without it.
    """
    applied = [apply_variant(base, v) if isinstance(v, str) else v for v in variants]
    descriptions = {v.name: v.description for v in base.variants} | dict(descriptions or {})
    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    own = executor is None and n_workers > 1
    pool = ProcessPoolExecutor(max_workers=n_workers) if own else executor
    try:
        jobs = [(_with_warnings(apply_levers(base, [], "base")), "the scenario as given"), *[
            (_prepare(a, seed), descriptions.get(a.name, "")) for a in applied]]
        results = _simulate_all(jobs, replications, seed, pool, n_workers, progress, partial)
        outcomes = [_outcome(a, desc, res, quota_method)
                    for (a, desc), res in zip(jobs, results, strict=True)]
        if progress:
            progress(1.0, "done")
    finally:
        if own:
            pool.shutdown(wait=True)
    return Comparison(seed=seed, replications=replications, base=outcomes[0],
                      variants=outcomes[1:], months=month_labels(base.horizon))


def run_whatif(scenario: Scenario, variants: Sequence[str] | None = None, replications: int = 200,
               seed: int = 0, workers: int | None = None, progress: Progress | None = None,
               quota_method: str = DEFAULT_METHOD, executor: Executor | None = None,
               partial: Callable[[dict], None] | None = None) -> Comparison:
    """Compare the base with the named variants (all of the scenario's variants by default).
    ``executor``: where the replications go; ``partial``: the estimates so far (both as in
    :func:`compare`)."""
    names = list(variants) if variants is not None else [v.name for v in scenario.variants]
    return compare(scenario, names, replications, seed, workers, progress, quota_method,
                   executor=executor, partial=partial)


def run_against(base: Scenario, others: Mapping[str, Scenario],
                variants: Sequence[str] = (), replications: int = 200, seed: int = 0,
                workers: int | None = None, progress: Progress | None = None,
                quota_method: str = DEFAULT_METHOD, executor: Executor | None = None,
                partial: Callable[[dict], None] | None = None) -> Comparison:
    """Compare ``base`` with other scenarios (name -> scenario, e.g. other plan files) on
    common random numbers, each as a variant whose notes say what differs from the base
    (:mod:`.against`), after the base's own ``variants`` named (``executor``, ``partial``: as
    in :func:`compare`). Raises
    :class:`~salesplan.api.planning.against.IncomparableScenariosError` for a scenario that cannot
    be paired with the base (another horizon or currency)."""
    taken = sorted({"base", *variants} & set(others))
    if taken:
        raise LeverError(f"{', '.join(map(repr, taken))}: already the name of the base or of "
                         "a variant; give the other scenario another name")
    applied = [as_variant(base, sc, name) for name, sc in others.items()]
    descriptions = {name: sc.description for name, sc in others.items() if sc.description}
    return compare(base, [*variants, *applied], replications, seed, workers, progress,
                   quota_method, executor=executor, descriptions=descriptions, partial=partial)


def run_plan_headcount(scenario: Scenario, p: float = 0.8, replications: int = 100,
                       seed: int = 0, workers: int | None = None,
                       regions: Sequence[str] | None = None, start_month: int = 1,
                       max_hires: int = 20, ramp_months: float | None = None,
                       progress: Callable[[str], None] | None = None,
                       cost: Cost = "hires", executor: Executor | None = None,
                       steps: Callable[[float, str], None] | None = None) -> HeadcountPlan:
    """The fewest hires so that P(hit target) >= p, or the best plan found with ``reached``
    False (see :mod:`salesplan.api.planning.headcount`; raise ``plan.unreachable_error()``
    after saving the plan when ``p`` must be met). Every plan is simulated with ``seed``:
    candidates are compared on common random numbers. ``executor``: where the replications
    go (default: ``workers`` local processes; not shut down)."""
    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    own = executor is None and n_workers > 1
    pool = ProcessPoolExecutor(max_workers=n_workers) if own else executor
    try:
        def evaluate(sc: Scenario, s: int) -> Outcome:
            result = simulate(sc, replications, s, workers=n_workers, executor=pool,
                              keep_deals=0)
            return outcome_from_result("plan", sc, result)

        return plan_headcount(scenario, evaluate, p=p, seed=seed, replications=replications,
                              regions=regions, start_month=start_month, max_hires=max_hires,
                              ramp_months=ramp_months, progress=progress, cost=cost,
                              steps=steps)
    finally:
        if own:
            pool.shutdown(wait=True)
