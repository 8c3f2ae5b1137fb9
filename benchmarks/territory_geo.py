"""Territory instances with real shapes: accounts on the real US county map, heavy-tailed sizes.

The generated instances (:mod:`.territory_instances`) spread accounts evenly and give them
light-tailed sizes; a planner's territory file has neither (issue #24). The recipe here, every
step seeded (:class:`GeoRecipe`, child streams of ``numpy.random.SeedSequence(seed)``):

1. **Where**: the 3,109 lower-48 counties of the 2010 Census Gazetteer (``scenarios/data/
   us_counties.csv``, land area in ``us_county_land.csv``; public domain). Each account falls
   in a county drawn with probability proportional to its population (2010 census), at a
   point uniform in a disc of the county's equivalent radius ``sqrt(land_km2 / pi)`` around
   its internal point (2.7 km for the smallest county, 58 km for the median-sized western
   county, 346 km at most). So metros are dense and the rural West is sparse.
2. **How big**: employees per account from a lognormal fitted to the US Census Bureau's
   Statistics of US Businesses (SUSB) 2017 national totals: 5,996,900 employer firms with
   128,591,812 employees (mean 21.4 per firm), 61.6% of firms with fewer than 5 employees
   (median taken as 4; these totals were written down without access to the Census tables,
   as this machine has no network: check them against the published SUSB 2017 U.S. table
   before citing them). Median 4 and mean 21.4 give ``mu = ln 4``, ``sigma = sqrt(2 ln(21.4 /
   4)) = 1.83``. Firms of 500 or more employees (0.3% of firms; SUSB's small-business line)
   are left out, as national accounts that a key-account team serves outside the geographic
   territories: a draw above ``max_employees`` is drawn again (a lognormal truncated at 500).
   The tail is still heavy: the largest account is 20-40% of a rep's mean potential.
3. **Value and work**: potential = ``potential_per_employee`` x employees (USD/yr); workload
   = ``hours_base + hours_per_sqrt_employee x sqrt(employees)`` hours/yr (a visit plan grows
   with the square root of the account's size, as in the issue's ZIP test).
4. **Reps and regions**: the four census regions (Northeast, Midwest, South, West) are the
   regions. Reps per region are proportional to its potential (largest remainder, at least
   one); within a region they go to counties by the D'Hondt rule on population (a county of
   3% of the region's people gets about 3% of its reps: Los Angeles County gets about 17 of
   the West's), each at a point uniform in a disc of a tenth of the county's radius. Reps
   bunch in metros, as in the issue.
5. **Owners** (re-align mode): each account's nearest rep of its region.

:data:`GEO_INSTANCES` names the sizes of the benchmark set; :data:`FINGERPRINTS` records the
SHA-256 of each built instance (:func:`fingerprint`), checked by ``tests/test_territory_geo.py``
and printed by the benchmark. Change a recipe deliberately and update the fingerprint with it.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from salesplan.benchmarks.territory_instances import nearest_owner_problem
from salesplan.optimizer import AlignmentProblem

__all__ = [
    "CENSUS_REGIONS",
    "FINGERPRINTS",
    "GEO_INSTANCES",
    "GeoRecipe",
    "fingerprint",
    "geo_counties",
    "geo_instance",
    "shape",
]

DATA = Path(__file__).resolve().parents[1] / "scenarios" / "data"
KM_PER_DEGREE = 111.195
"""Kilometres per degree of latitude (mean Earth radius 6,371 km)."""

CENSUS_REGIONS: dict[str, tuple[str, ...]] = {
    "Northeast": ("CT", "ME", "MA", "NH", "RI", "VT", "NJ", "NY", "PA"),
    "Midwest": ("IL", "IN", "MI", "OH", "WI", "IA", "KS", "MN", "MO", "NE", "ND", "SD"),
    "South": ("DE", "DC", "FL", "GA", "MD", "NC", "SC", "VA", "WV", "AL", "KY", "MS", "TN",
              "AR", "LA", "OK", "TX"),
    "West": ("AZ", "CO", "ID", "MT", "NV", "NM", "UT", "WY", "AK", "CA", "HI", "OR", "WA"),
}
"""The US Census Bureau's four census regions, by state (USPS code)."""
LOWER48_EXCLUDED = ("AK", "HI", "PR")


