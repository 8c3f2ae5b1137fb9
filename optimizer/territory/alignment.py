"""Territory alignment: assign every account to exactly one eligible rep.

Entry points: :func:`align` (a scenario) and :func:`solve_alignment` (an
:class:`~.problem.AlignmentProblem` of plain arrays). The model is in :mod:`.formulation`
(formulation written out there, with sources); the solver is injected through
:class:`~.solver.SolverSpec`.

Scale strategy:

1. Candidates: each account may go to its k nearest eligible reps (plus its owner).
2. Solve the LP relaxation: its objective is the lower bound reported with every plan. If the
   relaxation is infeasible with k candidates, k is doubled (up to every eligible rep) before
   giving up, so the candidate restriction never turns a feasible instance into an infeasible
   one; the widening is reported in the notes. With ``fix``, when the LP holds but no
   whole-account plan is found in half the time left, k is widened too (tight bands can need
   far pairs that only the integer plan shows).
3. ``exact``: solve the MILP over the candidates (time limit, relative gap).
   ``fix``: keep the LP's integral assignments (the LP has at most as many fractional accounts
   as binding balance rows), solve the fractional accounts as a small MILP with the fixed loads
   as constants, and when that is infeasible free neighbouring accounts (those of the reps
   involved that are cheapest to move), then everything, until it solves.
4. Read the status honestly (``sol_status``), compute the gap to the bound, build the frames.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from salesplan.scenarios.model import Scenario

from .balance import Pools, balance_stats, metric_values, pools_of, targets
from .candidates import candidate_pairs, ensure_reach
from .decompose import pool_parts, restrict
from .dedicated import Dedication, dedicate_oversized
from .diagnosis import check_input, explain_infeasible
from .eligibility import eligibility_matrix
from .errors import AlignmentError, InfeasibleInputError, InfeasiblePlanError, NoSolutionError
from .exchange import exchange_counts
from .formulation import BandSpec, ModelSpec, build_model
from .options import METRICS, AlignmentOptions
from .problem import AlignmentProblem
from .repair import MoveBudget, improve_shifts, improve_swaps, repair_bands
from .result import AlignmentMetrics, AlignmentResult, status_text
from .solver import SolverSpec

__all__ = ["align", "solve_alignment"]

_INTEGRAL = 1e-6
_FIX_TIGHTEN = 0.05
"""Share of each band's tolerance held back in the LP whose integral accounts are fixed: the
plain LP sits on its band edges, so rounding its fractional accounts pushes reps just outside
(measured on 50,000 x 400: 103 reps out by up to 0.08% of the mean, not repaired in the time
limit); from the LP with bands 5% tighter, 147 shift/swap moves repaired every band in 0.8 s."""
_REPAIR_ROUNDS = (0, 5, 10, 20, 20, 40, 40, 80, 80, 160)
"""Accounts freed per involved rep in each fix-and-resolve round (0: only fractional ones)."""
_REP_REACH = (3.0, 6.0, 12.0)
"""Rep-side candidates: each rep's nearest accounts carrying this many times its band target
(widened in this order when the candidates make the model infeasible, before k is doubled)."""
_REACH_MAX_PAIRS = 150_000
"""Above this many candidate pairs, an infeasible restriction doubles k at once (the elastic LP
that adds only the missing pairs is slow at that size)."""
_WIDEN_AFTER = 0.5
"""Share of the time left that fix-and-resolve may spend before the candidates are widened
(when they can be)."""
_WIDEN_TIME = 3.0
"""A widening after a failed whole-account plan needs at least this many times the last LP's
build and solve time left: the wider model's LP takes longer than the last one (measured on a
50k-pool of 12,401 accounts: 22 s at k = 16, 29 s at k = 32 with the LP stopped by the limit),
and its rounding and repair need time after it."""
_WIDEN_ALL_PAIRS = 200_000
"""A widening after a failed whole-account plan goes straight to every eligible rep when that
is at most this many pairs (else k doubles)."""
_EXCHANGE_SECONDS = 30.0
"""Time for two-for-one exchanges after a band repair that left account counts off (measured:
7 exchanges in 1.6 s fixed the 2 reps left on a 12,473-account pool)."""
_POLISH_PER_REP = 15
_POLISH_ABOVE_GAP = 0.01
"""Polish only plans more than this relative gap above the LP bound."""
"""Boundary accounts per rep re-optimised when polishing a repaired plan."""
_ELASTIC_KM = 1e5
"""Penalty unit of the elastic repair models: a band violation of 100% of the mean costs as
much as moving a rep's average territory 100,000 distance units farther."""
log = logging.getLogger(__name__)


@dataclass(eq=False)
class Prepared:
    """Derived arrays shared by the model, the diagnosis and the report."""

    eligible: np.ndarray
    owner: np.ndarray
    pools: Pools
    bands: tuple[BandSpec, ...]
    capacity: np.ndarray
    weight: np.ndarray
    spec: ModelSpec
    notes: list[str] = field(default_factory=list)
    dedicated: tuple[Dedication, ...] = ()


@dataclass
class _Outcome:
    state: str  # optimal | feasible | infeasible | none
    assign: np.ndarray | None = None
    objective: float | None = None
    bound: float | None = None
    solver_optimal: bool = False
    strategy: str = ""
    notes: list[str] = field(default_factory=list)
    integer_failed: bool = False  # the LP held, no whole-account plan within the share of time
    lp_seconds: float = 0.0  # building and solving the LP relaxation


def align(scenario: Scenario, options: AlignmentOptions | None = None,
          travel: pd.DataFrame | None = None) -> AlignmentResult:
    """Align the accounts of ``scenario`` to its reps (see :func:`solve_alignment`).

    ``travel`` is an optional travel table (account, rep, distance|minutes) as a frame.
    """
    return solve_alignment(AlignmentProblem.from_scenario(scenario, travel), options)


