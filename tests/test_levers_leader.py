"""The levers a leader asks for: conversion and cycle time by product and by segment, price with
a conversion response, and routing. Each changes exactly what it says (every segment x product
cell checked against ``Stage.resolve``), is validated with a clear message, and moves bookings in
the documented direction on common random numbers."""

from __future__ import annotations

import numpy as np
import pytest
from _docs import base_doc
from conftest import build_scenario
from hypothesis import given, settings
from hypothesis import strategies as st

from salesplan.scenarios import ScenarioError, parse_scenario
from salesplan.scenarios.levers import (
    Conversion,
    CycleTime,
    LeverError,
    Price,
    Routing,
    Variant,
    apply_levers,
)
from salesplan.simulator import simulate
from salesplan.stats import paired_difference

SEGMENTS = ["S1", "S2", "S3"]
PRODUCTS = ["p1", "p2", "p3"]
DURATIONS = [{"dist": "fixed", "value": 4.0}, {"dist": "exponential", "mean": 9.0},
             {"dist": "lognormal", "mean": 20.0, "cv": 0.5}]


def _levers(*levers: dict) -> list:
    return list(Variant(name="v", levers=list(levers)).levers)


# ---- exactly the cells named change (a property over random override tables) -----------------

_override = st.fixed_dictionaries({
    "segment": st.sampled_from([None, *SEGMENTS]),
    "product": st.sampled_from([None, *PRODUCTS]),
    "conversion": st.one_of(st.none(), st.floats(0.0, 1.0)),
    "duration": st.one_of(st.none(), st.sampled_from(DURATIONS)),
}).filter(lambda o: (o["segment"] or o["product"]) and (
    o["conversion"] is not None or o["duration"] is not None))


def _cell_scenario(conversion: float, overrides: list[dict], by_quarter: bool):
    stage = {"name": "s1", "conversion": conversion, "duration": DURATIONS[1],
             "overrides": [{k: v for k, v in o.items() if v is not None} for o in overrides]}
    if by_quarter:
        stage["duration_by_quarter_month"] = DURATIONS
    return build_scenario(
        segments=[{"id": s} for s in SEGMENTS],
        products=[{"id": p, "list_price": 100.0} for p in PRODUCTS],
        stages=[stage, {"name": "s2", "conversion": 0.5, "duration": DURATIONS[0]}],
        lead_sources=[{"id": "src", "region": "N", "segment": "S1", "leads_per_month": 1.0}])


@settings(max_examples=150, deadline=None)
@given(conversion=st.floats(0.0, 1.0), overrides=st.lists(_override, max_size=7),
       by_quarter=st.booleans(), kind=st.sampled_from(["conversion", "cycle_time"]),
       segment=st.sampled_from([None, *SEGMENTS]), product=st.sampled_from([None, *PRODUCTS]),
       factor=st.floats(0.05, 3.0))
def test_a_lever_on_a_segment_or_product_changes_exactly_those_cells(
        conversion, overrides, by_quarter, kind, segment, product, factor):
    sc = _cell_scenario(conversion, overrides, by_quarter)
    lever = {"lever": kind, "stage": "s1", "factor": factor, "segment": segment,
             "product": product}
    old = sc.stages[0]
    targets = [(g, p) for g in SEGMENTS if segment in (None, g)
               for p in PRODUCTS if product in (None, p)]
    own_quarter_months = by_quarter and any(old.durations_for(*c) != (old.resolve(*c)[1],)
                                            for c in targets)
    if kind == "cycle_time" and (segment or product) and own_quarter_months:
        with pytest.raises(LeverError, match="duration_by_quarter_month"):
            apply_levers(sc, _levers(lever))
        return
    out = apply_levers(sc, _levers(lever))
    new = out.scenario.stages[0]
    assert out.scenario.stages[1] == sc.stages[1]
    for g in SEGMENTS:
        for p in PRODUCTS:
            (c0, _), (c1, _) = old.resolve(g, p), new.resolve(g, p)
            d0, d1 = old.durations_for(g, p), new.durations_for(g, p)
            hit = (g, p) in targets
            if kind == "conversion":
                assert c1 == (min(1.0, c0 * factor) if hit else c0), (g, p)
                assert d1 == d0, (g, p)
            else:
                assert c1 == c0, (g, p)
                assert d1 == (tuple(d.scaled(factor) for d in d0) if hit else d0), (g, p)
    clipped = kind == "conversion" and any(old.resolve(*c)[0] * factor > 1 for c in targets)
    assert any("clipped to 1" in n for n in out.notes) == clipped


