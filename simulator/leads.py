"""Lead arrivals and everything about a lead that does not depend on the simulation's state,
pre-sampled per replication with vectorised numpy draws from the named streams.

Arrivals: a non-homogeneous Poisson process per lead source with the rate of
:mod:`salesplan.scenarios.calendar` (leads per day = ``leads_per_month * 12 / 365.25 * season[month]
* (1 + growth) ** (t / 365.25)``). It is sampled exactly, month by month: the count in a month is
Poisson with mean equal to the integral of the rate over that month (the same integral as
:func:`salesplan.scenarios.calendar.expected_leads_by_month`), and the times inside the month are
drawn by inverting the cumulative rate (uniform when there is no growth). The warm-up months, if
any, come first, at negative times.

Per lead (in source order, then sorted by arrival time): grade (by share), product (by the
source's ``product_mix``, else uniform), account (among the accounts of the source's region and
segment, weighted by potential; none if there are none), one uniform per stage for conversion
(drawn up front: this is what makes common random numbers work), one duration per stage (days,
from ``Stage.durations_for(segment, product)``: by month of the quarter the lead enters the
stage, its arrival plus its earlier stages' durations, when the stage has durations by quarter
month), and the deal value (currency, from
``Product.deal_size_for(segment)``), which is booked only if the deal is won.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from salesplan.scenarios.calendar import DAYS_PER_YEAR

from .plan import Plan, product_mix
from .streams import Streams

__all__ = ["LeadBatch", "categorical", "expected_counts", "pick", "sample_leads",
           "stage_durations"]


@dataclass
class LeadBatch:
    """Pre-sampled leads of one replication, sorted by arrival time (arrays of length n)."""

    arrival: np.ndarray      # days since horizon start
    source: np.ndarray       # source index
    region: np.ndarray
    segment: np.ndarray
    product: np.ndarray
    grade: np.ndarray
    account: np.ndarray      # account index, -1: none
    uniforms: np.ndarray     # [n, stages] conversion uniforms (a transposed [stages, n] array)
    durations: np.ndarray    # [n, stages] days in each stage (likewise)
    value: np.ndarray        # deal value if won

    def __len__(self) -> int:
        return int(self.arrival.size)

    def take(self, index: np.ndarray) -> LeadBatch:
        """The leads at ``index`` (in that order)."""
        return LeadBatch(*[getattr(self, f)[index] for f in _FIELDS])

    def concat(self, other: LeadBatch) -> LeadBatch:
        """This batch's leads followed by ``other``'s."""
        return LeadBatch(*[np.concatenate([getattr(self, f), getattr(other, f)])
                           for f in _FIELDS])


_FIELDS = ("arrival", "source", "region", "segment", "product", "grade", "account", "uniforms",
           "durations", "value")


def expected_counts(plan: Plan, source_index: int) -> np.ndarray:
    """Expected leads of one source in every simulated month (warm-up months first); computed
    once per plan by :func:`salesplan.simulator.plan.source_expected_counts`."""
    return plan.expected_leads[source_index]


def _arrival_times(rng: np.random.Generator, plan: Plan, lam: np.ndarray,
                   growth: float) -> np.ndarray:
    counts = rng.poisson(lam)
    n = int(counts.sum())
    a = np.repeat(plan.edges[:-1], counts)
    b = np.repeat(plan.edges[1:], counts)
    u = rng.random(n)
    g = math.log1p(growth) / DAYS_PER_YEAR
    if abs(g) < 1e-15:
        return np.sort(a + u * (b - a))
    # invert the cumulative rate exp(g t) inside [a, b)
    return np.sort(a + np.log1p(u * np.expm1(g * (b - a))) / g)


def categorical(rng: np.random.Generator, p: np.ndarray, n: int) -> np.ndarray:
    """n draws of an index with probabilities ``p`` (inverse CDF; faster than ``choice``)."""
    return pick(p, rng.random(n))


def pick(p: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The index with probabilities ``p`` at each uniform of ``u`` (the inverse CDF)."""
    cdf = np.cumsum(p)
    return np.minimum(np.searchsorted(cdf, u * cdf[-1], side="right"), p.size - 1)


