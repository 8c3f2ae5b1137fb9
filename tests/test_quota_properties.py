"""Hypothesis invariants of every quota plan, checked from the outputs (not the plan's own
reconcile): totals conserved exactly at every level for every method, pins held exactly, bounds
held, rounding exact. Where the allocation refuses (infeasible), an independent interval check
confirms that the pins and bounds really cannot hold."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_quota_support import lognormal_samples, scenario_docs

from salesplan.optimizer.quotas import (
    Bounds,
    InfeasibleQuotaError,
    Pin,
    allocate_quotas,
    method_names,
)
from salesplan.scenarios import Scenario
from salesplan.scenarios.calendar import month_labels

BYS = [("product", "segment", "month"), ("category", "quarter"), ("segment", "week"), (),
       ("product",)]


@st.composite
def requests(draw: st.DrawFn) -> dict:
    doc = draw(scenario_docs())
    sc = Scenario.model_validate(doc)
    method = draw(st.sampled_from(method_names()))
    by = draw(st.sampled_from(BYS))
    req = {
        "scenario": sc, "method": method, "by": by,
        "over_assign": draw(st.sampled_from([1.0, 1.1, 1.25, 0.9, 1.137])),
        "rounding": draw(st.sampled_from([1, 10, 1000, 5000])),
    }
    if method == "fair":
        means = np.array([r.last_bookings or 50_000.0 for r in sc.reps]) + 1.0
        cvs = np.linspace(0.1, 0.8, len(sc.reps))
        req["samples"] = lognormal_samples(means, cvs, 400, draw(st.integers(0, 2**16)))
    if method == "blended":
        req["method_options"] = {"weights": {"even": draw(st.integers(0, 3)),
                                             "potential": draw(st.integers(1, 3)),
                                             "pipeline": draw(st.integers(0, 3))}}
    kw = {}
    use_bounds, use_pins = draw(st.booleans()), draw(st.booleans())
    per_rep = sc.targets.company * req["over_assign"] / len(sc.reps)
    if use_bounds and draw(st.integers(0, 2)) == 0:
        kw["floor"] = float(round(per_rep * draw(st.sampled_from([0.05, 0.3, 0.7]))))
    if use_bounds and draw(st.integers(0, 2)) == 0:
        kw["cap"] = float(round(per_rep * draw(st.sampled_from([0.9, 1.3, 2.0, 5.0]))))
    if use_bounds and draw(st.integers(0, 2)) == 0:
        kw["min_change"] = draw(st.sampled_from([-0.9, -0.5, -0.2]))
    if use_bounds and draw(st.integers(0, 2)) == 0:
        kw["max_change"] = draw(st.sampled_from([0.1, 0.5, 2.0, 10.0]))
    if use_bounds and draw(st.booleans()):  # one rep bounded apart (may cross its band)
        rid = draw(st.sampled_from([r.id for r in sc.reps]))
        if draw(st.booleans()):
            kw["caps"] = {rid: float(round(per_rep * draw(st.sampled_from([0.1, 0.3]))))}
        else:
            kw["floors"] = {rid: float(round(per_rep * draw(st.sampled_from([2.5, 4.0]))))}
    kw["ramp_relief"] = draw(st.booleans())
    kw["peer_band"] = draw(st.sampled_from([(0.5, 2.0), None, (0.0, 3.0), (0.9, 1.1),
                                            (1.0, 1.0), (0.5, math.inf)]))
    req["bounds"] = Bounds(**kw)
    pins = []
    rep_ids = [r.id for r in sc.reps]
    for rid in draw(st.lists(st.sampled_from(rep_ids), max_size=2 * use_pins, unique=True)):
        pins.append(Pin("rep", rid, float(round(per_rep * draw(st.sampled_from([0, 0.3, 0.8,
                                                                                1.0, 3.0]))))))
    if use_pins and len(sc.regions) > 1 and draw(st.integers(0, 3)) == 0:
        g = draw(st.sampled_from(sc.region_ids))
        pins.append(Pin("region", g, float(draw(st.integers(0, int(sc.targets.company)
                                                              // len(sc.regions))))))
    if use_pins and by == ("product", "segment", "month"):
        free = [r for r in rep_ids if r not in {p.id for p in pins}]
        for rid in draw(st.lists(st.sampled_from(free), max_size=2, unique=True)) if free else []:
            pins.append(Pin("cell", rid, float(draw(st.integers(0, 20_000))),
                            product=draw(st.sampled_from(sc.product_ids)),
                            segment=draw(st.sampled_from(sc.segment_ids)),
                            period=draw(st.sampled_from(month_labels(sc.horizon)))))
    req["pins"] = pins
    return req


def peer_means(sc: Scenario, rep_total: pd.Series, ramp: pd.Series,
               use_ramp: bool) -> pd.Series:
    """Each rep's peers' mean quota for its ramp, computed here: its region's rep total times
    its ramp factor over the sum of the region's ramp factors (every factor 1 without ramp
    relief); NaN where a region has nobody in seat."""
    out = {}
    for r in sc.reps:
        members = [m.id for m in sc.reps if m.region == r.region]
        f = {m: (float(ramp[m]) if use_ramp else 1.0) for m in members}
        seats = sum(f.values())
        out[r.id] = float(rep_total[r.region]) * f[r.id] / seats if seats > 0 else math.nan
    return pd.Series(out)


def _own_bounds(sc: Scenario, b: Bounds, ideal: pd.Series, ramp: pd.Series,
                cell_pins: dict[str, float], pinned: set[str], rep_total: pd.Series,
                unit: int) -> pd.DataFrame:
    """Each rep's bounds computed here from the inputs (the oracle); a pin overrides ramp
    relief and the peer band; the band is widened out to the unit's multiples, gives way where
    it crosses the planner's own bounds on the rep, and ramp relief never caps below the peers'
    mean for the rep's ramp."""
    peer = peer_means(sc, rep_total, ramp, b.ramp_relief)
    rows = {}
    for r in sc.reps:
        lo, hi = 0.0, math.inf
        floor, cap = b.floors.get(r.id, b.floor), b.caps.get(r.id, b.cap)
        if floor is not None:
            lo = max(lo, floor)
        if cap is not None:
            hi = min(hi, cap)
        if r.last_quota is not None:
            if b.min_change is not None:
                lo = max(lo, r.last_quota * (1 + b.min_change))
            if b.max_change is not None:
                hi = min(hi, r.last_quota * (1 + b.max_change))
        lo = max(lo, cell_pins.get(r.id, 0.0))
        planner_lo, planner_hi = lo, hi
        band = b.peer_band is not None and r.id not in pinned and math.isfinite(peer[r.id])
        if b.ramp_relief and ramp[r.id] < 1 and r.id not in pinned:
            relief = ideal[r.id]
            if band:
                relief = max(relief, math.ceil(peer[r.id] / unit - 1e-9) * unit)
            hi = min(hi, relief)
        if band:  # the band gives way where it crosses the planner's own bound
            low, high = b.peer_band
            peer_lo = math.floor(low * peer[r.id] / unit + 1e-9) * unit
            peer_hi = (math.ceil(high * peer[r.id] / unit - 1e-9) * unit
                       if math.isfinite(high) else math.inf)
            if peer_lo <= planner_hi + 1e-6:
                lo = max(lo, peer_lo)
            if peer_hi >= planner_lo - 1e-6:
                hi = min(hi, peer_hi)
        rows[r.id] = (lo, hi)
    return pd.DataFrame.from_dict(rows, orient="index", columns=["lo", "hi"])