def prepare(problem: AlignmentProblem, options: AlignmentOptions) -> Prepared:
    """Eligibility, pools, band targets, capacities, costs: everything before the model."""
    p = problem
    notes = list(p.notes)
    eligible = eligibility_matrix(p.account_region, p.account_segment, p.rep_region,
                                  p.rep_segments, p.distance, options.max_distance)
    owner = p.owner_index()
    unknown_owner = sum(1 for o, j in zip(p.owner, owner, strict=True) if o is not None and j < 0)
    if unknown_owner:
        notes.append(f"{unknown_owner} account(s) have a previous owner who is not a rep here; "
                     "they move necessarily")
    shares = dict(options.rep_shares or {})
    unknown = sorted(set(shares) - set(p.rep_ids))
    if unknown:
        notes.append(f"rep_shares name unknown reps, ignored: {', '.join(unknown[:5])}")
    cap = options.max_workload_hours
    if cap is None:
        capacity = np.full(p.n_reps, np.inf)
    elif isinstance(cap, Mapping):
        capacity = np.array([cap.get(r, np.inf) for r in p.rep_ids], dtype=float)
        extra = sorted(set(cap) - set(p.rep_ids))
        if extra:
            notes.append(f"capacities name unknown reps, ignored: {', '.join(extra[:5])}")
    else:
        capacity = np.full(p.n_reps, float(cap))
    if options.dedicate_oversized:
        eligible, pools, dedicated, more = dedicate_oversized(p, options, eligible, owner,
                                                              shares, capacity)
        notes += more + [_dedication_note(p, d) for d in dedicated]
    else:
        pools, dedicated = pools_of(p, eligible, shares), []
    idle = [p.rep_ids[j] for j in np.flatnonzero(~eligible.any(axis=0))]
    if idle:
        notes.append(f"{len(idle)} rep(s) have no eligible account and get an empty territory: "
                     + ", ".join(idle[:5]) + (" ..." if len(idle) > 5 else ""))
    bands = []
    for b in options.balance:
        values = metric_values(p, b.metric)
        mu = _band_targets(values, pools, dedicated)
        if not (mu > 0).any():
            notes.append(f"balance band on {b.metric} skipped: every account has 0 {b.metric}")
            continue
        bands.append(BandSpec(b.metric, values, mu, b.tolerance, b.weight))
    if options.distance_weight == "uniform":
        raw = np.ones(p.n_accounts)
    else:
        raw = np.asarray(p.potential if options.distance_weight == "potential"
                         else p.workload, dtype=float)
    mean = raw.mean() if raw.size and raw.mean() > 0 else 1.0
    weight = np.maximum(raw / mean, options.weight_floor)
    if (raw / mean < options.weight_floor).any():
        notes.append(f"{int((raw / mean < options.weight_floor).sum())} account(s) have a "
                     f"distance weight below {options.weight_floor:g} x the mean; floored to it")
    has_owner = np.array([o is not None for o in p.owner], dtype=bool)
    lam = options.disruption_weight
    dist = np.where(np.isfinite(p.distance), p.distance, 0.0)
    not_owner = np.ones_like(eligible, dtype=bool)
    rows = np.flatnonzero(owner >= 0)
    not_owner[rows, owner[rows]] = False
    cost = weight[:, None] * (dist + lam * (not_owner & has_owner[:, None]))
    spec = ModelSpec(
        account_ids=list(p.account_ids), rep_ids=list(p.rep_ids), cost=cost, owner=owner,
        has_owner=has_owner, locked=np.asarray(p.locked, dtype=bool),
        potential=np.asarray(p.potential, float), workload=np.asarray(p.workload, float),
        bands=tuple(bands), capacity=capacity, soft=options.soft_balance,
        soft_unit=float(weight.sum() / max(p.n_reps, 1) * options.soft_penalty),
        elastic_unit=float(weight.sum() / max(p.n_reps, 1) * _ELASTIC_KM),
        max_moves=options.max_moves if options.mode == "realign" else None,
        max_moved_potential=(options.max_moved_potential if options.mode == "realign"
                             else None),
    )
    return Prepared(eligible, owner, pools, tuple(bands), capacity, weight, spec, notes,
                    tuple(dedicated))


def _band_targets(values: np.ndarray, pools: Pools, dedicated) -> np.ndarray:
    """Band centres mu_j; 0 (no band) for dedicated reps."""
    mu = targets(values, pools)
    mu[[d.rep for d in dedicated]] = 0.0
    return mu


def _dedication_note(p: AlignmentProblem, d: Dedication) -> str:
    return (f"account {p.account_ids[d.account]} ({d.ratio:.2f} x the mean {d.metric} of its "
            f"reps, above every rep's {d.metric} band) has a dedicated territory: rep "
            f"{p.rep_ids[d.rep]} serves it alone, outside the bands and the balance figures; "
            "the other reps are balanced around the mean without it")


def solve_alignment(problem: AlignmentProblem, options: AlignmentOptions | None = None
                    ) -> AlignmentResult:
    """Solve the alignment of ``problem`` under ``options``; see the module doc for the
    strategy. Raises :class:`InfeasibleInputError` (diagnosed before solving),
    :class:`InfeasiblePlanError` (proven infeasible; says what to relax) or
    :class:`NoSolutionError` (no plan within the time limit)."""
    opts = options or AlignmentOptions()
    start = time.perf_counter()
    prep = prepare(problem, opts)
    problems = check_input(problem, opts, prep)
    if problems:
        raise InfeasibleInputError(problems)
    solver = opts.solver_spec()
    deadline = start + opts.time_limit
    parts = pool_parts(prep) if opts.split_pools else None
    if parts is None:
        outcome, k, notes = _search(problem, prep, opts, solver, deadline, start)
        scope = _scope(k)
    else:
        outcome, k, scope, notes = _search_pools(problem, prep, opts, solver, deadline, start,
                                                 parts)
    seconds = time.perf_counter() - start
    return _result(problem, opts, prep, outcome, seconds, solver, k, scope,
                   list(prep.notes) + notes, problem.n_reps)


