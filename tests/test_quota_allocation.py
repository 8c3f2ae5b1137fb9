"""Exact traces of one allocation level on its own: the model's "rest absorbs" rule, the direct
answer when the ideal already fits, the diagnosis of a group whose floors exceed its total, and
rounding that keeps the total exact."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesplan.optimizer.quotas import AllocationLevel, InfeasibleQuotaError, solve_allocation
from salesplan.optimizer.quotas.diagnosis import diagnose
from salesplan.optimizer.quotas.rounding import round_group


def level(*, fixed: dict[str, float] | None = None, floor: float = 0.0,
          total: float = 1_000.0) -> AllocationLevel:
    """Three reps of one region with ideals 500/300/200 (sum 1,000) and an optional floor."""
    items = ["A", "B", "C"]
    pins = pd.Series(np.nan, index=items)
    for k, v in (fixed or {}).items():
        pins[k] = v
    bounds = pd.DataFrame({"lo": floor, "lo_kind": "floor" if floor else "",
                           "lo_label": f"floor {floor:,.0f}" if floor else "",
                           "hi": np.inf, "hi_kind": "", "hi_label": ""}, index=items)
    return AllocationLevel(
        level="rep",
        ideal=pd.Series([500.0, 300.0, 200.0], index=items),
        group=pd.Series("East", index=items),
        totals={"East": total},
        group_text={"East": f"region East (rep total {total:,.0f})"},
        bounds=bounds,
        fixed=pins,
        pin_where={i: f"rep {i}" for i in items},
    )


def test_an_ideal_that_fits_is_the_answer_without_a_model() -> None:
    values, info = solve_allocation(level())
    assert values.to_dict() == {"A": 500.0, "B": 300.0, "C": 200.0}
    assert info.status == "direct" and info.worst_deviation == 0.0


def test_a_pin_is_absorbed_by_the_rest_in_proportion_to_their_ideals() -> None:
    # A pinned 100 above its ideal: B and C give up 100 in the ratio 300:200 (to the solver's
    # tolerance)
    values, info = solve_allocation(level(fixed={"A": 600.0}))
    assert info.status == "optimal"
    assert values["A"] == 600.0
    assert values["B"] == pytest.approx(240.0, abs=1e-3)
    assert values["C"] == pytest.approx(160.0, abs=1e-3)
    assert info.worst_deviation == pytest.approx(0.2, abs=1e-6)


def test_floors_above_the_total_are_named_with_the_excess() -> None:
    conflicts = diagnose(level(floor=400.0))
    assert len(conflicts) == 1
    c = conflicts[0]
    assert c.where == "region East (rep total 1,000)"
    assert "add up to 1,200, 200 more than the total 1,000" in c.message
    assert "floor (e.g. floor 400) on 3 reps: A, B, C" in c.message
    assert c.shortfall == pytest.approx(200.0)
    with pytest.raises(InfeasibleQuotaError):
        solve_allocation(level(floor=400.0, fixed={"A": 1_000.0}, total=1_000.0))


def test_rounding_keeps_the_total_and_gives_the_remainder_to_the_largest() -> None:
    lv = level(total=1_050.0)
    x = pd.Series([525.0, 315.0, 210.0], index=lv.items)
    q, holder, conflicts = round_group(x, 1_050, unit=100, lo=lv.bounds["lo"],
                                       hi=lv.bounds["hi"], fixed=lv.fixed, group="region East")
    assert not conflicts
    assert int(q.sum()) == 1_050
    assert holder == "A" and q.to_dict() == {"A": 550, "B": 300, "C": 200}
