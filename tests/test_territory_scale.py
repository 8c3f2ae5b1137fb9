"""The scale path (issue #24): a plan early and kept (the incumbent), targeted widening, the
acceptance tolerance, and what the message says when no plan comes.

Time-limit outcomes are injected, never timed: a solver stub answers every solve with "time
limit, no solution", and a repair stub can refuse to repair."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import numpy as np
import pytest

from salesplan.api.cli import main
from salesplan.optimizer import AlignmentOptions, BalanceBand, solve_alignment
from salesplan.optimizer.territory import fix as fix_module
from salesplan.optimizer.territory.candidates import candidate_pairs
from salesplan.optimizer.territory.checks import BAND_TOLERANCE, holds, violated_reps
from salesplan.optimizer.territory.elastic_pairs import _with_more_pairs
from salesplan.optimizer.territory.errors import NoSolutionError
from salesplan.optimizer.territory.incumbent import greedy_over_pairs
from salesplan.optimizer.territory.preparation import prepare
from salesplan.optimizer.territory.solver import SolveOutcome, SolverSpec

SMALL = "scenarios/examples/small.yaml"
BANDS = (BalanceBand("workload", 0.10), BalanceBand("potential", 0.10))


class NoPlanSolver(SolverSpec):
    """Every solve (LP or MILP) stops at its time limit without a solution."""

    def solve_once(self, prob, mip, time_limit, warm_start, *, interior=False):
        return SolveOutcome("none", None, None, 0.0)


def _no_repair(self, assign, until):
    return assign, 0, 0


@pytest.fixture(scope="module")
def geo():
    from salesplan.benchmarks.territory_instances import synthetic_instance
    return synthetic_instance(1_500, 12, seed=3)


def test_time_limit_without_a_solver_plan_returns_the_best_repaired_plan_flagged(geo):
    opts = AlignmentOptions(mode="carve", balance=BANDS, time_limit=30,
                            solver=NoPlanSolver())
    res = solve_alignment(geo, opts)
    m = res.metrics
    assert m.time_limited_plan
    assert m.status.startswith("feasible (time limit, best repaired plan, gap ")
    # every band holds, as for any plan we return
    t = res.territories
    for metric in ("workload", "potential"):
        assert t[f"{metric}_dev"].abs().max() <= 0.10 + 1e-6
    # the honest gap: no LP finished, so the bound is each account at its cheapest rep
    prep = prepare(geo, opts)
    cheapest = np.where(prep.eligible, prep.spec.cost, np.inf).min(axis=1).sum()
    assert m.bound == pytest.approx(cheapest)
    assert m.gap == pytest.approx((m.objective - cheapest) / m.objective)
    assert "no LP relaxation finished" in m.bound_scope
    assert any("best plan holding every band found on the way" in n for n in res.notes)
    assert res.summary()["time_limited_plan"] is True


def test_without_any_plan_the_error_names_the_pool_and_what_would_help(monkeypatch):
    from salesplan.benchmarks.territory_instances import synthetic_instance
    geo40 = synthetic_instance(1_500, 40, seed=3)  # 10 reps per region: more than 8 candidates
    monkeypatch.setattr(fix_module.FixAndResolve, "repair", _no_repair)
    opts = AlignmentOptions(mode="carve", balance=(BalanceBand("workload", 0.01),
                                                   BalanceBand("potential", 0.01)),
                            time_limit=30, solver=NoPlanSolver())
    with pytest.raises(NoSolutionError) as info:
        solve_alignment(geo40, opts)
    text = str(info.value)
    assert "in region Region-" in text and "accounts, " in text and "reps; each pool" in text
    assert "closest whole-account plan (greedy LPT over" in text
    assert "reps outside a band, the worst by" in text
    assert "more time: a time limit of about 60 s (now 30 s)" in text
    # no LP finished (the stub): a smaller LP is what helps, not more candidates
    assert "the LP relaxation did not finish: fewer candidate reps per account than 8" in text
    assert "wider bands: --balance workload=0." in text
    assert "soft bands (--soft" in text


def test_cli_exits_2_with_the_message_when_no_plan_comes(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(SolverSpec, "solve_once", NoPlanSolver.solve_once)
    monkeypatch.setattr(fix_module.FixAndResolve, "repair", _no_repair)
    code = main(["align", SMALL, "--balance", "workload=0.01,potential=0.01",
                 "--time-limit", "20", "--out", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert "no territory plan found within the limits" in err
    assert "what would help: more time" in err
    assert "Traceback" not in err
    assert json.loads((tmp_path / "summary.json").read_text())["status"] == "no solution"


def test_cli_returns_the_flagged_plan_when_the_solver_has_none(tmp_path, monkeypatch):
    monkeypatch.setattr(SolverSpec, "solve_once", NoPlanSolver.solve_once)
    code = main(["align", SMALL, "--balance", "workload=0.25,potential=0.25",
                 "--time-limit", "20", "--out", str(tmp_path)])
    assert code == 0
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["time_limited_plan"] is True
    assert s["status"].startswith("feasible (time limit, best repaired plan")


def test_acceptance_tolerance_matches_the_solver_feasibility_tolerance(geo):
    opts = AlignmentOptions(mode="carve", balance=BANDS)
    prep = prepare(geo, opts)
    spec = prep.spec
    pi, pj = candidate_pairs(geo.distance, prep.eligible, prep.owner, geo.locked, None)
    plan = greedy_over_pairs(spec, pi, pj)
    band = spec.bands[0]
    load = np.bincount(plan, weights=band.values, minlength=len(spec.rep_ids))
    j = int(np.argmax(load / band.mu))
    # move rep j's load to just above its upper band, by a fraction of its target
    for excess, ok in ((0.5 * BAND_TOLERANCE, True), (5 * BAND_TOLERANCE, False)):
        target = (1 + band.tolerance + excess) * band.mu[j]
        values = band.values.copy()
        mine = np.flatnonzero(plan == j)
        values[mine[0]] += target - load[j]
        bands = (type(band)(band.metric, values, band.mu, band.tolerance), *spec.bands[1:])
        bad = violated_reps(replace(spec, bands=bands), plan)
        assert bad[j] == (not ok)


def test_targeted_widening_adds_what_the_elastic_lp_says_is_missing():
    # the rule of SearchPolicy(targeted_widening=True); the doubling rule is the default
    """A rep 1 unit short gets its nearest non-candidate accounts carrying 3 x 2 units (and at
    least 20), not hundreds of pairs; an over rep's accounts get 4 more reps each."""
    rng = np.random.default_rng(5)
    n, m = 400, 10
    dist = rng.uniform(1, 100, (n, m))
    values = np.ones(n)
    pi = np.repeat(np.arange(n), 2)
    pj = np.argsort(dist, axis=1)[:, :2].ravel()
    order = np.lexsort((dist[pi, pj], pi))
    pi, pj = pi[order], pj[order]
    under = np.zeros(m, dtype=bool)
    under[3] = True
    short = np.zeros(m)
    short[3] = 1.0
    ii, jj = _with_more_pairs(pi, pj, dist, under=under, over=np.zeros(m, dtype=bool),
                              deficit=[(values, short)], locked=np.zeros(n, dtype=bool),
                              grow=2)
    added = ii.size - pi.size
    assert added == 20  # max(2 x 10 accounts, 2 x 3 x 1 unit of one-unit accounts + 1)
    new3 = set(ii[jj == 3].tolist()) - set(pi[pj == 3].tolist())
    have = set(pi[pj == 3].tolist())
    rest = sorted(set(range(n)) - have, key=lambda i: dist[i, 3])
    assert new3 == set(rest[:20])
    over = np.zeros(m, dtype=bool)
    over[5] = True
    ii, jj = _with_more_pairs(pi, pj, dist, under=np.zeros(m, dtype=bool), over=over,
                              deficit=[(values, np.zeros(m))], locked=np.zeros(n, dtype=bool),
                              grow=2)
    rows = np.unique(pi[pj == 5])
    per = np.bincount(ii, minlength=n)
    assert (per[rows] == 2 + 2 * 2).all()


