"""Territory alignment with an account-count band on the fix path (LP, round, repair, resolve).

A count band of ±1% around a pool mean of about 100 accounts allows only the floor and ceiling
of the mean; together with a tight potential band, the rounded LP misses many reps, and the
repair must fix counts with shifts and potential with count-preserving swaps."""

from __future__ import annotations

import math

import numpy as np
import pytest

from salesplan.benchmarks.territory_instances import synthetic_instance
from salesplan.optimizer import AlignmentOptions, BalanceBand, solve_alignment
from salesplan.optimizer.territory.candidates import candidate_pairs
from salesplan.optimizer.territory.checks import violated_reps
from salesplan.optimizer.territory.formulation import BandSpec
from salesplan.optimizer.territory.preparation import prepare
from salesplan.optimizer.territory.repair import band_limits, repair_bands

UNTIMED = 600.0
"""A time limit (s) far above what any solve below needs (seconds, on a loaded machine too):
what a test sees is decided by the solver's gap and the algorithm, never by the clock."""


def _bands(accounts: float, potential: float = 0.001, workload: float = 0.035):
    return (BalanceBand("potential", potential), BalanceBand("workload", workload),
            BalanceBand("accounts", accounts))


def _check_plan(res, bands) -> None:
    terr = res.territories
    for band in bands:
        dev = terr[f"{band.metric}_dev"].to_numpy()
        assert np.all(np.abs(dev) <= band.tolerance + 1e-9), (band.metric, np.abs(dev).max())
        assert res.metrics.max_band_violation[band.metric] == 0.0
    count = next(b for b in bands if b.metric == "accounts")
    target = terr["accounts_target"].to_numpy()
    counts = terr["accounts"].to_numpy()
    assert np.all(counts >= np.ceil((1 - count.tolerance) * target - 1e-9))
    assert np.all(counts <= np.floor((1 + count.tolerance) * target + 1e-9))
    assert counts.sum() == len(res.assignment)
    assert res.metrics.gap is not None and 0.0 <= res.metrics.gap < 0.05


@pytest.mark.parametrize("accounts", [0.01, 0.02])
def test_fix_path_holds_tight_count_band(accounts: float) -> None:
    # about 100 accounts per rep in 4 regions: ±1% allows only floor/ceil of each pool mean;
    # with potential ±0.05% the count-blind repair left reps out and the whole-model MILP
    # fallback returned a plan 50% above the bound
    p = synthetic_instance(3000, 30, seed=7)
    bands = _bands(accounts, potential=0.0005)
    opts = AlignmentOptions(mode="carve", balance=bands, strategy="fix", candidates=8,
                            time_limit=UNTIMED)
    res = solve_alignment(p, opts)
    assert res.metrics.strategy == "fix"
    _check_plan(res, bands)
    assert any("repaired the bands" in note for note in res.notes)


def test_band_limits_round_counts_inward() -> None:
    mu = np.array([96.96, 100.0, 96.5, 0.0])
    lo, hi, scale = band_limits(BandSpec("accounts", np.ones(3), mu, 0.01))
    assert lo[:2].tolist() == [96.0, 99.0]
    assert hi[:2].tolist() == [97.0, 101.0]
    assert lo[2] == 96.0 and hi[2] == 97.0
    assert np.isneginf(lo[3]) and np.isposinf(hi[3])
    assert scale.tolist() == [1.0, 1.0, 1.0, 1.0]
    # no integer inside the band: the real limits are kept
    lo, hi, _ = band_limits(BandSpec("accounts", np.ones(3), np.array([96.5]), 0.001))
    assert 96.0 < lo[0] < 96.5 < hi[0] < 97.0
    # other metrics keep (1 -/+ tau) mu, scaled by mu
    lo, hi, scale = band_limits(BandSpec("potential", np.ones(3), np.array([96.96]), 0.01))
    assert lo[0] == pytest.approx(0.99 * 96.96) and hi[0] == pytest.approx(1.01 * 96.96)
    assert scale[0] == pytest.approx(96.96)


@pytest.mark.parametrize("count_first", [False, True])
def test_repair_fixes_counts_and_keeps_them(count_first: bool) -> None:
    """Move accounts so that counts and potential break on several reps; the repair must
    restore every band, and every count must end inside its (integer) band, whatever the
    order the bands are given in (swaps skip the count row)."""
    p = synthetic_instance(2000, 20, seed=3)
    bands = _bands(0.01, potential=0.002, workload=0.05)
    if count_first:
        bands = (bands[2], bands[0], bands[1])
    opts = AlignmentOptions(mode="carve", balance=bands, strategy="fix", candidates=8,
                            time_limit=UNTIMED)
    res = solve_alignment(p, opts)
    _check_plan(res, bands)
    prep = prepare(p, opts)
    spec = prep.spec
    index = {r: j for j, r in enumerate(p.rep_ids)}
    assign = np.array([index[r] for r in res.assignment["rep"]])
    pi, pj = candidate_pairs(p.distance, prep.eligible, prep.owner, p.locked, 8)
    rng = np.random.default_rng(0)
    broken = assign.copy()
    # shift 15 accounts each to another of its candidates
    for i in rng.choice(len(assign), size=15, replace=False):
        other = pj[(pi == i) & (pj != broken[i])]
        broken[i] = other[0]
    assert violated_reps(spec, broken).any()
    repaired, steps = repair_bands(spec, pi, pj, broken, deadline=math.inf)
    assert steps > 0
    assert not violated_reps(spec, repaired).any()
    count = next(b for b in spec.bands if b.metric == "accounts")
    lo, hi, _ = band_limits(count)
    counts = np.bincount(repaired, minlength=len(p.rep_ids))
    assert np.all((counts >= lo) & (counts <= hi))
    # accounts only go to their candidates
    cand = np.zeros((len(assign), len(p.rep_ids)), dtype=bool)
    cand[pi, pj] = True
    assert cand[np.arange(len(assign)), repaired].all()
