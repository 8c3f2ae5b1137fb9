"""Hypothesis invariants over small random scenarios."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesplan.scenarios import Scenario
from salesplan.simulator import ROUTING_STRATEGIES, simulate

DIST = st.one_of(
    st.builds(lambda v: {"dist": "fixed", "value": v}, st.sampled_from([0.0, 0.5, 3.0, 20.0])),
    st.builds(lambda m: {"dist": "exponential", "mean": m}, st.floats(0.2, 30.0)),
    st.builds(lambda m, cv: {"dist": "lognormal", "mean": m, "cv": cv},
              st.floats(0.5, 30.0), st.floats(0.1, 1.5)),
)


@st.composite
def scenarios(draw) -> Scenario:
    regions = [f"G{i}" for i in range(draw(st.integers(1, 2)))]
    segments = [f"S{i}" for i in range(draw(st.integers(1, 2)))]
    products = [{"id": f"P{i}", "list_price": draw(st.floats(100, 10000))}
                for i in range(draw(st.integers(1, 2)))]
    stages = [{"name": f"st{k}", "conversion": draw(st.sampled_from([0.0, 0.3, 0.7, 1.0])),
               "duration": draw(DIST)} for k in range(draw(st.integers(1, 3)))]
    reps = []
    for i in range(draw(st.integers(1, 4))):
        rep = {"id": f"R{i}", "region": draw(st.sampled_from(regions)),
               "segments": draw(st.lists(st.sampled_from(segments), unique=True, max_size=2)),
               "capacity": draw(st.integers(1, 5)),
               "productivity": draw(st.floats(0.5, 2.0)),
               "attrition_monthly": draw(st.sampled_from([0.0, 0.1, 0.4]))}
        if draw(st.booleans()):
            rep["start_date"] = draw(st.sampled_from(["2026-11-01", "2027-01-01",
                                                      "2027-03-01"]))
            rep["ramp_months"] = draw(st.sampled_from([0.0, 2.0]))
        if draw(st.integers(0, 3)) == 0:  # a planned departure
            rep["end_date"] = draw(st.sampled_from(["2027-02-01", "2027-04-01"]))
            rep["backfill_on_end"] = draw(st.sampled_from([None, True, False]))
            if rep.get("start_date", "") >= rep["end_date"]:
                del rep["end_date"]
        if draw(st.integers(0, 3)) == 0:
            rep["sourcing_per_month"] = draw(st.sampled_from([0.0, 4.0]))
        reps.append(rep)
    sources = [{"id": f"src{j}", "region": draw(st.sampled_from(regions)),
                "segment": draw(st.sampled_from(segments)),
                "leads_per_month": draw(st.floats(0.0, 40.0)),
                "annual_growth": draw(st.sampled_from([0.0, 0.5]))}
               for j in range(draw(st.integers(1, 3)))]
    accounts = []
    for k in range(draw(st.integers(0, 6))):
        owner = draw(st.sampled_from([None, *[r["id"] for r in reps]]))
        region = next(r["region"] for r in reps if r["id"] == owner) if owner else \
            draw(st.sampled_from(regions))
        hired = owner is not None and "start_date" in next(r for r in reps if r["id"] == owner)
        previous = draw(st.sampled_from([None, *[r["id"] for r in reps if r["id"] != owner]]))
        accounts.append({"id": f"A{k}", "region": region,
                         "segment": draw(st.sampled_from(segments)), "lat": 40.0, "lon": -90.0,
                         "potential": draw(st.sampled_from([0.0, 10.0, 1000.0])),
                         "owner": owner, "previous_owner": previous if hired else None})
    pipeline = [{"id": f"D{k}", "stage": draw(st.sampled_from([s["name"] for s in stages])),
                 "age_days": draw(st.floats(0, 60)), "owner": draw(st.sampled_from(
                     [r["id"] for r in reps]))}
                for k in range(draw(st.integers(0, 3)))]
    policies = {
        "routing": draw(st.sampled_from(sorted(ROUTING_STRATEGIES))),
        "response_half_life_days": draw(st.sampled_from([None, 2.0, 20.0])),
        "attrition": {"open_deals": draw(st.sampled_from(["lose", "reassign"])),
                      "backfill": draw(st.booleans()),
                      "backfill_lag_months": draw(st.sampled_from([0.0, 0.5, 1.0]))},
        "warmup_months": draw(st.integers(0, 2)),
        "overflow_wait_days": draw(st.sampled_from([None, 0.0, 3.0])),
        "sourcing": {"per_rep_per_month": draw(st.sampled_from([0.0, 0.0, 5.0])),
                     "entry_stage": draw(st.sampled_from([None, *[s["name"] for s in stages]])),
                     "per_account_per_year": draw(st.sampled_from([None, 6.0]))},
    }
    return Scenario.model_validate({
        "name": "hyp", "horizon": {"start": "2027-01-01", "months": draw(st.integers(1, 5))},
        "regions": [{"id": r} for r in regions], "segments": [{"id": s} for s in segments],
        "products": products, "stages": stages, "lead_sources": sources, "reps": reps,
        "accounts": accounts, "initial_pipeline": pipeline, "policies": policies,
    })


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sc=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_conservation_per_rep_and_replication(sc, seed):
    res = simulate(sc, 2, seed=seed, workers=1, keep_deals=2)
    f = res.flow
    # carried in + created = won + lost + still open at the horizon end, per rep
    np.testing.assert_array_equal(f.carried_in + f.created, f.won + f.lost + f.open_end)
    # the deal records and the live queue state agree on what is still open
    np.testing.assert_array_equal(f.open_end, f.open_live)
    # every horizon lead is routed to a rep or reported unrouted; sourced deals have their rep
    created = res.stack("created").sum(axis=1) + res.stack("unrouted").sum(axis=1)
    np.testing.assert_array_equal(created - res.stack("sourced").sum(axis=1), res.stack("leads"))
    assert (res.stack("sourced") <= res.stack("created")).all()
    d = res.deals
    if len(d):
        won = d[d.outcome == "won"]
        assert np.isclose(won.value.sum(), res.total_bookings().sum())
        assert ((won.closed_date >= 0) & (won.closed_date < sc.horizon.days)).all()
        contact = d.first_contact_date.dropna()
        assert (contact >= d.loc[contact.index, "created_date"] - 1e-9).all()
        assert (d.outcome != "unrouted").sum() == (d.rep != "").sum()
        assert not d.duplicated(["replication", "deal_id"]).any()
        sourced = d[d.source == "rep_sourced"]
        assert not sourced.duplicated(["replication", "created_date"]).any()  # one deal each
        assert (sourced.outcome != "unrouted").all() and (sourced.wait_time.dropna() == 0).all()
    util = res.reps.utilisation.dropna()
    assert ((util >= -1e-9) & (util <= 1 + 1e-9)).all()
