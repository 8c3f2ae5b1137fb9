# ruff: noqa: N806  (single capitals follow the model notation: S stages, H horizon)
"""Deals reps create themselves: outbound prospecting, referrals, expansion of their accounts.

Each seat sources at ``rate`` deals per day (its scenario rate times its productivity) while it
is seated, scaled by its occupant's ramp factor (the same factor that scales conversion, from
``RAMP_START`` to 1) and limited by two things:

- **the market**: a rep's accounts can only yield so many deals. With ``M`` the deals per day its
  accounts can yield at most (``per_account_per_year`` scaled by each account's potential over
  the mean) and ``e = rate x ramp`` its effort, it sources ``M (1 - exp(-e / M))`` per day:
  close to ``e`` when the market is large, never more than ``M`` however many reps work it. A
  rep without accounts at that moment sources nothing when the market is limited;
- **its capacity**: a rep sources only when it has a free slot; an opportunity it would have
  created while all its slots are busy is not created (counted as ``sourcing_blocked``).

It is sampled as a thinned Poisson process: candidates arrive at the full rate ``rate`` from the
horizon's (or warm-up's) start to its end, each pre-drawn with everything it needs (account,
segment, product, conversion uniforms, durations and value by the quantile functions of its
uniforms, the uniform that accepts it); at its
time the engine accepts it with probability ``(M / rate) (1 - exp(-rate x ramp / M))`` (or
``ramp`` without a market limit) if the seat is filled, and it takes a free slot or is blocked.
All of a rep's draws come from its own stream (``sourcing``, the rep id), so a lever that leaves
a rep unchanged leaves its candidates unchanged (common random numbers).

A sourced deal enters the funnel at the policy's ``entry_stage`` with the rep itself, at once:
no waiting, no lead-response decay, no lead grade. Its account is one the rep owns at that time
(potential-weighted; accounts handed over to a planned hire count for the hire from the
hand-over day), its product from the mix of the lead sources of the account's region and
segment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .leads import LeadBatch, pick
from .plan import Plan, Sourcing
from .streams import Streams

__all__ = ["SOURCED", "SourcedCandidates", "acceptance", "sample_sourced"]

SOURCED = -2
"""The ``source`` index of a rep-sourced deal in a :class:`LeadBatch`."""


@dataclass(frozen=True)
class SourcedCandidates:
    """Every rep's sourcing candidates of one replication, sorted by time (arrays of length n).

    ``market`` is the deals per day the rep's accounts could yield at that time (inf: no market
    limit); ``accept`` the uniform that accepts the candidate."""

    leads: LeadBatch
    rep: np.ndarray
    market: np.ndarray
    accept: np.ndarray

    def __len__(self) -> int:
        return len(self.leads)


def acceptance(rate: float, ramp: float, market: float) -> float:
    """P(a candidate becomes a deal) for a seated rep of full rate ``rate`` (deals/day) at ramp
    factor ``ramp`` whose accounts yield at most ``market`` deals/day."""
    if math.isinf(market):
        return ramp
    if market <= 0.0:
        return 0.0
    return market / rate * -math.expm1(-rate * ramp / market)


def _book(plan: Plan, r: int, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The accounts rep ``r`` could own (its own and those it works until a hand-over) and, per
    candidate time, which of them it owns then ([n, accounts] bool)."""
    own = plan.account_owner == r
    prev = plan.account_previous_owner == r
    idx = np.flatnonzero(own | prev)
    ho = plan.account_handover[idx][None, :]
    owns = (own[idx][None, :] & (t[:, None] >= ho)) | (prev[idx][None, :] & (t[:, None] < ho))
    return idx, owns


