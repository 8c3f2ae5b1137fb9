"""Stage durations by month of the quarter a deal enters the stage (end-of-quarter closing):
each deal takes the distribution of its entry month, later stages count from the earlier
stages' end, overrides win, levers scale all three, and a bad table names the field."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from api.levers import apply_levers
from scenarios.levers import CycleTime
from simulator import simulate

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
