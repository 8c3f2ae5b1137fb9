"""The backtest's Monte Carlo error of coverage (``salesplan.simulator.calibration.backtest``):
resampling the parameter draws finds the region-months at an interval edge, whose side more
replications, not the model, decide; replications of one draw are resampled together."""

from __future__ import annotations

import numpy as np
import pytest

from salesplan.simulator.calibration.backtest import coverage_monte_carlo


def test_coverage_monte_carlo_finds_the_cells_at_an_interval_edge():
    # 2000 replications in 100 draws of N(0, 1): an actual at the centre is always inside the
    # 80% interval, one far out never, and one at the true P10 inside about half the time; the
    # coverage of the three then ranges over 1/3..2/3
    rng = np.random.default_rng(2)
    sims = rng.normal(size=(2000, 3))
    actual = np.array([0.0, 5.0, -1.2815516])
    draw = np.repeat(np.arange(100), 20)
    r = coverage_monte_carlo(sims, actual, draw, np.random.default_rng(3))
    assert r["in_80_share"][0] == 1.0 and r["in_80_share"][1] == 0.0
    assert 0.25 < r["in_80_share"][2] < 0.75
    assert r["ranges"]["all"]["coverage_80"] == [pytest.approx(1 / 3), pytest.approx(2 / 3)]
    assert r["in_50_share"][0] == 1.0 and r["in_50_share"][2] == 0.0
    assert r["units"] == 100
    # the same seed, the same answer
    again = coverage_monte_carlo(sims, actual, draw, np.random.default_rng(3))
    assert np.array_equal(again["in_80_share"], r["in_80_share"])
    # replications of one draw share its parameters: resampled by draw, the P10 is known less
    # well than 2000 independent replications would say, so a cell just inside the edge is
    # less surely inside
    shared = sims + np.repeat(rng.normal(size=(100, 3)), 20, axis=0)
    a = np.array([0.0, 9.0, np.percentile(shared[:, 2], 10) + 0.1])
    by_draw = coverage_monte_carlo(shared, a, draw, np.random.default_rng(3))["in_80_share"][2]
    by_rep = coverage_monte_carlo(shared, a, np.arange(2000),
                                  np.random.default_rng(3))["in_80_share"][2]
    assert by_rep > 0.95 and by_draw < 0.9


def test_coverage_monte_carlo_groups_share_the_picks_and_ends_are_coverages():
    # two measures of three cells each, one cell of each at its P10: the ends of every range
    # are coverages that occur (multiples of 1/3, of 1/6 pooled), not interpolations
    rng = np.random.default_rng(5)
    sims = rng.normal(size=(1000, 6))
    actual = np.array([0.0, 5.0, 0.0, 0.0, 5.0, 0.0])
    actual[[2, 5]] = np.percentile(sims[:, [2, 5]], 10, axis=0)    # at the sample's P10
    groups = np.array(["bookings"] * 3 + ["won_deals"] * 3)
    r = coverage_monte_carlo(sims, actual, np.repeat(np.arange(50), 20),
                             np.random.default_rng(6), groups=groups)
    assert set(r["ranges"]) == {"bookings", "won_deals", "pooled"}
    for g, n in (("bookings", 3), ("won_deals", 3), ("pooled", 6)):
        for level in ("coverage_80", "coverage_50"):
            for end in r["ranges"][g][level]:
                assert abs(end * n - round(end * n)) < 1e-9
    assert 0.25 < r["in_80_share"][2] < 0.75 and 0.25 < r["in_80_share"][5] < 0.75
    for g in ("bookings", "won_deals", "pooled"):      # 2 of 6 to 4 of 6 pooled
        assert r["ranges"][g]["coverage_80"] == [pytest.approx(1 / 3), pytest.approx(2 / 3)]


def test_coverage_monte_carlo_needs_two_units():
    r = coverage_monte_carlo(np.zeros((5, 2)), np.zeros(2), np.zeros(5),
                             np.random.default_rng(0))
    assert r["units"] == 1 and r["ranges"]["all"]["coverage_80"] is None
    assert np.isnan(r["in_80_share"]).all()