def stage_durations(plan: Plan, rng: np.random.Generator, t: np.ndarray, gi: int,
                    bounds: list[int]) -> np.ndarray:
    """[stages, n] days in each stage of leads of segment ``gi`` arriving at times ``t``
    (grouped by product: ``bounds``), drawn stage by stage and product by product; by month of
    quarter of the stage entry (the arrival plus the earlier stages) where a stage has
    durations by quarter month."""
    S, n = plan.n_stages, t.size  # noqa: N806
    n_prod = len(plan.product_ids)
    by_quarter = any(len(d) > 1 for stage in plan.duration for seg in stage for d in seg)
    durations = np.empty((S, n))
    entered = t  # stage entry times, for durations by month of quarter
    for k in range(S):
        for p in range(n_prod):
            a, b = bounds[p], bounds[p + 1]
            if b <= a:
                continue
            dists = plan.duration[k][gi][p]
            if len(dists) == 1:
                durations[k, a:b] = dists[0].sample(rng, b - a)
                continue
            q = plan.quarter_month(entered[a:b])
            block = np.empty(b - a)
            for m in range(3):
                sel = q == m
                if sel.any():
                    block[sel] = dists[m].sample(rng, int(sel.sum()))
            durations[k, a:b] = block
        if by_quarter and k + 1 < S:
            entered = entered + durations[k]
    return durations


def _source_leads(plan: Plan, streams: Streams, j: int) -> tuple[np.ndarray, ...] | None:
    """The leads of source ``j``, grouped by product: (arrival, source, region, segment,
    product, grade, account, uniforms [S, n], durations [S, n], value), or None if none came."""
    src = plan.scenario.lead_sources[j]
    n_prod = len(plan.product_ids)
    arr_rng = streams.rng("arrivals", src.id)
    t = _arrival_times(arr_rng, plan, plan.expected_leads[j], src.annual_growth)
    n = t.size
    if n == 0:
        return None
    grade = categorical(arr_rng, plan.grade_share, n)
    product = categorical(arr_rng, product_mix(plan, src), n)
    by_product = np.argsort(product, kind="stable")
    t, grade, product = t[by_product], grade[by_product], product[by_product]
    bounds = np.searchsorted(product, np.arange(n_prod + 1)).tolist()
    ri, gi = plan.region_ids.index(src.region), plan.segment_ids.index(src.segment)
    cell = plan.accounts_by_cell.get((ri, gi))
    if cell is None:
        account = np.full(n, -1, dtype=np.int64)
    else:
        idx, prob = cell
        account = idx[categorical(streams.rng("routing", src.id), prob, n)]
    uniforms = streams.rng("conversion", src.id).random((plan.n_stages, n))
    durations = stage_durations(plan, streams.rng("durations", src.id), t, gi, bounds)
    value = np.empty(n)
    val_rng = streams.rng("values", src.id)
    for p in range(n_prod):
        a, b = bounds[p], bounds[p + 1]
        if b > a:
            value[a:b] = plan.deal_size[p][gi].sample(val_rng, b - a)
    return (t, np.full(n, j), np.full(n, ri), np.full(n, gi), product, grade, account,
            uniforms, durations, value)


def sample_leads(plan: Plan, streams: Streams) -> LeadBatch:
    """Draw every lead of one replication (all sources), sorted by arrival time.

    Within a source, leads are grouped by product (stable) before the per-lead draws, so each
    product's durations and values are drawn as one contiguous block; the final sort by
    arrival time restores time order.
    """
    S = plan.n_stages  # noqa: N806
    parts = [p for j in range(len(plan.scenario.lead_sources))
             if (p := _source_leads(plan, streams, j)) is not None]
    if not parts:
        z = np.zeros(0)
        zi = np.zeros(0, dtype=np.int64)
        return LeadBatch(z, zi, zi, zi, zi, zi, zi, np.zeros((0, S)), np.zeros((0, S)), z)
    t = np.concatenate([p[0] for p in parts])
    order = np.argsort(t, kind="stable")
    ints = [np.concatenate([p[c] for p in parts]).astype(np.int64)[order] for c in range(1, 7)]
    # [n, stages] views of [stages, n] arrays: stage_tables works along their contiguous rows
    # (np.take keeps the rows contiguous; indexing with [:, order] would not)
    uniforms = np.take(np.concatenate([p[7] for p in parts], axis=1), order, axis=1).T
    durations = np.take(np.concatenate([p[8] for p in parts], axis=1), order, axis=1).T
    value = np.concatenate([p[9] for p in parts])[order]
    return LeadBatch(t[order], *ints, uniforms, durations, value)
