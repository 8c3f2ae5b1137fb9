"""The benchmark summary: confidence intervals, ranks, paired tests with Holm's correction."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from salesplan.api.bench.summary import (
    _holm,
    _paired_p,
    best_counts,
    pairwise,
    summarise,
    summary_markdown,
)


def _frame(values: dict[str, list[float]], metric: str = "bookings",
           family: str = "routing") -> pd.DataFrame:
    rows = []
    for strat, vals in values.items():
        for seed, v in enumerate(vals):
            row = {"instance": "i", "family": family, "strategy": strat, "seed": seed,
                   "bookings": np.nan, "p_hit_target": np.nan, "attainment_spread": np.nan,
                   "share_at_quota": np.nan, "lead_wait_days": np.nan, "uncontacted_share": np.nan,
                   "compute_seconds": np.nan, "balance_cv": np.nan, "weighted_km": np.nan,
                   "moves": np.nan}
            row[metric] = v
            rows.append(row)
    return pd.DataFrame(rows)


def test_ci_is_the_t_interval_over_seeds():
    vals = [10.0, 12.0, 11.0, 15.0, 9.0]
    s = summarise(_frame({"a": vals, "b": [v - 5 for v in vals]}))
    a = s[(s.metric == "bookings") & (s.strategy == "a")].iloc[0]
    lo, hi = stats.t.interval(0.95, 4, loc=np.mean(vals), scale=stats.sem(vals))
    assert a["mean"] == pytest.approx(np.mean(vals))
    assert (a.ci_lo, a.ci_hi) == (pytest.approx(lo), pytest.approx(hi))
    assert a["rank"] == 1 and a.best


def test_pairing_separates_a_consistent_small_difference():
    """Seed noise is large, the difference small but the same on every seed: a paired test
    tells them apart, an unpaired comparison of the intervals would not."""
    base = [100.0, 130.0, 80.0, 120.0, 95.0]
    s = summarise(_frame({"a": base, "b": [v - 1.0 + 0.01 * k for k, v in enumerate(base)]}))
    b = s[(s.metric == "bookings") & (s.strategy == "b")].iloc[0]
    assert b.p_vs_best < 0.001 and not b.indistinguishable
    assert b.ci_lo < s[(s.metric == "bookings") & (s.strategy == "a")].iloc[0]["mean"]


def test_noise_only_is_indistinguishable_and_lower_is_better_metrics_rank_up():
    rng = np.random.default_rng(3)
    base = rng.normal(1.0, 0.3, 6)
    s = summarise(_frame({"x": list(base), "y": list(base + rng.normal(0, 0.2, 6))},
                         metric="lead_wait_days"))
    rows = s[s.metric == "lead_wait_days"].set_index("strategy")
    best = rows[rows.best].index[0]
    assert rows.loc[best, "mean"] == rows["mean"].min()
    assert rows.indistinguishable.all()


def test_seed_independent_metrics_tie_only_when_equal():
    s = summarise(_frame({"m": [0.1] * 3, "n": [0.1] * 3, "o": [0.2] * 3},
                         metric="balance_cv", family="territory"))
    rows = s[s.metric == "balance_cv"].set_index("strategy")
    assert rows.loc["m", "best"] and rows.loc["n", "indistinguishable"]
    assert not rows.loc["o", "indistinguishable"]


def test_one_seed_ties_only_exactly():
    s = summarise(_frame({"a": [2.0], "b": [2.0], "c": [1.0]}))
    rows = s[s.metric == "bookings"].set_index("strategy")
    assert rows.indistinguishable.tolist() == [True, True, False]
    assert math.isnan(rows.loc["a", "ci_lo"])


def test_holm_is_step_down():
    # m = 3: thresholds 0.05/3, 0.05/2, 0.05/1
    assert _holm({"a": 0.01, "b": 0.02, "c": 0.04}) == {"a": True, "b": True, "c": True}
    assert _holm({"a": 0.01, "b": 0.03, "c": 0.04}) == {"a": True, "b": False, "c": False}
    assert _holm({"a": 0.02, "b": 0.001, "c": 0.5}) == {"a": True, "b": True, "c": False}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=12))
def test_paired_p_is_a_probability_and_symmetric(d):
    d = np.asarray(d)
    p = _paired_p(d)
    assert 0.0 <= p <= 1.0
    assert _paired_p(-d) == pytest.approx(p)


def test_markdown_and_counts():
    df = _frame({"a": [3.0, 4.0, 5.0], "b": [1.0, 1.5, 2.0]})
    s = summarise(df)
    md = summary_markdown(df, s, "# title")
    assert md.startswith("# title") and "| a | **" in md
    c = best_counts(s)
    assert c[(c.strategy == "a") & (c.metric == "bookings")].best_or_tied.iloc[0] == 1


def test_pairwise_says_which_two_are_indistinguishable():
    """a and b differ only by noise; c is consistently 5 lower than both."""
    rng = np.random.default_rng(11)
    base = rng.normal(100, 10, 6)
    df = _frame({"a": list(base), "b": list(base + rng.normal(0, 0.5, 6)),
                 "c": list(base - 5 + rng.normal(0, 0.1, 6))})
    p = pairwise(df)
    p = p[p.metric == "bookings"].set_index(["a", "b"])
    assert len(p) == 3  # k (k - 1) / 2 pairs
    assert p.loc[("a", "b"), "indistinguishable"]
    assert not p.loc[("a", "c"), "indistinguishable"]
    assert not p.loc[("b", "c"), "indistinguishable"]
    d = (base - (base - 5))  # the a - c difference is about +5
    assert p.loc[("a", "c"), "ci_lo"] < d.mean() + 0.5 and p.loc[("a", "c"), "diff"] > 4.5
