"""Metamorphic tests: relations between runs that must hold whatever the scenario, checked on
common random numbers (the same seed), over generated sales teams (hypothesis) and on both
shipped examples.

No oracle gives the bookings of a scenario, but some changes have a known direction: more leads
never lower expected bookings, an earlier hire books at least as much as a later one, losing a
rep never raises bookings, a higher target leaves bookings unchanged and lowers P(hit). With
common random numbers the paired difference is sharp, so each relation is asserted on it:
exactly where it holds replication by replication, otherwise within its paired interval
(``Z`` standard errors of the mean difference, one-sided).

Why each relation holds (the mechanisms are in ``docs/whatif.md``): before a hire's start date
or a departure nothing differs, so every rep's bookings of the months before are identical, bit
for bit (this is what failed when a planned hire's accounts were routed to the least-loaded rep
from day one: a December hire "added" $1.35M on midmarket). After it, a hire adds capacity and
sourced deals and takes over accounts; a departure removes them.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from salesplan.scenarios import Scenario, load_scenario
from salesplan.scenarios.examples import EXAMPLES
from salesplan.scenarios.expected import expected_by_rep
from salesplan.scenarios.levers import (
    Conversion,
    DealSize,
    Departure,
    Hire,
    LeadVolume,
    Target,
    apply_levers,
)
from salesplan.simulator import simulate

Z = 3.5
"""One-sided bound in standard errors: a relation fails only if the paired mean difference is
this far on the wrong side (about 2 in 10,000 by chance for a true relation)."""
REPS = 24
SEED = 11
SETTINGS = settings(max_examples=6, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


@st.composite
def teams(draw) -> Scenario:
    """A small sales team that is not saturated: 1-2 regions of 2-4 reps with territories,
    inbound leads, reps who source deals (sometimes market-limited), leads that overflow to a
    free colleague after a few days, a 6-month horizon; every rep's expected utilisation
    (:mod:`salesplan.scenarios.expected`) below 0.9."""
    regions = [f"G{i}" for i in range(draw(st.integers(1, 2)))]
    stages = [{"name": f"st{k}", "conversion": draw(st.sampled_from([0.4, 0.6, 0.85])),
               "duration": {"dist": "exponential", "mean": draw(st.sampled_from([4.0, 10.0]))}}
              for k in range(draw(st.integers(2, 3)))]
    reps, accounts = [], []
    for g, region in enumerate(regions):
        for i in range(draw(st.integers(2, 4))):
            reps.append({"id": f"R{g}{i}", "region": region,
                         "capacity": draw(st.integers(2, 8)),
                         "productivity": draw(st.sampled_from([0.8, 1.0, 1.3])),
                         "lat": 40.0 + i, "lon": -90.0 - g})
        for k in range(draw(st.integers(4, 12))):
            accounts.append({"id": f"A{g}{k}", "region": region, "segment": "S",
                             "lat": 40.0 + k % 4, "lon": -90.0 - g,
                             "potential": float(draw(st.integers(1, 50)) * 1000),
                             "owner": f"R{g}{k % 2}"})
    sourcing = {"per_rep_per_month": draw(st.sampled_from([3.0, 8.0])),
                "per_account_per_year": draw(st.sampled_from([None, 20.0]))}
    sc = Scenario.model_validate({
        "name": "team", "horizon": {"start": "2027-01-01", "months": 6},
        "regions": [{"id": r} for r in regions], "segments": [{"id": "S"}],
        "products": [{"id": "P", "deal_size": {"dist": "lognormal", "mean": 5000, "cv": 0.5}}],
        "stages": stages,
        "lead_sources": [{"id": f"in-{r}", "region": r, "segment": "S",
                          "leads_per_month": float(draw(st.integers(5, 40)))} for r in regions],
        "reps": reps, "accounts": accounts, "targets": {"company": 200_000.0},
        "policies": {"routing": draw(st.sampled_from(["territory_owner", "least_loaded"])),
                     "overflow_wait_days": draw(st.sampled_from([0.0, 3.0])),
                     "response_half_life_days": draw(st.sampled_from([None, 10.0])),
                     "sourcing": sourcing},
    })
    assume((expected_by_rep(sc)["utilisation"] < 0.9).all())
    return sc


def _run(sc: Scenario, reps: int = REPS):
    return simulate(sc, reps, SEED, workers=1, keep_deals=0)


def _variant(sc: Scenario, *levers) -> Scenario:
    return apply_levers(sc, list(levers), "v").scenario


def _paired(variant, base) -> tuple[float, float]:
    """Mean and standard error of the paired difference of company bookings."""
    d = variant.total_bookings() - base.total_bookings()
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(d.size))


def assert_not_lower(variant, base, what: str) -> None:
    mean, se = _paired(variant, base)
    assert mean >= -Z * se - 1e-6, f"{what}: bookings fell by {-mean:,.0f} (se {se:,.0f})"


def assert_not_higher(variant, base, what: str) -> None:
    mean, se = _paired(variant, base)
    assert mean <= Z * se + 1e-6, f"{what}: bookings rose by {mean:,.0f} (se {se:,.0f})"


def assert_same_before(variant, base, month: int) -> None:
    """Every rep of the base books exactly the same in the horizon months before ``month``
    (1-based), and a variant's extra reps book nothing then."""
    n = len(base.rep_ids)
    v, b = variant.stack("bookings")[:, :, : month - 1], base.stack("bookings")[:, :, : month - 1]
    np.testing.assert_array_equal(v[:, :n], b)
    assert not v[:, n:].any()


