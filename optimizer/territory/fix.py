"""Fix-and-resolve: a whole-account plan from the LP relaxation, for models too large for the
exact MILP (the ``fix`` strategy).

1. Round: keep the LP's integral assignments (the LP has at most as many fractional accounts
   as binding balance rows). With hard bands the LP is solved again with bands tightened by
   ``_FIX_TIGHTEN`` of their tolerance first, so that the real bands leave slack.
2. Repair (hard bands): shifts and swaps (:mod:`.repair`), then two-for-one exchanges
   (:mod:`.exchange`); a plan that holds is improved (shifts, swaps, relays) and, far above
   the bound, rounded again from LPs with tighter bands (:mod:`.reround`), keeping the
   cheapest, then polished (:mod:`.polish`).
3. Resolve: solve the fractional accounts as a small MILP with the fixed loads as constants
   (bands elastic, so it always has a solution); while a band does not hold, free the
   neighbouring accounts of the reps involved (those cheapest to move), more each round.
4. Last resort: the whole model as one MILP with the time left. When the candidates can still
   be widened, fix-and-resolve instead gives up after ``_WIDEN_AFTER`` of the time left
   (``integer_failed``), and the search (:mod:`.search`) widens them.

:class:`FixAndResolve` holds the state of one run. Its :meth:`~FixAndResolve.repair` and
:meth:`~FixAndResolve.round_model` are the steps a subclass may replace (an experiment, a
test); the class to use is passed in through :class:`~.search.SearchPolicy`.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from .checks import holds, violated_reps, violation_score, worst_violation
from .exchange import exchange_counts
from .formulation import BuiltModel, assignment_of, build_model
from .polish import POLISH_ABOVE_GAP, improve, neighbours, polish
from .repair import repair_bands
from .reround import REROUND_SHARES, reround
from .reround import tightened as tighten_by
from .state import Outcome, SolveTask, expired, seconds_left

__all__ = ["FixAndResolve", "tightened"]

_INTEGRAL = 1e-6
"""An account is integral in the LP when one of its pair values is at least 1 - this."""
_FIX_TIGHTEN = 0.05
"""Share of each band's tolerance held back in the LP whose integral accounts are fixed: the
plain LP sits on its band edges, so rounding its fractional accounts pushes reps just outside
(measured on 50,000 x 400: 103 reps out by up to 0.08% of the mean, not repaired in the time
limit); from the LP with bands 5% tighter, 147 shift/swap moves repaired every band in 0.8 s."""
_REPAIR_ROUNDS = (0, 5, 10, 20, 20, 40, 40, 80, 80, 160)
"""Accounts freed per involved rep in each fix-and-resolve round (0: only fractional ones)."""
_WIDEN_AFTER = 0.5
"""Share of the time left that fix-and-resolve may spend before the candidates are widened
(when they can be)."""
_EXCHANGE_SECONDS = 30.0
"""Time for two-for-one exchanges after a band repair that left account counts off (measured:
7 exchanges in 1.6 s fixed the 2 reps left on a 12,473-account pool)."""
_ROUND_REPAIR_SECONDS = 10.0
"""Time for the band repair after a fix-and-resolve round that left a band off."""

log = logging.getLogger(__name__)


def tightened(spec):
    """``spec`` with every band's tolerance tightened by ``_FIX_TIGHTEN`` of itself."""
    return tighten_by(spec, _FIX_TIGHTEN)


