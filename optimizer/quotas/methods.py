"""Quota methods: each turns a set of reps and a total into ideal quotas summing to that total.

Every method is a small class behind one interface, :class:`QuotaMethod`, kept in a registry by
name so a researcher can add one::

    @register_method
    class Tenure(ProportionalMethod):
        name = "tenure"
        label = "years in seat"
        def basis(self, ctx):
            return ...  # a pd.Series over ctx.rep_ids, >= 0

    allocate_quotas(scenario, "tenure")

With ``T`` the total for a set of reps, ``P_r`` territory potential, ``S_r`` last-period
bookings, ``c_r`` the capacity factor and ``V_r`` the weighted open pipeline:

=========  ==============================================================================
even       ``Q_r = T / R``
history    ``Q_r = T S_r / sum S`` (last bookings times the implied growth factor
           ``T / sum S``); a rep without history counts at the region's mean history
potential  ``Q_r = T P_r / sum P``
capacity   ``Q_r = T c_r / sum c``: effective selling months after ramp, vacancy and attrition
pipeline   ``Q_r = T V_r / sum V``: open deals x win probability from their stage, bottom-up
blended    ``Q_r = sum_k alpha_k Q_kr / sum alpha`` over other methods (default weights:
           capacity 0.5, history 0.25, potential 0.25: half the quota follows the seat, half
           the territory and its track record); a part without data for any rep (no
           ``last_bookings``, no owned potential, no open pipeline) is left out of the blend
           and the rest reweighted (noted). The default method of the application
           (:data:`DEFAULT_METHOD`)
fair       every rep the same probability of reaching quota from simulated bookings
           (:mod:`.fair`)
=========  ==============================================================================

A proportional method whose basis is zero for every rep of a group falls back to an even split
for that group and notes it. Ramp relief (see :mod:`.bounds`) uses :meth:`QuotaMethod.relieved`:
methods blind to ramp (``accounts_for_ramp = False``) have the ideal of reps in ramp scaled by
their ramp factor, the rest of the group absorbing the difference.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .context import QuotaContext
from .errors import QuotaError
from .fair import equal_chance_quotas

__all__ = [
    "DEFAULT_METHOD",
    "Blended",
    "Capacity",
    "Even",
    "Fair",
    "History",
    "Pipeline",
    "Potential",
    "ProportionalMethod",
    "QuotaMethod",
    "get_method",
    "method_names",
    "register_method",
    "unregister_method",
]

_REGISTRY: dict[str, type[QuotaMethod]] = {}

DEFAULT_METHOD = "blended"
"""The method whatif, the demo, the quotas command and the service use unless asked for
another: the blend of capacity, history and potential, under the default peer band
(:class:`.bounds.Bounds`). ``potential`` alone gave R-34 of midmarket.yaml a quota of 2,000
(45x attainment) and a hire without accounts a quota of 0; see ``docs/quotas.md``."""


def register_method(cls: type[QuotaMethod]) -> type[QuotaMethod]:
    """Class decorator: make a method available by its ``name``."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise TypeError(f"{cls.__name__} needs a class attribute 'name'")
    _REGISTRY[name] = cls
    return cls


def unregister_method(name: str) -> None:
    """Remove a registered method (for tests and notebooks)."""
    _REGISTRY.pop(name, None)


def method_names() -> list[str]:
    """Registered method names, sorted."""
    return sorted(_REGISTRY)


def get_method(method: str | QuotaMethod, **options: Any) -> QuotaMethod:
    """A method instance by name (``options`` go to its constructor) or the instance itself."""
    if isinstance(method, QuotaMethod):
        return method
    if method not in _REGISTRY:
        raise QuotaError(f"unknown quota method {method!r}; registered methods: "
                         f"{', '.join(method_names())}")
    try:
        return _REGISTRY[method](**options)
    except TypeError as exc:
        raise QuotaError(f"method {method!r}: {exc}") from None


