"""The real-shape territory instances (benchmarks/territory_geo.py): deterministic, and of the
stated shape (heavy-tailed sizes fitted to SUSB, census regions, reps bunched in metros)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from salesplan.benchmarks.territory_geo import (
    CENSUS_REGIONS,
    FINGERPRINTS,
    GEO_INSTANCES,
    GeoRecipe,
    account_employees,
    fingerprint,
    geo_counties,
    geo_instance,
    shape,
)


@pytest.fixture(scope="module")
def geo10k():
    return geo_instance("geo-10k")


def test_recipe_is_deterministic_and_matches_its_fingerprint(geo10k):
    again = geo_instance(GEO_INSTANCES["geo-10k"])
    assert fingerprint(again) == fingerprint(geo10k)
    assert fingerprint(geo10k).startswith(FINGERPRINTS["geo-10k"])
    other = geo_instance(GeoRecipe("other", 10_000, 100, seed=2411))
    assert fingerprint(other) != fingerprint(geo10k)


def test_every_benchmark_size_has_a_fingerprint():
    assert set(FINGERPRINTS) == set(GEO_INSTANCES)
    sizes = {(r.accounts, r.reps) for r in GEO_INSTANCES.values()}
    assert sizes == {(10_000, 100), (33_000, 400), (50_000, 400), (100_000, 400)}


def test_counties_carry_census_regions_and_land_area():
    c = geo_counties()
    assert len(c) == 3_109
    assert set(c["region"]) == set(CENSUS_REGIONS)
    assert (c["land_km2"] > 0).all()
    la = c.set_index("geoid").loc["06037"]
    assert la["region"] == "West" and 10_000 < la["land_km2"] < 11_000


def test_employee_sizes_follow_the_truncated_lognormal():
    """Share of accounts under 5 employees and under 50 against the truncated lognormal's
    probabilities (rounded sizes: X < 4.5, X < 49.5 given X < 499.5), within 4 standard
    errors; the median is 4 by construction of the fit."""
    recipe = GEO_INSTANCES["geo-10k"]
    n = 40_000
    emp = account_employees(np.random.default_rng(11), n, recipe)
    assert emp.max() < recipe.max_employees and emp.min() >= 1
    dist = stats.lognorm(s=recipe.sigma, scale=recipe.median_employees)
    top = dist.cdf(recipe.max_employees - 0.5)
    for cut in (5, 50):
        p = dist.cdf(cut - 0.5) / top
        se = np.sqrt(p * (1 - p) / n)
        assert abs((emp < cut).mean() - p) < 4 * se
    assert np.median(emp) == recipe.median_employees


def test_shape_is_heavy_tailed_and_metro_bunched(geo10k):
    s = shape(geo10k)
    # the largest account is a large fraction of a rep's mean potential, yet fits one rep
    assert 0.15 < s["top_account_over_rep_mean"] < 0.6
    # the top 1% of accounts carry far more than 1% of the potential (lognormal tail)
    assert s["top_1pct_potential_share"] > 0.12
    # accounts per rep are close across regions: reps follow potential
    per_rep = list(s["accounts_per_rep"].values())
    assert max(per_rep) / min(per_rep) < 1.15
    # reps bunch in metros: several reps share Los Angeles County's small disc
    lat, lon = np.asarray(geo10k.rep_lat), np.asarray(geo10k.rep_lon)
    near_la = (np.abs(lat - 34.2) < 0.5) & (np.abs(lon + 118.2) < 0.6)
    assert near_la.sum() >= 5


def test_owners_are_the_nearest_rep_of_the_region(geo10k):
    p = geo10k
    col = {r: j for j, r in enumerate(p.rep_ids)}
    owner = np.array([col[o] for o in p.owner])
    acc_region, rep_region = np.asarray(p.account_region), np.asarray(p.rep_region)
    assert (rep_region[owner] == acc_region).all()
    same = acc_region[:, None] == rep_region[None, :]
    nearest = np.where(same, p.distance, np.inf).min(axis=1)
    assert np.allclose(p.distance[np.arange(p.n_accounts), owner], nearest)
