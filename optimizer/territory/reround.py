"""Re-rounding: a second whole-account plan from an LP with tighter bands, kept if cheaper.

Fix-and-resolve (:mod:`.fix`) rounds the LP relaxation solved with every band tightened by 5%
of its tolerance (±4.75% for ±5%), repairs the bands and improves the plan by band-keeping
moves. With heavy-tailed accounts under two tight bands that leaves the plan far above the
bound: the rounding moves reps by up to a whole large account (on the real-shape geo-33k the
largest is 35% of a rep's mean potential, against a band window of 10%), the repair then moves
accounts to hold the bands whatever the cost, and the shifts, swaps and relays that follow
stop in a local optimum. Measured on geo-33k's Northeast pool (5,923 accounts, 72 reps, two
±5% bands, 55,416 candidate pairs), the plan's gap to the LP bound after repair and
improvement, by the share of each tolerance held back in the LP that is rounded:

    share held back   0.05   0.15   0.20   0.30   0.40   0.60
    gap               1.95%  1.38%  0.86%  1.35%  2.36%  2.75%

A tighter LP costs more itself (at 0.20 its objective is 1.60% above the bound) but leaves the
real bands room, so the repair has little to do and the improvement moves the plan back toward
the real bands' optimum. The response is not monotone, so :func:`reround` tries the shares of
``REROUND_SHARES`` in turn and keeps whichever plan is cheapest; each is a plan that holds
every band (checked), so the result is never worse than the plan it is given.

Costs are in the model's units; times are :func:`time.perf_counter` instants in seconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from .checks import holds
from .formulation import assignment_of, build_model
from .polish import POLISH_ABOVE_GAP, improve
from .state import SolveTask, seconds_left

__all__ = ["REROUND_SHARES", "reround", "tightened"]

REROUND_SHARES = (0.2, 0.3)
"""Shares of each band's tolerance held back in the LPs re-rounded (see the module doc)."""
REROUND_STEP = 0.1
REROUND_MAX = 0.7
"""With column generation's LPs (``task.relaxation``), when the last share of
``REROUND_SHARES`` gave the cheapest plan so far, the share grows by ``REROUND_STEP`` while
it keeps paying, up to ``REROUND_MAX`` (geo-33k's Northeast pool with every eligible pair:
335,017 at 0.05, 333,960 at 0.20, 332,955 at 0.30, 331,182 at 0.40, 330,610 at 0.50; its
West pool: 0.30 the cheapest, 0.40 dearer)."""
_LP_MARGIN = 3.0
"""A re-rounding starts only with this many times the last tightened LP's time left, plus
``_AFTER_LP_SECONDS`` for its repair and improvement (an LP the limit stops gives nothing)."""
_AFTER_LP_SECONDS = 5.0

log = logging.getLogger(__name__)


def tightened(spec, share: float):
    """``spec`` with every band's tolerance tightened by ``share`` of itself."""
    return replace(spec, bands=tuple(replace(b, tolerance=b.tolerance * (1 - share))
                                     for b in spec.bands))


def reround(task: SolveTask, bound: float, assign: np.ndarray, lp_seconds: float,
            repair: Callable[[np.ndarray, float], tuple[np.ndarray, int, int]],
            notes: list[str], *, done: frozenset[float] = frozenset()) -> np.ndarray:
    """Return the cheapest of ``assign`` (a plan holding every band) and the plans from the
    LPs with ``REROUND_SHARES`` (or ``task.reround_shares``) of each tolerance held back,
    each rounded, repaired (``repair(plan, until)``, as :meth:`.fix.FixAndResolve.repair`)
    and improved (:func:`.polish.improve`). Stops once the plan is within ``POLISH_ABOVE_GAP`` of
    ``bound`` or the time left is under ``_LP_MARGIN`` x ``lp_seconds`` (seconds the last
    tightened LP took to build and solve) + ``_AFTER_LP_SECONDS``. Only soft-free models with
    bands are re-rounded; a note says when a re-rounded plan was kept. ``done``: shares
    whose rounding ``assign`` already is (not rounded again)."""
    spec, n = task.spec, task.n_accounts
    if spec.soft or not spec.bands:
        return assign
    rows = np.arange(n)
    best = float(spec.cost[rows, assign].sum())
    grow = task.relaxation is not None and task.reround_shares is None
    shares = list(REROUND_SHARES if task.reround_shares is None else task.reround_shares)
    while shares:
        share = shares.pop(0)
        if share in done:
            if grow and not shares and share < REROUND_MAX - 1e-9:
                shares.append(round(share + REROUND_STEP, 2))
            continue
        if best <= bound * (1 + POLISH_ABOVE_GAP):
            break
        if seconds_left(task.deadline) < _LP_MARGIN * lp_seconds + _AFTER_LP_SECONDS:
            break
        values, lp_seconds = _tight_values(task, share)
        if values is None:
            log.info("re-round at %.2f: LP not solved", share)
            continue
        plan = assignment_of(values, task.pi, task.pj, n)
        now = time.perf_counter()
        plan, _, _ = repair(plan, min(task.deadline,
                                      now + max(5.0, 0.3 * seconds_left(task.deadline))))
        if not holds(spec, plan):
            log.info("re-round at %.2f: bands not held after repair", share)
            continue
        plan, _ = improve(task, plan)
        cost = float(spec.cost[rows, plan].sum())
        log.info("re-round at %.2f: LP %.1f s, plan %.1f (best so far %.1f)", share,
                 lp_seconds, cost, best)
        if cost < best - 1e-9 and holds(spec, plan):
            notes.append(f"re-rounded from an LP with bands tightened by {share:.0%} of their "
                         f"tolerance: cost {best:,.1f} -> {cost:,.1f}")
            assign, best = plan, cost
            if grow and not shares and share < REROUND_MAX - 1e-9:
                # cheap LPs (column generation): go on holding back more while it pays
                shares.append(round(share + REROUND_STEP, 2))
    return assign


def _tight_values(task: SolveTask, share: float) -> tuple[np.ndarray | None, float]:
    """Pair values of the LP with bands tightened by ``share`` (None: it did not solve) and
    the seconds it took: from ``task.relaxation`` when set, else built with PuLP."""
    if task.relaxation is not None:
        return task.relaxation(share)
    t0 = time.perf_counter()
    model = build_model(tightened(task.spec, share), task.pi, task.pj,
                        name=f"territory_reround_lp_{round(share * 100)}")
    res = task.solver.solve(model.prob, mip=False, time_limit=seconds_left(task.deadline))
    seconds = time.perf_counter() - t0
    return (model.values() if res.state == "optimal" else None), seconds