class QuotaMethod(ABC):
    """One way to set ideal quotas.

    ``ideal(ctx, reps, total)`` returns a Series over ``reps`` (currency, >= 0) that sums to
    ``total``. ``region_split`` says where region targets come from by default: ``"targets"``
    (the scenario's ``by_region`` shares) or ``"method"`` (the roll-up of this method's
    company-wide ideal). ``accounts_for_ramp`` says whether the ideal already reflects ramp.
    """

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    region_split: ClassVar[str] = "targets"
    accounts_for_ramp: ClassVar[bool] = False

    @abstractmethod
    def ideal(self, ctx: QuotaContext, reps: Sequence[str], total: float) -> pd.Series:
        """Ideal quotas for ``reps`` summing to ``total``."""

    def relieved(self, ctx: QuotaContext, reps: Sequence[str], total: float) -> pd.Series:
        """The ideal with ramp relief: reps in ramp scaled by their ramp factor, the rest of the
        group absorbing the difference (unchanged when the method already accounts for ramp)."""
        base = self.ideal(ctx, reps, total)
        if self.accounts_for_ramp:
            return base
        f = ctx.ramp_factor.reindex(base.index)
        if (f >= 1.0).all():
            return base
        return _scale_to(base * f, total, ctx, f"{self.name} with ramp relief")

    def describe(self) -> str:
        """A short text for the plan and the "why this quota" column."""
        return self.label or self.name

    def missing(self, ctx: QuotaContext) -> str | None:
        """Why this method has no data for any rep of the scenario (None: it has some). A
        blend leaves such a part out instead of splitting it evenly."""
        return None


def _scale_to(weights: pd.Series, total: float, ctx: QuotaContext, what: str) -> pd.Series:
    w = weights.astype(float).clip(lower=0.0)
    s = float(w.sum())
    if s <= 0.0:
        ctx.note(f"{what}: basis is zero for every rep of a group "
                 f"({', '.join(map(str, w.index[:5]))}{' ...' if len(w) > 5 else ''}); "
                 "split evenly instead")
        return pd.Series(total / len(w), index=w.index)
    return w * (total / s)


class ProportionalMethod(QuotaMethod):
    """``Q_r = total x basis_r / sum basis`` over the group."""

    @abstractmethod
    def basis(self, ctx: QuotaContext) -> pd.Series:
        """A non-negative basis over every rep of the scenario (``ctx.rep_ids``)."""

    def ideal(self, ctx: QuotaContext, reps: Sequence[str], total: float) -> pd.Series:
        b = self.basis(ctx).reindex(list(reps)).fillna(0.0)
        zero = b.index[b <= 0].tolist()
        if zero and len(zero) < len(b) and total > 0:
            ctx.note(f"{self.name}: {len(zero)} rep(s) with a zero {self.describe()} get an "
                     f"ideal of 0 ({', '.join(zero[:5])}{' ...' if len(zero) > 5 else ''})")
        return _scale_to(b, total, ctx, self.name)


@register_method
class Even(ProportionalMethod):
    name = "even"
    label = "even split"

    def basis(self, ctx: QuotaContext) -> pd.Series:
        return pd.Series(1.0, index=ctx.rep_ids)


@register_method
class History(ProportionalMethod):
    name = "history"
    label = "last bookings x growth"

    def basis(self, ctx: QuotaContext) -> pd.Series:
        s = ctx.last_bookings.copy()
        if s.isna().any():
            region_mean = s.groupby(ctx.rep_region).transform("mean")
            missing = s.index[s.isna()].tolist()
            s = s.fillna(region_mean).fillna(s.mean()).fillna(0.0)
            more = " ..." if len(missing) > 5 else ""
            ctx.note(f"history: {len(missing)} rep(s) without last_bookings counted at their "
                     f"region's mean ({', '.join(missing[:5])}{more})")
        return s

    def missing(self, ctx: QuotaContext) -> str | None:
        return "no rep has last_bookings" if ctx.last_bookings.isna().all() else None


@register_method
class Potential(ProportionalMethod):
    name = "potential"
    label = "territory potential share"

    def basis(self, ctx: QuotaContext) -> pd.Series:
        return ctx.potential

    def missing(self, ctx: QuotaContext) -> str | None:
        return None if float(ctx.potential.sum()) > 0 else "no rep owns accounts with potential"


@register_method
class Capacity(ProportionalMethod):
    name = "capacity"
    label = "effective selling months"
    accounts_for_ramp = True

    def basis(self, ctx: QuotaContext) -> pd.Series:
        return ctx.capacity_factor