def _feasible(sc: Scenario, req: dict, base) -> bool:
    """Interval feasibility of the rep level (necessary and sufficient without rounding)."""
    pins = req["pins"]
    cell = {}
    for p in pins:
        if p.level == "cell":
            cell[p.id] = cell.get(p.id, 0.0) + p.value
    fixed = {p.id: p.value for p in pins if p.level == "rep"}
    ob = _own_bounds(sc, req["bounds"], base.reps["ideal"], base.reps["ramp_factor"], cell,
                     set(fixed), base.regions["rep_total"], req["rounding"])
    eps = 1e-6
    for rid, v in fixed.items():
        if not (ob.at[rid, "lo"] - eps <= v <= ob.at[rid, "hi"] + eps):
            return False
    for g, total in base.regions["rep_total"].items():
        members = [r.id for r in sc.reps if r.region == g]
        free = [m for m in members if m not in fixed]
        pinned = sum(fixed[m] for m in members if m in fixed)
        if any(ob.at[m, "lo"] > ob.at[m, "hi"] + eps for m in free):
            return False
        if not free:
            if abs(pinned - total) > 0.5:
                return False
            continue
        if pinned + ob.loc[free, "lo"].sum() > total + 0.5:
            return False
        if pinned + ob.loc[free, "hi"].sum() < total - 0.5:
            return False
    return True


