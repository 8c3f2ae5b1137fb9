"""Stage durations by month of the quarter a deal enters the stage (end-of-quarter closing):
each deal takes the distribution of its entry month, later stages count from the earlier
stages' end, overrides win, levers scale all three, and a bad table names the field."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from salesplan.scenarios.levers import CycleTime, apply_levers
from salesplan.simulator import simulate

Q_DAYS = (2.0, 15.0, 40.0)  # months 1, 2, 3 of a quarter


def _quarter_month(days: np.ndarray, start: str) -> np.ndarray:
    dates = pd.Timestamp(start) + pd.to_timedelta(np.floor(days), unit="D")
    return ((dates.month - 1) % 3).to_numpy()


def _by_quarter(values=Q_DAYS):
    return [{"dist": "fixed", "value": v} for v in values]


def test_each_deal_takes_its_entry_months_duration(make_scenario):
    sc = make_scenario(stages=[{"name": "s1", "conversion": 1.0,
                                "duration": {"dist": "fixed", "value": 99.0},
                                "duration_by_quarter_month": _by_quarter()}])
    res = simulate(sc, 2, seed=3, workers=1, keep_deals=2)
    d = res.deals[res.deals["outcome"].eq("won")]
    assert len(d) > 1000
    q = _quarter_month(d["created_date"].to_numpy(), "2027-01-01")
    cycle = (d["closed_date"] - d["created_date"]).to_numpy()
    assert np.allclose(cycle, np.array(Q_DAYS)[q])  # unlimited capacity: no wait
    assert set(np.unique(q)) == {0, 1, 2}


def test_later_stages_count_from_the_earlier_stages_end(make_scenario):
    """Stage 2's month is that of arrival + stage 1's duration (10 days)."""
    sc = make_scenario(stages=[
        {"name": "s1", "conversion": 1.0, "duration": {"dist": "fixed", "value": 10.0}},
        {"name": "s2", "conversion": 1.0, "duration": {"dist": "fixed", "value": 99.0},
         "duration_by_quarter_month": _by_quarter()}])
    res = simulate(sc, 1, seed=4, workers=1, keep_deals=1)
    d = res.deals[res.deals["outcome"].eq("won")]
    q2 = _quarter_month(d["created_date"].to_numpy() + 10.0, "2027-01-01")
    cycle = (d["closed_date"] - d["created_date"]).to_numpy()
    assert np.allclose(cycle, 10.0 + np.array(Q_DAYS)[q2])
    # power: the arrival month alone would be wrong for deals arriving in a month's last days
    q_arr = _quarter_month(d["created_date"].to_numpy(), "2027-01-01")
    assert not np.allclose(cycle, 10.0 + np.array(Q_DAYS)[q_arr])


def test_override_duration_wins(make_scenario):
    stage = {"name": "s1", "conversion": 1.0, "duration": {"dist": "fixed", "value": 7.0},
             "duration_by_quarter_month": _by_quarter(),
             "overrides": [{"segment": "SMB", "duration": {"dist": "fixed", "value": 3.0}}]}
    res = simulate(make_scenario(stages=[stage]), 1, seed=5, workers=1, keep_deals=1)
    d = res.deals[res.deals["outcome"].eq("won")]
    assert np.allclose(d["closed_date"] - d["created_date"], 3.0)


def test_lever_scales_every_quarter_month(make_scenario):
    sc = make_scenario(stages=[{"name": "s1", "conversion": 1.0,
                                "duration": {"dist": "fixed", "value": 10.0},
                                "duration_by_quarter_month": _by_quarter()}])
    st = apply_levers(sc, [CycleTime(factor=2.0)]).scenario.stages[0]
    assert [d.value for d in st.duration_by_quarter_month] == [4.0, 30.0, 80.0]


def test_bad_table_names_the_field(make_scenario):
    with pytest.raises(ValidationError) as e:
        make_scenario(stages=[{"name": "s1", "conversion": 0.5,
                               "duration": {"dist": "fixed", "value": 1.0},
                               "duration_by_quarter_month": _by_quarter((1.0, 2.0))}])
    text = str(e.value)
    assert "duration_by_quarter_month" in text and "got 2" in text


@pytest.mark.parametrize(("start", "q"), [("2027-01-01", 0), ("2027-02-01", 1),
                                          ("2027-03-01", 2)])
def test_initial_pipeline_enters_its_stage_at_the_horizon_start(make_scenario, start, q):
    """A pipeline deal resumes its stage at day 0, in the horizon start's quarter month; the
    next stage starts when that one ends."""
    stages = [{"name": "s1", "conversion": 1.0, "duration": {"dist": "fixed", "value": 99.0},
               "duration_by_quarter_month": _by_quarter()},
              {"name": "s2", "conversion": 1.0, "duration": {"dist": "fixed", "value": 99.0},
               "duration_by_quarter_month": _by_quarter()}]
    sc = make_scenario(horizon={"start": start, "months": 6}, stages=stages,
                       lead_sources=[{"id": "src", "region": "N", "segment": "SMB",
                                      "leads_per_month": 0.0}],
                       initial_pipeline=[{"id": "D1", "stage": "s2", "owner": "R1"},
                                         {"id": "D2", "stage": "s1", "owner": "R1"}])
    d = simulate(sc, 1, seed=1, workers=1, keep_deals=1).deals.set_index("deal_id")
    first = Q_DAYS[q]
    assert d.loc["D1", "closed_date"] == pytest.approx(first)  # s2 from day 0
    # D2: s1 from day 0, then s2 from the day s1 ends, in that day's quarter month
    q2 = int(_quarter_month(np.array([first]), start)[0])
    assert d.loc["D2", "closed_date"] == pytest.approx(first + Q_DAYS[q2])


def test_baseline_engine_refuses_quarter_durations(make_scenario):
    """The benchmark's plain-SimPy baseline has no durations by quarter month: it says so."""
    from salesplan.benchmarks.sim_baseline import run_baseline

    plain = make_scenario()
    assert run_baseline(plain, 1, 0)["won"] > 0
    with pytest.raises(NotImplementedError, match="month of quarter"):
        run_baseline(make_scenario(stages=[{"name": "s1", "conversion": 0.5,
                                            "duration": {"dist": "fixed", "value": 1.0},
                                            "duration_by_quarter_month": _by_quarter()}]), 1, 0)


def test_describe_shows_the_mean_over_quarter_months(make_scenario):
    from salesplan.scenarios.summary import summarise

    sc = make_scenario(stages=[{"name": "s1", "conversion": 1.0,
                                "duration": {"dist": "fixed", "value": 99.0},
                                "duration_by_quarter_month": _by_quarter()}])
    assert summarise(sc).stages["mean_days"].iloc[0] == pytest.approx(np.mean(Q_DAYS))