@dataclass(frozen=True)
class GeoRecipe:
    """One instance's recipe (see the module doc): ``accounts`` x ``reps``, the ``seed``, the
    size distribution (lognormal ``median_employees``, ``sigma``, truncated at
    ``max_employees``), value and work per account, and the rep scatter (``rep_radius_share`` of
    the county radius)."""

    name: str
    accounts: int
    reps: int
    seed: int
    median_employees: float = 4.0
    sigma: float = 1.83
    max_employees: float = 500.0
    potential_per_employee: float = 1_000.0
    hours_base: float = 4.0
    hours_per_sqrt_employee: float = 3.0
    rep_radius_share: float = 0.1

    def as_dict(self) -> dict:
        return asdict(self)


GEO_INSTANCES: dict[str, GeoRecipe] = {r.name: r for r in (
    GeoRecipe("geo-10k", 10_000, 100, seed=2410),
    GeoRecipe("geo-33k", 33_000, 400, seed=2433),
    GeoRecipe("geo-50k", 50_000, 400, seed=2450),
    GeoRecipe("geo-100k", 100_000, 400, seed=2499),
)}
"""The real-shape sizes of the benchmark set."""

FINGERPRINTS: dict[str, str] = {
    "geo-10k": "7b6d4e94764a974e",
    "geo-33k": "9cca2ac3793c819a",
    "geo-50k": "4d5d9074cb384136",
    "geo-100k": "aa37d804390571b8",
}
"""The first 16 hex digits of the SHA-256 of each instance of :data:`GEO_INSTANCES` as built by
:func:`geo_instance` (:func:`fingerprint`)."""


def geo_counties() -> pd.DataFrame:
    """The lower-48 counties with state, census region, population, internal point (lat, lon)
    and land area (km2)."""
    c = pd.read_csv(DATA / "us_counties.csv", dtype={"geoid": str})
    land = pd.read_csv(DATA / "us_county_land.csv", dtype={"geoid": str})
    c = c.merge(land, on="geoid", how="left", validate="one_to_one")
    c = c[~c["state"].isin(LOWER48_EXCLUDED)].reset_index(drop=True)
    region_of = {s: r for r, states in CENSUS_REGIONS.items() for s in states}
    c["region"] = c["state"].map(region_of)
    missing = c.loc[c["region"].isna() | c["land_km2"].isna(), "geoid"].tolist()
    if missing:
        raise ValueError(f"counties without a census region or land area: {missing[:5]}")
    return c


