"""Named random streams: common random numbers by construction.

Every replication gets its own child of ``numpy.random.SeedSequence(seed)`` (the ``r``-th child
is ``SeedSequence(seed, spawn_key=(r,))``, exactly what ``SeedSequence(seed).spawn(n)[r]``
returns). Inside it, each *purpose* (arrivals, routing, conversion, durations, values,
attrition, sourcing) has its own branch, and each lead source / rep seat its own leaf, keyed by
a stable hash of its id. So two scenarios that differ in one lever (say a stage's conversion
rate) draw exactly the same arrivals, durations and deal values, and a change to one lead
source leaves the other sources' draws untouched. Nothing here keeps global state.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["PURPOSES", "Streams", "replication_seed"]

PURPOSES: tuple[str, ...] = (
    "arrivals", "routing", "conversion", "durations", "values", "attrition", "sourcing",
)
"""Stream purposes, in a fixed order (a purpose's index is part of its streams' keys: new ones
go at the end, so existing streams never change)."""


def replication_seed(seed: int, replication: int) -> np.random.SeedSequence:
    """The child seed sequence of one replication (same as ``SeedSequence(seed).spawn``)."""
    return np.random.SeedSequence(seed, spawn_key=(replication,))


def _key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    """The random generators of one replication, addressed by purpose and by an entity id."""

    def __init__(self, child: np.random.SeedSequence):
        self._child = child

    def seq(self, purpose: str, entity: str = "") -> np.random.SeedSequence:
        if purpose not in PURPOSES:
            raise ValueError(f"unknown random stream purpose {purpose!r}")
        c = self._child
        keys = (*c.spawn_key, PURPOSES.index(purpose) + 1, _key(entity))
        return np.random.SeedSequence(c.entropy, spawn_key=keys, pool_size=c.pool_size)

    def rng(self, purpose: str, entity: str = "") -> np.random.Generator:
        """A fresh generator for ``purpose`` (and one entity: a source id, a rep id...)."""
        return np.random.Generator(np.random.PCG64(self.seq(purpose, entity)))