def test_conversion_by_product_adds_the_fewest_overrides():
    sc = parse_scenario(base_doc())  # proposal: 0.7, Enterprise override 0.5
    out = apply_levers(sc, _levers({"lever": "conversion", "stage": "proposal",
                                    "product": "plus", "factor": 0.9}))
    overrides = [o.model_dump(exclude_none=True) for o in out.scenario.stages[2].overrides]
    assert overrides == [
        {"segment": "Enterprise", "conversion": 0.5},             # other products keep it
        {"product": "plus", "conversion": pytest.approx(0.63)},   # plus, from the stage's 0.7
        {"segment": "Enterprise", "product": "plus", "conversion": pytest.approx(0.45)},
    ]
    assert out.notes == []
    # another stage and the lead's whole-stage form are unchanged
    assert out.scenario.stages[:2] == sc.stages[:2]


def test_conversion_clip_by_product_is_noted_with_the_cell():
    sc = parse_scenario(base_doc())
    out = apply_levers(sc, _levers({"lever": "conversion", "stage": "proposal",
                                    "product": "core", "segment": "SMB", "factor": 1.5}))
    assert out.scenario.stages[2].resolve("SMB", "core")[0] == 1.0
    assert out.notes == ["variants[variant].levers[0]: stage 'proposal' (segment 'SMB', "
                         "product 'core') conversion 0.7 x 1.5 = 1.05 clipped to 1"]


# ---- price ----------------------------------------------------------------------------------

def test_price_scales_its_product_and_its_conversion_at_the_stages_named():
    sc = parse_scenario(base_doc())
    out = apply_levers(sc, _levers({"lever": "price", "product": "plus", "factor": 1.1,
                                    "conversion_factor": 0.95,
                                    "stages": ["contact", "proposal"]}))
    new = out.scenario
    assert new.product_index["plus"].deal_size.mean_value == pytest.approx(5500)
    assert new.product_index["core"] == sc.product_index["core"]
    for st0, st1 in zip(sc.stages, new.stages, strict=True):
        for g in sc.segment_ids:
            assert st1.resolve(g, "core") == st0.resolve(g, "core")
            want = st0.resolve(g, "plus")[0] * (0.95 if st0.name != "lead" else 1.0)
            assert st1.resolve(g, "plus")[0] == pytest.approx(want)
    assert len(out.notes) == 1
    assert "chance to win a deal x0.9025" in out.notes[0]
    assert "at 2 stage(s) (contact, proposal)" in out.notes[0]


def test_price_defaults_to_every_stage_and_without_response_touches_no_conversion():
    sc = parse_scenario(base_doc())
    every = apply_levers(sc, _levers({"lever": "price", "product": "core", "factor": 0.9,
                                      "conversion_factor": 1.1})).scenario
    assert all(s1.resolve("SMB", "core")[0] == pytest.approx(s0.resolve("SMB", "core")[0] * 1.1)
               for s0, s1 in zip(sc.stages, every.stages, strict=True))
    assert every.product_index["core"].list_price == pytest.approx(900)
    plain = apply_levers(sc, _levers({"lever": "price", "product": "core", "factor": 1.2}))
    assert plain.scenario.stages == sc.stages and plain.notes == []
    # every product when none is named
    both = apply_levers(sc, _levers({"lever": "price", "factor": 2.0})).scenario
    assert [p.list_price for p in both.products] == [2000.0, None]
    assert both.product_index["plus"].deal_size.mean_value == pytest.approx(10_000)


# ---- bad input ------------------------------------------------------------------------------