def _in_disc(rng: np.random.Generator, lat: np.ndarray, lon: np.ndarray, radius_km: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform in discs of ``radius_km`` around (lat, lon) (flat-earth offsets)."""
    r = radius_km * np.sqrt(rng.random(lat.size))
    theta = rng.uniform(0.0, 2 * np.pi, lat.size)
    dlat = r * np.cos(theta) / KM_PER_DEGREE
    dlon = r * np.sin(theta) / (KM_PER_DEGREE * np.cos(np.radians(lat)))
    return lat + dlat, lon + dlon


def account_employees(rng: np.random.Generator, n: int, recipe: GeoRecipe) -> np.ndarray:
    """``n`` draws of the truncated lognormal of the module doc (whole employees, >= 1)."""
    out = np.empty(0)
    mu = np.log(recipe.median_employees)
    while out.size < n:
        draw = rng.lognormal(mu, recipe.sigma, 2 * n)
        draw = np.maximum(1.0, np.round(draw))
        out = np.concatenate([out, draw[draw < recipe.max_employees]])
    return out[:n]


def _largest_remainder(weights: np.ndarray, seats: int) -> np.ndarray:
    """Seats per weight, proportional, at least one each, summing to ``seats``."""
    quota = weights / weights.sum() * seats
    out = np.maximum(1, np.floor(quota).astype(int))
    rest = quota - np.floor(quota)
    for g in np.argsort(-rest, kind="stable"):
        if out.sum() >= seats:
            break
        out[g] += 1
    while out.sum() > seats:
        out[int(np.argmax(out))] -= 1
    return out


def _dhondt(population: np.ndarray, seats: int) -> np.ndarray:
    """Seats per county by the D'Hondt rule (highest population / (seats + 1) next)."""
    out = np.zeros(population.size, dtype=int)
    for _ in range(seats):
        out[int(np.argmax(population / (out + 1)))] += 1
    return out


def geo_instance(recipe: GeoRecipe | str) -> AlignmentProblem:
    """Build the instance of ``recipe`` (or of its name in :data:`GEO_INSTANCES`)."""
    if isinstance(recipe, str):
        if recipe not in GEO_INSTANCES:
            raise KeyError(f"unknown real-shape instance {recipe!r} "
                           f"(known: {', '.join(GEO_INSTANCES)})")
        recipe = GEO_INSTANCES[recipe]
    places, sizes, rep_places = (np.random.default_rng(s) for s in
                                 np.random.SeedSequence(recipe.seed).spawn(3))
    c = geo_counties()
    pop = c["population"].to_numpy(float)
    radius = np.sqrt(c["land_km2"].to_numpy(float) / np.pi)
    lat0, lon0 = c["lat"].to_numpy(float), c["lon"].to_numpy(float)
    n, m = recipe.accounts, recipe.reps
    src = places.choice(len(c), size=n, p=pop / pop.sum())
    lat, lon = _in_disc(places, lat0[src], lon0[src], radius[src])
    employees = account_employees(sizes, n, recipe)
    potential = recipe.potential_per_employee * employees
    workload = np.round(recipe.hours_base + recipe.hours_per_sqrt_employee
                        * np.sqrt(employees), 2)
    names = list(CENSUS_REGIONS)
    county_region = c["region"].map({r: g for g, r in enumerate(names)}).to_numpy()
    acc_region = county_region[src]
    region_potential = np.bincount(acc_region, weights=potential, minlength=len(names))
    per_region = _largest_remainder(region_potential, m)
    rep_src, rep_region = [], []
    for g in range(len(names)):
        idx = np.flatnonzero(county_region == g)
        seats = _dhondt(pop[idx], int(per_region[g]))
        rep_src += np.repeat(idx, seats).tolist()
        rep_region += [g] * int(per_region[g])
    rep_src = np.asarray(rep_src)
    r_lat, r_lon = _in_disc(rep_places, lat0[rep_src], lon0[rep_src],
                            recipe.rep_radius_share * radius[rep_src])
    return nearest_owner_problem(
        lat, lon, r_lat, r_lon, acc_region, np.asarray(rep_region), names, potential, workload,
        account_prefix="G", notes=[f"{recipe.name}: real-shape instance "
                                   f"(benchmarks/territory_geo.py), seed {recipe.seed}"])


def fingerprint(problem: AlignmentProblem) -> str:
    """SHA-256 (hex) of an instance: ids, regions, owners, potential, workload and positions
    (rounded to 1e-6, so that a last-bit difference of a platform's sine does not count)."""
    h = hashlib.sha256()
    for text in (problem.account_ids, problem.rep_ids, problem.account_region or [],
                 problem.rep_region or [], [str(o) for o in problem.owner]):
        h.update("\x1f".join(text).encode())
        h.update(b"\x1e")
    for arr in (problem.potential, problem.workload, problem.account_lat, problem.account_lon,
                problem.rep_lat, problem.rep_lon):
        h.update(np.round(np.asarray(arr, dtype=float), 6).tobytes())
    return h.hexdigest()


def shape(problem: AlignmentProblem) -> dict:
    """Headline figures of an instance's shape: accounts, reps, the largest account's
    potential over the mean rep potential of its region (the largest over the regions), the
    share of potential in the largest 1% of accounts, and accounts per rep by region."""
    pot = np.asarray(problem.potential, dtype=float)
    regions = np.asarray(problem.account_region)
    rep_regions = np.asarray(problem.rep_region)
    top_share = 0.0
    per_rep = {}
    for r in sorted(set(regions.tolist())):
        mean_rep = pot[regions == r].sum() / max(1, int((rep_regions == r).sum()))
        top_share = max(top_share, float(pot[regions == r].max() / mean_rep))
        per_rep[r] = round(float((regions == r).sum() / max(1, (rep_regions == r).sum())), 1)
    top1 = np.sort(pot)[::-1][:max(1, pot.size // 100)].sum() / pot.sum()
    return {"accounts": problem.n_accounts, "reps": problem.n_reps,
            "top_account_over_rep_mean": round(top_share, 4),
            "top_1pct_potential_share": round(float(top1), 4),
            "accounts_per_rep": per_rep}
