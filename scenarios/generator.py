"""Seeded generator of county-based pipeline scenarios, for benchmark instance sets.

    from salesplan.scenarios.generator import GeneratorSpec, generate_scenario
    sc = generate_scenario(GeneratorSpec(name="small", reps=12, accounts=300,
                                         regions=("East", "Central"), leads_per_year=4000,
                                         stages=4), seed=11)

The scenario is a pure function of ``(spec, seed)``: every random draw comes from
``numpy.random.default_rng(seed)`` in a fixed order, so an instance is rebuilt bit for bit from
its spec and seed (the instance set records both).

The recipe follows the shipped ``midmarket`` example (``scenarios/examples/build.py``):

- **Accounts** are US counties (US Census 2010 Gazetteer, public domain,
  ``scenarios/data/us_counties.csv``) of the chosen census regions: the ``accounts`` most
  populous (at most every county of those regions: more is an error). Potential (USD/year) is
  population x 0.45 x lognormal noise (sd 0.3 on the log scale); the top 15% by potential are
  Enterprise, the next 35% MidMarket, the rest SMB; workload hours = 12 / 25 / 60 by segment +
  potential / 50,000.
- **Reps**: ``reps`` seats split across regions by potential share (at least 2 per region), a
  quarter of each region's seats Enterprise AEs (serving Enterprise only, capacity 30), in regions
  of 4 seats or more ``generalists_per_region`` generalists (any segment, capacity 35), the rest
  AEs (SMB and MidMarket, capacity 40), capacities (open deals) times ``capacity_factor``; homes
  at the most populous counties at least ``min_home_km`` apart; productivity lognormal (sd
  0.12). Current owners: the nearest rep of the account's region with the segment skill.
- **Funnel**: ``stages`` open stages (3 to 8) whose conversion rates multiply to
  ``win_rate`` (early stages lose more: stage k's share of the log-loss is proportional to
  ``stages - k``), durations summing to ``cycle_days`` on average (lognormal, cv 0.5).
- **Leads**: ``leads_per_year`` shared by region potential and segment (SMB 55%, MidMarket 32%,
  Enterprise 13%), inbound 65% / outbound 35%, with the example's seasonality and 5% growth.
- **Last period's bookings** per rep (for history quotas): owned potential share x lognormal
  noise (sd 0.15) x ``last_bookings_total``.

No company target is set here (``targets`` is None unless ``target`` is given): the benchmark
instance set calibrates it by simulation in the application layer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from .examples.build import (
    COUNTIES,
    PRODUCT_MIX,
    SEASONALITY,
    STATE_REGION,
    catalogue_docs,
)
from .geo import haversine_km
from .model import Scenario

__all__ = ["GeneratorSpec", "generate_scenario"]

STAGE_NAMES = ("lead", "contact", "qualify", "needs_analysis", "demo", "proposal",
               "negotiation", "contract")
SEGMENT_SHARE = {"SMB": 0.55, "MidMarket": 0.32, "Enterprise": 0.13}
CHANNEL_SHARE = {"inbound": 0.65, "outbound": 0.35}


@dataclass(frozen=True)
class GeneratorSpec:
    """What to generate (see the module doc for the recipe). ``regions`` are census regions:
    East, Central, South, West."""

    name: str
    reps: int
    accounts: int
    regions: tuple[str, ...] = ("East", "Central", "South", "West")
    leads_per_year: float = 10_000.0
    stages: int = 6
    win_rate: float = 0.14
    cycle_days: float = 50.0
    capacity_factor: float = 1.0
    response_half_life_days: float = 21.0
    attrition_monthly: float = 0.015
    warmup_months: int = 3
    generalists_per_region: int = 1
    min_home_km: float = 80.0
    start: str = "2027-01-01"
    months: int = 12
    target: float | None = None
    last_bookings_total: float = 1_000_000.0

    def __post_init__(self) -> None:
        problems = []
        if not 3 <= self.stages <= len(STAGE_NAMES):
            problems.append(f"stages must be 3..{len(STAGE_NAMES)}, got {self.stages}")
        unknown = sorted(set(self.regions) - set(STATE_REGION.values()))
        if unknown or not self.regions:
            problems.append(f"regions must be census regions East, Central, South, West; got "
                            f"{list(self.regions)}")
        if self.reps < 2 * len(self.regions):
            problems.append(f"reps must be at least 2 per region ({2 * len(self.regions)}), "
                            f"got {self.reps}")
        if self.accounts < self.reps:
            problems.append(f"accounts ({self.accounts}) must be at least reps ({self.reps})")
        if not 0 < self.win_rate < 1:
            problems.append(f"win_rate must be in (0, 1), got {self.win_rate}")
        if self.leads_per_year <= 0 or self.capacity_factor <= 0 or self.cycle_days <= 0:
            problems.append("leads_per_year, capacity_factor and cycle_days must be > 0")
        if problems:
            raise ValueError("; ".join(problems))

    def as_dict(self) -> dict:
        return asdict(self)


def _stage_docs(spec: GeneratorSpec, segment_slowdown: float = 1.4) -> list[dict]:
    k = spec.stages
    names = (*STAGE_NAMES[:k - 1], STAGE_NAMES[-1])
    weights = np.arange(k, 0, -1, dtype=float)
    weights /= weights.sum()
    conv = np.exp(np.log(spec.win_rate) * weights)
    mean_days = spec.cycle_days / k
    docs = []
    for i, (name, c) in enumerate(zip(names, conv, strict=True)):
        st = {"name": name, "conversion": round(float(c), 4),
              "duration": {"dist": "lognormal", "mean": round(mean_days, 2), "cv": 0.5}}
        if i in (k - 3, k - 2):  # late stages: Enterprise deals are slower and convert less
            st["overrides"] = [{"segment": "Enterprise",
                                "conversion": round(float(c) * 0.92, 4),
                                "duration": {"dist": "lognormal",
                                             "mean": round(mean_days * segment_slowdown, 2),
                                             "cv": 0.5}}]
        docs.append(st)
    return docs


def _homes(counties: pd.DataFrame, n: int, min_km: float) -> pd.DataFrame:
    """The ``n`` most populous counties at least ``min_km`` apart (greedy; the distance is
    halved until ``n`` are found)."""
    order = counties.sort_values(["population", "geoid"], ascending=[False, True])
    lat, lon = order["lat"].to_numpy(), order["lon"].to_numpy()
    while True:
        chosen: list[int] = []
        for i in range(len(order)):
            d = haversine_km(lat[i], lon[i], lat[chosen], lon[chosen])
            if not chosen or d.min() >= min_km:
                chosen.append(i)
                if len(chosen) == n:
                    return order.iloc[chosen]
        min_km /= 2


@dataclass(frozen=True)
class _Market:
    """The accounts and how potential splits across regions.

    ``counties``: one row per account (a county: ``geoid``, ``name``, ``state``, ``region``,
    ``lat``, ``lon``, ``population``, then ``potential`` USD/year, ``segment``,
    ``workload_hours``; ``owner`` once assigned), sorted by ``geoid``. ``regions``: the census
    regions, in the fixed order East, Central, South, West. ``share``: region -> share of the
    total potential.
    """

    counties: pd.DataFrame
    regions: list[str]
    share: pd.Series


def _market(spec: GeneratorSpec, rng: np.random.Generator) -> _Market:
    """The ``spec.accounts`` most populous counties of the spec's regions, with potential
    (one lognormal draw per account, in ``geoid`` order), segment and workload."""
    counties = pd.read_csv(COUNTIES, dtype={"geoid": str})
    counties = counties[counties.state.map(STATE_REGION).isin(spec.regions)].copy()
    counties["region"] = counties.state.map(STATE_REGION)
    if spec.accounts > len(counties):
        raise ValueError(f"accounts ({spec.accounts}) exceeds the {len(counties)} counties of "
                         f"regions {', '.join(spec.regions)}")
    n_acc = spec.accounts
    counties = (counties.nlargest(n_acc, "population", keep="first")
                .sort_values("geoid").reset_index(drop=True))
    noise = rng.lognormal(-0.045, 0.3, n_acc)
    counties["potential"] = np.maximum(np.round(counties.population * 0.45 * noise, -2), 100.0)
    ranks = counties.potential.rank(pct=True, method="first")
    counties["segment"] = np.where(ranks > 0.85, "Enterprise",
                                   np.where(ranks > 0.50, "MidMarket", "SMB"))
    base_hours = counties.segment.map({"SMB": 12.0, "MidMarket": 25.0, "Enterprise": 60.0})
    counties["workload_hours"] = np.round(base_hours + counties.potential / 50_000, 1)
    regions = [r for r in ("East", "Central", "South", "West") if r in spec.regions]
    share = counties.groupby("region").potential.sum() / counties.potential.sum()
    return _Market(counties, regions, share)


def _seats(spec: GeneratorSpec, market: _Market) -> dict[str, int]:
    """Rep seats per region by potential share (at least 2; the largest region takes the
    rounding difference); every seat needs a county to live in."""
    regions, counties = market.regions, market.counties
    seats = {r: max(2, round(spec.reps * float(market.share[r]))) for r in regions}
    biggest = max(regions, key=lambda r: seats[r])
    seats[biggest] += spec.reps - sum(seats.values())
    for region in regions:
        have = int((counties.region == region).sum())
        if have < seats[region]:
            raise ValueError(f"region {region}: {seats[region]} rep seats but only {have} "
                             "county accounts to place their homes on; give more accounts or "
                             "fewer reps")
    return seats


def _rep_docs(spec: GeneratorSpec, market: _Market, seats: dict[str, int],
              rng: np.random.Generator) -> list[dict]:
    """The reps, region by region (one productivity draw each, in id order): Enterprise AEs
    first, generalists last, AEs between (see the module docstring)."""
    counties = market.counties
    reps: list[dict] = []
    for region in market.regions:
        homes = _homes(counties[counties.region == region], seats[region], spec.min_home_km)
        n_ent = max(1, round(seats[region] / 4))
        n_gen = spec.generalists_per_region if seats[region] >= 4 else 0
        for k, (_, home) in enumerate(homes.iterrows()):
            enterprise = k < n_ent
            generalist = k >= seats[region] - n_gen
            role, segments, capacity = (
                ("Generalist", [], 35) if generalist
                else ("Enterprise AE", ["Enterprise"], 30) if enterprise
                else ("AE", ["SMB", "MidMarket"], 40))
            reps.append({
                "id": f"R-{len(reps) + 1:03d}",
                "name": f"{home['name']} ({home.state})",
                "region": region,
                "role": role,
                "segments": segments,
                "capacity": max(1, round(capacity * spec.capacity_factor)),
                "productivity": float(np.round(rng.lognormal(0.0, 0.12), 2)),
                "ramp_months": 0.0,
                "attrition_monthly": spec.attrition_monthly,
                "cost_annual": 180_000.0 if enterprise else 140_000.0,
                "lat": float(home.lat), "lon": float(home.lon),
            })
    return reps


def _assign_owners(counties: pd.DataFrame, reps: list[dict]) -> None:
    """Set ``counties["owner"]``: the nearest rep of the account's region with the segment
    skill (vectorised)."""
    rep_df = pd.DataFrame(reps)
    dist = haversine_km(counties.lat.to_numpy()[:, None], counties.lon.to_numpy()[:, None],
                        rep_df.lat.to_numpy()[None, :], rep_df.lon.to_numpy()[None, :])
    serves = np.array([[not segs or acc_seg in segs for segs in rep_df.segments]
                       for acc_seg in counties.segment])
    same = counties.region.to_numpy()[:, None] == rep_df.region.to_numpy()[None, :]
    owner = np.where(same & serves, dist, np.inf).argmin(axis=1)
    counties["owner"] = rep_df.id.to_numpy()[owner]


def _account_docs(counties: pd.DataFrame) -> list[dict]:
    """The accounts section: one account per county row."""
    return [{
        "id": f"A-{row.geoid}", "name": f"{row['name']}, {row.state}",
        "region": row.region, "segment": row.segment,
        "lat": float(row.lat), "lon": float(row.lon),
        "potential": float(row.potential), "workload_hours": float(row.workload_hours),
        "owner": row.owner, "locked": False,
    } for _, row in counties.iterrows()]


def _source_docs(spec: GeneratorSpec, market: _Market) -> list[dict]:
    """Lead sources: region x segment x channel, leads shared by region potential, segment
    and channel shares."""
    sources = []
    for region in market.regions:
        for seg, s_share in SEGMENT_SHARE.items():
            for channel, c_share in CHANNEL_SHARE.items():
                lpm = spec.leads_per_year / 12 * float(market.share[region]) * s_share * c_share
                sources.append({
                    "id": f"{region.lower()}-{seg.lower()}-{channel}",
                    "region": region, "segment": seg, "channel": channel,
                    "leads_per_month": round(lpm, 2), "seasonality": SEASONALITY,
                    "annual_growth": 0.05, "product_mix": PRODUCT_MIX[seg],
                })
    return sources


def _add_last_bookings(spec: GeneratorSpec, reps: list[dict], counties: pd.DataFrame,
                       rng: np.random.Generator) -> None:
    """Set each rep's ``last_bookings`` (USD): owned potential share x lognormal noise (one
    draw per rep, in id order) x ``spec.last_bookings_total``."""
    owned = counties.groupby("owner").potential.sum()
    for rep in reps:
        pot = float(owned.get(rep["id"], 0.0))
        rep["last_bookings"] = float(np.round(
            spec.last_bookings_total * pot / counties.potential.sum()
            * rng.lognormal(0, 0.15), -2))


def _document(spec: GeneratorSpec, seed: int, market: _Market, reps: list[dict]) -> dict:
    """The scenario document around the generated reps and accounts."""
    regions = market.regions
    doc = {
        "name": spec.name,
        "description": (f"Generated (scenarios.generator, seed {seed}): {len(reps)} reps, "
                        f"{spec.accounts} county accounts in {', '.join(regions)}, "
                        f"{spec.leads_per_year:,.0f} leads a year, {spec.stages} stages."),
        "horizon": {"start": spec.start, "months": spec.months, "currency": "USD"},
        "regions": [{"id": r, "name": f"{r} region"} for r in regions],
        **catalogue_docs(),
        "stages": _stage_docs(spec),
        "lead_sources": _source_docs(spec, market),
        "reps": reps,
        "accounts": _account_docs(market.counties),
        "policies": {
            "routing": "territory_owner",
            "response_half_life_days": spec.response_half_life_days,
            "attrition": {"open_deals": "reassign", "backfill": True, "backfill_lag_months": 2.0,
                          "backfill_ramp_months": 4.0},
            "warmup_months": spec.warmup_months,
        },
    }
    if spec.target is not None:
        doc["targets"] = {"company": float(spec.target)}
    return doc


def generate_scenario(spec: GeneratorSpec, seed: int) -> Scenario:
    """A validated :class:`Scenario` from ``spec`` and ``seed`` (see the module doc). The
    random draws, in order: account potential noise, rep productivity, last bookings."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    market = _market(spec, rng)
    seats = _seats(spec, market)
    reps = _rep_docs(spec, market, seats, rng)
    _assign_owners(market.counties, reps)
    _add_last_bookings(spec, reps, market.counties, rng)
    return Scenario.model_validate(_document(spec, seed, market, reps))
