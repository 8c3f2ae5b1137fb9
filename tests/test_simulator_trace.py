"""Exact traces with deterministic inputs: queue recursion, routing rules, lifecycle, errors."""

from __future__ import annotations

import numpy as np
import pytest

from salesplan.scenarios.calendar import expected_leads_by_month
from salesplan.scenarios.errors import SalesplanError
from salesplan.simulator import (
    ROUTING_STRATEGIES,
    Lead,
    LeastLoaded,
    RoutingError,
    RoutingStrategy,
    SkillMatch,
    simulate,
)
from salesplan.simulator.leads import expected_counts
from salesplan.simulator.plan import compile_plan

FIXED2 = {"dist": "fixed", "value": 2.0}


def test_single_server_fcfs_trace(make_scenario):
    """Capacity 1, fixed 2-day deals: contact = max(arrival, previous close), close = +2."""
    sc = make_scenario(
        stages=[{"name": "s1", "conversion": 1.0, "duration": FIXED2}],
        reps=[{"id": "R1", "region": "N", "capacity": 1}],
        lead_sources=[{"id": "src", "region": "N", "segment": "SMB", "leads_per_month": 12.0}],
    )
    d = simulate(sc, 1, seed=3, workers=1).deals.sort_values("created_date")
    prev_close = -np.inf
    n_checked = 0
    for row in d.itertuples():
        if row.outcome == "open":
            break
        assert row.first_contact_date == pytest.approx(max(row.created_date, prev_close))
        assert row.closed_date == pytest.approx(row.first_contact_date + 2.0)
        assert row.outcome == "won"
        prev_close = row.closed_date
        n_checked += 1
    assert n_checked > 100


def test_two_server_fcfs_trace(make_scenario):
    """Capacity 2: each lead takes the earliest-free of two slots (checked by brute force)."""
    sc = make_scenario(
        stages=[{"name": "s1", "conversion": 1.0, "duration": {"dist": "fixed", "value": 5.0}}],
        reps=[{"id": "R1", "region": "N", "capacity": 2}],
        lead_sources=[{"id": "src", "region": "N", "segment": "SMB", "leads_per_month": 15.0}],
    )
    d = simulate(sc, 1, seed=5, workers=1).deals.sort_values("created_date")
    free = [-np.inf, -np.inf]
    waits = 0
    for row in d.itertuples():
        k = int(np.argmin(free))
        start = max(row.created_date, free[k])
        if start >= sc.horizon.days:
            break
        assert row.first_contact_date == pytest.approx(start)
        free[k] = start + 5.0
        waits += start > row.created_date
    assert waits > 10  # the queue did form


def test_arrival_means_match_calendar(make_scenario):
    sc = make_scenario(lead_sources=[{
        "id": "src", "region": "N", "segment": "SMB", "leads_per_month": 50.0,
        "annual_growth": 0.4, "seasonality": [1, 2, 3, 4, 5, 6, 6, 5, 4, 3, 2, 1]}])
    plan = compile_plan(sc)
    np.testing.assert_allclose(expected_counts(plan, 0),
                               expected_leads_by_month(sc.lead_sources[0], sc.horizon))


def test_round_robin_cycles_within_region(make_scenario):
    sc = make_scenario(
        reps=[{"id": f"R{i}", "region": "N", "capacity": 1000} for i in (1, 2, 3)],
        policies={"routing": "round_robin"},
    )
    d = simulate(sc, 1, seed=1, workers=1).deals.sort_values("created_date")
    reps = d["rep"].tolist()[:30]
    assert reps == ["R1", "R2", "R3"] * 10