def _scope(k: int | None) -> str:
    return "all eligible pairs" if k is None else f"{k} nearest candidates (+ rep reach)"


def _search_pools(problem, prep, opts, solver, deadline, start, parts):
    """Solve each pool on its own (:mod:`.decompose`) and join the plans: the objectives and
    the LP bounds add up; the plan is optimal when every pool's is. The time left is shared
    in proportion to each pool's candidate pairs, smallest pool first, so time a pool does not
    use passes to the larger ones. A pool without a plan stops the search, and its error says
    which pool it was."""
    n = problem.n_accounts
    assign = np.full(n, -1, dtype=np.int64)
    k_cap = opts.candidates if opts.candidates else None
    size = [float(np.minimum(prep.eligible[np.ix_(pt.accounts, pt.reps)].sum(axis=1),
                             k_cap or np.inf).sum()) for pt in parts]
    order = np.argsort(size, kind="stable")
    left = float(sum(size))
    total = left
    objective, bound, optimal = 0.0, 0.0, True
    strategies, ks, notes = [], [], []
    for pos, g in enumerate(order):
        part = parts[g]
        now = time.perf_counter()
        share = size[g] / left if left > 0 else 1.0
        left -= size[g]
        sub_problem, sub_prep = restrict(problem, prep, part)
        log.info("pool %s: %d accounts, %d reps, %.0f s", part.name, part.accounts.size,
                 part.reps.size, (deadline - now) * share)
        def attempt(until: float, sub_problem=sub_problem, sub_prep=sub_prep, g=g):
            return _search(sub_problem, sub_prep, opts, solver, until, start,
                           others=int(total - size[g]))

        # its share ran out: try again with the time left, less 1 s per pool to come (a small
        # pool's share can be too short for any solve)
        reserve = float(len(order) - pos - 1)
        try:
            try:
                out, k, sub_notes = attempt(now + max(deadline - now, 0.0) * share)
            except NoSolutionError:
                if deadline - reserve - time.perf_counter() < 2.0:
                    raise
                out, k, sub_notes = attempt(deadline - reserve)
        except AlignmentError as err:
            where = (f"in {part.name} ({part.accounts.size} accounts, {part.reps.size} "
                     "reps; each pool is solved on its own):")
            raise type(err)([where, *err.reasons], err.headline) from None
        assign[part.accounts] = part.reps[out.assign]
        objective += float(out.objective)
        bound = None if bound is None or out.bound is None else bound + out.bound
        optimal &= out.solver_optimal
        strategies.append(out.strategy)
        ks.append(k)
        notes += [f"{part.name}: {note}" for note in sub_notes]
    restricted = [x for x in ks if x is not None]
    k = max(restricted) if restricted else None
    scope = _scope(k) if len(set(ks)) == 1 else "candidates by pool: " + ", ".join(
        f"{parts[g].name} {'all eligible reps' if ks[i] is None else f'{ks[i]} nearest'}"
        for i, g in enumerate(order)) + " (+ rep reach)"
    notes.insert(0, f"the {len(parts)} pools share no account, rep or constraint, so each was "
                    "solved on its own; the objective and the LP bound are their sums")
    strategy = strategies[0] if len(set(strategies)) == 1 else "/".join(dict.fromkeys(
        strategies))
    return (_Outcome("optimal" if optimal else "feasible", assign, objective, bound, optimal,
                     strategy), k, scope, notes)


