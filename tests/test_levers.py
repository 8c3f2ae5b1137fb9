"""What-if levers: each one's effect on the scenario, clipping reported, errors named."""

from __future__ import annotations

from pathlib import Path

import pytest
from _docs import base_doc

from salesplan.scenarios import load_scenario, parse_scenario
from salesplan.scenarios.levers import LeverError, Variant, apply_levers, apply_variant

EXAMPLES = Path(__file__).resolve().parents[1] / "scenarios" / "examples"


@pytest.fixture(scope="module")
def midmarket():
    return load_scenario(EXAMPLES / "midmarket.yaml")


def _levers(*levers: dict) -> list:
    return list(Variant(name="v", levers=list(levers)).levers)


def test_lead_volume_by_region_source_and_all():
    sc = parse_scenario(base_doc())
    (src,) = sc.lead_sources
    assert apply_levers(sc, _levers({"lever": "lead_volume", "factor": 0.8})).scenario \
        .lead_sources[0].leads_per_month == pytest.approx(src.leads_per_month * 0.8)
    other = apply_levers(sc, _levers({"lever": "lead_volume", "factor": 0.5, "region": "West"}))
    assert other.scenario.lead_sources[0].leads_per_month == src.leads_per_month
    by_source = apply_levers(sc, _levers({"lever": "lead_volume", "factor": 2, "source": "web"}))
    assert by_source.scenario.lead_sources[0].leads_per_month == 2 * src.leads_per_month


def test_conversion_is_clipped_and_reported():
    sc = parse_scenario(base_doc())
    out = apply_levers(sc, _levers({"lever": "conversion", "stage": "all", "factor": 1.8}))
    convs = [s.conversion for s in out.scenario.stages]
    assert convs == [pytest.approx(0.9), 1.0, 1.0]
    assert any("clipped to 1" in n and "'contact'" in n for n in out.notes)
    # the override of 'proposal' (0.5) is scaled too
    assert out.scenario.stages[2].overrides[0].conversion == pytest.approx(0.9)


def test_conversion_one_stage_only():
    sc = parse_scenario(base_doc())
    out = apply_levers(sc, _levers({"lever": "conversion", "stage": "proposal", "factor": 1.1}))
    assert [s.conversion for s in out.scenario.stages] == [0.5, 0.6, pytest.approx(0.77)]
    assert out.notes == []


def test_cycle_time_scales_durations_and_keeps_shape():
    sc = parse_scenario(base_doc())
    out = apply_levers(sc, _levers({"lever": "cycle_time", "factor": 1.5}))
    before = [s.duration for s in sc.stages]
    after = [s.duration for s in out.scenario.stages]
    for b, a in zip(before, after, strict=True):
        assert a.mean_value == pytest.approx(1.5 * b.mean_value)
        assert a.dist == b.dist


def test_deal_size_and_target_and_policies():
    sc = parse_scenario(base_doc())
    out = apply_levers(sc, _levers(
        {"lever": "deal_size", "factor": 1.2, "product": "plus"},
        {"lever": "target", "factor": 1.15},
        {"lever": "routing", "strategy": "round_robin"},
        {"lever": "response_half_life", "days": 7},
    )).scenario
    assert out.products[1].deal_size.mean_value == pytest.approx(6000)
    assert out.products[0].list_price == 1000.0
    assert out.targets.company == pytest.approx(115_000)
    assert out.policies.routing == "round_robin"
    assert out.policies.response_half_life_days == 7
    absolute = apply_levers(sc, _levers({"lever": "target", "amount": 5e5})).scenario
    assert absolute.targets.company == 5e5


def test_capacity_rounding_reported_and_at_least_one():
    sc = parse_scenario(base_doc())  # capacities 5 and 5
    out = apply_levers(sc, _levers({"lever": "capacity", "factor": 0.05}))
    assert [r.capacity for r in out.scenario.reps] == [1, 1]
    assert any("rounded to 1" in n for n in out.notes)


def test_attrition_factor_and_rate_with_clip():
    sc = parse_scenario(base_doc())
    out = apply_levers(sc, _levers({"lever": "attrition", "monthly_rate": 0.02, "region": "East"}))
    assert [r.attrition_monthly for r in out.scenario.reps] == [0.02, 0.0]
    doubled = apply_levers(out.scenario, _levers({"lever": "attrition", "factor": 60}))
    assert doubled.scenario.reps[0].attrition_monthly == 0.99
    assert any("clipped to 0.99" in n for n in doubled.notes)


def test_quota_and_realign_are_run_options():
    sc = parse_scenario(base_doc())
    out = apply_levers(sc, _levers({"lever": "quota_method", "method": "fair"},
                                   {"lever": "realign", "mode": "carve"}))
    assert out.scenario == sc
    assert out.quota_method.method == "fair" and out.realign.mode == "carve"


def test_levers_combine_in_order():
    sc = parse_scenario(base_doc())
    out = apply_levers(sc, _levers({"lever": "target", "factor": 2},
                                   {"lever": "target", "factor": 1.5}))
    assert out.scenario.targets.company == pytest.approx(300_000)


def test_hire_adds_ramping_reps_with_a_territory(midmarket):
    applied = apply_variant(midmarket, "hire-weakest")
    sc = applied.scenario
    hires = [r for r in sc.reps if r.id not in midmarket.rep_index]
    assert len(hires) == 3
    assert all(h.start_date.isoformat() == "2027-04-01" and h.ramp_months == 4 for h in hires)
    region = hires[0].region
    # every account still assigned exactly once; locked accounts never move
    assert [a.id for a in sc.accounts] == [a.id for a in midmarket.accounts]
    for before, after in zip(midmarket.accounts, sc.accounts, strict=True):
        if before.locked:
            assert after.owner == before.owner
        if after.owner != before.owner:
            assert after.region == region and after.owner in {h.id for h in hires}
    held = {h.id: sum(a.potential for a in sc.accounts if a.owner == h.id) for h in hires}
    assert all(v > 0 for v in held.values())
    assert len(applied.notes) == 3
    # deterministic
    assert apply_variant(midmarket, "hire-weakest").scenario == sc


def test_unknown_variant_and_bad_stage_are_named():
    sc = parse_scenario(base_doc())
    with pytest.raises(LeverError, match="variant 'nope' is not defined"):
        apply_variant(sc, "nope")
    with pytest.raises(LeverError, match=r"variants\[v\]\.levers\[0\]\.stage: 'demo'"):
        apply_levers(sc, _levers({"lever": "conversion", "stage": "demo", "factor": 1.1}), "v")


def test_shipped_variants_apply(midmarket):
    for v in midmarket.variants:
        applied = apply_variant(midmarket, v.name)
        assert applied.scenario != midmarket
