"""Rebuild the shipped example scenarios from the project's own data, bit for bit.

    python -m salesplan.scenarios.examples.build    # rewrites midmarket*.{yaml,csv},
    small*.{yaml,csv}

``midmarket``: a mid-market B2B company with 4 regions (US census regions), about 40 reps and
2,000 accounts placed on the centroids of the 2,000 most populous counties of the lower 48 states
(``scenarios/data/us_counties.csv``, US Census Bureau 2010 Gazetteer, public domain). Account
potential is driven by population (with seeded lognormal noise); funnel parameters follow the
ranges of the Maven Analytics CRM sample (public domain): about 60% of qualified (needs-analysis)
opportunities are won, won deals take about 50 days from first contact, deal sizes range from
about 1,000 to 27,000 USD across three products.

``small``: 2 regions, 6 reps, 100 accounts, for fast tests and for reading.

Everything is drawn from ``numpy.random.default_rng(SEED)``; the test suite checks that running
this module reproduces the committed files exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from salesplan.scenarios.geo import haversine_km
from salesplan.scenarios.io import dump_scenario
from salesplan.scenarios.model import Scenario

HERE = Path(__file__).resolve().parent
COUNTIES = HERE.parent / "data" / "us_counties.csv"
SEED = 20270101

# Company targets, "ambitious but reachable": set a little above the simulated mean bookings so
# that P(hit) is roughly 0.4. Measured with
#   salesplan simulate scenarios/examples/<name>.yaml --replications 200 --seed 1
# (midmarket: mean about 27.5M USD, sd about 0.8M; small: mean about 1.59M, sd about 0.13M,
# with rep-sourced deals and overflow routing).
# The back-of-envelope figure (leads x stage rates x deal size, no queueing) is higher because
# it ignores capacity queues, lead-response decay, ramp and attrition.
MIDMARKET_TARGET = 27_700_000.0
WEAKEST_REGION = "West"
SMALL_TARGET = 1_620_000.0

# How the examples' reps work: a lead its owner cannot contact within two days goes to a free
# colleague (speed to lead); reps source part of their pipeline themselves (outbound,
# referrals, expansion), entering at the first stage, up to what their accounts can yield.
OVERFLOW_WAIT_DAYS = 2.0
MIDMARKET_SOURCING = {"per_rep_per_month": 18.0, "entry_stage": "lead",
                      "per_account_per_year": 40.0}
SMALL_SOURCING = {"per_rep_per_month": 6.0, "per_account_per_year": 30.0}
CENSUS_REGION = {
    "East": "CT ME MA NH RI VT NJ NY PA",
    "Central": "IL IN MI OH WI IA KS MN MO NE ND SD",
    "South": "DE FL GA MD NC SC VA DC WV AL KY MS TN AR LA OK TX",
    "West": "AZ CO ID MT NV NM UT WY CA OR WA",
}
STATE_REGION = {st: reg for reg, states in CENSUS_REGION.items() for st in states.split()}

SEGMENTS = ["SMB", "MidMarket", "Enterprise"]
PRODUCTS = [
    # id, name, category, mean deal size (USD), cv
    ("essentials", "Essentials", "Software", 1_100.0, 0.20),
    ("professional", "Professional", "Software", 5_000.0, 0.25),
    ("suite", "Enterprise Suite", "Platform", 26_000.0, 0.30),
]
PRODUCT_MIX = {
    "SMB": {"essentials": 0.70, "professional": 0.28, "suite": 0.02},
    "MidMarket": {"essentials": 0.35, "professional": 0.50, "suite": 0.15},
    "Enterprise": {"essentials": 0.10, "professional": 0.40, "suite": 0.50},
}
STAGES = [
    # name, conversion, mean days, cv
    ("lead", 0.55, 3.0, 0.8),
    ("contact", 0.65, 5.0, 0.6),
    ("needs_analysis", 0.85, 10.0, 0.5),
    ("proposal", 0.82, 14.0, 0.5),
    ("negotiation", 0.90, 12.0, 0.5),
    ("contract", 0.95, 6.0, 0.4),
]
SEASONALITY = [0.85, 0.90, 1.05, 1.00, 1.00, 0.95, 0.85, 0.85, 1.05, 1.15, 1.15, 1.10]
GRADES = [("A", 0.15, 2.0), ("B", 0.35, 1.2), ("C", 0.35, 0.8), ("D", 0.15, 0.5)]


def catalogue_docs() -> dict:
    """The segments, products (with deal-size distributions) and lead grades shared by the
    examples and :mod:`salesplan.scenarios.generator`, as scenario-document sections."""
    return {
        "segments": [{"id": "SMB", "name": "Small business"},
                     {"id": "MidMarket", "name": "Mid-market"},
                     {"id": "Enterprise", "name": "Enterprise"}],
        "products": [{"id": pid, "name": name, "category": cat, "list_price": mean,
                      "deal_size": {"dist": "lognormal", "mean": mean, "cv": cv}}
                     for pid, name, cat, mean, cv in PRODUCTS],
        "grades": [{"grade": g, "share": s, "conversion_multiplier": m} for g, s, m in GRADES],
    }


def _stage_docs(enterprise_slowdown: float = 1.4) -> list[dict]:
    stages = []
    for name, conv, mean, cv in STAGES:
        st = {"name": name, "conversion": conv,
              "duration": {"dist": "lognormal", "mean": mean, "cv": cv}}
        if name in ("proposal", "negotiation"):
            st["overrides"] = [{"segment": "Enterprise", "conversion": round(conv - 0.07, 2),
                                "duration": {"dist": "lognormal",
                                             "mean": round(mean * enterprise_slowdown, 1),
                                             "cv": cv}}]
        stages.append(st)
    return stages


def _pick_homes(counties: pd.DataFrame, n: int, min_km: float) -> pd.DataFrame:
    """The ``n`` most populous counties at least ``min_km`` apart (greedy)."""
    chosen: list[int] = []
    for idx, row in counties.sort_values("population", ascending=False).iterrows():
        if all(haversine_km(row.lat, row.lon, counties.at[j, "lat"], counties.at[j, "lon"])
               >= min_km for j in chosen):
            chosen.append(idx)
        if len(chosen) == n:
            break
    return counties.loc[chosen]


def _county_accounts(rng: np.random.Generator) -> pd.DataFrame:
    """The 2,000 most populous counties of the lower 48 (sorted by ``geoid``) with
    ``region``, ``potential`` (USD/year: population x 0.45 x lognormal noise, one draw per
    county), ``segment`` (top 15% Enterprise, next 35% MidMarket) and ``workload_hours``."""
    counties = pd.read_csv(COUNTIES, dtype={"geoid": str})
    counties = counties[counties.state.isin(STATE_REGION)].copy()
    counties["region"] = counties.state.map(STATE_REGION)
    counties = counties.nlargest(2000, "population").sort_values("geoid").reset_index(drop=True)
    noise = rng.lognormal(-0.045, 0.3, len(counties))
    counties["potential"] = np.round(counties.population * 0.45 * noise, -2)
    ranks = counties.potential.rank(pct=True, method="first")
    counties["segment"] = np.where(ranks > 0.85, "Enterprise",
                                   np.where(ranks > 0.50, "MidMarket", "SMB"))
    base_hours = counties.segment.map({"SMB": 12.0, "MidMarket": 25.0, "Enterprise": 60.0})
    counties["workload_hours"] = np.round(base_hours + counties.potential / 50_000, 1)
    return counties


def _midmarket_reps(counties: pd.DataFrame, share: pd.Series,
                    rng: np.random.Generator) -> list[dict]:
    """40 seats split by potential ``share`` (region -> share; at least 4 per region), homes
    at populous counties 120 km apart; a quarter of each region's seats are Enterprise AEs; one
    productivity draw per rep, in id order; the last rep a recent hire still ramping."""
    seats = {r: max(4, round(40 * float(share[r]))) for r in CENSUS_REGION}
    reps = []
    n = 0
    for region in CENSUS_REGION:
        homes = _pick_homes(counties[counties.region == region], seats[region], 120.0)
        n_ent = max(1, round(seats[region] / 4))
        for k, (_, home) in enumerate(homes.iterrows()):
            n += 1
            enterprise = k < n_ent
            reps.append({
                "id": f"R-{n:02d}",
                "name": f"{home['name']} ({home.state})",
                "region": region,
                "role": "Enterprise AE" if enterprise else "AE",
                "segments": ["Enterprise"] if enterprise else ["SMB", "MidMarket"],
                "capacity": 30 if enterprise else 40,
                "productivity": float(np.round(rng.lognormal(0.0, 0.12), 2)),
                "start_date": None,
                "ramp_months": 0.0,
                "attrition_monthly": 0.015,
                "cost_annual": 180_000.0 if enterprise else 140_000.0,
                "lat": float(home.lat),
                "lon": float(home.lon),
            })
    # one recent hire still ramping at the horizon start
    reps[-1] |= {"start_date": "2026-11-01", "ramp_months": 4.0}
    return reps


def _midmarket_accounts(counties: pd.DataFrame, reps: list[dict]) -> list[dict]:
    """Set ``owner`` (the nearest rep of the account's region with the segment skill) and
    ``locked`` (the 10 largest accounts) on ``counties``; return the accounts section."""
    rep_df = pd.DataFrame(reps)
    owners = []
    for _, acc in counties.iterrows():
        cand = rep_df[(rep_df.region == acc.region)
                      & rep_df.segments.apply(lambda s, seg=acc.segment: seg in s)]
        d = haversine_km(acc.lat, acc.lon, cand.lat.to_numpy(), cand.lon.to_numpy())
        owners.append(cand.id.iloc[int(np.argmin(d))])
    counties["owner"] = owners
    counties["locked"] = False
    counties.loc[counties.potential.rank(ascending=False, method="first") <= 10, "locked"] = True
    return [{
        "id": f"A-{row.geoid}",
        "name": f"{row['name']}, {row.state}",
        "region": row.region, "segment": row.segment,
        "lat": float(row.lat), "lon": float(row.lon),
        "potential": float(row.potential), "workload_hours": float(row.workload_hours),
        "owner": row.owner, "locked": bool(row.locked),
    } for _, row in counties.iterrows()]


def _midmarket_sources(share: pd.Series) -> list[dict]:
    """Lead sources: region x segment, inbound (marketing) leads, about 16,000 a year shared by
    potential; the reps source the rest of the pipeline themselves (the sourcing policy)."""
    seg_share = {"SMB": 0.55, "MidMarket": 0.32, "Enterprise": 0.13}
    channel_share = {"inbound": 0.65}
    sources = []
    for region in CENSUS_REGION:
        for seg in SEGMENTS:
            for channel, c_share in channel_share.items():
                lpm = 25_000 / 12 * share[region] * seg_share[seg] * c_share
                sources.append({
                    "id": f"{region.lower()}-{seg.lower()}-{channel}",
                    "region": region, "segment": seg, "channel": channel,
                    "leads_per_month": round(float(lpm), 1),
                    "seasonality": SEASONALITY,
                    "annual_growth": 0.05,
                    "product_mix": PRODUCT_MIX[seg],
                })
    return sources


def _add_last_bookings(reps: list[dict], counties: pd.DataFrame,
                       rng: np.random.Generator) -> None:
    """Last period's bookings per rep (USD, for history-based quotas): owned potential share x
    lognormal noise (one draw per rep, in id order); last year was about 8% below this year's
    target."""
    owned = counties.groupby("owner").potential.sum()
    last_total = MIDMARKET_TARGET / 1.08
    for rep in reps:
        pot = float(owned.get(rep["id"], 0.0))
        rep["last_bookings"] = float(np.round(
            last_total * pot / counties.potential.sum() * rng.lognormal(0, 0.15), -3))


def _midmarket_targets(share: pd.Series) -> dict:
    """The company target, region shares (rounded to 4 places, the largest region taking the
    difference so they sum to exactly 1) and quarterly seasonality."""
    by_region = {r: round(float(share[r]), 4) for r in CENSUS_REGION}
    largest = max(by_region, key=by_region.get)  # type: ignore[arg-type]
    by_region[largest] = round(1.0 - sum(v for k, v in by_region.items() if k != largest), 4)
    return {"company": MIDMARKET_TARGET, "by_region": by_region,
            "seasonality": [0.22, 0.24, 0.25, 0.29]}


# Pay plans (docs/compensation.md): on-target earnings about a fifth of a typical quota (quotas of
# 4-6x OTE are the practitioners' norm), a 50/50 pay mix, nothing below half of quota, an
# accelerator above quota and a cap, paid quarterly with a cumulative true-up; new hires get a
# three-month draw. Budgets: midmarket's is about the simulated P90 of total pay under the
# default quotas (salesplan comp, 100 replications, seed 1: mean 6.86M USD), small's likewise.
MIDMARKET_COMP = {
    "plans": [
        {"role": "Enterprise AE", "ote": 240_000.0, "mix": 0.5, "threshold": 0.5,
         "rates": [{"above": 0.0, "rate": 1.0}, {"above": 1.0, "rate": 1.75},
                   {"above": 2.0, "rate": 1.0}],
         "cap": 3.0, "period": "quarter", "product_weights": {"essentials": 0.5},
         "draw": {"months": 3, "share": 1.0}},
        {"role": "AE", "ote": 140_000.0, "mix": 0.5, "threshold": 0.5,
         "rates": [{"above": 0.0, "rate": 1.0}, {"above": 1.0, "rate": 1.5}],
         "cap": 3.0, "period": "quarter", "draw": {"months": 3, "share": 1.0}},
    ],
    "spifs": [{"name": "suite-q4", "product": "suite", "start": "2027-10", "end": "2027-12",
               "per_deal": 1_000.0}],
    "budget": 7_000_000.0,
}
SMALL_COMP = {
    "plans": [{"role": "AE", "ote": 60_000.0, "mix": 0.5, "threshold": 0.5,
               "rates": [{"above": 0.0, "rate": 1.0}, {"above": 1.0, "rate": 1.5}],
               "cap": 3.0, "period": "quarter", "draw": {"months": 3, "share": 1.0}}],
    "spifs": [{"name": "premium-q2", "product": "premium", "start": "2027-04",
               "end": "2027-06", "per_deal": 300.0}],
    "budget": 380_000.0,
}


def _midmarket_variants() -> list[dict]:
    """The what-if variants. The weakest region: the one furthest below its share of the
    target in the base simulation (West: about 10% short; measured with salesplan whatif, 200
    replications)."""
    weakest = WEAKEST_REGION
    return [
        {"name": "hire-weakest", "description": f"Hire 3 reps in {weakest} (the region "
         "furthest below its share of the target) from month 4, ramping over 4 months",
         "levers": [{"lever": "hire", "region": weakest, "count": 3, "start_month": 4,
                     "ramp_months": 4.0}]},
        {"name": "leads-minus-20", "description": "Lead volume drops 20% everywhere",
         "levers": [{"lever": "lead_volume", "factor": 0.8}]},
        {"name": "proposal-plus-10", "description": "Proposal-stage conversion +10%",
         "levers": [{"lever": "conversion", "stage": "proposal", "factor": 1.1}]},
        {"name": "target-plus-15", "description": "Raise the company target by 15%",
         "levers": [{"lever": "target", "factor": 1.15}]},
        {"name": "lose-top-rep", "description": "Our top rep (by expected bookings) leaves in "
         "June; the seat is refilled after the usual lag",
         "levers": [{"lever": "departure", "top": 1, "month": 6}]},
        {"name": "route-least-loaded", "description": "Route every lead to the least-loaded "
         "eligible rep instead of its territory owner",
         "levers": [{"lever": "routing", "strategy": "least_loaded"}]},
        {"name": "accelerator-2x", "description": "Pay twice the base rate above quota, "
         "uncapped (bookings do not change: the model has no effort response to pay)",
         "levers": [{"lever": "pay_plan", "accelerator": 2.0, "uncapped": True}]},
    ]


def build_midmarket(out_dir: Path = HERE) -> list[Path]:
    """Write ``midmarket.yaml`` with ``midmarket_reps.csv`` and ``midmarket_accounts.csv``.
    The random draws, in order: county potential noise, rep productivity, last bookings."""
    rng = np.random.default_rng(SEED)
    counties = _county_accounts(rng)
    share = counties.groupby("region").potential.sum() / counties.potential.sum()
    reps = _midmarket_reps(counties, share, rng)
    accounts = _midmarket_accounts(counties, reps)
    sources = _midmarket_sources(share)
    _add_last_bookings(reps, counties, rng)
    doc = {
        "name": "midmarket",
        "description": (
            "A mid-market B2B software company: 4 US regions, ~40 reps, 2,000 accounts on real "
            "county centroids (US Census 2010), 3 products, 3 segments, 6 funnel stages, "
            "~16,700 inbound leads a year and reps who source their own deals; funnel ranges "
            "from the Maven CRM sample."),
        "horizon": {"start": "2027-01-01", "months": 12, "currency": "USD"},
        "regions": [{"id": r, "name": f"{r} region"} for r in CENSUS_REGION],
        **catalogue_docs(),
        "stages": _stage_docs(),
        "lead_sources": sources,
        "reps": reps,
        "accounts": accounts,
        "targets": _midmarket_targets(share),
        "policies": {
            "routing": "territory_owner",
            "overflow_wait_days": OVERFLOW_WAIT_DAYS,
            "response_half_life_days": 21.0,
            "attrition": {"open_deals": "reassign", "backfill": True, "backfill_lag_months": 2.0,
                          "backfill_ramp_months": 4.0},
            "sourcing": MIDMARKET_SOURCING,
            "warmup_months": 3,
        },
        "compensation": MIDMARKET_COMP,
        "variants": _midmarket_variants(),
    }
    scenario = Scenario.model_validate(doc)
    return dump_scenario(scenario, out_dir / "midmarket.yaml", tables="csv")


SMALL_REGIONS = {"North": (44.0, -93.0), "South": (32.0, -90.0)}  # region -> centre (lat, lon)


def _small_reps() -> list[dict]:
    """Three reps per region around its centre; every third serves Enterprise too; R6 a new
    hire starting in February (no random draws)."""
    reps = []
    seats = [(r, c) for r, c in SMALL_REGIONS.items() for _ in range(3)]
    for i, (region, (lat, lon)) in enumerate(seats):
        reps.append({"id": f"R{i + 1}", "region": region,
                     "segments": ["SMB", "Enterprise"] if i % 3 == 0 else ["SMB"],
                     "capacity": 12, "productivity": [1.0, 1.2, 0.8][i % 3],
                     "ramp_months": 3.0 if i == 5 else 0.0,
                     "start_date": "2027-02-01" if i == 5 else None,
                     "attrition_monthly": 0.01, "cost_annual": 120_000.0,
                     "lat": lat + (i % 3 - 1) * 1.5, "lon": lon + (i % 3 - 1) * 2.0,
                     "last_bookings": [230_000.0, 270_000.0, 180_000.0][i % 3]})
    return reps


def _small_accounts(reps: list[dict], rng: np.random.Generator) -> list[dict]:
    """50 accounts per region scattered around its centre, every tenth Enterprise, owned by
    the nearest rep (already started) with the skill; an account nearer to the planned hire R6
    is handed over to it on its start date (R6 owns it; the nearest started rep works it until
    then). Per account, in order: latitude, longitude, potential and workload draws."""
    accounts = []
    for k in range(100):
        region = "North" if k < 50 else "South"
        lat0, lon0 = SMALL_REGIONS[region]
        seg = "Enterprise" if k % 10 == 0 else "SMB"
        region_reps = [r for r in reps if r["region"] == region and seg in r["segments"]
                       and r["start_date"] is None]
        lat = float(np.round(lat0 + rng.normal(0, 1.8), 4))
        lon = float(np.round(lon0 + rng.normal(0, 2.5), 4))
        owner = min(region_reps, key=lambda r, la=lat, lo=lon: (r["lat"] - la) ** 2
                    + (r["lon"] - lo) ** 2)["id"]
        hire = _nearer_hire(reps, region, seg, lat, lon, owner)
        accounts.append({"id": f"A{k + 1:03d}", "region": region, "segment": seg,
                         "lat": lat, "lon": lon,
                         "potential": float(np.round(rng.lognormal(11.5, 0.6), -2)),
                         "workload_hours": float(np.round(rng.uniform(10, 40), 1)),
                         "owner": hire or owner, "locked": k == 0,
                         "previous_owner": owner if hire else None})
    return accounts


def _nearer_hire(reps: list[dict], region: str, seg: str, lat: float, lon: float,
                 owner: str) -> str | None:
    """The planned hire of the region serving ``seg`` nearer to (lat, lon) than ``owner``."""
    by_id = {r["id"]: r for r in reps}

    def d2(r: dict) -> float:
        return (r["lat"] - lat) ** 2 + (r["lon"] - lon) ** 2

    hires = [r for r in reps if r["region"] == region and seg in r["segments"]
             and r["start_date"] is not None and d2(r) < d2(by_id[owner])]
    return min(hires, key=d2)["id"] if hires else None


def _small_catalogue() -> dict:
    """The small example's segments, products, stages and grades."""
    return {
        "segments": [{"id": "SMB"}, {"id": "Enterprise"}],
        "products": [
            {"id": "basic", "category": "Software", "list_price": 2_000.0,
             "deal_size": {"dist": "gamma", "mean": 2_000.0, "cv": 0.3}},
            {"id": "premium", "category": "Software", "list_price": 12_000.0,
             "deal_size": {"dist": "lognormal", "mean": 12_000.0, "cv": 0.4},
             "deal_size_by_segment": {"Enterprise": {"dist": "lognormal", "mean": 20_000.0,
                                                     "cv": 0.4}}},
        ],
        "stages": [
            {"name": "lead", "conversion": 0.5, "duration": {"dist": "exponential", "mean": 3.0}},
            {"name": "qualified", "conversion": 0.6,
             "duration": {"dist": "gamma", "mean": 10.0, "cv": 0.6}},
            {"name": "proposal", "conversion": 0.7,
             "duration": {"dist": "lognormal", "mean": 14.0, "cv": 0.5},
             "overrides": [{"segment": "Enterprise", "conversion": 0.6,
                            "duration": {"dist": "lognormal", "mean": 21.0, "cv": 0.5}}]},
        ],
        "grades": [{"grade": "A", "share": 0.3, "conversion_multiplier": 1.5},
                   {"grade": "B", "share": 0.5, "conversion_multiplier": 1.0},
                   {"grade": "C", "share": 0.2, "conversion_multiplier": 0.6}],
    }


def build_small(out_dir: Path = HERE) -> list[Path]:
    """Write ``small.yaml`` with ``small_accounts.csv``."""
    rng = np.random.default_rng(SEED + 1)
    reps = _small_reps()
    doc = {
        "name": "small",
        "description": "Two regions, six reps, 100 accounts: small enough to read and to test.",
        "horizon": {"start": "2027-01-01", "months": 12, "currency": "USD"},
        "regions": [{"id": "North"}, {"id": "South"}],
        **_small_catalogue(),
        "lead_sources": [
            {"id": f"{r.lower()}-{s.lower()}", "region": r, "segment": s, "channel": "inbound",
             "leads_per_month": 40.0 if s == "SMB" else 8.0,
             "seasonality": SEASONALITY, "annual_growth": 0.0,
             "product_mix": {"basic": 0.8, "premium": 0.2} if s == "SMB"
             else {"basic": 0.2, "premium": 0.8}}
            for r in SMALL_REGIONS for s in ("SMB", "Enterprise")],
        "reps": reps,
        "accounts": _small_accounts(reps, rng),
        "targets": {"company": SMALL_TARGET, "by_region": {"North": 0.5, "South": 0.5},
                    "seasonality": [0.25, 0.25, 0.25, 0.25]},
        "policies": {"routing": "territory_owner", "overflow_wait_days": OVERFLOW_WAIT_DAYS,
                     "response_half_life_days": 14.0,
                     "attrition": {"open_deals": "reassign", "backfill_lag_months": 1.0},
                     "sourcing": SMALL_SOURCING, "warmup_months": 0},
        "initial_pipeline": [
            {"id": f"D{k + 1}", "stage": ["lead", "qualified", "proposal"][k % 3],
             "age_days": float(5 + 4 * k), "owner": f"R{k % 5 + 1}",
             "segment": "SMB", "product": "basic", "value": 2_000.0 + 100 * k}
            for k in range(8)],
        "compensation": SMALL_COMP,
        "variants": [
            {"name": "hire-south", "description": "Hire 1 rep in South from month 3",
             "levers": [{"lever": "hire", "region": "South", "count": 1, "start_month": 3}]},
            {"name": "leads-minus-20", "description": "Lead volume -20%",
             "levers": [{"lever": "lead_volume", "factor": 0.8}]},
        ],
    }
    scenario = Scenario.model_validate(doc)
    return dump_scenario(scenario, out_dir / "small.yaml", tables=["accounts"])


def main(out_dir: Path = HERE) -> list[Path]:
    return build_midmarket(out_dir) + build_small(out_dir)


if __name__ == "__main__":
    for p in main():
        print(p)