def test_ineligible_reps_never_chosen(make_scenario):
    """Wrong segment, not yet started or other region: never routed a lead."""
    sc = make_scenario(
        regions=[{"id": "N"}, {"id": "S"}],
        segments=[{"id": "SMB"}, {"id": "ENT"}],
        lead_sources=[
            {"id": "n-smb", "region": "N", "segment": "SMB", "leads_per_month": 60.0},
            {"id": "n-ent", "region": "N", "segment": "ENT", "leads_per_month": 30.0},
            {"id": "s-smb", "region": "S", "segment": "SMB", "leads_per_month": 30.0},
        ],
        reps=[
            {"id": "A", "region": "N", "segments": ["SMB"], "capacity": 5},
            {"id": "B", "region": "N", "segments": ["ENT"], "capacity": 5},
            {"id": "C", "region": "N", "capacity": 5, "start_date": "2027-07-01",
             "ramp_months": 2},
            {"id": "D", "region": "S", "capacity": 5},
        ],
        policies={"routing": "least_loaded"},
    )
    for strategy in sorted(ROUTING_STRATEGIES):
        d = simulate(sc, 2, seed=2, workers=1, routing=strategy).deals
        assert set(d.loc[d.segment == "ENT", "rep"]) <= {"B", "C"}
        assert set(d.loc[d.segment == "SMB", "rep"]) <= {"A", "C", "D"}
        assert set(d.loc[d.region == "S", "rep"]) == {"D"}
        c_contacts = d.loc[d.rep == "C", "first_contact_date"].dropna()
        assert (c_contacts >= 181).all()  # 2027-07-01 is day 181
        assert (d.loc[(d.rep == "C"), "created_date"] >= 181).all()


def test_unknown_routing_lists_registered_names(make_scenario):
    sc = make_scenario(policies={"routing": "nearest"})
    with pytest.raises(SalesplanError) as exc:
        simulate(sc, 1, seed=1, workers=1)
    for name in ROUTING_STRATEGIES:
        assert name in str(exc.value)


class _Rogue(RoutingStrategy):
    name = "rogue"

    def choose(self, lead, candidates, state):
        return 99


class _Last(RoutingStrategy):
    name = "last"

    def choose(self, lead, candidates, state):
        return candidates[-1]


def test_custom_strategies(make_scenario):
    sc = make_scenario(reps=[{"id": "R1", "region": "N"}, {"id": "R2", "region": "N"}])
    with pytest.raises(RoutingError, match="not one of the eligible reps"):
        simulate(sc, 1, seed=1, workers=1, routing=_Rogue())
    d = simulate(sc, 1, seed=1, workers=1, routing=_Last()).deals
    assert set(d["rep"]) == {"R2"}


class _State:
    def __init__(self, loads, reps=None):
        self._loads = loads
        self.reps = reps

    def load(self, r):
        return self._loads[r]


def _lead(owner=None):
    return Lead(0, 0.0, "src", "N", "SMB", "p", "A", None, owner)


def test_least_loaded_and_skill_match_units():
    assert LeastLoaded().choose(_lead(), (0, 1, 2), _State([3, 1, 1])) == 1

    class R:
        def __init__(self, segs):
            self.segments = segs

    reps = [R([]), R(["SMB", "ENT"]), R(["SMB"]), R(["SMB"])]
    st = _State([0, 0, 5, 2], reps)
    assert SkillMatch().choose(_lead(), (0, 1, 2, 3), st) == 3   # specialist, least loaded
    assert SkillMatch().choose(_lead(), (0, 1), st) == 1          # listed skill beats generalist


def test_bad_requests(make_scenario):
    sc = make_scenario()
    with pytest.raises(SalesplanError, match="replications"):
        simulate(sc, 0, seed=1)
    with pytest.raises(SalesplanError, match="not in the scenario"):
        simulate(sc, 1, seed=1, quotas={"nobody": 1.0})


def test_departure_lose_and_reassign(make_scenario):
    """High attrition: 'lose' ends open deals at the departure; 'reassign' moves them."""
    base = dict(
        stages=[{"name": "s1", "conversion": 0.8, "duration": {"dist": "fixed", "value": 20.0}},
                {"name": "s2", "conversion": 0.8, "duration": {"dist": "fixed", "value": 20.0}}],
        reps=[{"id": f"R{i}", "region": "N", "capacity": 20, "attrition_monthly": 0.25}
              for i in (1, 2, 3)],
    )
    lose = make_scenario(**base, policies={"routing": "round_robin", "attrition": {
        "open_deals": "lose", "backfill_lag_months": 1}})
    d = simulate(lose, 2, seed=4, workers=1).deals
    lost = d[d.reassigned == "lost_on_departure"]
    assert len(lost) > 0 and (lost.outcome == "lost").all()
    re = make_scenario(**base, policies={"routing": "round_robin", "attrition": {
        "open_deals": "reassign", "backfill_lag_months": 1}})
    res = simulate(re, 2, seed=4, workers=1)
    d = res.deals
    assert (d.reassigned == "reassigned").sum() > 0
    assert (d.reassigned != "lost_on_departure").all()
    assert res.reps["departures"].sum() > 0