@register_method
class Pipeline(ProportionalMethod):
    name = "pipeline"
    label = "open pipeline x win probability"
    accounts_for_ramp = True

    def basis(self, ctx: QuotaContext) -> pd.Series:
        return ctx.pipeline

    def missing(self, ctx: QuotaContext) -> str | None:
        return None if float(ctx.pipeline.sum()) > 0 else "no rep has open pipeline"


@register_method
class Blended(QuotaMethod):
    """A weighted mean of other methods' ideals (each sums to the total, so the blend does).

    A part whose :meth:`QuotaMethod.missing` says it has no data for any rep of the scenario is
    left out and the other weights renormalised (noted), unless every part is missing (then all
    are kept and each splits evenly, as it says in its own notes)."""

    name = "blended"
    DEFAULT_WEIGHTS: ClassVar[dict[str, float]] = {"capacity": 0.5, "history": 0.25,
                                                   "potential": 0.25}

    def __init__(self, weights: Mapping[str, float] | None = None):
        weights = dict(weights or self.DEFAULT_WEIGHTS)
        bad = [k for k, v in weights.items() if not (np.isfinite(v) and v >= 0)]
        if bad or sum(weights.values()) <= 0:
            raise QuotaError("blended weights must be >= 0 and not all zero")
        if "blended" in weights:
            raise QuotaError("blended cannot include itself")
        self.weights = {k: float(v) for k, v in sorted(weights.items()) if v > 0}
        self.parts = {k: get_method(k) for k in self.weights}

    @property
    def label(self) -> str:  # type: ignore[override]
        return "blend of " + _weights_text(self.weights)

    def used_weights(self, ctx: QuotaContext) -> dict[str, float]:
        """The weights of the parts that have data in this scenario (see the class notes)."""
        why = {k: m.missing(ctx) for k, m in self.parts.items()}
        kept = {k: w for k, w in self.weights.items() if why[k] is None}
        if not kept or len(kept) == len(self.weights):
            return dict(self.weights)
        left = ", ".join(f"{k} ({why[k]})" for k in self.weights if k not in kept)
        ctx.note(f"blended: left out {left}; blend of {_weights_text(kept)}")
        return kept

    def _blend(self, parts: dict[str, pd.Series], weights: dict[str, float]) -> pd.Series:
        total = sum(weights.values())
        return sum(parts[k] * (w / total) for k, w in weights.items())  # type: ignore[return-value]

    def ideal(self, ctx: QuotaContext, reps: Sequence[str], total: float) -> pd.Series:
        w = self.used_weights(ctx)
        return self._blend({k: self.parts[k].ideal(ctx, reps, total) for k in w}, w)

    def relieved(self, ctx: QuotaContext, reps: Sequence[str], total: float) -> pd.Series:
        w = self.used_weights(ctx)
        return self._blend({k: self.parts[k].relieved(ctx, reps, total) for k in w}, w)


def _weights_text(weights: Mapping[str, float]) -> str:
    """``capacity 50%, history 25%, potential 25%``."""
    total = sum(weights.values())
    return ", ".join(f"{k} {v / total:.0%}" for k, v in weights.items())


@register_method
class Fair(QuotaMethod):
    """Equal chance of attainment from simulated bookings (``ctx.samples``)."""

    name = "fair"
    label = "equal chance of attainment"
    region_split = "method"
    accounts_for_ramp = True

    def ideal(self, ctx: QuotaContext, reps: Sequence[str], total: float) -> pd.Series:
        if ctx.samples is None:
            raise QuotaError("the fair method needs simulated bookings: pass samples "
                             "(replications x reps), e.g. from simulator.simulate(...)")
        draws = ctx.samples[list(reps)].to_numpy()
        q, tau = equal_chance_quotas(draws, total)
        if tau is None:
            ctx.note(f"fair: the total {total:,.0f} is outside the simulated range of "
                     f"{len(reps)} rep(s); used the normal approximation mu + z sigma")
        q = np.clip(q, 0.0, None)
        out = pd.Series(q, index=list(reps))
        return _scale_to(out, total, ctx, self.name) if q.sum() > 0 else out