def _search(problem, prep, opts, solver, deadline, start, others: int = 0):
    """The candidate search of the module doc on one (whole or pool) problem: returns the
    outcome with a plan, the final k and the notes; raises when there is no plan.

    ``others``: the other pools' candidate pairs when this is one pool. ``auto`` counts them
    too, so a pool gets the strategy the whole model would (measured: 10k x 100 in 4 pools of
    20,000 pairs, exact: 281 s to a 0.50% gap; fix on the 80,000-pair whole: 17 s to 0.48%)."""
    notes: list[str] = []
    max_eligible = int(prep.eligible.sum(axis=1).max()) if problem.n_accounts else 0
    k = opts.candidates if opts.candidates is not None and opts.candidates < max_eligible \
        else None
    reach = _REP_REACH[0]
    rep_side_note = None
    while True:
        pi, pj = candidate_pairs(problem.distance, prep.eligible, prep.owner, problem.locked, k)
        if k is not None and prep.bands:
            # rep side: every rep also gets its nearest accounts carrying `reach` x its target
            needs = [(b.values, b.mu) for b in prep.bands]
            n0 = pi.size
            pi, pj, _ = ensure_reach(pi, pj, problem.distance, prep.eligible, needs,
                                     factor=reach, always=True)
            log.info("candidates: %d pairs (k=%d) + %d rep-side pairs (reach %.0fx)", n0, k,
                     pi.size - n0, reach)
            if pi.size > n0:
                rep_side_note = (f"{pi.size - n0} candidate pairs added so that every rep can "
                                 f"reach its nearest accounts carrying {reach:g}x its target")
        strategy = opts.strategy
        if strategy == "auto":
            strategy = "exact" if pi.size + others <= opts.exact_max_pairs else "fix"
        widenable = k is not None and bool(prep.bands) and not opts.soft_balance
        outcome = _solve(prep.spec, pi, pj, solver, strategy, deadline, widenable=widenable)
        if outcome.state == "infeasible" and k is not None and prep.bands \
                and not opts.soft_balance and pi.size <= _REACH_MAX_PAIRS:
            # add only the missing pairs (elastic LP), before widening every account's k
            pi, pj, pre = _reach(problem, prep, pi, pj, k, solver, deadline, notes)
            if opts.strategy == "auto":
                # the added pairs can take the model past the exact MILP's size
                strategy = "exact" if pi.size + others <= opts.exact_max_pairs else "fix"
            if pre is not None:
                outcome = _solve(prep.spec, pi, pj, solver, strategy, deadline,
                                 pre if strategy == "fix" else None, widenable=widenable)
        if outcome.state == "infeasible" and k is not None and _expired(deadline):
            notes.append("the time limit ended the widening of the candidates")
            outcome = _Outcome("none")
            break
        if outcome.state == "infeasible" and k is not None and prep.bands \
                and reach < _REP_REACH[-1] and pi.size <= _REACH_MAX_PAIRS:
            new_reach = _REP_REACH[_REP_REACH.index(reach) + 1]
            notes.append(f"with each rep's nearest accounts up to {reach:g}x its target as "
                         f"candidates the model is infeasible; widened to {new_reach:g}x")
            reach = new_reach
            continue
        if outcome.state == "infeasible" and k is not None:
            new_k = k * 2 if k * 2 < max_eligible else None
            notes.append(f"with {k} candidate reps per account the model is infeasible; "
                         f"widened to {new_k if new_k else 'every eligible rep'}")
            k = new_k
            continue
        if outcome.integer_failed and k is not None \
                and _left(deadline) < _WIDEN_TIME * outcome.lp_seconds:
            notes.append(f"with {k} candidate reps per account the LP held the bands but no "
                         "whole-account plan did in half the time left, and too little time "
                         f"is left to solve a wider model (its LP took {outcome.lp_seconds:.0f}"
                         " s with the current candidates)")
            break
        if outcome.integer_failed and k is not None and not _expired(deadline):
            # tight bands can need far pairs that only the whole-account plan shows: the LP
            # held the bands, rounding and repair did not (measured: the counties at ±0.003%
            # need every rep as a candidate)
            every = int(prep.eligible.sum())
            new_k = None if k * 2 >= max_eligible or every <= _WIDEN_ALL_PAIRS \
                else k * 2
            notes.append(f"with {k} candidate reps per account the LP held the bands but no "
                         "whole-account plan did in half the time left; widened to "
                         f"{new_k if new_k else 'every eligible rep'}")
            k = new_k
            continue
        break
    notes += outcome.notes
    if rep_side_note:
        notes.append(rep_side_note)
    if outcome.state == "infeasible":
        raise InfeasiblePlanError(explain_infeasible(
            problem, opts, prep, _trial(problem, prep, solver, opts)))
    if outcome.state == "none" or outcome.assign is None:
        advice = ["raise the time limit, loosen the gap or the bands, or use soft balance"]
        if k is not None and outcome.bound is None:
            advice.append(f"the LP relaxation did not finish: fewer candidate reps per account "
                          f"than {k} make it smaller")
        elif k is not None and outcome.strategy == "exact":
            advice.append(f"the whole-model MILP over the {k} nearest candidate reps found no "
                          "plan in the time: try strategy fix (LP, rounding and repair), or "
                          "raise the candidate count (candidates=None, --candidates 0: every "
                          "eligible rep)")
        elif k is not None and prep.bands and not opts.soft_balance:
            advice.append(f"the LP relaxation holds the bands but no whole-account plan was "
                          f"found over the {k} nearest candidate reps: tight bands can need "
                          "reps farther away; raise the candidate count (candidates=None, "
                          "--candidates 0: every eligible rep)")
        raise NoSolutionError([
            f"the solver stopped after {time.perf_counter() - start:.0f} s without a plan",
            *advice])
    return outcome, k, notes


def _reach(problem, prep, pi, pj, k, solver, deadline, notes, rounds: int = 4):
    """Make the k-nearest candidates able to hold the bands, adding only missing pairs.

    Solve the LP relaxation with elastic bands (always feasible); reps left outside a band get
    their nearest accounts added as candidates (under the band) or their accounts get more
    candidate reps (over the band), and the LP is solved again. Returns the pairs and, when the
    elastic LP closes every band, (its model, its outcome): then it *is* the LP relaxation
    over those candidates. Returns None for the model when it does not close them."""
    spec = prep.spec
    m = problem.n_reps
    dist = np.where(prep.eligible, problem.distance, np.inf)
    added_total = 0
    for r in range(rounds):
        t0 = time.perf_counter()
        model = build_model(spec, pi, pj, name="territory_lp_elastic", elastic=True)
        lp = solver.solve(model.prob, mip=False, time_limit=_left(deadline))
        log.info("elastic LP %d: %d pairs, %s in %.1f s (built in %.1f s)", r + 1, pi.size,
                 lp.state, lp.seconds, time.perf_counter() - t0 - lp.seconds)
        if lp.state != "optimal":  # stopped early: its slacks say nothing reliable
            return pi, pj, None
        under = np.zeros(m, dtype=bool)
        over = np.zeros(m, dtype=bool)
        index = {rep: j for j, rep in enumerate(problem.rep_ids)}
        for (side, _metric, rep), var in model.slack.items():
            if (var.varValue or 0.0) > 1e-7:
                (over if side == "over" else under)[index[rep]] = True
        if not (under.any() or over.any()):
            if added_total:
                notes.append(f"{added_total} candidate pairs were added so that the {k} "
                             "nearest reps can hold the bands")
            return pi, pj, (model, lp)
        new_i, new_j = [], []
        grow = 2 ** (r + 1)
        for j in np.flatnonzero(under):
            cand = np.flatnonzero(np.isfinite(dist[:, j]))
            have = int((pj == j).sum())
            take = cand[np.argsort(dist[cand, j], kind="stable")[:max(50, grow * have)]]
            new_i.append(take)
            new_j.append(np.full(take.size, j))
        if over.any():
            rows = np.unique(pi[over[pj]])
            kk = min(m, grow * k)
            near = np.argpartition(dist[rows], kk - 1, axis=1)[:, :kk] if kk < m else \
                np.tile(np.arange(m), (rows.size, 1))
            ii = np.repeat(rows, near.shape[1])
            jj = near.ravel()
            ok = np.isfinite(dist[ii, jj]) & ~spec.locked[ii]
            new_i.append(ii[ok])
            new_j.append(jj[ok])
        ii = np.concatenate([pi, *new_i])
        jj = np.concatenate([pj, *new_j])
        key = np.unique(ii.astype(np.int64) * m + jj)
        before = pi.size
        ii, jj = key // m, key % m
        order = np.lexsort((dist[ii, jj], ii))
        pi, pj = ii[order], jj[order]
        added_total += pi.size - before
        log.info("  %d reps under and %d over their bands: %d pairs added", int(under.sum()),
                 int(over.sum()), pi.size - before)
    return pi, pj, None