def test_greedy_over_pairs_uses_only_candidates_and_keeps_locks(geo):
    opts = AlignmentOptions(mode="realign", balance=BANDS)
    prep = prepare(geo, opts)
    pi, pj = candidate_pairs(geo.distance, prep.eligible, prep.owner, geo.locked, 4)
    plan = greedy_over_pairs(prep.spec, pi, pj)
    cand = set(zip(pi.tolist(), pj.tolist(), strict=True))
    assert all((i, int(j)) in cand for i, j in enumerate(plan))
    # balanced enough that a band repair has little to do: loads within 50% of the target
    band = prep.spec.bands[1]
    load = np.bincount(plan, weights=band.values, minlength=geo.n_reps)
    assert np.abs(load / band.mu - 1).max() < 0.5


def test_incumbent_is_not_worse_than_before_on_a_normal_solve(geo):
    """With a working solver the plan holds every band and is within the usual gap."""
    t0 = time.perf_counter()
    res = solve_alignment(geo, AlignmentOptions(mode="carve", balance=BANDS, time_limit=60))
    assert not res.metrics.time_limited_plan
    assert res.metrics.gap is not None and res.metrics.gap < 0.02
    assert time.perf_counter() - t0 >= 0  # no timing assertion: speed is benchmarked
    prep = prepare(geo, AlignmentOptions(mode="carve", balance=BANDS))
    col = {r: j for j, r in enumerate(geo.rep_ids)}
    assert holds(prep.spec, np.array([col[r] for r in res.assignment["rep"]]))
