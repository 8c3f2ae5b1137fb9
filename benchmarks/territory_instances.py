"""Instances for the territory benchmarks, built from the US counties table (public domain).

- :func:`counties_instance`: the 3,109 lower-48 counties as accounts (potential proportional to
  population), ``reps`` reps at the largest counties, one region.
- :func:`synthetic_instance`: n accounts scattered around population-weighted counties, m reps
  at population-weighted counties (drawn with replacement, so a big county gets several reps),
  4 regions by longitude, lognormal potential, workload growing with potential, current owners
  = the nearest rep of the region (for re-alignment).

Both return an :class:`salesplan.optimizer.AlignmentProblem`; seeds are explicit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from salesplan.optimizer import AlignmentProblem
from salesplan.optimizer.territory.distance import haversine_km

COUNTIES = Path(__file__).resolve().parents[1] / "scenarios" / "data" / "us_counties.csv"
LOWER48_EXCLUDED = ("AK", "HI", "PR")


def lower48() -> pd.DataFrame:
    df = pd.read_csv(COUNTIES, dtype={"geoid": str})
    return df[~df["state"].isin(LOWER48_EXCLUDED)].reset_index(drop=True)


def counties_instance(reps: int = 40, potential_per_person: float = 10.0,
                      hours_base: float = 20.0, hours_per_1000: float = 0.5
                      ) -> AlignmentProblem:
    """Counties as accounts: potential = population x ``potential_per_person`` (currency/yr),
    workload = ``hours_base + hours_per_1000 x population / 1000`` (hours/yr); reps at the
    ``reps`` most populous counties; owners = nearest rep."""
    c = lower48()
    homes = c.nlargest(reps, "population")
    dist = haversine_km(c["lat"], c["lon"], homes["lat"], homes["lon"])
    rep_ids = [f"R-{k + 1:03d}" for k in range(reps)]
    nearest = dist.argmin(axis=1)
    return AlignmentProblem(
        account_ids=[f"C-{g}" for g in c["geoid"]], rep_ids=rep_ids,
        potential=c["population"].to_numpy(float) * potential_per_person,
        workload=hours_base + hours_per_1000 * c["population"].to_numpy(float) / 1000.0,
        distance=dist, owner=[rep_ids[j] for j in nearest],
        locked=np.zeros(len(c), dtype=bool),
        account_lat=c["lat"].to_numpy(float), account_lon=c["lon"].to_numpy(float),
        rep_lat=homes["lat"].to_numpy(float), rep_lon=homes["lon"].to_numpy(float),
    )


def synthetic_instance(n: int, m: int, seed: int = 7, regions: int = 4) -> AlignmentProblem:
    """n accounts, m reps (see module doc). Regions split the lower 48 by longitude quantiles
    of population so each region has people and reps (reps per region proportional to its
    population, at least 1)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    c = lower48()
    w = c["population"].to_numpy(float)
    w /= w.sum()
    order = np.argsort(c["lon"].to_numpy())
    cum = np.cumsum(w[order])
    region_of = np.empty(len(c), dtype=np.int64)
    region_of[order] = np.minimum((cum * regions).astype(int), regions - 1)
    src = rng.choice(len(c), size=n, p=w)
    lat = c["lat"].to_numpy()[src] + rng.normal(0, 0.25, n)
    lon = c["lon"].to_numpy()[src] + rng.normal(0, 0.25, n)
    acc_region = region_of[src]
    potential = np.round(rng.lognormal(np.log(50_000), 0.8, n), -2)
    workload = np.round(10 + 0.0004 * potential + rng.gamma(2.0, 5.0, n), 1)
    reg_pop = np.bincount(region_of, weights=w, minlength=regions)
    per_region = np.maximum(1, np.round(reg_pop * m).astype(int))
    per_region[np.argmax(per_region)] += m - per_region.sum()
    rep_src, rep_region = [], []
    for g in range(regions):
        idx = np.flatnonzero(region_of == g)
        # with replacement: a county of 3% of the people gets about 3% of the reps
        pick = rng.choice(idx, size=per_region[g], replace=True, p=w[idx] / w[idx].sum())
        rep_src += pick.tolist()
        rep_region += [g] * per_region[g]
    rep_src = np.array(rep_src)
    r_lat = c["lat"].to_numpy()[rep_src] + rng.normal(0, 0.15, m)
    r_lon = c["lon"].to_numpy()[rep_src] + rng.normal(0, 0.15, m)
    names = [f"Region-{g + 1}" for g in range(regions)]
    return nearest_owner_problem(lat, lon, r_lat, r_lon, acc_region, np.array(rep_region),
                                 names, potential, workload, account_prefix="A")


def nearest_owner_problem(lat: np.ndarray, lon: np.ndarray, r_lat: np.ndarray,
                          r_lon: np.ndarray, acc_region: np.ndarray, rep_region: np.ndarray,
                          names: list[str], potential: np.ndarray, workload: np.ndarray, *,
                          account_prefix: str, notes: list[str] | None = None
                          ) -> AlignmentProblem:
    """The alignment problem of accounts and reps placed at these coordinates (degrees), with
    great-circle distances (km) and each account's current owner the nearest rep of its region
    (``acc_region`` / ``rep_region``: indices into ``names``). Ids: ``R-0001``... for reps,
    ``<account_prefix>-000001``... for accounts; nothing locked."""
    n, m = len(lat), len(r_lat)
    dist = haversine_km(lat, lon, r_lat, r_lon)
    rep_ids = [f"R-{k + 1:04d}" for k in range(m)]
    same = acc_region[:, None] == rep_region[None, :]
    owner = np.where(same, dist, np.inf).argmin(axis=1)
    return AlignmentProblem(
        account_ids=[f"{account_prefix}-{i + 1:06d}" for i in range(n)], rep_ids=rep_ids,
        potential=potential, workload=workload, distance=dist,
        owner=[rep_ids[j] for j in owner], locked=np.zeros(n, dtype=bool),
        account_region=[names[g] for g in acc_region],
        rep_region=[names[g] for g in rep_region],
        account_lat=lat, account_lon=lon, rep_lat=r_lat, rep_lon=r_lon,
        notes=list(notes or []),
    )