def _solve(spec: ModelSpec, pi: np.ndarray, pj: np.ndarray, solver: SolverSpec,
           strategy: str, deadline: float, pre=None, widenable: bool = False) -> _Outcome:
    """The LP relaxation, then the exact MILP or fix-and-resolve. ``widenable``: the
    candidates can still be widened, so fix-and-resolve gives up after half the time left
    (``integer_failed``) instead of solving the whole model."""
    t0 = time.perf_counter()
    if pre is not None:
        model, lp = pre
        lp_seconds = lp.seconds
    else:
        model = build_model(spec, pi, pj)
        log.info("model built: %d pairs in %.1f s", pi.size, time.perf_counter() - t0)
        lp = solver.solve(model.prob, mip=False, time_limit=_left(deadline))
        log.info("LP relaxation: %s, objective %s, %.1f s", lp.state, lp.objective, lp.seconds)
        lp_seconds = time.perf_counter() - t0
    if lp.state == "infeasible":
        return _Outcome("infeasible", strategy=strategy)
    if lp.state != "optimal":
        # an LP stopped by the time limit bounds nothing, and its point is no relaxation
        # optimum to round (measured: HiGHS stopped a 50k-pool LP with "feasible" and every
        # value 0)
        return _Outcome("none", strategy=strategy)
    bound = lp.objective
    n = len(spec.account_ids)
    if strategy == "exact":
        mip = solver.solve(model.prob, mip=True, time_limit=_left(deadline))
        if mip.state == "infeasible":
            return _Outcome("infeasible", strategy=strategy)
        if not mip.has_solution:
            return _Outcome("none", bound=bound, strategy=strategy)
        if mip.bound is not None:
            bound = max(bound, mip.bound)
        assign = _assignment(model.values(), model.pair_i, model.pair_j, n)
        return _Outcome(mip.state, assign, mip.objective, min(bound, mip.objective),
                        mip.state == "optimal", "exact")
    outcome = _fix_and_resolve(spec, model, pi, pj, solver, deadline, bound, widenable)
    outcome.lp_seconds = lp_seconds
    return outcome


def _assignment(values: np.ndarray, pi: np.ndarray, pj: np.ndarray, n: int,
                base: np.ndarray | None = None) -> np.ndarray:
    """Rep column per account from pair values (the largest value wins)."""
    assign = np.full(n, -1, dtype=np.int64) if base is None else base.copy()
    best = np.full(n, -1.0)
    order = np.argsort(values, kind="stable")
    # later writes (larger values) win
    assign[pi[order]] = pj[order]
    best[pi[order]] = values[order]
    return assign