BAD_LEVERS = [
    ({"lever": "price", "product": "gold", "factor": 1.1},
     "variants[more-leads].levers[0].product: 'gold' is not a defined product (defined: core, "
     "plus)"),
    ({"lever": "price", "product": "core", "factor": 1.1, "stages": ["lead", "demo"]},
     "variants[more-leads].levers[0].stages[1]: 'demo' is not a defined stage"),
    ({"lever": "price", "factor": 1.1, "stages": ["lead", "lead"]},
     "variants[more-leads].levers[0].stages: 'lead' listed more than once"),
    ({"lever": "price", "factor": 1.1, "stages": []},
     "variants[more-leads].levers[0].stages: needs at least 1 item(s), got 0"),
    ({"lever": "price", "factor": 0, "product": "core"},
     "variants[more-leads].levers[0].factor: must be > 0, got 0"),
    ({"lever": "price", "factor": 1.1, "conversion_factor": -0.5},
     "variants[more-leads].levers[0].conversion_factor: must be > 0, got -0.5"),
    ({"lever": "price", "product": "core"},
     "variants[more-leads].levers[0].factor: is required"),
    ({"lever": "price", "factor": 1.1, "conversion": 0.9},
     "variants[more-leads].levers[0].conversion: is not a known field"),
    ({"lever": "conversion", "factor": 0.9, "product": "gold"},
     "variants[more-leads].levers[0].product: 'gold' is not a defined product"),
    ({"lever": "conversion", "factor": 0.9, "segment": "Mid"},
     "variants[more-leads].levers[0].segment: 'Mid' is not a defined segment (defined: SMB, "
     "Enterprise)"),
    ({"lever": "conversion", "factor": 0, "segment": "SMB"},
     "variants[more-leads].levers[0].factor: must be > 0, got 0"),
    ({"lever": "cycle_time", "factor": 1.2, "product": "gold"},
     "variants[more-leads].levers[0].product: 'gold' is not a defined product"),
    ({"lever": "cycle_time", "factor": 1.2, "segment": "Mid"},
     "variants[more-leads].levers[0].segment: 'Mid' is not a defined segment"),
]


@pytest.mark.parametrize("lever, expected", BAD_LEVERS,
                         ids=[f"{lv['lever']}-{i}" for i, (lv, _) in enumerate(BAD_LEVERS)])
def test_bad_lever_input_names_the_field(lever, expected):
    doc = base_doc()
    doc["variants"][0]["levers"][0] = lever
    with pytest.raises(ScenarioError) as info:
        parse_scenario(doc)
    problems = [str(p) for p in info.value.problems]
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize("lever, expected", [
    (Price(product="gold", factor=1.1), r"levers\[0\]\.product: 'gold' is not a defined product"),
    (Price(factor=1.1, stages=["lead", "demo"]), r"levers\[0\]\.stages\[1\]: 'demo' is not a "
                                                 "defined stage"),
    (Conversion(factor=0.9, segment="Mid"), r"levers\[0\]\.segment: 'Mid' is not a defined"),
    (CycleTime(factor=0.9, product="gold"), r"levers\[0\]\.product: 'gold' is not a defined"),
])
def test_levers_built_in_python_are_checked_when_applied(lever, expected):
    with pytest.raises(LeverError, match=expected):
        apply_levers(parse_scenario(base_doc()), [lever], "v")


# ---- direction on common random numbers -----------------------------------------------------

N = 40


@pytest.fixture(scope="module")
def two_products():
    """One rep with room for every deal (no queue, so one product's deals never delay
    another's), two segments and two products; productivity 1 and no grades, so a factor on a
    stage's conversion is a factor on the chance to pass it."""
    return build_scenario(
        segments=[{"id": "SMB"}, {"id": "Ent"}],
        products=[{"id": "basic", "list_price": 1000.0},
                  {"id": "premium", "deal_size": {"dist": "lognormal", "mean": 8000, "cv": 0.4}}],
        stages=[{"name": "qualify", "conversion": 0.5, "duration": DURATIONS[1]},
                {"name": "proposal", "conversion": 0.6, "duration": DURATIONS[1],
                 "overrides": [{"segment": "Ent", "conversion": 0.5}]},
                {"name": "negotiation", "conversion": 0.7, "duration": DURATIONS[0]}],
        lead_sources=[{"id": "smb", "region": "N", "segment": "SMB", "leads_per_month": 60.0},
                      {"id": "ent", "region": "N", "segment": "Ent", "leads_per_month": 20.0}])


def _by(sc, dim: str, seed: int = 5):
    """[replication, product or segment] horizon bookings."""
    r = simulate(sc, N, seed, workers=1, keep_deals=0)
    return r.stack(f"bookings_{dim}").sum(axis=2)


@pytest.fixture(scope="module")
def base_by_product(two_products):
    return _by(two_products, "product")


def test_conversion_for_one_product_moves_only_that_products_bookings(two_products,
                                                                      base_by_product):
    lower = apply_levers(two_products, _levers({"lever": "conversion", "stage": "proposal",
                                                "product": "premium", "factor": 0.8})).scenario
    after = _by(lower, "product")
    assert np.array_equal(after[:, 0], base_by_product[:, 0])  # basic: bit-identical
    d = paired_difference(after[:, 1], base_by_product[:, 1])
    assert d.ci95[1] < 0, d  # premium: significantly lower
    assert (after[:, 1] <= base_by_product[:, 1]).all()  # and never higher (coupled dice)


