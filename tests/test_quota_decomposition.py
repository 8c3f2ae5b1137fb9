"""Within-rep decomposition (product, category, segment, quarter/month/week) with its default
shares, cell pins, the plan's files, and ``reconcile`` catching any broken level."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_quota_support import scenario

from salesplan.optimizer.quotas import (
    QUOTA_COLUMNS,
    Bounds,
    Pin,
    ReconcileError,
    allocate_quotas,
    reconcile,
)

EXACT = {"rounding": 1, "bounds": Bounds(ramp_relief=False)}


def cells(by, **kw) -> pd.DataFrame:
    return allocate_quotas(scenario(), "potential", by=by, **dict(EXACT, **kw)).quotas


def test_quarters_follow_the_target_seasonality() -> None:
    q = cells(("quarter",))
    n1 = q[q.rep == "N1"].set_index("period")["quota"]  # N1's quota 360,000
    assert n1.to_dict() == {"2027-Q1": 72_000, "2027-Q2": 90_000, "2027-Q3": 90_000,
                            "2027-Q4": 108_000}


def test_months_split_their_quarter_evenly_and_a_new_hire_follows_the_ramp() -> None:
    q = cells(("month",))
    n1 = q[q.rep == "N1"].set_index("period")["quota"]
    assert list(n1[:3]) == [24_000, 24_000, 24_000] and n1.sum() == 360_000
    s2 = q[q.rep == "S2"].set_index("period")["quota"]
    assert s2.index[0] == "2027-04"  # nothing before the start date
    ramp = np.array([1 / 6, 1 / 2, 5 / 6] + [1] * 6)
    season = np.array([0.25] * 3 + [0.25] * 3 + [0.3] * 3) / 3
    want = 150_000 * ramp * season / (ramp * season).sum()
    assert np.all(np.abs(s2.to_numpy() - want) < 1) and s2.sum() == 150_000


def test_segments_follow_the_reps_own_account_potential() -> None:
    q = cells(("segment",))
    n1 = q[q.rep == "N1"].set_index("segment")["quota"]
    assert n1.to_dict() == {"SMB": 270_000, "ENT": 90_000}  # accounts 300k SMB, 100k ENT


def test_products_follow_the_lead_source_revenue_mix_or_the_target_split() -> None:
    q = cells(("product", "segment"))
    n1 = q[(q.rep == "N1") & (q.segment == "SMB")].set_index("product")["quota"]
    # North SMB leads: basic 3 : pro 1 at 1,000 and 4,000 -> revenue 750 : 1,000
    assert abs(n1["basic"] - 270_000 * 750 / 1750) <= 1
    assert abs(n1["pro"] - 270_000 * 1000 / 1750) <= 1
    assert "svc" not in n1.index
    sc = scenario(targets={"company": 1_500_000, "by_region": {"North": 0.6, "South": 0.4},
                           "by_product": {"basic": 0.5, "pro": 0.25, "svc": 0.25}})
    p = allocate_quotas(sc, "potential", by=("product",), **EXACT).quotas
    assert p[p.rep == "N1"].set_index("product")["quota"].to_dict() == {
        "basic": 180_000, "pro": 90_000, "svc": 90_000}


def test_categories_sum_their_products() -> None:
    by_product = cells(("product",))
    by_cat = cells(("category",))
    for rep in ("N1", "S1"):
        prod = by_product[by_product.rep == rep].set_index("product")["quota"]
        cat = by_cat[by_cat.rep == rep].set_index("product")["quota"]
        assert abs(cat.get("Software", 0) - prod.reindex(["basic", "pro"]).fillna(0).sum()) <= 1
        assert cat.sum() == prod.sum()


def test_weeks_split_months_by_days_and_quarters_are_labelled_by_the_horizon() -> None:
    q = cells(("week",))
    n1 = q[q.rep == "N1"]
    jan = n1[n1.period.str.startswith("2027-01")]
    feb = n1[n1.period.str.startswith("2027-02")]
    assert list(jan.period) == [f"2027-01-W{i}" for i in range(1, 6)]
    assert list(feb.period) == [f"2027-02-W{i}" for i in range(1, 5)]
    assert abs(jan.quota.sum() - 24_000) <= 5
    assert abs(jan.quota.iloc[0] - 24_000 * 7 / 31) <= 1
    sc = scenario(horizon={"start": "2027-02-01", "months": 6})
    hq = allocate_quotas(sc, "even", by=("quarter",), **EXACT).quotas
    assert sorted(set(hq.period)) == ["HQ1", "HQ2"]


def test_no_split_gives_one_row_per_rep_and_columns_are_documented() -> None:
    plan = allocate_quotas(scenario(), "even", by=(), **EXACT)
    assert list(plan.quotas.columns) == QUOTA_COLUMNS
    assert (plan.quotas[["product", "segment", "period"]] == "all").all().all()
    assert plan.quotas.set_index("rep")["quota"].equals(plan.reps["quota"].rename("quota"))


def test_cell_pins_hold_and_the_reps_other_cells_absorb() -> None:
    pin = Pin("cell", "N1", 50_000, product="pro", segment="SMB", period="2027-03")
    plan = allocate_quotas(scenario(), "potential", pins=[pin], **EXACT)
    q = plan.quotas
    n1 = q[q.rep == "N1"]
    cell = n1[(n1["product"] == "pro") & (n1.segment == "SMB") & (n1.period == "2027-03")]
    assert int(cell.quota.iloc[0]) == 50_000
    assert n1.quota.sum() == 360_000  # the rep's quota is unchanged
    free = allocate_quotas(scenario(), "potential", **EXACT).quotas
    other = free[(free.rep == "N1") & (free.period == "2027-01")].quota.sum()
    assert n1[n1.period == "2027-01"].quota.sum() < other  # the rest gave way


def test_plan_files_have_the_documented_columns(tmp_path: Path) -> None:
    plan = allocate_quotas(scenario(), "potential", over_assign=1.1)
    paths = plan.write(tmp_path)
    assert [p.name for p in paths] == ["quotas.csv", "reps.csv", "summary.json"]
    q = pd.read_csv(paths[0])
    assert list(q.columns) == QUOTA_COLUMNS and q.quota.sum() == 1_650_000
    reps = pd.read_csv(paths[1])
    for col in ("rep", "region", "method", "quota", "potential_share", "quota_potential",
                "expected_attainment", "p_attain", "binding", "why"):
        assert col in reps.columns
    summary = json.loads(paths[2].read_text())
    for key in ("method", "target", "total_quota", "p_attain_spread", "p_attain_std",
                "expected_share_attaining", "quota_potential_gini"):
        assert key in summary
    assert summary["target"] == 1_500_000 and summary["total_quota"] == 1_650_000
    assert summary["p_attain_spread"] is None  # no simulated bookings given


def test_reconcile_passes_and_catches_every_broken_level() -> None:
    plan = allocate_quotas(scenario(), "history", over_assign=1.1,
                           pins=[Pin("rep", "N2", 400_000)])
    report = reconcile(plan)
    assert report["ok"].all()
    assert {"company", "total_quota", "over_assign", "region", "rep", "cells", "rounding", "pin",
            "bound"} <= set(report["level"])

    plan.quotas.loc[0, "quota"] += 1
    with pytest.raises(ReconcileError, match="rep N1: expected"):
        reconcile(plan)
    plan.quotas.loc[0, "quota"] -= 1
    plan.reps.loc["N3", "quota"] += 1000
    with pytest.raises(ReconcileError, match="region North"):
        reconcile(plan)
    plan.reps.loc["N3", "quota"] -= 1000
    plan.regions.loc["South", "target"] += 1
    with pytest.raises(ReconcileError, match="company company"):
        reconcile(plan)
    plan.regions.loc["South", "target"] -= 1
    plan.pins.append(Pin("rep", "N2", 390_000))
    with pytest.raises(ReconcileError, match="pin pin rep N2"):
        reconcile(plan)


def test_the_attainment_chart_is_written(tmp_path: Path) -> None:
    from test_quota_support import lognormal_samples

    from salesplan.optimizer.quotas import QuotaError, plot_attainment

    sc = scenario()
    draws = lognormal_samples(np.full(5, 300_000.0), np.full(5, 0.3), 500, seed=1)
    plans = {m: allocate_quotas(sc, m, samples=draws) for m in ("potential", "fair")}
    out = plot_attainment(plans, tmp_path / "attainment.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(QuotaError, match="no simulated bookings"):
        plot_attainment(allocate_quotas(sc, "even"), tmp_path / "x.png")
