"""Conservation: the landings of reps add up to their region's and the regions' to the
company's in every replication (and products to the company), whatever the history; and the
paired what-ifs move landings the way their mechanism says, replication by replication."""

from __future__ import annotations

import numpy as np
import pandas as pd
from _track_history import targets_frame, write_history
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesplan.api.planning.tracking import forecast
from salesplan.api.planning.tracking.forecast import landing_samples
from salesplan.api.planning.tracking.landing import Adjustments, simulate_landing
from salesplan.scenarios.crm import read_history

REPS = {"Ann": "North", "Bob": "North", "Cid": "South", "Dee": "South"}


def _random_history(folder, seed: int, n: int, open_share: float):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        created = pd.Timestamp("2021-01-01") + pd.Timedelta(days=int(rng.integers(0, 200)))
        rep = list(REPS)[int(rng.integers(0, 4))]
        product = ["Widget", "Gadget"][int(rng.integers(0, 2))]
        closed = created + pd.Timedelta(days=int(rng.integers(1, 90)))
        is_open = rng.random() < open_share or closed > pd.Timestamp("2021-09-30")
        won = rng.random() < 0.55
        rows.append({"opportunity_id": f"X{i}", "sales_agent": rep, "product": product,
                     "deal_stage": "Engaging" if is_open else ("Won" if won else "Lost"),
                     "engage_date": created.date().isoformat(),
                     "close_date": "" if is_open else closed.date().isoformat(),
                     "close_value": "" if is_open else (int(rng.integers(100, 3000))
                                                        if won else 0)})
    return read_history(write_history(folder, rows), "maven")


def _all_targets(period: str) -> pd.DataFrame:
    rows = [(period, "rep", r, 5000.0) for r in REPS]
    rows += [(period, "region", g, 10000.0) for g in sorted(set(REPS.values()))]
    rows += [(period, "product", p, 9000.0) for p in ("Gadget", "Widget")]
    rows += [(period, "company", "company", 20000.0)]
    return targets_frame(rows)


def _check_sums(f) -> None:
    t = f.table.reset_index(drop=True)
    x = f.landing
    col = {(r.level, r.id): j for j, r in t.iterrows()}
    for g in sorted(set(REPS.values())):
        reps = [col[("rep", r)] for r, reg in REPS.items() if reg == g]
        np.testing.assert_allclose(x[:, reps].sum(axis=1), x[:, col[("region", g)]])
    regions = [col[("region", g)] for g in sorted(set(REPS.values()))]
    np.testing.assert_allclose(x[:, regions].sum(axis=1), x[:, col[("company", "company")]])
    products = [col[("product", p)] for p in ("Gadget", "Widget")]
    np.testing.assert_allclose(x[:, products].sum(axis=1), x[:, col[("company", "company")]])


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(60, 160),
       open_share=st.floats(0.0, 0.4), asof_day=st.integers(0, 60),
       period=st.sampled_from(["2021Q3", "2021-08", "2021"]))
def test_reps_add_up_to_regions_and_company_in_every_replication(tmp_path, seed, n,
                                                                  open_share, asof_day,
                                                                  period):
    h = _random_history(tmp_path / f"h{seed}", seed, n, open_share)
    asof = pd.Timestamp("2021-07-01") + pd.Timedelta(days=asof_day)
    f = forecast(h, asof, _all_targets(period), replications=40, seed=seed)
    _check_sums(f)
    # a landing is never below the won to date
    assert (f.landing >= f.table["won_to_date"].to_numpy()[None, :] - 1e-6).all()


def test_more_leads_and_better_conversion_never_land_lower(tmp_path):
    """On common random numbers, a higher arrival rate or won probability gives at least the
    base landing of the current quarter in every replication (the quarter started before the
    as-of date, so a deal won earlier stays inside it)."""
    h = _random_history(tmp_path / "h", 5, 220, 0.3)
    f = forecast(h, "2021-08-10", _all_targets("2021Q3"), replications=200, seed=2)
    m = f.model
    for adj in (Adjustments(rate_factor=np.full(len(m.unit), 1.5)),
                Adjustments(deal_factor=np.full(m.open_cum.shape[0], 1.3),
                            win_factor=np.full(len(m.unit), 1.3))):
        won = simulate_landing(m, f.draws, adj)
        variant = landing_samples(f.state, m, won, f.targets)
        assert (variant >= f.landing - 1e-6).all()
        assert (variant > f.landing + 1e-6).any()
