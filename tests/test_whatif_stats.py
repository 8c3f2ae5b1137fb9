"""Monte Carlo summaries against closed forms and reference implementations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from salesplan.stats import estimate, paired_difference, proportion, unpaired_difference


def test_mean_ci_matches_scipy_t_interval():
    x = np.random.default_rng(1).normal(10, 3, 57)
    est = estimate(x)
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert est.ci95 == pytest.approx((lo, hi), rel=1e-12)
    assert est.p50 == pytest.approx(np.median(x))


def test_ci_covers_true_mean_at_the_nominal_rate():
    # 2,000 experiments of n=30: coverage is Binomial(2000, 0.95); 3 SE = 0.0146
    rng = np.random.default_rng(7)
    hits = sum(lo <= 5.0 <= hi for lo, hi in
               (estimate(rng.exponential(5.0, 30)).ci95 for _ in range(2000)))
    # the exponential is skewed, so t-coverage is slightly below nominal: known ~0.93 at n=30
    assert 0.90 <= hits / 2000 <= 0.965


def test_wilson_interval_closed_form():
    p = proportion(np.array([True] * 50 + [False] * 50))
    assert p.p == 0.5
    assert p.ci95 == pytest.approx((0.40383153, 0.59616847), abs=1e-7)
    none = proportion(np.zeros(20, dtype=bool))
    assert none.ci95[0] == 0.0 and 0.16 < none.ci95[1] < 0.17  # 1.96^2/(20+1.96^2) = 0.1611


def test_paired_difference_of_identical_runs_is_exactly_zero():
    x = np.random.default_rng(3).gamma(2.0, 1e6, 40)
    d = paired_difference(x, x.copy())
    assert d.mean == 0.0 and d.ci95 == (0.0, 0.0)


def test_welch_matches_scipy():
    rng = np.random.default_rng(5)
    a, b = rng.normal(1.0, 2.0, 30), rng.normal(0.0, 1.0, 45)
    diff, (lo, hi) = unpaired_difference(a, b)
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert (lo, hi) == pytest.approx((ci.low, ci.high), rel=1e-10)
    assert diff == pytest.approx(a.mean() - b.mean())


def test_paired_interval_is_narrower_with_common_noise():
    rng = np.random.default_rng(11)
    common = rng.normal(0, 10, 100)
    base, variant = common + rng.normal(0, 1, 100), common + 2 + rng.normal(0, 1, 100)
    paired = paired_difference(variant, base)
    _, (lo, hi) = unpaired_difference(variant, base)
    assert paired.half_width < (hi - lo) / 2 / 5