def _fix_and_resolve(spec, model, pi, pj, solver, deadline, bound, widenable=False
                     ) -> _Outcome:
    n = len(spec.account_ids)
    values = model.values()
    notes: list[str] = []
    from_tight = False
    if spec.bands and not spec.soft and _FIX_TIGHTEN > 0 and _expired(deadline):
        notes.append("the time limit was reached by the LP relaxation: rounded it without the "
                     "tightened LP")
    elif spec.bands and not spec.soft and _FIX_TIGHTEN > 0:
        # The LP sits on its band edges, so fixing its integral accounts leaves the fractional
        # ones no room (an exact packing). Fix from an LP with bands tightened by
        # _FIX_TIGHTEN of their tolerance instead: the real bands then leave slack.
        tight = replace(spec, bands=tuple(replace(b, tolerance=b.tolerance * (1 - _FIX_TIGHTEN))
                                          for b in spec.bands))
        tmodel = build_model(tight, pi, pj, name="territory_tightened_lp")
        tlp = solver.solve(tmodel.prob, mip=False, time_limit=_left(deadline))
        log.info("tightened LP: %s in %.1f s", tlp.state, tlp.seconds)
        if tlp.state == "optimal":
            values, from_tight = tmodel.values(), True
            notes.append(f"fixed from an LP with bands tightened by {_FIX_TIGHTEN:.0%} of their "
                         "tolerance")
    best = np.zeros(n)
    np.maximum.at(best, pi, values)
    integral = best >= 1 - _INTEGRAL
    assign = _assignment(values, pi, pj, n)
    fractional = np.flatnonzero(~integral)
    if fractional.size == 0 and from_tight:
        obj = float(spec.cost[np.arange(n), assign].sum())
        return _Outcome("feasible", assign, obj, min(bound, obj), False, "fix",
                        [*notes, "the tightened LP was integral"])
    if fractional.size == 0:
        obj = float(spec.cost[np.arange(n), assign].sum()) + _slack_cost(model)
        return _Outcome("optimal", assign, obj, bound, True, "fix",
                        ["the LP relaxation was integral: the plan is optimal"])
    notes.append(f"LP relaxation: {fractional.size} of {n} accounts fractional")
    best_violation = np.inf
    if not spec.soft:
        t0 = time.perf_counter()
        repaired, steps, exchanges = _repair(
            spec, pi, pj, assign, min(deadline, t0 + max(5.0, 0.3 * _left(deadline))), deadline)
        log.info("repair: %d steps and %d exchanges in %.1f s, %d reps violated (worst %.4f)",
                 steps, exchanges, time.perf_counter() - t0,
                 int(_violated_reps(spec, repaired).sum()), _worst_violation(spec, repaired))
        if _holds(spec, repaired):
            notes.append(f"rounded the LP and repaired the bands with {steps} shift/swap moves"
                         + (f" and {exchanges} two-for-one exchanges" if exchanges else ""))
            repaired, better = _improve(spec, pi, pj, repaired, deadline)
            if better:
                notes.append(f"{better} cost-improving shifts and swaps kept every band")
            assign = repaired
            obj = float(spec.cost[np.arange(n), assign].sum())
            if obj > bound * (1 + _POLISH_ABOVE_GAP):
                assign = _polish(spec, pi, pj, repaired, solver, deadline, notes)
                obj = float(spec.cost[np.arange(n), assign].sum())
            return _Outcome("feasible", assign, obj, min(bound, obj), False, "fix", notes)
        # go on from the repaired plan, not the rounding: it is much closer (50k x 400 at
        # ±0.025%: 2 reps out of band after repair, 333 after the first round from the rounding)
        assign = repaired
        best_violation = _violation_score(spec, assign)
    free = ~integral
    now = time.perf_counter()
    stop = now + _WIDEN_AFTER * (deadline - now) if widenable and not spec.soft else deadline
    total = max(1.0, stop - now)
    for r, per_rep in enumerate(_REPAIR_ROUNDS):
        if _expired(stop):
            break
        if r > 0:
            worst = _violated_reps(spec, assign)
            touched = worst.copy()
            # reps sharing candidate accounts with the violated reps join the repair
            acc_of_worst = np.zeros(n, dtype=bool)
            acc_of_worst[pi[worst[pj]]] = True
            touched[pj[acc_of_worst[pi]]] = True
            free = _neighbours(spec, pi, pj, assign, touched, per_rep)
        fixed = np.where(free, -1, assign)
        sub = build_model(spec, pi, pj, fixed=fixed, name=f"territory_fix_round_{r + 1}",
                          elastic=not spec.soft)
        warm = r > 0
        if warm:
            sub.set_start(assign)
        limit = min(_left(stop), max(3.0, total / (2 * len(_REPAIR_ROUNDS))))
        res = solver.solve(sub.prob, mip=True, time_limit=limit, warm_start=warm)
        if not res.has_solution:
            log.info("fix round %d: %d free accounts, %s", r + 1, int(free.sum()), res.state)
            if _expired(stop):
                break
            continue
        trial = _assignment(sub.values(), sub.pair_i, sub.pair_j, n, base=fixed)
        violation = _violation_score(spec, trial)
        log.info("fix round %d: %d free accounts, %s in %.1f s, %d reps violated (worst %.4f)",
                 r + 1, int(free.sum()), res.state, res.seconds,
                 int(_violated_reps(spec, trial).sum()), _worst_violation(spec, trial))
        if violation <= best_violation:
            assign, best_violation = trial, violation
        if not spec.soft and not _holds(spec, assign):
            assign, _, _ = _repair(spec, pi, pj, assign,
                                   min(deadline, time.perf_counter() + 10.0), deadline)
        if spec.soft or _holds(spec, assign):
            obj = float(spec.cost[np.arange(n), assign].sum())
            if spec.soft:
                obj = float(res.objective)
            else:
                assign, better = _improve(spec, pi, pj, assign, deadline)
                if better:
                    notes.append(f"{better} cost-improving shifts and swaps kept every band")
                obj = float(spec.cost[np.arange(n), assign].sum())
            notes.append(f"fix-and-resolve: plan found in round {r + 1} "
                         f"({int(free.sum())} free accounts)")
            return _Outcome("feasible", assign, obj, min(bound, obj), False, "fix", notes)
        if _expired(stop):
            break
    if stop < deadline and not _expired(deadline):
        notes.append("fix-and-resolve did not hold the bands in half the time left")
        return _Outcome("none", bound=bound, strategy="fix", notes=notes, integer_failed=True)
    if _expired(deadline):
        # a whole-model MILP now would overrun the limit by its build and transfer time alone
        notes.append("the time limit ended fix-and-resolve before the bands held")
        return _Outcome("none", bound=bound, strategy="fix", notes=notes)
    # last resort: the whole model as one MILP with the time left
    notes.append("fix-and-resolve did not repair the bands; solved the whole model instead")
    if model.elastic:
        model = build_model(spec, pi, pj)
    res = solver.solve(model.prob, mip=True, time_limit=_left(deadline))
    if res.state == "infeasible":
        return _Outcome("infeasible", strategy="fix", notes=notes)
    if not res.has_solution:
        return _Outcome("none", bound=bound, strategy="fix", notes=notes)
    assign = _assignment(model.values(), model.pair_i, model.pair_j, n)
    lb = max(bound, res.bound) if res.bound is not None else bound
    return _Outcome(res.state, assign, res.objective, min(lb, res.objective),
                    res.state == "optimal", "fix", notes)


