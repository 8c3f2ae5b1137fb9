"""The what-if fan chart's numbers (``Comparison.fan_table``, served as the ``fan`` table of a
what-if run so the web app draws the fan as SVG): the last month is the horizon's bookings
distribution, the bands are ordered and cumulative, the target path ends at each variant's
target."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from salesplan.api.planning.whatif import compare
from salesplan.scenarios import load_scenario
from salesplan.scenarios.levers import Variant, apply_levers

EXAMPLES = Path(__file__).resolve().parents[1] / "scenarios" / "examples"


@pytest.fixture(scope="module")
def comparison():
    sc = load_scenario(EXAMPLES / "small.yaml")
    variants = [apply_levers(sc, list(Variant(name=name, levers=[lever]).levers), name)
                for name, lever in (("more-leads", {"lever": "lead_volume", "factor": 1.2}),
                                    ("stretch", {"lever": "target", "factor": 1.1}))]
    return compare(sc, variants, replications=30, seed=5, workers=1)


def test_the_fan_ends_at_the_horizons_bookings_distribution(comparison):
    fan = comparison.fan_table()
    months = len(comparison.months)
    assert len(fan) == months * len(comparison.all)
    for o in comparison.all:
        rows = fan[fan.variant == o.name].sort_values("month")
        assert rows.month.tolist() == list(range(1, months + 1))
        assert rows.month_label.tolist() == comparison.months
        last = rows.iloc[-1]
        np.testing.assert_allclose([last.p10, last.p50, last.p90],
                                   np.quantile(o.bookings, [0.1, 0.5, 0.9]), rtol=1e-12)
        # cumulative and ordered
        for col in ("p10", "p50", "p90"):
            assert (np.diff(rows[col]) >= -1e-9).all()
        assert (rows.p10 <= rows.p50 + 1e-9).all() and (rows.p50 <= rows.p90 + 1e-9).all()
        # the phased target ends at the variant's own target (the stretch's is 10% higher)
        assert last.target == pytest.approx(o.target, rel=1e-12)
        assert (np.diff(rows.target) > 0).all()
    stretch = fan[fan.variant == "stretch"].target.to_numpy()
    base = fan[fan.variant == "base"].target.to_numpy()
    np.testing.assert_allclose(stretch, 1.1 * base, rtol=1e-12)


def test_owner_changes_list_the_moved_accounts_of_a_realign_and_nothing_else():
    """A re-align variant's moved accounts are the optimiser's (the same alignment run alone);
    a variant that moves nothing has no rows."""
    from salesplan.api.planning.realign import realign_scenario

    sc = load_scenario(EXAMPLES / "small.yaml")
    applied = {name: apply_levers(sc, list(Variant(name=name, levers=[lever]).levers), name)
               for name, lever in (("realign", {"lever": "realign"}),
                                   ("leads", {"lever": "lead_volume", "factor": 1.1}))}
    c = compare(sc, list(applied.values()), replications=2, seed=1, workers=1)
    moves = c.owner_changes()
    assert set(moves.variant) == {"realign"}
    alone, _ = realign_scenario(applied["realign"].scenario, applied["realign"].realign)
    expected = {a.id: a.owner for a in alone.accounts
                if a.owner != {b.id: b.owner for b in sc.accounts}[a.id]}
    assert dict(zip(moves.account, moves.owner_after, strict=True)) == expected
    assert len(expected) > 0
    before = {a.id: a.owner for a in sc.accounts}
    assert all(before[a] == b for a, b in zip(moves.account, moves.owner_before, strict=True))
