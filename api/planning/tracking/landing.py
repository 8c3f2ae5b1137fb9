# ruff: noqa: N806  (R, C, M, U: replications, cells, months, units, as in the docstrings)
"""Where we land: Monte Carlo replications of the won amounts per cell and month from the
as-of state (:class:`~.model.LandingModel`), on common random numbers.

All random numbers of a run are drawn once, up front, from one ``numpy`` generator seeded by
``seed`` (:class:`Draws`), except the uniforms of each open deal and of each new win, which are
read at random access from counter-based sequences keyed by the seed (:func:`deal_uniforms`,
:func:`win_uniforms`: nothing is stored per deal and replication); every quantity is a
deterministic function of them (inverse CDFs). A what-if (:class:`Adjustments`: a deal's won
probability scaled or moved to another rep, a unit's arrival rate or new-deal win rate scaled,
wins pulled forward) re-runs on the same draws, so its paired difference with the base carries
no sampling noise of its own.

Per replication:

1. the model error: a common frailty ``exp(z - s2c/2)`` and one per entry-month cohort
   ``exp(w - s2w/2)`` (mean one, lognormal) multiply every open deal's cumulative won
   probability (capped at 1: the won-day distribution keeps its shape);
2. each open deal is won on the first day its scaled cumulative probability exceeds its
   uniform draw (never, if it does not within the horizon), for its known amount or one drawn
   from its product's won amounts;
   Each rep's won probabilities (open and new deals) are scaled by its win ratio to the pool,
   drawn from its posterior (:mod:`.heterogeneity`);
3. each arrival unit's daily rate is drawn from its gamma posterior (:func:`_rate`), times the
   arrival swings (a common and an own mean-one lognormal); its new-deal wins in month
   ``m`` are Poisson with mean ``rate x kernel[m]`` (Poisson thinning of the arrivals: months
   are disjoint, so independent), each placed in a cell of the unit's won mix with a value from
   the cell's product.

The result, ``[replications, cells, months]``, adds the wins known before the cut; any level's
landing is a sum over its cells, so reps add up to regions and the company in every
replication.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from .model import LandingModel

__all__ = ["Adjustments", "Draws", "deal_uniforms", "draw", "simulate_landing", "win_uniforms"]


@dataclass(frozen=True)
class Draws:
    """The uniforms and normals of one run (shapes in brackets; R replications)."""

    seed: int
    pipe_key: np.uint64       # open deals' uniforms (won day, value, pull): deal_uniforms
    common_z: np.ndarray      # [R]
    cohort_z: np.ndarray      # [R, cohorts]
    rate_u: np.ndarray        # [R, units]
    count_u: np.ndarray       # [R, units, months]
    win_key: np.uint64        # the key of the new wins' counter-based uniforms
    arrival_common_z: np.ndarray  # [R]
    arrival_unit_z: np.ndarray    # [R, units]
    win_z: np.ndarray             # [R, units]: the rep's win ratio
    pipe_rep_z: np.ndarray        # [R, units]: the rep's pipeline factor

    @property
    def replications(self) -> int:
        return self.common_z.size


@dataclass
class Adjustments:
    """A what-if on the as-of state. ``deal_factor``: per open deal, a factor on its won
    probability; ``deal_cell``: per open deal, its cell (a deal moved to another rep);
    ``rate_factor`` / ``win_factor``: per arrival unit, factors on its arrival rate and on its
    new deals' won probability; ``pull``: (first day, last day, month index, probability, deal
    mask): an open deal of the mask that would be won between the two horizon days is won in
    that month instead with that probability."""

    deal_factor: np.ndarray | None = None
    deal_cell: np.ndarray | None = None
    rate_factor: np.ndarray | None = None
    win_factor: np.ndarray | None = None
    pull: tuple[int, int, int, float, np.ndarray] | None = None
    notes: list[str] = field(default_factory=list)


def draw(model: LandingModel, replications: int, seed: int) -> Draws:
    """Every random number of a run (module docstring) from ``numpy.random.default_rng``
    seeded by ``seed``, and the keys of the open deals' and new wins' counter-based uniforms
    (:func:`deal_uniforms`, :func:`win_uniforms`)."""
    ss = np.random.SeedSequence(seed)
    rng = np.random.default_rng(ss)
    R, n = replications, model.open_cum.shape[0]
    U, M = len(model.unit), len(model.months)
    n_coh = int(model.open_cohort.max()) + 1 if n else 0
    keys = ss.generate_state(2, np.uint64)
    return Draws(seed=seed, pipe_key=keys[1], common_z=rng.standard_normal(R),
                 cohort_z=rng.standard_normal((R, n_coh)), rate_u=rng.random((R, U)),
                 count_u=rng.random((R, U, M)), win_key=keys[0],
                 arrival_common_z=rng.standard_normal(R),
                 arrival_unit_z=rng.standard_normal((R, U)), win_z=rng.standard_normal((R, U)),
                 pipe_rep_z=rng.standard_normal((R, U)))


_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def _splitmix(key: np.uint64, n: np.ndarray) -> np.ndarray:
    """Output ``n`` of the SplitMix64 sequence seeded by ``key`` as uniforms in [0, 1)."""
    with np.errstate(over="ignore"):
        z = np.uint64(key) + (n + np.uint64(1)) * _GAMMA
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / 2.0 ** 53)


def deal_uniforms(key: np.uint64, replications: int, deal: int, purpose: int) -> np.ndarray:
    """Uniforms in [0, 1) of open deal ``deal`` in every replication (``purpose`` 0: its won
    day, 1: its value, 2: its pull-forward), by random access into a SplitMix64 sequence at
    the counter (deal, purpose, replication): nothing is stored per deal and replication."""
    n = ((np.uint64(deal) * np.uint64(3) + np.uint64(purpose)) << np.uint64(32)) \
        + np.arange(replications, dtype=np.uint64)
    return _splitmix(key, n)


def win_uniforms(key: np.uint64, r: np.ndarray, unit: int, k: np.ndarray, purpose: int
                 ) -> np.ndarray:
    """Uniforms in [0, 1) for the ``k``-th new win of ``unit`` in replications ``r``
    (``purpose`` 0: its cell, 1: its value), by random access into a SplitMix64 sequence
    (Steele, Lea and Flood 2014): output ``n`` is ``mix(key + n * gamma)`` with ``n`` a unique
    counter of (replication, unit, k, purpose). The same win gets the same numbers in every
    what-if, however many wins come before it in other units or months, and nothing is stored
    per possible win."""
    n = (((r.astype(np.uint64) << np.uint64(16)) + np.uint64(unit)) << np.uint64(25)) \
        + (k.astype(np.uint64) << np.uint64(1)) + np.uint64(purpose)
    return _splitmix(key, n)


def simulate_landing(model: LandingModel, draws: Draws, adj: Adjustments | None = None
                     ) -> np.ndarray:
    """Won amounts ``[replications, cells, months]``: the wins before the cut plus the
    simulated ones (module docstring)."""
    adj = adj or Adjustments()
    R, C, M = draws.replications, model.n_cells, len(model.months)
    out = np.zeros(R * C * M)
    _pipeline(model, draws, adj, out)
    _new_deals(model, draws, adj, out)
    return out.reshape(R, C, M) + model.won_actual[None, :, :]


def _pipeline(model: LandingModel, draws: Draws, adj: Adjustments, out: np.ndarray) -> None:
    n = model.open_cum.shape[0]
    if n == 0 or model.horizon == 0:
        return
    R, C, M = draws.replications, model.n_cells, len(model.months)
    s2c, s2w = model.common_log_var, model.cohort_log_var
    frailty = np.exp(np.sqrt(s2c) * draws.common_z - s2c / 2)[:, None] * np.exp(
        np.sqrt(s2w) * draws.cohort_z - s2w / 2)[:, model.open_cohort]
    frailty = frailty * (_win_ratio(model, draws) * _pipe_factor(model, draws)
                         )[:, model.open_unit]
    if adj.deal_factor is not None:
        frailty = frailty * adj.deal_factor[None, :]
    cell = model.open_cell if adj.deal_cell is None else adj.deal_cell
    rows = np.arange(R)
    for i in range(n):
        cum = model.open_cum[i]
        total = cum[-1]
        if total <= 0:
            continue
        g = np.minimum(frailty[:, i], 1.0 / total)
        day = np.searchsorted(cum, deal_uniforms(draws.pipe_key, R, i, 0) / g, side="right")
        won = day < model.horizon
        if not won.any():
            continue
        month = model.day_month[np.minimum(day, model.horizon - 1)]
        if adj.pull is not None:
            first, last, target_month, p, mask = adj.pull
            if mask[i]:
                moved = won & (day >= first) & (day <= last) & (
                    deal_uniforms(draws.pipe_key, R, i, 2) < p)
                month = np.where(moved, target_month, month)
        won &= month >= 0
        amount = model.open_amount[i]
        if not np.isfinite(amount):
            pool = model.pools[model.open_product[i]]
            amount = pool[(deal_uniforms(draws.pipe_key, R, i, 1) * pool.size)
                          .astype(np.int64)]
        else:
            amount = np.full(R, amount)
        r = rows[won]
        np.add.at(out, (r * C + cell[i]) * M + month[won], amount[won])


def _new_deals(model: LandingModel, draws: Draws, adj: Adjustments, out: np.ndarray) -> None:
    U = len(model.unit)
    if U == 0 or not model.new_kernel.any():
        return
    R, C, M = draws.replications, model.n_cells, len(model.months)
    rate = _rate(model, draws.rate_u)
    s2c, s2w = model.arrival_common_log_var, model.arrival_own_log_var
    rate = rate * np.exp(np.sqrt(s2c) * draws.arrival_common_z - s2c / 2)[:, None] * np.exp(
        np.sqrt(s2w) * draws.arrival_unit_z - s2w / 2)
    if adj.rate_factor is not None:
        rate = rate * adj.rate_factor[None, :]
    win = _win_ratio(model, draws)
    if adj.win_factor is not None:
        win = win * adj.win_factor[None, :]
    lam = rate[:, :, None] * win[:, :, None] * model.new_kernel[None, None, :]
    counts = stats.poisson.ppf(draws.count_u, lam).astype(np.int64)
    for u in range(U):
        c = counts[:, u, :]                      # [R, M]
        n = c.sum(axis=1)
        if not n.any():
            continue
        k = _positions(c.ravel(), n)
        r = np.repeat(np.arange(R), n)
        month = np.repeat(np.tile(np.arange(M), R), c.ravel())
        pick = np.searchsorted(np.cumsum(model.unit_mix[u]),
                               win_uniforms(draws.win_key, r, u, k, 0), side="right")
        value_u = win_uniforms(draws.win_key, r, u, k, 1)
        cell = model.unit_cells[u][np.minimum(pick, model.unit_cells[u].size - 1)]
        amount = np.empty(r.size)
        for p in np.unique(model.cell_product[cell]):
            sel = model.cell_product[cell] == p
            pool = model.pools[p]
            amount[sel] = pool[(value_u[sel] * pool.size).astype(np.int64)]
        np.add.at(out, (r * C + cell) * M + month, amount)


def _rate(model: LandingModel, u: np.ndarray) -> np.ndarray:
    """Daily arrival rates at the posterior quantiles ``u`` (``[R, units]``): the gamma
    posterior of a Poisson rate under the reference prior ``1/rate``, ``Gamma(n, window
    days)``: its mean is the observed rate, and a unit that created no deal in the window
    creates none."""
    n = model.unit_count[None, :]
    q = stats.gamma.ppf(u, np.where(n > 0, n, 1.0)) / model.unit_exposure
    return np.where(n > 0, q, 0.0)


def _pipe_factor(model: LandingModel, draws: Draws) -> np.ndarray:
    """Per replication and unit: the factor on the rep's open deals' won probability
    (:mod:`.rep_pipeline`), lognormal about its posterior mean."""
    if model.unit_pipe_log_factor.size == 0:
        return np.ones((draws.replications, len(model.unit)))
    return np.exp(model.unit_pipe_log_factor[None, :]
                  + model.unit_pipe_log_sd[None, :] * draws.pipe_rep_z)


def _win_ratio(model: LandingModel, draws: Draws) -> np.ndarray:
    """Per replication and unit: the rep's won-probability ratio to the pool (at least
    0.05), :mod:`.heterogeneity`."""
    if model.unit_win_ratio.size == 0:
        return np.ones((draws.replications, len(model.unit)))
    return np.maximum(model.unit_win_ratio[None, :]
                      + model.unit_win_ratio_sd[None, :] * draws.win_z, 0.05)


def _positions(counts_flat: np.ndarray, per_row: np.ndarray) -> np.ndarray:
    """For wins laid out row by row (``counts_flat`` per (row, month), ``per_row`` per row):
    each win's position within its row (0, 1, ...)."""
    total = int(per_row.sum())
    start = np.cumsum(per_row) - per_row
    return np.arange(total) - np.repeat(start, per_row)