def _first_region_hire(sc: Scenario, month: int, count: int = 1) -> Hire:
    return Hire(region=sc.reps[0].region, count=count, start_month=month, ramp_months=1.0)


# ---- identity ---------------------------------------------------------------------------------

@pytest.mark.slow
@SETTINGS
@given(sc=teams())
def test_an_identical_variant_gives_exactly_zero_difference(sc):
    base = _run(sc)
    for same in (_variant(sc, LeadVolume(factor=1.0)), _variant(sc, Hire(region=sc.reps[0].region,
                                                                         count=0))):
        np.testing.assert_array_equal(_run(same).stack("bookings"), base.stack("bookings"))


# ---- more of a good thing never lowers expected bookings ---------------------------------------

@pytest.mark.slow
@SETTINGS
@given(sc=teams(), k=st.integers(0, 2))
def test_more_leads_higher_conversion_or_deal_value_never_lower_bookings(sc, k):
    base = _run(sc)
    assert_not_lower(_run(_variant(sc, LeadVolume(factor=1.3))), base, "leads +30%")
    stage = sc.stages[min(k, len(sc.stages) - 1)].name
    assert_not_lower(_run(_variant(sc, Conversion(stage=stage, factor=1.2))), base,
                     f"conversion at {stage} x1.2")
    richer = _run(_variant(sc, DealSize(factor=1.2)))  # same deals, each worth 20% more
    np.testing.assert_allclose(richer.total_bookings(), 1.2 * base.total_bookings(), rtol=1e-9)


# ---- hires ------------------------------------------------------------------------------------

@pytest.mark.slow
@SETTINGS
@given(sc=teams(), early=st.integers(1, 3))
def test_an_earlier_hire_books_at_least_as_much_and_nothing_changes_before_it_starts(sc, early):
    base = _run(sc)
    late = early + 2
    first, second = (_run(_variant(sc, _first_region_hire(sc, m))) for m in (early, late))
    assert_not_lower(first, second, f"hire from month {early} against month {late}")
    assert_same_before(second, base, late)


@pytest.mark.slow
def test_a_last_month_hire_changes_only_its_month_on_midmarket():
    """The December-hire case of issue #18: three hires in West from month 12. Every month
    before December is unchanged, and the change is the hires' own bookings plus the
    hand-over's effect on the others, both small."""
    sc = load_scenario(EXAMPLES / "midmarket.yaml")
    base = simulate(sc, 40, 3, workers=2, keep_deals=0)
    v = simulate(_variant(sc, Hire(region="West", count=3, start_month=12, ramp_months=4)),
                 40, 3, workers=2, keep_deals=0)
    assert_same_before(v, base, 12)
    own = v.rep_bookings()[:, len(sc.reps):].sum(axis=1)
    others = v.rep_bookings()[:, : len(sc.reps)].sum(axis=1) - base.rep_bookings().sum(axis=1)
    total = v.total_bookings() - base.total_bookings()
    np.testing.assert_allclose(total, own + others, rtol=1e-9, atol=1e-6)
    december = base.stack("bookings")[:, :, -1].sum(axis=1).mean()
    assert abs(total.mean()) < 0.02 * december, (total.mean(), december)


# ---- departures and targets -------------------------------------------------------------------

@pytest.mark.slow
@SETTINGS
@given(sc=teams(), month=st.integers(2, 5), backfill=st.booleans())
def test_losing_a_rep_never_raises_bookings(sc, month, backfill):
    base = _run(sc)
    v = _run(_variant(sc, Departure(top=1, month=month, backfill=backfill)))
    assert_not_higher(v, base, f"top rep leaves in month {month}")
    assert_same_before(v, base, month)


@SETTINGS
@given(sc=teams())
def test_a_higher_target_lowers_p_hit_and_leaves_bookings_unchanged(sc):
    base = _run(sc, 8)
    v = _run(_variant(sc, Target(factor=1.15)), 8)
    np.testing.assert_array_equal(v.total_bookings(), base.total_bookings())
    assert v.summary["p_hit_target"] <= base.summary["p_hit_target"]
    assert v.target == pytest.approx(1.15 * base.target)


# ---- the shipped examples ---------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("name", ["small", "midmarket"])
def test_the_examples_levers_move_bookings_the_documented_way(name):
    sc = load_scenario(EXAMPLES / f"{name}.yaml")
    base = simulate(sc, 30, SEED, workers=2, keep_deals=0)

    def run(*levers):
        return simulate(_variant(sc, *levers), 30, SEED, workers=2, keep_deals=0)

    region = sc.reps[-1].region
    assert_not_lower(base, run(LeadVolume(factor=0.8)), "leads -20%")
    assert_not_lower(run(Conversion(stage=sc.stages[1].name, factor=1.1)), base, "conversion")
    assert_not_lower(run(Hire(region=region, count=2, start_month=2)),
                     run(Hire(region=region, count=2, start_month=6)), "earlier hires")
    assert_not_higher(run(Departure(top=1, month=4)), base, "the top rep leaves")
    assert_not_higher(run(Departure(top=1, month=4, backfill=False)), base, "no backfill")
