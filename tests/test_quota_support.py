"""Builders shared by the quota tests (no tests here): small scenarios and simulated bookings."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from hypothesis import strategies as st

from salesplan.scenarios import Scenario

BASE: dict[str, Any] = {
    "name": "quota-test",
    "horizon": {"start": "2027-01-01", "months": 12, "currency": "USD"},
    "regions": [{"id": "North"}, {"id": "South"}],
    "segments": [{"id": "SMB"}, {"id": "ENT"}],
    "products": [{"id": "basic", "category": "Software", "list_price": 1000.0},
                 {"id": "pro", "category": "Software", "list_price": 4000.0},
                 {"id": "svc", "category": "Services", "list_price": 2000.0}],
    "stages": [{"name": "lead", "conversion": 0.5,
                "duration": {"dist": "exponential", "mean": 5.0}},
               {"name": "proposal", "conversion": 0.4,
                "duration": {"dist": "exponential", "mean": 10.0}}],
    "lead_sources": [
        {"id": "n-smb", "region": "North", "segment": "SMB", "leads_per_month": 40,
         "product_mix": {"basic": 3, "pro": 1}},
        {"id": "n-ent", "region": "North", "segment": "ENT", "leads_per_month": 10,
         "product_mix": {"pro": 1, "svc": 1}},
        {"id": "s-smb", "region": "South", "segment": "SMB", "leads_per_month": 40,
         "product_mix": {"basic": 1}},
    ],
    "reps": [
        {"id": "N1", "region": "North", "last_quota": 400000, "last_bookings": 380000},
        {"id": "N2", "region": "North", "last_quota": 300000, "last_bookings": 330000},
        {"id": "N3", "region": "North", "segments": ["SMB"], "last_quota": 200000,
         "last_bookings": 150000},
        {"id": "S1", "region": "South", "last_quota": 500000, "last_bookings": 520000},
        {"id": "S2", "region": "South", "start_date": "2027-04-01", "ramp_months": 3},
    ],
    "accounts": [
        {"id": "a1", "region": "North", "segment": "SMB", "lat": 0, "lon": 0,
         "potential": 300000, "owner": "N1"},
        {"id": "a2", "region": "North", "segment": "ENT", "lat": 0, "lon": 0,
         "potential": 100000, "owner": "N1"},
        {"id": "a3", "region": "North", "segment": "SMB", "lat": 0, "lon": 0,
         "potential": 200000, "owner": "N2"},
        {"id": "a4", "region": "North", "segment": "SMB", "lat": 0, "lon": 0,
         "potential": 400000, "owner": "N3"},
        {"id": "a5", "region": "South", "segment": "SMB", "lat": 0, "lon": 0,
         "potential": 600000, "owner": "S1"},
        {"id": "a6", "region": "South", "segment": "ENT", "lat": 0, "lon": 0,
         "potential": 200000, "owner": "S2"},
    ],
    "initial_pipeline": [
        {"id": "d1", "stage": "lead", "owner": "N1", "value": 100000},
        {"id": "d2", "stage": "proposal", "owner": "N2", "value": 100000},
        {"id": "d3", "stage": "proposal", "owner": "S1", "value": 50000},
        {"id": "d4", "stage": "lead", "owner": "S2", "product": "pro"},
    ],
    "targets": {"company": 1_500_000, "by_region": {"North": 0.6, "South": 0.4},
                "seasonality": [0.2, 0.25, 0.25, 0.3]},
}


def scenario(**sections: Any) -> Scenario:
    """The base scenario above with top-level sections replaced."""
    doc = copy.deepcopy(BASE)
    doc.update(copy.deepcopy(sections))
    return Scenario.model_validate(doc)


def lognormal_samples(means: np.ndarray, cvs: np.ndarray, n: int, seed: int) -> np.ndarray:
    """(n x reps) lognormal draws with the given means and coefficients of variation."""
    rng = np.random.default_rng(seed)
    sig = np.sqrt(np.log1p(np.asarray(cvs, dtype=float) ** 2))
    mu = np.log(np.asarray(means, dtype=float)) - sig**2 / 2
    return np.exp(mu + sig * rng.standard_normal((n, len(means))))


@st.composite
def scenario_docs(draw: st.DrawFn) -> dict[str, Any]:
    """Random small scenarios: 1-3 regions, 1-5 reps each, optional history, new hires, accounts
    with zero or positive potential, seasonality of 4 or 12 or none, optional product split."""
    months = draw(st.sampled_from([3, 6, 12]))
    start_month = draw(st.integers(1, 12))
    n_regions = draw(st.integers(1, 3))
    regions = [f"G{g}" for g in range(n_regions)]
    reps, accounts, deals = [], [], []
    for g in regions:
        for k in range(draw(st.integers(1, 5))):
            rid = f"{g}-R{k}"
            rep: dict[str, Any] = {"id": rid, "region": g,
                                   "attrition_monthly": draw(st.sampled_from([0.0, 0.02]))}
            if draw(st.booleans()):
                rep["last_quota"] = float(draw(st.integers(0, 2_000_000)))
            if draw(st.booleans()):
                rep["last_bookings"] = float(draw(st.integers(0, 2_000_000)))
            if draw(st.integers(0, 4)) == 0:
                m0 = draw(st.integers(0, months + 1))
                y, mm = divmod(start_month - 1 + m0, 12)
                rep["start_date"] = f"{2027 + y}-{mm + 1:02d}-{draw(st.integers(1, 28)):02d}"
                rep["ramp_months"] = float(draw(st.integers(0, 6)))
            if draw(st.booleans()):
                rep["segments"] = ["SMB"]
            reps.append(rep)
            for a in range(draw(st.integers(0, 3))):
                accounts.append({"id": f"{rid}-a{a}", "region": g,
                                 "segment": draw(st.sampled_from(["SMB", "ENT"])),
                                 "lat": 0, "lon": 0,
                                 "potential": float(draw(st.integers(0, 1_000_000))),
                                 "owner": rid})
            if draw(st.booleans()):
                deals.append({"id": f"{rid}-d", "stage": draw(st.sampled_from(["lead",
                                                                               "proposal"])),
                              "owner": rid, "value": float(draw(st.integers(1, 500_000)))})
    weights = [draw(st.integers(1, 10)) for _ in regions]
    shares = [w / sum(weights) for w in weights]
    shares[-1] = 1.0 - sum(shares[:-1])
    season = draw(st.sampled_from([None, 4, 12]))
    targets: dict[str, Any] = {
        "company": float(draw(st.integers(10_000, 50_000_000))) + draw(st.sampled_from([0, 0.4])),
        "by_region": dict(zip(regions, shares, strict=True)),
    }
    if season:
        targets["seasonality"] = [float(draw(st.integers(1, 5))) for _ in range(season)]
    if draw(st.booleans()):
        targets["by_product"] = {"basic": 0.5, "pro": 0.3, "svc": 0.2}
    doc = copy.deepcopy(BASE)
    doc.update({
        "horizon": {"start": f"2027-{start_month:02d}-01", "months": months, "currency": "USD"},
        "regions": [{"id": g} for g in regions],
        "lead_sources": [{"id": f"{g}-src", "region": g, "segment": "SMB",
                          "leads_per_month": 10, "product_mix": {"basic": 2, "svc": 1}}
                         for g in regions[:1]],
        "reps": reps, "accounts": accounts, "initial_pipeline": deals, "targets": targets,
    })
    return doc