def _repair(spec, pi, pj, assign, until: float, deadline: float):
    """Band repair by shifts and swaps until ``until``; then, if account counts are still off,
    two-for-one exchanges (:mod:`.exchange`) for at most ``_EXCHANGE_SECONDS`` more, within
    ``deadline``. Returns (plan, shift/swap steps, exchanges)."""
    plan, steps = repair_bands(spec, pi, pj, assign, deadline=until)
    exchanges = 0
    if not _holds(spec, plan):
        plan, exchanges = exchange_counts(
            spec, pi, pj, plan, min(deadline, time.perf_counter() + _EXCHANGE_SECONDS))
    return plan, steps, exchanges


def _improve(spec, pi, pj, assign, deadline):
    """Shifts then swaps then shifts again, each band-preserving and cost-improving."""
    limit = min(deadline, time.perf_counter() + 60.0)
    total = 0
    for step in (improve_shifts, improve_swaps, improve_shifts):
        assign, k = step(spec, pi, pj, assign, deadline=limit)
        total += k
    log.info("improve: %d shifts and swaps", total)
    return assign, total


def _polish(spec, pi, pj, assign, solver, deadline, notes) -> np.ndarray:
    """Improve a band-feasible plan: re-solve the accounts nearest to territory boundaries
    as a MILP (hard bands) started from the plan; keep the result only if it is cheaper."""
    n = len(spec.account_ids)
    rows = np.arange(n)
    current = float(spec.cost[rows, assign].sum())
    left = _left(deadline)
    if left < 3.0:
        return assign
    touched = np.ones(len(spec.rep_ids), dtype=bool)
    free = _neighbours(spec, pi, pj, assign, touched, _POLISH_PER_REP)
    fixed = np.where(free, -1, assign)
    sub = build_model(spec, pi, pj, fixed=fixed, name="territory_polish")
    sub.set_start(assign)
    res = solver.solve(sub.prob, mip=True, time_limit=min(left - 1.0, max(3.0, left * 0.3)),
                       warm_start=True)
    if not res.has_solution:
        return assign
    trial = _assignment(sub.values(), sub.pair_i, sub.pair_j, n, base=fixed)
    cost = float(spec.cost[rows, trial].sum())
    log.info("polish: %d free accounts, %.1f s, cost %.1f -> %.1f", int(free.sum()),
             res.seconds, current, cost)
    if cost < current - 1e-9 and _holds(spec, trial):
        notes.append(f"polished {int(free.sum())} boundary accounts with a MILP: "
                     f"cost {current:,.1f} -> {cost:,.1f}")
        return trial
    return assign


def _worst_violation(spec, assign: np.ndarray) -> float:
    """Largest band violation as a fraction of the rep's target (0: every band held)."""
    m = len(spec.rep_ids)
    worst = 0.0
    for band in spec.bands:
        load = np.bincount(assign, weights=band.values, minlength=m)
        ok = band.mu > 0
        dev = np.abs(load[ok] / band.mu[ok] - 1) - band.tolerance
        if dev.size:
            worst = max(worst, float(dev.max()))
    return worst


def _violated_reps(spec, assign: np.ndarray) -> np.ndarray:
    """Reps outside a hard band or over capacity (relative tolerance 1e-9)."""
    m = len(spec.rep_ids)
    bad = np.zeros(m, dtype=bool)
    for band in spec.bands:
        load = np.bincount(assign, weights=band.values, minlength=m)
        tol = 1e-9 * np.maximum(band.mu, 1.0)
        pos = band.mu > 0
        bad |= pos & ((load > (1 + band.tolerance) * band.mu + tol)
                      | (load < (1 - band.tolerance) * band.mu - tol))
    work = np.bincount(assign, weights=spec.workload, minlength=m)
    bad |= work > spec.capacity + 1e-6
    return bad


def _violation_score(spec, assign: np.ndarray) -> float:
    """How far a plan is from holding its bands, for comparing fix-and-resolve rounds: 10 per
    rep out of band or capacity, plus the largest band violation (fraction of the target)."""
    return _worst_violation(spec, assign) + 10.0 * float(_violated_reps(spec, assign).sum())


def _holds(spec, assign: np.ndarray) -> bool:
    """Every hard band, capacity and move cap holds."""
    return not _violated_reps(spec, assign).any() and MoveBudget(spec, assign).within()


def _slack_cost(model) -> float:
    import pulp

    total = 0.0
    obj = model.prob.objective
    for var in model.slack.values():
        total += float(obj.get(var, 0.0)) * float(var.varValue or 0.0)
    _ = pulp
    return total


def _neighbours(spec, pi, pj, assign, touched, per_rep) -> np.ndarray:
    """Accounts of touched reps that are cheapest to move to another touched rep:
    ``per_rep`` of them per rep (plus every account with a candidate among touched reps when
    fewer exist)."""
    n = len(spec.account_ids)
    cur = assign[pi]
    ok = touched[cur] & touched[pj] & (pj != cur)
    ii, jj = pi[ok], pj[ok]
    delta = spec.cost[ii, jj] - spec.cost[ii, assign[ii]]
    best = np.full(n, np.inf)
    np.minimum.at(best, ii, delta)
    cand = np.flatnonzero(np.isfinite(best) & ~spec.locked)
    if cand.size == 0:
        return np.zeros(n, dtype=bool)
    order = np.lexsort((best[cand], assign[cand]))
    cand = cand[order]
    reps = assign[cand]
    first = np.r_[True, reps[1:] != reps[:-1]]
    group_start = np.maximum.accumulate(np.where(first, np.arange(cand.size), 0))
    rank = np.arange(cand.size) - group_start
    out = np.zeros(n, dtype=bool)
    out[cand[rank < per_rep]] = True
    return out


def _left(deadline: float) -> float:
    return max(1.0, deadline - time.perf_counter())