def check_plan(plan, req: dict) -> None:
    sc: Scenario = req["scenario"]
    over, unit = req["over_assign"], req["rounding"]
    target = round(sc.targets.company)
    reg, reps, cells = plan.regions, plan.reps, plan.quotas
    # company -> region -> rep -> cells, exactly
    assert int(reg["target"].sum()) == target == plan.target
    assert plan.total_quota == round(over * target) == int(reg["rep_total"].sum())
    assert (np.abs(reg["rep_total"] - over * reg["target"]) < 1.0).all()
    by_region = reps.groupby("region")["quota"].sum().reindex(reg.index, fill_value=0)
    assert (by_region == reg["rep_total"]).all()
    by_rep = cells.groupby("rep")["quota"].sum().reindex(reps.index, fill_value=0)
    assert (by_rep == reps["quota"]).all()
    assert int(cells["quota"].sum()) == plan.total_quota
    assert (cells["quota"] >= 0).all() and cells["quota"].dtype.kind == "i"
    assert (reps["quota"] >= 0).all()
    # intermediate roll-ups (rep x period, rep x product) are sums of the same whole cells
    if {"period"} <= set(cells.columns):
        assert cells.groupby(["rep", "period"])["quota"].sum().groupby("rep").sum().equals(
            by_rep[by_rep.index.isin(cells["rep"])].rename_axis("rep").astype(
                cells["quota"].dtype))
    # rounding: free reps are multiples of the unit but for one remainder holder per region
    pinned_reps = {p.id for p in req["pins"] if p.level == "rep"}
    free = reps[~reps.index.isin(pinned_reps)]
    off = (free["quota"] % unit != 0).groupby(free["region"]).sum()
    assert (off <= 1).all()
    pinned_regions = {p.id for p in req["pins"] if p.level == "region"}
    free_reg = reg[~reg.index.isin(pinned_regions)]
    assert int((free_reg["target"] % unit != 0).sum()) <= 1
    # pins held exactly
    for p in req["pins"]:
        if p.level == "region":
            assert reg.at[p.id, "target"] == p.value
        elif p.level == "rep":
            assert reps.at[p.id, "quota"] == p.value
        else:
            m = ((cells["rep"] == p.id) & (cells["product"] == p.product)
                 & (cells["segment"] == p.segment) & (cells["period"] == p.period))
            assert int(cells.loc[m, "quota"].sum()) == p.value
    # bounds held (computed here from the inputs)
    cell = {}
    for p in req["pins"]:
        if p.level == "cell":
            cell[p.id] = cell.get(p.id, 0.0) + p.value
    ob = _own_bounds(sc, req["bounds"], reps["ideal"], reps["ramp_factor"], cell, pinned_reps,
                     reg["rep_total"], unit)
    q = free["quota"].astype(float)
    assert (q >= ob.loc[free.index, "lo"] - 0.01).all()
    assert (q <= ob.loc[free.index, "hi"] + 0.01).all()