def _accounts(plan: Plan, src: Sourcing, r: int, t: np.ndarray, u: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """Per candidate: the account (potential-weighted among those the rep owns then; -1 if
    none) and the market yield of its accounts then (deals/day; inf without a market limit)."""
    n = t.size
    account = np.full(n, -1, dtype=np.int64)
    market = np.full(n, math.inf)
    if not plan.account_owner.size:
        return account, market
    idx, owns = _book(plan, r, t)
    if src.account_yield is not None:
        market = (owns * src.account_yield[idx][None, :]).sum(axis=1)
    if not idx.size:
        return account, market
    pot = src.account_potential[idx]
    w = owns * (pot if pot.sum() > 0 else np.ones(idx.size))[None, :]
    w = np.where(w.sum(axis=1, keepdims=True) > 0, w, owns.astype(float))
    cdf = np.cumsum(w, axis=1)
    has = cdf[:, -1] > 0
    pick = (cdf < (u * cdf[:, -1])[:, None]).sum(axis=1)
    account[has] = idx[np.minimum(pick[has], idx.size - 1)]
    return account, market


def _segments(plan: Plan, src: Sourcing, r: int, account: np.ndarray, u: np.ndarray
              ) -> np.ndarray:
    """The account's segment; without an account, one of the segments the rep serves."""
    acc_seg = src.account_segment
    served = np.flatnonzero(plan.rep_serves[r])
    fallback = served[np.minimum((u * served.size).astype(np.int64), served.size - 1)]
    return np.where(account >= 0, acc_seg[np.maximum(account, 0)] if acc_seg.size else 0,
                    fallback)


def _products(plan: Plan, src: Sourcing, region: int, seg: np.ndarray, u: np.ndarray
              ) -> np.ndarray:
    """Each candidate's product, from its cell's lead-source mix (uniform without sources)."""
    n_prod = len(plan.product_ids)
    out = np.empty(seg.size, dtype=np.int64)
    for g in np.unique(seg):
        sel = seg == g
        p = src.cell_products.get((region, int(g)), np.full(n_prod, 1.0 / n_prod))
        out[sel] = pick(p, u[sel])
    return out


def _rep_candidates(plan: Plan, src: Sourcing, streams: Streams, r: int
                    ) -> SourcedCandidates | None:
    """Rep ``r``'s candidates over the simulated window, with every per-deal draw."""
    rate = src.rate[r]
    if rate <= 0:
        return None
    rng = streams.rng("sourcing", plan.rep_ids[r])
    t0, H = plan.t0, plan.horizon_days
    n = int(rng.poisson(rate * (H - t0)))
    if n == 0:
        return None
    t = np.sort(t0 + rng.random(n) * (H - t0))
    account, market = _accounts(plan, src, r, t, rng.random(n))
    region = int(plan.rep_region[r])
    seg = _segments(plan, src, r, account, rng.random(n))
    prod = _products(plan, src, region, seg, rng.random(n))
    S = plan.n_stages
    uniforms = rng.random((n, S))
    durations, value = _durations_and_values(plan, src, rng, t, seg, prod)
    leads = LeadBatch(arrival=t, source=np.full(n, SOURCED, dtype=np.int64),
                      region=np.full(n, region, dtype=np.int64), segment=seg, product=prod,
                      grade=np.zeros(n, dtype=np.int64), account=account, uniforms=uniforms,
                      durations=durations, value=value)
    return SourcedCandidates(leads, np.full(n, r, dtype=np.int64), market, rng.random(n))


def _durations_and_values(plan: Plan, src: Sourcing, rng: np.random.Generator, t: np.ndarray,
                          seg: np.ndarray, prod: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[n, stages] durations and the values of the candidates, each from its own uniforms
    (drawn first, in time order) through the quantile function of its segment and product's
    distributions: what a candidate gets never depends on the candidates after it, so a change
    from a hand-over on leaves every earlier candidate as it was (common random numbers in
    time). Durations by month of quarter follow the stage entry from the entry stage on."""
    n, S = t.size, plan.n_stages
    u_dur, u_val = rng.random((n, S)), rng.random(n)
    durations, value = np.empty((n, S)), np.empty(n)
    for g, p in sorted({(int(a), int(b)) for a, b in zip(seg, prod, strict=True)}):
        sel = np.flatnonzero((seg == g) & (prod == p))
        entered = t[sel]
        for k in range(S):
            dists = plan.duration[k][g][p]
            if len(dists) == 1:
                d = dists[0].quantile(u_dur[sel, k])
            else:
                q = plan.quarter_month(entered)
                d = np.empty(sel.size)
                for m in range(3):
                    d[q == m] = dists[m].quantile(u_dur[sel[q == m], k])
            durations[sel, k] = d
            if k >= src.entry:
                entered = entered + d
        value[sel] = plan.deal_size[p][g].quantile(u_val[sel])
    return durations, value


def sample_sourced(plan: Plan, streams: Streams) -> SourcedCandidates | None:
    """Every rep's sourcing candidates, sorted by time (None when nobody sources)."""
    src = plan.sourcing
    if src is None:
        return None
    parts = [c for r in range(plan.n_reps)
             if (c := _rep_candidates(plan, src, streams, r)) is not None]
    if not parts:
        return None
    leads = parts[0].leads
    for c in parts[1:]:
        leads = leads.concat(c.leads)
    order = np.argsort(leads.arrival, kind="stable")
    return SourcedCandidates(leads.take(order),
                             np.concatenate([c.rep for c in parts])[order],
                             np.concatenate([c.market for c in parts])[order],
                             np.concatenate([c.accept for c in parts])[order])

