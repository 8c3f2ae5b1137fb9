"""Pay plans in scenarios and what-ifs: validation names the field and value, pay levers change
pay and never bookings (common random numbers), each in the direction its mechanism says, and
the quota method drives the pay equity figures."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from salesplan.api.planning.compensation import CompError, comp_by_method, run_comp
from salesplan.api.planning.whatif import compare
from salesplan.scenarios import EXAMPLES, ScenarioError, load_scenario, parse_scenario
from salesplan.scenarios.levers import apply_levers

N, SEED = 16, 3


@pytest.fixture(scope="module")
def small():
    return load_scenario(EXAMPLES / "small.yaml")


def _doc(sc) -> dict:
    return sc.model_dump(mode="json")


def _error(doc: dict) -> str:
    with pytest.raises((ScenarioError, ValidationError, ValueError)) as e:
        parse_scenario(doc)
    return str(e.value)


def test_unordered_tiers_name_the_field_and_values(small):
    doc = _doc(small)
    doc["compensation"]["plans"][0]["rates"] = [{"above": 1.0, "rate": 1.5},
                                                {"above": 0.0, "rate": 1.0}]
    msg = _error(doc)
    assert "compensation.plans" in msg and "rates" in msg
    assert "rates[1].above 0 is not above rates[0].above 1" in msg


def test_negative_rate_and_role_without_plan_are_named(small):
    doc = _doc(small)
    doc["compensation"]["plans"][0]["rates"][1]["rate"] = -1.0
    assert "rate" in _error(doc) and "-1" in _error(doc)
    doc = _doc(small)
    doc["reps"][0]["role"] = "SDR"
    msg = _error(doc)
    assert "reps[R1].role" in msg and "'SDR' has no pay plan" in msg


def test_spif_outside_the_horizon_and_unknown_product_are_named(small):
    doc = _doc(small)
    doc["compensation"]["spifs"][0] |= {"product": "gadget", "end": "2028-02"}
    msg = _error(doc)
    assert "compensation.spifs[premium-q2].product" in msg and "'gadget'" in msg
    assert "compensation.spifs[premium-q2].end" in msg and "2028-02" in msg


def _variant(sc, *levers):
    from pydantic import TypeAdapter

    from salesplan.scenarios.levers import Lever

    models = [TypeAdapter(Lever).validate_python(lv) for lv in levers]
    return apply_levers(sc, models, "v").scenario


def _pay(sc, name: str, *levers):
    from salesplan.scenarios.levers import Variant

    variant = Variant.model_validate({"name": name, "levers": list(levers)})
    doc = _doc(sc)
    doc["variants"] = [variant.model_dump(mode="json")]
    return compare(parse_scenario(doc), [name], replications=N, seed=SEED, workers=1)


@pytest.mark.parametrize(("lever", "direction"), [
    ({"lever": "pay_plan", "accelerator": 2.5}, +1),
    ({"lever": "pay_plan", "cap": 1.1}, -1),
    ({"lever": "pay_plan", "threshold": 0.9}, -1),
    ({"lever": "spif", "name": "smb-push", "segment": "SMB", "per_deal": 100.0}, +1),
    ({"lever": "pay_plan", "ote_factor": 1.1}, +1),
])
def test_pay_levers_move_pay_in_their_direction_and_leave_bookings(small, lever, direction):
    c = _pay(small, "lever", lever)
    base, var = c.base, c.variants[0]
    np.testing.assert_array_equal(var.bookings, base.bookings)  # no effort response
    diff = var.pay - base.pay
    assert np.all(direction * diff >= -1e-6), diff
    assert direction * diff.sum() > 0  # and it does move pay on these draws
    row = c.row(var)
    assert row["mechanisms"] == "pay"
    lo, hi = row["pay_diff_vs_base_ci95_lo"], row["pay_diff_vs_base_ci95_hi"]
    assert lo <= row["pay_diff_vs_base_mean"] <= hi


def test_pay_lever_without_a_pay_plan_is_a_clear_error(small):
    from salesplan.scenarios.levers import LeverError

    sc = small.model_copy(update={"compensation": None})
    with pytest.raises(LeverError, match="no compensation section"):
        _variant(sc, {"lever": "pay_plan", "accelerator": 2.0})


def test_comp_run_summary_is_reproducible_and_conserves_pay(small):
    a = run_comp(small, replications=N, seed=SEED, workers=1)
    b = run_comp(small, replications=N, seed=SEED, workers=2)
    assert a.summary["total_pay"] == b.summary["total_pay"]  # same seed, any workers
    p = a.payouts
    np.testing.assert_allclose(p.total, p.base + p.commission + p.draw + p.spif)
    np.testing.assert_allclose(p.commission, p.commission_by_period.sum(axis=2))
    assert a.summary["seed"] == SEED and a.summary["replications"] == N
    reps = a.reps
    assert list(reps["rep"]) == [r.id for r in small.reps]
    assert {"region", "role", "pay_p10", "pay_p90", "p_at_on_target_pay"} <= set(reps.columns)


def test_comp_run_without_a_pay_plan_or_with_unknown_quota_reps_says_so(small):
    with pytest.raises(CompError, match="no compensation section"):
        run_comp(small.model_copy(update={"compensation": None}), replications=2, seed=0)
    with pytest.raises(CompError, match="R99"):
        run_comp(small, quotas={"R99": 1.0}, replications=2, seed=0)


def test_quotas_that_track_territory_lower_the_territory_share(small):
    """Pay equity by quota method on the same draws: even quotas ignore territory, so more of
    the cross-rep spread in expected pay comes from territory than under potential quotas."""
    from salesplan.simulator import simulate

    result = simulate(small, N, SEED, workers=1, keep_deals=0)
    table = comp_by_method(small, result, ["even", "potential"])
    assert table.loc["potential", "territory_share"] < table.loc["even", "territory_share"]
    assert (table["cost_of_sales"] > 0).all()


def test_design_meets_the_budget_or_says_why(small):
    run = run_comp(small, replications=N, seed=SEED, workers=1, design=(0.30, (0.6, 0.7)))
    d = run.design
    assert d.feasible and d.cost_of_sales <= 0.30
    assert 0.6 - 0.1 <= d.share_at_quota <= 0.7 + 0.1
    tight = run_comp(small, replications=N, seed=SEED, workers=1, design=(0.05, (0.6, 0.7)))
    assert not tight.design.feasible
    assert "base pay alone" in tight.design.message and "5.0%" in tight.design.message


def test_whatif_report_shows_pay_only_with_a_pay_plan(small, tmp_path):
    from salesplan.api.planning.report import write_report

    c = _pay(small, "acc", {"lever": "pay_plan", "accelerator": 2.0})
    paths = write_report(c, tmp_path / "with")
    page = paths["report.html"].read_text()
    assert "Pay under the plan" in page and "cost of sales" in page
    without = compare(small.model_copy(update={"compensation": None}), [], replications=4,
                      seed=SEED, workers=1)
    page = write_report(without, tmp_path / "without")["report.html"].read_text()
    assert "Pay under the plan" not in page
    assert np.isnan(without.table()["pay_mean"]).all()