@settings(max_examples=90, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(requests())
def test_every_plan_conserves_holds_pins_and_bounds(req: dict) -> None:
    sc = req["scenario"]
    kwargs = {k: v for k, v in req.items() if k != "scenario"}
    try:
        plan = allocate_quotas(sc, **kwargs)
    except InfeasibleQuotaError as exc:
        region_pins = [p for p in req["pins"] if p.level == "region"]
        base_kw = dict(kwargs, pins=region_pins,
                       bounds=Bounds(ramp_relief=req["bounds"].ramp_relief,
                                     peer_band=req["bounds"].peer_band))
        try:
            base = allocate_quotas(sc, **base_kw)
        except InfeasibleQuotaError as base_exc:
            # the region level (or rounding alone) cannot hold: say so for the same reason
            text = str(base_exc)
            event("infeasible at region level or rounding")
            assert "company target" in text or "rounding" in text
            if "company target" in text:
                total = sum(p.value for p in region_pins)
                assert total > sc.targets.company or len(region_pins) == len(sc.regions)
            return
        if _feasible(sc, req, base):
            # only the whole-unit grid can make a feasible interval problem fail
            event("infeasible by rounding")
            assert req["rounding"] > 1 and all("rounding" in c.where for c in exc.conflicts)
        else:
            event("infeasible pins or bounds")
            assert exc.conflicts and all(c.message for c in exc.conflicts)
        return
    event("feasible")
    if any(n.startswith("peer band: gives way") for n in plan.notes):
        event("the peer band gives way to a planner's bound")
    check_plan(plan, req)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario_docs(), st.sampled_from(["even", "history", "potential", "capacity",
                                         "pipeline", "blended"]),
       st.sampled_from([1, 1000]), st.sampled_from([1.0, 1.2]))
def test_unconstrained_plans_are_the_ideal_rounded(doc: dict, method: str, unit: int,
                                                   over: float) -> None:
    """Without pins or bounds every rep is within two units of its method's ideal (one for the
    rounding, one for the region remainder) and the ideal itself sums to the region total."""
    sc = Scenario.model_validate(doc)
    try:
        plan = allocate_quotas(sc, method, over_assign=over, rounding=unit,
                               bounds=Bounds(ramp_relief=False, peer_band=None))
    except InfeasibleQuotaError:
        # only possible when a region target goes to a region without reps
        assert any(not [r for r in sc.reps if r.region == g] for g in sc.region_ids)
        return
    reps = plan.reps
    ideal_sum = reps.groupby("region")["ideal"].sum()
    assert np.allclose(ideal_sum, plan.regions["rep_total"].reindex(ideal_sum.index),
                       atol=0.05 * len(reps))
    assert (np.abs(reps["quota"] - reps["ideal"]) < 2 * unit + 0.01).all()
    assert plan.solve["rep"].status == "direct"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1e7, allow_nan=False), min_size=1, max_size=30))
def test_apportion_is_exact_and_within_one_unit(values: list[float]) -> None:
    from salesplan.optimizer.quotas.rounding import apportion

    v = np.asarray(values)
    total = round(v.sum())
    got = apportion(v, total)
    assert int(got.sum()) == total
    assert np.all(np.abs(got - v) < 1 + 1e-6)


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 300), st.integers(1, 8), st.floats(0.0, 1.0), st.integers(0, 2**16))
def test_equal_chance_quotas_hit_the_total_at_one_quantile_level(n: int, k: int, frac: float,
                                                                 seed: int) -> None:
    from salesplan.optimizer.quotas import equal_chance_quotas

    rng = np.random.default_rng(seed)
    x = rng.gamma(rng.uniform(0.5, 5, k), rng.uniform(1e3, 1e5, k), size=(n, k))
    x[:, 0] = np.round(x[:, 0], -4)  # ties
    s = np.sort(x, axis=0).sum(axis=1)
    total = s[0] + frac * (s[-1] - s[0])
    q, tau = equal_chance_quotas(x, total)
    assert tau is not None and 0 <= tau <= 1
    assert abs(q.sum() - total) <= 1e-9 * max(total, 1.0)
    # every quota is its own rep's quantile at the same level
    assert np.allclose(q, np.quantile(x, tau, axis=0, method="linear"), rtol=1e-9, atol=1e-6)