class FixAndResolve:
    """One fix-and-resolve run over ``task``'s candidates, from the LP relaxation ``model``
    (solved; its objective ``bound`` is the lower bound). ``widenable``: the candidates can
    still be widened, so the run gives up (``integer_failed``) after ``_WIDEN_AFTER`` of the
    time left instead of solving the whole model. :meth:`run` returns the :class:`Outcome`;
    ``notes`` collect what it did."""

    def __init__(self, task: SolveTask, model: BuiltModel, bound: float, *,
                 widenable: bool = False) -> None:
        self.task = task
        self.model = model
        self.bound = bound
        self.widenable = widenable
        self.notes: list[str] = []
        self.tight_seconds = 0.0
        """Seconds the tightened LP took to build and solve (0: not solved)."""
        self.rounded_shares: set[float] = set()
        """Shares of the tolerance held back whose LP's rounding the plan already is."""

    # -- the steps a subclass may replace -------------------------------------------------

    def repair(self, assign: np.ndarray, until: float) -> tuple[np.ndarray, int, int]:
        """Band repair by shifts and swaps until ``until``; then, if account counts are still
        off, two-for-one exchanges for at most ``_EXCHANGE_SECONDS`` more, within the task's
        deadline. Returns (plan, shift/swap steps, exchanges)."""
        t = self.task
        plan, steps = repair_bands(t.spec, t.pi, t.pj, assign, deadline=until)
        exchanges = 0
        if not holds(t.spec, plan):
            plan, exchanges = exchange_counts(
                t.spec, t.pi, t.pj, plan,
                min(t.deadline, time.perf_counter() + _EXCHANGE_SECONDS))
        return plan, steps, exchanges

    def round_model(self, fixed: np.ndarray, r: int) -> BuiltModel:
        """The MILP of round ``r`` (0-based): accounts with ``fixed[i] >= 0`` are constants;
        bands are elastic unless soft already."""
        t = self.task
        return build_model(t.spec, t.pi, t.pj, fixed=fixed, name=f"territory_fix_round_{r + 1}",
                           elastic=not t.spec.soft)

    # -- the run --------------------------------------------------------------------------

    def run(self) -> Outcome:
        """Round, repair, resolve, and as a last resort solve the whole model."""
        t = self.task
        n = t.n_accounts
        values, from_tight = self._start_values()
        best = np.zeros(n)
        np.maximum.at(best, t.pi, values)
        integral = best >= 1 - _INTEGRAL
        assign = assignment_of(values, t.pi, t.pj, n)
        fractional = np.flatnonzero(~integral)
        if fractional.size == 0:
            return self._integral_plan(assign, from_tight)
        self.notes.append(f"LP relaxation: {fractional.size} of {n} accounts fractional")
        best_violation = np.inf
        if not t.spec.soft:
            done, assign = self._repaired_rounding(assign)
            if done is not None:
                return done
            # go on from the repaired plan, not the rounding: it is much closer (50k x 400 at
            # ±0.025%: 2 reps out of band after repair, 333 after the first round from the
            # rounding)
            best_violation = violation_score(t.spec, assign)
        done, stop = self._resolve_rounds(assign, ~integral, best_violation)
        if done is not None:
            return done
        return self._after_rounds(stop)

    def _cost(self, assign: np.ndarray) -> float:
        return float(self.task.spec.cost[np.arange(self.task.n_accounts), assign].sum())

    def _feasible(self, assign: np.ndarray, obj: float) -> Outcome:
        return Outcome("feasible", assign, obj, min(self.bound, obj), False, "fix", self.notes)

    def _start_values(self) -> tuple[np.ndarray, bool]:
        """Pair values to round: the LP's, or with hard bands those of the LP with tightened
        bands when it solves. Returns (values, from the tightened LP)."""
        t, spec = self.task, self.task.spec
        if not (spec.bands and not spec.soft and _FIX_TIGHTEN > 0):
            return self.model.values(), False
        if expired(t.deadline):
            self.notes.append("the time limit was reached by the LP relaxation: rounded it "
                              "without the tightened LP")
            return self.model.values(), False
        # The LP sits on its band edges, so fixing its integral accounts leaves the fractional
        # ones no room (an exact packing). Fix from an LP with bands tightened by
        # _FIX_TIGHTEN of their tolerance instead: the real bands then leave slack.
        if t.relaxation is not None:  # column generation solved it (or solves it now)
            values, self.tight_seconds = t.relaxation(_FIX_TIGHTEN)
            if values is None:
                return self.model.values(), False
        else:
            t0 = time.perf_counter()
            tmodel = build_model(tightened(spec), t.pi, t.pj, name="territory_tightened_lp")
            tlp = t.solver.solve(tmodel.prob, mip=False, time_limit=seconds_left(t.deadline))
            self.tight_seconds = time.perf_counter() - t0
            log.info("tightened LP: %s in %.1f s", tlp.state, tlp.seconds)
            if tlp.state != "optimal":
                return self.model.values(), False
            values = tmodel.values()
        self.notes.append(f"fixed from an LP with bands tightened by {_FIX_TIGHTEN:.0%} of "
                          "their tolerance")
        return values, True

    def _integral_plan(self, assign: np.ndarray, from_tight: bool) -> Outcome:
        """Every account integral: from the tightened LP a feasible plan, from the LP itself
        the optimum (its soft-band slacks priced in)."""
        if from_tight:
            obj = self._cost(assign)
            return Outcome("feasible", assign, obj, min(self.bound, obj), False, "fix",
                           [*self.notes, "the tightened LP was integral"])
        obj = self._cost(assign) + _slack_cost(self.model)
        return Outcome("optimal", assign, obj, self.bound, True, "fix",
                       ["the LP relaxation was integral: the plan is optimal"])

    def _repaired_rounding(self, assign: np.ndarray) -> tuple[Outcome | None, np.ndarray]:
        """Repair the rounded plan for at least 5 s or 30% of the time left. Returns (the
        outcome when the repaired plan holds, else None; the repaired plan)."""
        t = self.task
        t0 = time.perf_counter()
        repaired, steps, exchanges = self.repair(
            assign, min(t.deadline, t0 + max(5.0, 0.3 * seconds_left(t.deadline))))
        log.info("repair: %d steps and %d exchanges in %.1f s, %d reps violated (worst %.4f)",
                 steps, exchanges, time.perf_counter() - t0,
                 int(violated_reps(t.spec, repaired).sum()), worst_violation(t.spec, repaired))
        if not holds(t.spec, repaired):
            tighter = self._tighter_rounding()
            if tighter is None:
                return None, repaired
            repaired, steps, exchanges = tighter
        self.notes.append(f"rounded the LP and repaired the bands with {steps} shift/swap moves"
                          + (f" and {exchanges} two-for-one exchanges" if exchanges else ""))
        repaired, better = improve(t, repaired)
        if better:
            self.notes.append(f"{better} cost-improving shifts, swaps and relays kept every band")
        assign = repaired
        obj = self._cost(assign)
        if obj > self.bound * (1 + POLISH_ABOVE_GAP) and self.tight_seconds > 0:
            assign = reround(t, self.bound, assign, self.tight_seconds, self.repair, self.notes,
                             done=frozenset(self.rounded_shares))
            obj = self._cost(assign)
        if obj > self.bound * (1 + POLISH_ABOVE_GAP) and t.relaxation is None:
            # not after column generation: on geo-33k its MILP (1,080-2,280 free accounts,
            # 10-15 s a pool) improved no pool's plan; that time goes to re-rounding instead
            assign = polish(t, assign, self.notes)
            obj = self._cost(assign)
        return self._feasible(assign, obj), assign

    def _tighter_rounding(self) -> tuple[np.ndarray, int, int] | None:
        """When the repaired rounding misses a band and the task's LPs are cheap
        (``task.relaxation``, column generation): round the LPs with ``REROUND_SHARES`` of
        each tolerance held back instead, each repaired, before any fix-and-resolve MILP
        round (measured on geo-33k's Midwest pool: the 5% rounding left 2 reps 0.04% out
        after repair, and five MILP rounds of 3 s each did not close them). Returns the first
        that holds (plan, steps, exchanges), else None."""
        t = self.task
        if t.relaxation is None:
            return None
        for share in REROUND_SHARES:
            if expired(t.deadline):
                return None
            values, _ = t.relaxation(share)
            if values is None:
                continue
            plan = assignment_of(values, t.pi, t.pj, t.n_accounts)
            t0 = time.perf_counter()
            plan, steps, exchanges = self.repair(
                plan, min(t.deadline, t0 + max(5.0, 0.2 * seconds_left(t.deadline))))
            log.info("rounding at %.2f: repaired in %.1f s, %d reps violated", share,
                     time.perf_counter() - t0, int(violated_reps(t.spec, plan).sum()))
            if holds(t.spec, plan):
                self.rounded_shares.add(share)
                self.notes.append(f"the rounding of the LP with bands tightened by "
                                  f"{_FIX_TIGHTEN:.0%} did not repair; rounded the LP with "
                                  f"{share:.0%} of each tolerance held back instead")
                return plan, steps, exchanges
        return None

    def _resolve_rounds(self, assign: np.ndarray, free: np.ndarray, best_violation: float
                        ) -> tuple[Outcome | None, float]:
        """The MILP rounds of ``_REPAIR_ROUNDS``, from ``free`` accounts, keeping the plan
        closest to the bands. Returns (the outcome of the first round whose plan holds, else
        None; the time the rounds had to stop by)."""
        t, spec = self.task, self.task.spec
        now = time.perf_counter()
        stop = (now + _WIDEN_AFTER * (t.deadline - now) if self.widenable and not spec.soft
                else t.deadline)
        round_seconds = max(3.0, max(1.0, stop - now) / (2 * len(_REPAIR_ROUNDS)))
        for r, per_rep in enumerate(_REPAIR_ROUNDS):
            if expired(stop):
                break
            if r > 0:
                free = self._freed(assign, per_rep)
            fixed = np.where(free, -1, assign)
            t.progress(0.5 + 0.3 * r / len(_REPAIR_ROUNDS),
                       f"improving: fix-and-resolve round {r + 1} of {len(_REPAIR_ROUNDS)} "
                       f"({int(free.sum()):,} accounts free)")
            res, trial = self._solve_round(r, fixed, assign, stop, round_seconds)
            if trial is None:
                if expired(stop):
                    break
                continue
            violation = violation_score(spec, trial)
            log.info("fix round %d: %d free accounts, %s in %.1f s, %d reps violated "
                     "(worst %.4f)", r + 1, int(free.sum()), res.state, res.seconds,
                     int(violated_reps(spec, trial).sum()), worst_violation(spec, trial))
            if violation <= best_violation:
                assign, best_violation = trial, violation
            if not spec.soft and not holds(spec, assign):
                assign, _, _ = self.repair(
                    assign, min(t.deadline, time.perf_counter() + _ROUND_REPAIR_SECONDS))
            if spec.soft or holds(spec, assign):
                return self._round_plan(r, assign, res.objective, free), stop
            if expired(stop):
                break
        return None, stop

    def _freed(self, assign: np.ndarray, per_rep: int) -> np.ndarray:
        """The accounts a round frees: ``per_rep`` boundary accounts of each rep out of band
        and of each rep sharing candidate accounts with one."""
        t = self.task
        worst = violated_reps(t.spec, assign)
        touched = worst.copy()
        acc_of_worst = np.zeros(t.n_accounts, dtype=bool)
        acc_of_worst[t.pi[worst[t.pj]]] = True
        touched[t.pj[acc_of_worst[t.pi]]] = True
        return neighbours(t.spec, t.pi, t.pj, assign, touched, per_rep)

    def _solve_round(self, r: int, fixed: np.ndarray, assign: np.ndarray, stop: float,
                     round_seconds: float):
        """Solve round ``r`` (warm-started from ``assign`` after the first). Returns (the
        solve outcome, the round's plan or None without one)."""
        t = self.task
        sub = self.round_model(fixed, r)
        warm = r > 0
        if warm:
            sub.set_start(assign)
        limit = min(seconds_left(stop), round_seconds)
        res = t.solver.solve(sub.prob, mip=True, time_limit=limit, warm_start=warm)
        if not res.has_solution:
            log.info("fix round %d: %d free accounts, %s", r + 1, int((fixed < 0).sum()),
                     res.state)
            return res, None
        return res, assignment_of(sub.values(), sub.pair_i, sub.pair_j, t.n_accounts,
                                  base=fixed)

    def _round_plan(self, r: int, assign: np.ndarray, objective: float | None,
                    free: np.ndarray) -> Outcome:
        """The plan of round ``r``: in soft mode at the round's objective, else improved."""
        if self.task.spec.soft:
            obj = float(objective)
        else:
            assign, better = improve(self.task, assign)
            if better:
                self.notes.append(f"{better} cost-improving shifts, swaps and relays kept "
                                  "every band")
            obj = self._cost(assign)
        self.notes.append(f"fix-and-resolve: plan found in round {r + 1} "
                          f"({int(free.sum())} free accounts)")
        return self._feasible(assign, obj)

    def _after_rounds(self, stop: float) -> Outcome:
        """No round held the bands: give up for a widening, for the time limit, or solve the
        whole model as one MILP with the time left."""
        t, bound, notes = self.task, self.bound, self.notes
        if stop < t.deadline and not expired(t.deadline):
            notes.append("fix-and-resolve did not hold the bands in half the time left")
            return Outcome("none", bound=bound, strategy="fix", notes=notes,
                           integer_failed=True)
        if expired(t.deadline):
            # a whole-model MILP now would overrun the limit by its build and transfer time
            notes.append("the time limit ended fix-and-resolve before the bands held")
            return Outcome("none", bound=bound, strategy="fix", notes=notes)
        notes.append("fix-and-resolve did not repair the bands; solved the whole model instead")
        model = build_model(t.spec, t.pi, t.pj) if self.model.elastic else self.model
        res = t.solver.solve(model.prob, mip=True, time_limit=seconds_left(t.deadline))
        if res.state == "infeasible":
            return Outcome("infeasible", strategy="fix", notes=notes)
        if not res.has_solution:
            return Outcome("none", bound=bound, strategy="fix", notes=notes)
        assign = assignment_of(model.values(), model.pair_i, model.pair_j, t.n_accounts)
        lb = max(bound, res.bound) if res.bound is not None else bound
        return Outcome(res.state, assign, res.objective, min(lb, res.objective),
                       res.state == "optimal", "fix", notes)


def _slack_cost(model: BuiltModel) -> float:
    """The soft-band penalty of the model's current solution (model units)."""
    total = 0.0
    if not model.slack:  # hard bands, or a model without PuLP slacks (column generation)
        return total
    obj = model.prob.objective
    for var in model.slack.values():
        total += float(obj.get(var, 0.0)) * float(var.varValue or 0.0)
    return total