def _expired(deadline: float) -> bool:
    """Less than a second left: starting another solve would overrun the time limit (HiGHS's
    own limit does not count PuLP's model transfer, a minute at a million pairs)."""
    return time.perf_counter() > deadline - 1.0


def _trial(problem, prep, solver, opts):
    """A ``try_solve(drop, soft)`` for the post-solve diagnosis: a short exact solve over every
    eligible pair, returning (state, worst deviation by metric)."""
    pi, pj = candidate_pairs(problem.distance, prep.eligible, prep.owner, problem.locked, None)
    limit = max(5.0, min(30.0, opts.time_limit / 4))

    def run(drop: frozenset[str], soft: bool):
        spec = replace(prep.spec, drop=drop, soft=soft or prep.spec.soft)
        model = build_model(spec, pi, pj, name="territory_diagnosis")
        strategy = "exact" if pi.size <= opts.exact_max_pairs else "fix"
        out = _solve(spec, pi, pj, solver, strategy, time.perf_counter() + limit) \
            if strategy == "fix" else None
        if out is None:
            res = solver.solve(model.prob, mip=True, time_limit=limit)
            state = res.state
            assign = (_assignment(model.values(), model.pair_i, model.pair_j,
                                  problem.n_accounts) if res.has_solution else None)
        else:
            state, assign = out.state, out.assign
        worst = {}
        if assign is not None:
            for band in prep.bands:
                load = np.bincount(assign, weights=band.values, minlength=problem.n_reps)
                ok = band.mu > 0
                dev = load[ok] / band.mu[ok] - 1
                worst[band.metric] = float(dev[np.argmax(np.abs(dev))])
        return state, worst

    return run


def _result(problem, opts, prep, outcome, seconds, solver, k, scope, notes, m
            ) -> AlignmentResult:
    p = problem
    assign = outcome.assign
    n = p.n_accounts
    rows = np.arange(n)
    dist = p.distance[rows, assign]
    rep_ids = np.array(p.rep_ids, dtype=object)
    has_owner = prep.spec.has_owner
    moved = has_owner & (assign != prep.owner)
    frame = {
        "account": list(p.account_ids),
        "rep": rep_ids[assign].tolist(),
        "previous_owner": list(p.owner),
        "moved": moved,
        "locked": np.asarray(p.locked, dtype=bool),
        "distance": dist,
        "potential": np.asarray(p.potential, float),
        "workload_hours": np.asarray(p.workload, float),
    }
    if p.account_region is not None:
        frame["region"] = list(p.account_region)
    if p.account_segment is not None:
        frame["segment"] = list(p.account_segment)
    assignment = pd.DataFrame(frame)

    count = np.bincount(assign, minlength=m).astype(float)
    dsum = np.bincount(assign, weights=dist, minlength=m)
    dmax = np.zeros(m)
    np.maximum.at(dmax, assign, dist)
    terr = {
        "rep": list(p.rep_ids),
        "region": list(p.rep_region) if p.rep_region is not None else [None] * m,
        "pool": [prep.pools.names[g] for g in prep.pools.rep_pool],
        "accounts": count.astype(int),
        "potential": np.bincount(assign, weights=p.potential, minlength=m),
        "workload_hours": np.bincount(assign, weights=p.workload, minlength=m),
        "capacity_hours": np.where(np.isfinite(prep.capacity), prep.capacity, np.nan),
        "mean_distance": np.divide(dsum, count, out=np.full(m, np.nan), where=count > 0),
        "max_distance": dmax,
        "moved_in": np.bincount(assign[moved], minlength=m),
        "dedicated_to": [None] * m,
    }
    for d in prep.dedicated:
        terr["dedicated_to"][d.rep] = p.account_ids[d.account]
    balance = {}
    violation = {}
    band_by_metric = {b.metric: b for b in prep.bands}
    for metric in METRICS:
        values = metric_values(p, metric)
        mu = _band_targets(values, prep.pools, prep.dedicated)
        load = np.bincount(assign, weights=values, minlength=m)
        terr[f"{metric}_target"] = mu
        terr[f"{metric}_dev"] = np.divide(load, mu, out=np.full(m, np.nan), where=mu > 0) - 1
        balance[metric] = balance_stats(load, mu)
        if metric in band_by_metric:
            tau = band_by_metric[metric].tolerance
            ok = mu > 0
            over = np.maximum(np.abs(load[ok] / mu[ok] - 1) - tau, 0.0)
            violation[metric] = float(over.max()) if over.size else 0.0
            n_out = int((over > 1e-9).sum())
            if n_out:
                notes.append(f"soft band on {metric} (±{tau:.1%}): {n_out} rep(s) outside it, "
                             f"worst by {violation[metric]:.1%} of the mean")
    territories = pd.DataFrame(terr)

    objective = float(outcome.objective)
    bound = outcome.bound
    gap = None
    if bound is not None:
        gap = max(0.0, (objective - bound) / abs(objective)) if abs(objective) > 1e-9 else 0.0
    metrics = AlignmentMetrics(
        status=status_text(gap, outcome.solver_optimal),
        objective=objective, bound=bound, gap=gap, bound_scope=scope,
        solve_seconds=seconds, strategy=outcome.strategy, solver=solver.name, candidates=k,
        moves=int(moved.sum()), moved_potential=float(p.potential[moved].sum()),
        weighted_distance=float((prep.weight * dist).sum()), total_distance=float(dist.sum()),
        distance_unit=p.distance_unit, balance=balance, max_band_violation=violation,
    )
    if k is not None:
        notes.append(f"candidates: each account could go to its {k} nearest eligible reps, "
                     "its owner, and reps for which it is among the nearest accounts; the "
                     "bound is over those candidates")
    return AlignmentResult(assignment, territories, metrics, tuple(notes))
