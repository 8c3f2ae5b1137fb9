"""The people levers: a hire takes over accounts from the most loaded reps on its start date,
and a departure gives the leaving reps an end date (issue #18)."""

from __future__ import annotations

import datetime as dt

import pytest

from salesplan.scenarios import load_scenario
from salesplan.scenarios.examples import EXAMPLES
from salesplan.scenarios.expected import expected_by_rep
from salesplan.scenarios.levers import Departure, Hire, LeverError, apply_levers


@pytest.fixture(scope="module")
def midmarket():
    return load_scenario(EXAMPLES / "midmarket.yaml")


def test_a_hire_relieves_the_most_loaded_rep_on_its_start_date(midmarket):
    applied = apply_levers(midmarket, [Hire(region="West", count=1, start_month=4)], "v")
    sc = applied.scenario
    hire = sc.reps[-1]
    assert hire.start_date == dt.date(2027, 4, 1) and hire.region == "West"
    moved = [a for a in sc.accounts if a.owner == hire.id]
    assert moved and all(a.previous_owner is not None for a in moved)
    load = expected_by_rep(midmarket)["utilisation"]
    west = load[[r.id for r in midmarket.reps if r.region == "West"
                 and tuple(r.segments) == tuple(hire.segments)]]
    donors = {a.previous_owner for a in moved}
    assert west.idxmax() in donors  # the most loaded peer gives first
    after = expected_by_rep(sc)["utilisation"]
    assert after[west.idxmax()] < load[west.idxmax()]
    assert f"takes over {len(moved)} accounts" in applied.notes[0]
    assert "hand-over" in applied.mechanisms


def test_zero_hires_is_the_base(midmarket):
    assert apply_levers(midmarket, [Hire(region="West", count=0)], "v").scenario == midmarket


def test_the_top_rep_leaves_with_an_end_date_and_the_backfill_asked(midmarket):
    applied = apply_levers(midmarket, [Departure(top=1, month=6, backfill=False)], "v")
    top = expected_by_rep(midmarket)["bookings_per_year"].idxmax()
    rep = applied.scenario.rep_index[top]
    assert rep.end_date == dt.date(2027, 6, 1) and rep.backfill_on_end is False
    assert top in applied.notes[0] and "left empty" in applied.notes[0]
    others = [r for r in applied.scenario.reps if r.id != top]
    assert all(r.end_date is None for r in others)


def test_a_region_can_lose_every_rep(midmarket):
    sc = apply_levers(midmarket, [Departure(region="West", month=12)], "v").scenario
    assert all(r.end_date == dt.date(2027, 12, 1) for r in sc.reps if r.region == "West")


def test_a_rep_not_seated_then_cannot_leave():
    sc = load_scenario(EXAMPLES / "small.yaml")  # R6 starts in February
    with pytest.raises(LeverError, match=r"levers\[0\]\.rep: 'R6' is not seated on 2027-01-01"):
        apply_levers(sc, [Departure(rep="R6", month=1)], "v")


def test_many_hires_in_a_region_hand_over_from_earlier_hires_too(midmarket):
    """With 16 hires some donors are earlier hires: a copied scenario's lookups describe its
    own reps, not the original's (they were cached and carried over)."""
    sc = apply_levers(midmarket, [Hire(region="West", count=16)], "v").scenario
    hires = [r.id for r in sc.reps if "hire" in r.id]
    assert len(hires) == 16 and len(sc.rep_index) == len(midmarket.reps) + 16
    assert all(any(a.owner == h for a in sc.accounts) for h in hires[:8])