def test_conversion_for_one_segment_moves_only_that_segments_bookings(two_products):
    base = _by(two_products, "segment")
    higher = apply_levers(two_products, _levers({"lever": "conversion", "segment": "Ent",
                                                 "factor": 1.2})).scenario
    after = _by(higher, "segment")
    assert np.array_equal(after[:, 0], base[:, 0])  # SMB: bit-identical
    assert paired_difference(after[:, 1], base[:, 1]).ci95[0] > 0


def test_price_without_response_scales_its_bookings_by_the_factor(two_products, base_by_product):
    dearer = apply_levers(two_products, _levers({"lever": "price", "product": "premium",
                                                 "factor": 1.1})).scenario
    after = _by(dearer, "product")
    assert np.array_equal(after[:, 0], base_by_product[:, 0])
    # the same deals are won, each worth 10% more (values are drawn from the same numbers)
    np.testing.assert_allclose(after[:, 1], 1.1 * base_by_product[:, 1], rtol=1e-9)


def test_price_with_a_conversion_response_nets_out_as_documented(two_products, base_by_product):
    """+10% price, conversion x0.9 at two stages: the chance to win is x0.81, so expected
    premium bookings are x(1.1 x 0.81) = x0.891, a loss; checked on paired replications."""
    dearer = apply_levers(two_products, _levers({
        "lever": "price", "product": "premium", "factor": 1.1, "conversion_factor": 0.9,
        "stages": ["proposal", "negotiation"]})).scenario
    after = _by(dearer, "product")
    assert np.array_equal(after[:, 0], base_by_product[:, 0])
    before = base_by_product[:, 1]
    assert paired_difference(after[:, 1], before).ci95[1] < 0  # the price rise loses bookings
    # ... by the documented factor: E[after - 0.891 before] = 0, within 3.5 standard errors
    # (a response at one stage only, x0.99, is 10 standard errors away)
    d = paired_difference(after[:, 1], 1.1 * 0.81 * before)
    assert abs(d.mean) < 3.5 * d.sd / np.sqrt(d.n), d
    assert (after[:, 1] <= 1.1 * before + 1e-6).all()  # fewer wins, each worth 10% more


# ---- routing --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def one_owner():
    """One region, two reps: R1 owns every account and can work 6 deals at once, R2 owns none.
    Leads that wait for R1 go cold (half-life 10 days)."""
    return build_scenario(
        lead_sources=[{"id": "src", "region": "N", "segment": "SMB", "leads_per_month": 40.0}],
        stages=[{"name": "s1", "conversion": 0.5, "duration": {"dist": "exponential", "mean": 5}},
                {"name": "s2", "conversion": 0.5,
                 "duration": {"dist": "exponential", "mean": 10}}],
        reps=[{"id": "R1", "region": "N", "capacity": 6}, {"id": "R2", "region": "N",
                                                           "capacity": 6}],
        accounts=[{"id": f"A{i}", "region": "N", "segment": "SMB", "lat": 40.0, "lon": -74.0,
                   "potential": 1000.0, "owner": "R1"} for i in range(5)],
        policies={"response_half_life_days": 10.0})


def test_least_loaded_routing_books_more_by_relieving_the_loaded_owner(one_owner):
    """The mechanism documented for the routing lever: under territory-owner routing every lead
    queues for its account's owner while the other rep idles; least-loaded routing sends it to
    the rep with the fewest open deals, so leads wait less, lose less to lead-response decay,
    and more of them are worked within the horizon."""
    spread = apply_levers(one_owner, [Routing(strategy="least_loaded")]).scenario
    base = simulate(one_owner, N, 3, workers=1, keep_deals=0)
    after = simulate(spread, N, 3, workers=1, keep_deals=0)
    d = paired_difference(after.total_bookings(), base.total_bookings())
    assert d.ci95[0] > 0, d

    def wait(r):  # [replication] mean days from arrival to first contact, over all reps
        return r.stack("wait_sum").sum(axis=1) / r.stack("wait_n").sum(axis=1)

    assert paired_difference(wait(after), wait(base)).ci95[1] < 0
    assert (base.rep_bookings()[:, 1] == 0).all()  # R2 idles under the owner's routing
    assert after.rep_bookings()[:, 1].mean() > 0
