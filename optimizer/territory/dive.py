r"""LP diving: fix the LP's fractional accounts a batch at a time, largest first, re-solving
the LP after each batch, so that the accounts left to round are the smaller ones.

Rounding the LP relaxation once (:mod:`.fix`) puts every fractional account whole at one rep.
With heavy-tailed accounts some of those are a sizeable part of a rep's band (on the
real-shape geo-33k up to 35% of a rep's mean potential, against a ±5% band), so the rounded
plan misses bands by a lot, the repair moves accounts to hold them whatever the cost, and the
improving moves after it stop in a local optimum: 1.3-2.3% above the LP bound a pool
(issue #24). A dive lets the LP itself absorb each rounding decision:

1. Take the LP's fractional accounts (no pair value at least 1 - 1e-6) that the dive has not
   fixed, largest first (``size``: an account's largest band value relative to the median
   target), and fix the first ``batch`` share of them (at least one) to the rep holding the
   largest part of it: every other pair of the account gets the upper bound 0.
2. Re-solve the LP from its last basis (dual simplex after bound changes). Every account not
   fixed, integral or not, may still move, so the LP re-balances the bands around the fixed
   accounts at least cost.
3. When the LP needs elastic slack (the fixings leave some band no room), undo the batch and
   try a quarter of it; a single account that cannot be fixed ends the dive. The batch doubles
   back (up to ``batch``) after each batch that holds.
4. Stop when no account is fractional, at the ``deadline``, or at step 3's end. The values
   returned are the last LP that held every band without slack: integral except for the
   accounts left, smaller ones since the largest went first, so rounding them (:mod:`.fix`)
   misses bands by little and the repair is cheap.

The upper bounds are restored before :func:`dive` returns, so the model is the LP again.

Measured on geo-33k's four carve pools (two ±5% bands, the LP with bands tightened by 5%,
batch 0.5): plans 0.14-0.48% above each pool's LP bound after repair and improvement, where
the single rounding gave 1.32-2.30%; 35-54 batches, 47-86 LP solves, 10-55 s a pool (the
12,336-account South the slowest, about 0.6 s a warm LP solve over 183,528 pairs).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from .fix import _INTEGRAL

__all__ = ["DIVE_BATCH", "DiveResult", "account_size", "dive"]

log = logging.getLogger(__name__)

DIVE_BATCH = 0.5
"""Share of the fractional accounts fixed per batch (geo-33k's Midwest pool: 0.5 gave 0.14%
in 25 s, 0.3 gave 0.17% in 48 s; South 0.48% in 93 s against 0.59% in 121 s)."""
_BACKOFF = 4.0
"""After a batch the LP cannot hold without slack, the next batch is this many times smaller."""


@dataclass
class DiveResult:
    """A dive: pair ``values`` (aligned with the model's pairs) of the last LP that held every
    band, its ``objective`` (model units), accounts ``fixed``, ``fractional`` accounts left,
    ``batches`` that held, ``solves`` of the LP, ``backoffs`` (batches undone), ``seconds``
    (wall) and how it ended (``stop``: ``"integral"``, ``"deadline"``, ``"blocked"``)."""

    values: np.ndarray
    objective: float
    fixed: int
    fractional: int
    batches: int
    solves: int
    backoffs: int
    seconds: float
    stop: str


def account_size(band_coef: list[tuple[np.ndarray, np.ndarray]], n: int) -> np.ndarray:
    """Each account's largest band value relative to the median positive target of its band
    (``band_coef``: per band, values per account and 1 / target per rep, 0 without one);
    zeros without bands."""
    size = np.zeros(n)
    for values, inv_mu in band_coef:
        pos = inv_mu[inv_mu > 0]
        if pos.size:
            size = np.maximum(size, np.asarray(values, dtype=float) * float(np.median(pos)))
    return size


def dive(lp, deadline: float, *, batch: float = DIVE_BATCH) -> DiveResult | None:
    """Dive (module doc) on ``lp``, a :class:`~.colgen.ColumnLP` whose last solve is optimal
    and holds every band; None when it does not. ``deadline``: a :func:`time.perf_counter`
    instant. The model's upper bounds are as they were when this returns."""
    t0 = time.perf_counter()
    if lp.slack > 1e-6 or not lp.pi.size:
        return None
    n = lp.n
    pi, pj = lp.pi.copy(), lp.pj.copy()
    size = account_size(lp.band_coef, n)
    values = lp.values()
    objective = lp.objective()
    fixed = np.zeros(n, dtype=bool)
    closed = np.zeros(pi.size, dtype=bool)  # pairs whose upper bound the dive set to 0
    scale, batches, solves, backoffs, stop = 1.0, 0, 0, 0, "integral"
    try:
        while True:
            top, arg = _largest_pair(values, pi, pj, n)
            fractional = np.flatnonzero((top < 1 - _INTEGRAL) & ~fixed)
            if not fractional.size:
                break
            if time.perf_counter() >= deadline:
                stop = "deadline"
                break
            k = max(1, int(np.ceil(batch * scale * fractional.size)))
            pick = fractional[np.argsort(-size[fractional], kind="stable")[:k]]
            chosen = np.zeros(n, dtype=bool)
            chosen[pick] = True
            close = chosen[pi] & (pj != arg[pi]) & ~closed
            lp.set_upper(close, 0.0)
            solves += 1
            if lp.resolve(deadline):
                closed |= close
                fixed[pick] = True
                values, objective = lp.values(), lp.objective()
                batches += 1
                scale = min(1.0, scale * 2.0)
                continue
            lp.set_upper(close, 1.0)
            backoffs += 1
            if time.perf_counter() >= deadline:
                stop = "deadline"
                break
            if k == 1:
                stop = "blocked"
                break
            scale /= _BACKOFF
    finally:
        lp.set_upper(closed, 1.0)
    top, _ = _largest_pair(values, pi, pj, n)
    res = DiveResult(values, objective, int(fixed.sum()), int((top < 1 - _INTEGRAL).sum()),
                     batches, solves, backoffs, time.perf_counter() - t0, stop)
    log.info("dive: %d accounts fixed in %d batches (%d LP solves, %d undone), %d fractional "
             "left, LP %.1f, %s after %.1f s", res.fixed, res.batches, res.solves,
             res.backoffs, res.fractional, res.objective, res.stop, res.seconds)
    return res


def _largest_pair(values: np.ndarray, pi: np.ndarray, pj: np.ndarray, n: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Per account: its largest pair value and the rep of that pair (the first in pair order
    on ties; -1 for an account with no pair)."""
    top = np.zeros(n)
    np.maximum.at(top, pi, values)
    at_top = values >= top[pi] - 1e-12
    arg = np.full(n, -1, dtype=np.int64)
    idx = np.flatnonzero(at_top)[::-1]  # the last write wins: reversed, the first pair wins
    arg[pi[idx]] = pj[idx]
    return top, arg
