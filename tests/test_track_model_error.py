"""The open pipeline's model error when the export is young: with fewer than three months of
closes before any inner cut, the error is measured at inner cuts with one month of closes
before them (the intervals lean wide), the bias they show is not applied, and the run says so.
With enough history the calibration's inner cuts are used unchanged."""

from __future__ import annotations

import pandas as pd
from _track_history import closed_deals, write_history

from salesplan.api.planning.tracking.model import (
    FALLBACK_CLOSE_MONTHS,
    _model_error,
    fit_landing_model,
)
from salesplan.api.planning.tracking.state import as_of_state
from salesplan.scenarios.crm import read_history
from salesplan.simulator.calibration.forecast_error import MIN_CLOSE_MONTHS, inner_origins


def _history(tmp_path):
    # deals created 2021-01-05 .. 2021-05-05 (60 days per batch), each closed 5-40 days later
    rows = []
    for k, start in enumerate(["2021-01-05", "2021-02-05", "2021-03-05"]):
        rows += closed_deals(150, start, seed=k)
    return read_history(write_history(tmp_path / "h", rows), "maven")


def test_inner_origins_take_the_months_of_closes_asked_for():
    close = pd.Series(pd.to_datetime(["2021-01-10", "2021-02-10", "2021-03-10"]))
    out = pd.Series(["won", "lost", "won"]).to_numpy()
    cut = pd.Timestamp("2021-03-20")
    assert inner_origins(close, out, cut) == []
    # closes from 2021-01-10: the first full month is February, so one month of closes
    # before 2021-03-01
    assert inner_origins(close, out, cut, min_close_months=1) == [pd.Timestamp("2021-03-01")]


def test_a_young_export_measures_the_error_at_one_month_cuts(tmp_path):
    h = _history(tmp_path)
    state = as_of_state(h, "2021-03-20")
    d = state.deals
    me, months = _model_error(d, state.cut, d.attrs.get("truncation_date"), False)
    assert months == FALLBACK_CLOSE_MONTHS
    assert me["origins"] == ["2021-03-01"]
    model = fit_landing_model(state, [pd.Period("2021-03", "M"), pd.Period("2021-04", "M")])
    assert model.facts["inner_cut_close_months"] == FALLBACK_CLOSE_MONTHS
    assert model.facts["rep_pipeline_origins"] == 1
    assert model.facts["bias_correction"] == 1.0       # measured, not applied
    assert any("lean wide" in n for n in model.notes)
    assert not any("too narrow" in n for n in model.notes)


def test_enough_history_keeps_the_calibrations_inner_cuts(tmp_path):
    h = _history(tmp_path)
    state = as_of_state(h, "2021-05-20")
    d = state.deals
    me, months = _model_error(d, state.cut, d.attrs.get("truncation_date"), False)
    assert months == MIN_CLOSE_MONTHS
    assert me["origins"] == ["2021-05-01"]
    model = fit_landing_model(state, [pd.Period("2021-05", "M"), pd.Period("2021-06", "M")])
    assert model.facts["inner_cut_close_months"] == MIN_CLOSE_MONTHS
    assert not any("lean wide" in n for n in model.notes)
