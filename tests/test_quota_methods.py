"""Exact traces: every method's ideal on a hand-checked scenario, the registry, ramp and capacity
factors against closed forms, and the allocation model's "rest absorbs" rule."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from test_quota_support import scenario

from salesplan.optimizer.quotas import (
    Bounds,
    Pin,
    ProportionalMethod,
    QuotaContext,
    QuotaError,
    allocate_quotas,
    get_method,
    method_names,
    register_method,
    unregister_method,
)

EXACT = {"rounding": 1, "by": (), "bounds": Bounds(ramp_relief=False, peer_band=None)}


def quotas(method: str, **kw) -> dict[str, int]:
    opts = dict(EXACT, **kw)
    return allocate_quotas(scenario(), method, **opts).reps["quota"].to_dict()


def test_registry_lists_the_builtin_methods_and_rejects_unknown_names() -> None:
    assert method_names() == ["blended", "capacity", "even", "fair", "history", "pipeline",
                              "potential"]
    with pytest.raises(QuotaError, match="unknown quota method 'tenure'; registered methods: "
                                         "blended, capacity, even, fair, history"):
        get_method("tenure")


def test_a_researcher_can_register_a_method() -> None:
    @register_method
    class Tenure(ProportionalMethod):
        name = "tenure_test"
        label = "seniority"

        def basis(self, ctx: QuotaContext) -> pd.Series:
            return pd.Series({r: float(i + 1) for i, r in enumerate(ctx.rep_ids)})

    try:
        q = quotas("tenure_test")
        assert q == {"N1": 150_000, "N2": 300_000, "N3": 450_000, "S1": 266_667,
                     "S2": 333_333}
        plan = allocate_quotas(scenario(), "tenure_test", **EXACT)
        assert plan.reps["why"].iloc[0].startswith("seniority: ideal 150,000")
    finally:
        unregister_method("tenure_test")
    assert "tenure_test" not in method_names()


def test_even() -> None:
    assert quotas("even") == {"N1": 300_000, "N2": 300_000, "N3": 300_000, "S1": 300_000,
                              "S2": 300_000}


def test_potential_share() -> None:
    # North 900,000 by potential 400k/200k/400k; South 600,000 by 600k/200k
    assert quotas("potential") == {"N1": 360_000, "N2": 180_000, "N3": 360_000,
                                   "S1": 450_000, "S2": 150_000}


def test_history_with_implied_growth_and_a_new_hire_at_the_region_mean() -> None:
    plan = allocate_quotas(scenario(), "history", **EXACT)
    q = plan.reps["quota"]
    assert q["N1"] + q["N2"] + q["N3"] == 900_000
    assert abs(q["N1"] - 900_000 * 380 / 860) < 1 and abs(q["N3"] - 900_000 * 150 / 860) < 1
    assert q["S1"] == q["S2"] == 300_000  # S2 has no history: South's mean (S1's 520k)
    assert any("without last_bookings" in n and "S2" in n for n in plan.notes)


def test_capacity_uses_the_ramp() -> None:
    # S2 starts 2027-04-01 and ramps linearly over 3 months: 7.5 effective months of 12
    q = quotas("capacity")
    assert q["N1"] == q["N2"] == q["N3"] == 300_000
    assert abs(q["S1"] - 600_000 / 1.625) <= 1 and abs(q["S2"] - 600_000 * 0.625 / 1.625) <= 1


def test_pipeline_is_value_times_win_probability() -> None:
    # win probability from lead 0.5 x 0.4 = 0.2, from proposal 0.4; d4 has no value: pro's
    # list price 4,000
    q = quotas("pipeline")
    assert q == {"N1": 300_000, "N2": 600_000, "N3": 0, "S1": round(600_000 * 20 / 20.8),
                 "S2": round(600_000 * 0.8 / 20.8)}
    plan = allocate_quotas(scenario(), "pipeline", **EXACT)
    assert any("without a value" in n for n in plan.notes)
    assert any("N3" in n and "ideal of 0" in n for n in plan.notes)


def test_blended_is_the_weighted_mean_of_its_parts() -> None:
    parts = {m: quotas(m) for m in ("history", "potential", "capacity")}
    q = quotas("blended")
    for r in q:
        want = (0.25 * parts["history"][r] + 0.25 * parts["potential"][r]
                + 0.5 * parts["capacity"][r])
        assert abs(q[r] - want) <= 1.5
    q2 = quotas("blended", method_options={"weights": {"even": 1, "potential": 1}})
    assert q2["S2"] == (300_000 + 150_000) // 2
    with pytest.raises(QuotaError, match="weights must be >= 0"):
        get_method("blended", weights={"even": -1})


def test_ramp_and_capacity_factors_against_closed_forms() -> None:
    ctx = QuotaContext(scenario())
    assert ctx.ramp_factor["S2"] == pytest.approx(7.5 / 12, abs=1e-12)
    assert ctx.ramp_factor["N1"] == 1.0
    h = 0.05

    def stay(a: float) -> float:  # integral of (1 - h) ** t over [0, a]
        return (1 - (1 - h) ** a) / -math.log(1 - h)

    # seat productivity: the rep while in seat, then (backfill) a new hire after a lag
    for backfill, lag, want in ((True, 0.0, 1.0),
                                (True, 2.0, (stay(12) + 10 - stay(10)) / 12),
                                (False, 0.0, stay(12) / 12)):
        sc = scenario(reps=[{"id": "A", "region": "North", "attrition_monthly": h}],
                      accounts=[], initial_pipeline=[],
                      policies={"attrition": {"backfill": backfill, "backfill_lag_months": lag,
                                              "backfill_ramp_months": 0}})
        assert QuotaContext(sc).capacity_factor["A"] == pytest.approx(want, abs=2e-4)


def test_ramp_relief_scales_a_new_hire_and_the_rest_absorbs() -> None:
    plan = allocate_quotas(scenario(), "potential", rounding=1, by=(),
                           bounds=Bounds(peer_band=None))
    q = plan.reps["quota"]
    relieved = 150_000 * 0.625
    assert q["S2"] == math.floor(600_000 * relieved / (450_000 + relieved))
    assert q["S1"] + q["S2"] == 600_000
    assert plan.reps.at["S2", "binding"] == "ramp_relief"
    assert "ramp relief x0.62" in plan.reps.at["S2", "why"]


def test_a_pin_moves_the_rest_of_its_region_in_proportion_to_their_ideals() -> None:
    # N1 pinned at 500,000 (ideal 360,000): N2 and N3 absorb -140,000 by their ideals 180k/360k
    plan = allocate_quotas(scenario(), "potential", pins=[Pin("rep", "N1", 500_000)], **EXACT)
    q = plan.reps["quota"]
    assert q["N1"] == 500_000
    assert abs(q["N2"] - (180_000 - 140_000 / 3)) <= 1
    assert abs(q["N3"] - (360_000 - 280_000 / 3)) <= 1
    assert plan.reps.at["N2", "binding"] == "absorbs" and plan.reps.at["N1", "binding"] == "pin"
    assert plan.solve["rep"].status == "optimal"
    assert plan.solve["rep"].worst_deviation == pytest.approx(140_000 / 540_000, rel=1e-6)
    assert q["S1"] == 450_000  # other regions untouched


def test_a_binding_cap_is_absorbed_and_explained() -> None:
    plan = allocate_quotas(scenario(), "potential", rounding=1000, by=(),
                           bounds=Bounds(cap=300_000, ramp_relief=False, peer_band=None))
    q = plan.reps["quota"]
    assert q["N1"] == q["N3"] == 300_000 and q["N2"] == 300_000
    assert plan.reps.at["N1", "binding"] == "cap"
    assert "held to its cap 300,000" in plan.reps.at["N1", "why"]
    assert q["S1"] == 300_000 and q["S2"] == 300_000


def test_region_pin_moves_the_other_regions() -> None:
    plan = allocate_quotas(scenario(), "potential", pins=[Pin("region", "North", 1_000_000)],
                           over_assign=1.1, **EXACT)
    assert plan.regions["target"].to_dict() == {"North": 1_000_000, "South": 500_000}
    assert plan.regions["rep_total"].to_dict() == {"North": 1_100_000, "South": 550_000}


def test_cbc_gives_the_same_plan_as_highs() -> None:
    import pulp

    if "PULP_CBC_CMD" not in pulp.listSolvers(onlyAvailable=True):
        pytest.skip("CBC not available")
    kw = dict(pins=[Pin("rep", "N1", 500_000)], bounds=Bounds(floor=100_000), rounding=1000)
    a = allocate_quotas(scenario(), "history", **kw)
    b = allocate_quotas(scenario(), "history", solver="cbc", **kw)
    assert a.reps["quota"].equals(b.reps["quota"])
    assert b.solve["rep"].solver == "PULP_CBC_CMD"
    with pytest.raises(QuotaError, match="unknown solver 'gurobi'"):
        allocate_quotas(scenario(), "even", solver="gurobi")


def test_rounding_places_the_remainder_on_the_largest_free_rep() -> None:
    sc = scenario(targets={"company": 1_000_003, "by_region": {"North": 1.0, "South": 0.0}})
    plan = allocate_quotas(sc, "even", by=(), rounding=1000,
                           bounds=Bounds(ramp_relief=False))
    q = plan.reps["quota"]
    assert q[["N1", "N2", "N3"]].sum() == 1_000_003
    assert sorted(q[["N1", "N2", "N3"]] % 1000) == [0, 0, 3]
    holder = q[["N1", "N2", "N3"]].idxmax()
    assert q[holder] % 1000 == 3 and "rounding remainder 3" in plan.reps.at[holder, "why"]
    assert (q[["S1", "S2"]] == 0).all()
    assert np.isclose(plan.regions["target"].sum(), 1_000_003)


def test_an_alignment_replaces_account_owners_and_is_checked() -> None:
    # move N3's account to N2: North's potential becomes N1 400k, N2 600k, N3 0
    align = {"a1": "N1", "a2": "N1", "a3": "N2", "a4": "N2", "a5": "S1", "a6": "S2"}
    plan = allocate_quotas(scenario(), "potential", alignment=align, **EXACT)
    q = plan.reps["quota"]
    assert (q["N1"], q["N2"], q["N3"]) == (360_000, 540_000, 0)
    with pytest.raises(QuotaError, match="unknown rep\\(s\\) Z1"):
        allocate_quotas(scenario(), "potential", alignment={"a1": "Z1"})
    part = allocate_quotas(scenario(), "potential", alignment={"a1": "N1", "a5": "S1"}, **EXACT)
    assert any("4 account(s) not in the alignment" in n for n in part.notes)


def test_compare_methods_runs_every_method_on_the_same_draws() -> None:
    from test_quota_support import lognormal_samples

    from salesplan.optimizer.quotas import compare_methods

    draws = pd.DataFrame(lognormal_samples(np.array([300e3, 250e3, 150e3, 400e3, 90e3]),
                                           np.full(5, 0.3), 2000, seed=3),
                         columns=["N1", "N2", "N3", "S1", "S2"])
    draws["ghost"] = 1.0
    table, plans = compare_methods(scenario(), draws, over_assign=1.1, rounding=1,
                                   bounds=Bounds(peer_band=None))
    assert list(table.index) == method_names()
    assert table["error"].isna().all()
    assert table.loc["fair", "p_attain_spread"] == table["p_attain_spread"].min()
    assert table.loc["fair", "p_attain_spread"] < 0.01
    assert (table["total_quota"] == 1_650_000).all()
    assert any("ghost" in n for n in plans["fair"].notes)


def test_the_model_names_every_constraint_by_domain_ids_and_solves_lexicographically() -> None:
    import pulp

    seen = []

    class Spy(pulp.HiGHS):
        def actualSolve(self, lp, **kw):  # noqa: N802 - PuLP's name
            with warnings.catch_warnings():  # PuLP 3.3 announces the 4.0 constraints API
                warnings.simplefilter("ignore", DeprecationWarning)
                seen.append({name: str(c) for name, c in lp.constraints.items()})
            seen[-1]["__objective__"] = str(lp.objective)
            return super().actualSolve(lp, **kw)

    plan = allocate_quotas(scenario(), "potential", solver=Spy(msg=False),
                           bounds=Bounds(floor=200_000, ramp_relief=False),
                           pins=[Pin("rep", "S1", 400_000)], **{"rounding": 1, "by": ()})
    assert len(seen) == 2  # stage 1 (worst case), stage 2 (total deviation)
    names = set(seen[1])
    assert {"floor_N2", "total_North", "total_South", "dev_N1", "worst_N1",
            "worst_case_fixed_North"} <= names
    assert "floor_S1" not in names and "dev_S1" not in names  # S1 is pinned: a constant
    assert "worst_deviation_North" in seen[0]["__objective__"]
    assert "over_N1" in seen[1]["__objective__"]
    assert plan.reps.at["N2", "quota"] == 200_000 and plan.reps.at["N2", "binding"] == "floor"
    assert plan.reps.at["S2", "quota"] == 200_000
