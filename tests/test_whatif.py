"""The what-if runner on the small example: common random numbers, paired differences,
headcount planning verified out of sample, and the CLI outputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from salesplan.api.cli import main
from salesplan.api.planning.whatif import compare, run_plan_headcount
from salesplan.scenarios import load_scenario
from salesplan.scenarios.levers import Variant, apply_levers

EXAMPLES = Path(__file__).resolve().parents[1] / "scenarios" / "examples"
N = 60


@pytest.fixture(scope="module")
def small():
    return load_scenario(EXAMPLES / "small.yaml")


def _variant(sc, name, *levers):
    return apply_levers(sc, list(Variant(name=name, levers=list(levers)).levers), name)


@pytest.fixture(scope="module")
def comparison(small):
    variants = [
        _variant(small, "same", {"lever": "lead_volume", "factor": 1.0}),
        _variant(small, "more-leads", {"lever": "lead_volume", "factor": 1.25}),
        _variant(small, "better-proposals",
                 {"lever": "conversion", "stage": "proposal", "factor": 1.15}),
    ]
    return compare(small, variants, replications=N, seed=7, workers=1)


def test_identical_variant_has_exactly_zero_paired_difference(comparison):
    same = comparison.variants[0]
    assert np.array_equal(same.bookings, comparison.base.bookings)
    row = comparison.table().set_index("variant").loc["same"]
    assert row.diff_vs_base_mean == 0.0
    assert row.diff_vs_base_ci95_lo == 0.0 and row.diff_vs_base_ci95_hi == 0.0


def test_more_leads_never_lowers_expected_bookings(comparison):
    row = comparison.table().set_index("variant").loc["more-leads"]
    assert row.diff_vs_base_mean > 0
    assert row.diff_vs_base_ci95_lo > 0  # significantly higher, on paired replications


def test_p_hit_change_is_the_mean_of_flipped_replications(comparison):
    """The paired P(hit) change counts replications the levers flip: exactly the difference
    of the two P(hit)s, and exactly zero (interval too) for a variant that changes nothing."""
    t = comparison.table().set_index("variant")
    base_hit = comparison.base.hit()
    for o in comparison.variants:
        flips = o.hit().astype(int) - base_hit.astype(int)
        row = t.loc[o.name]
        assert row.p_hit_diff_mean == pytest.approx(flips.mean(), abs=1e-12)
        assert row.p_hit_diff_mean == pytest.approx(row.p_hit_target - t.loc["base"].p_hit_target,
                                                     abs=1e-12)
        half = row.p_hit_diff_ci95_hi - row.p_hit_diff_mean
        sd = flips.std(ddof=1)
        assert half == pytest.approx(2.0 * sd / np.sqrt(N), rel=0.02)  # t(59) 0.975 = 2.001
    same = t.loc["same"]
    assert same.p_hit_diff_mean == same.p_hit_diff_ci95_lo == same.p_hit_diff_ci95_hi == 0.0
    summary = comparison.summary()["variants"]
    assert summary["base"]["p_hit_diff"] == 0.0
    assert summary["more-leads"]["p_hit_diff_ci95"] == [t.loc["more-leads"].p_hit_diff_ci95_lo,
                                                         t.loc["more-leads"].p_hit_diff_ci95_hi]


def test_paired_interval_is_narrower_than_unpaired(comparison):
    t = comparison.table().set_index("variant")
    for name in ("more-leads", "better-proposals"):
        assert t.loc[name, "paired_ci95_width"] < t.loc[name, "unpaired_ci95_width"], name


def test_comparison_tables_are_complete(comparison, small):
    t = comparison.table()
    assert list(t.variant) == ["base", "same", "more-leads", "better-proposals"]
    assert t.p_hit_target.between(0, 1).all()
    regions = comparison.region_table()
    assert len(regions) == 4 * len(small.regions)
    # region bookings add up to company bookings in every replication
    for o in comparison.all:
        assert np.allclose(o.region_bookings.sum(axis=1), o.bookings)
    reps = comparison.rep_table()
    assert reps.quota.notna().any() and len(reps) == 4 * len(small.reps)
    summary = comparison.summary()
    assert summary["seed"] == 7 and summary["replications"] == N
    for v in summary["variants"].values():
        assert {"bookings_mean", "bookings_ci95", "p_hit_target", "diff_vs_base_mean",
                "diff_vs_base_ci95"} <= set(v)


@pytest.mark.slow
def test_headcount_plan_holds_with_a_fresh_seed(small):
    """On a capacity-bound version of the small example (4 open deals per rep), hires add
    bookings; the plan found must hold out of sample within Monte Carlo error."""
    tight = _variant(small, "tight", {"lever": "capacity", "factor": 0.34},
                     {"lever": "target", "amount": 650_000}).scenario
    p = 0.8
    plan = run_plan_headcount(tight, p=p, replications=N, seed=11, workers=1, max_hires=8)
    assert plan.reached, plan.as_dict()
    assert plan.p_hit >= p
    se = (p * (1 - p) / N) ** 0.5
    assert plan.verified_p_hit >= p - 3 * se, plan.as_dict()
    # the frontier starts from no hires and the answer is its cheapest point reaching p
    assert plan.frontier[0].total_hires == 0


def test_whatif_cli_writes_report_and_summary(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["whatif", str(EXAMPLES / "small.yaml"), "--replications", "20", "--seed", "3",
                 "--workers", "1", "--out", str(out)])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["variants"]) == {"base", "hire-south", "leads-minus-20"}
    for v in summary["variants"].values():
        assert len(v["bookings_ci95"]) == 2 and len(v["diff_vs_base_ci95"]) == 2
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 4
    assert "hire-south" in html and "$" in html
    assert (out / "comparison.csv").read_text().startswith("variant,")
    assert "P(hit)" in capsys.readouterr().out


def test_unknown_variant_is_a_user_error(tmp_path, capsys):
    code = main(["whatif", str(EXAMPLES / "small.yaml"), "--variants", "nope",
                 "--replications", "5", "--workers", "1", "--out", str(tmp_path)])
    assert code == 2
    assert "variant 'nope' is not defined" in capsys.readouterr().err


def test_realign_and_quota_method_levers_take_effect(small):
    variants = [
        _variant(small, "realigned", {"lever": "realign", "mode": "realign",
                                      "balance": {"workload": 0.15}}),
        _variant(small, "fair-quotas", {"lever": "quota_method", "method": "fair"}),
    ]
    c = compare(small, variants, replications=20, seed=5, workers=1)
    realigned, fair = c.variants
    assert any(n.startswith("re-aligned territories (realign)") for n in realigned.notes)
    moved = sum(a.owner != b.owner for a, b in zip(small.accounts, realigned.scenario.accounts,
                                                     strict=True))
    assert moved > 0
    assert c.base.quota_method == "blended" and fair.quota_method == "fair"
    # quotas sum to the target under both methods
    assert sum(fair.quotas.values()) == pytest.approx(small.targets.company, abs=1.0)
    assert sum(c.base.quotas.values()) == pytest.approx(small.targets.company, abs=1.0)
