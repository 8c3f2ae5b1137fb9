"""Typed probability distributions used in scenarios (durations, deal sizes).

Every distribution is a frozen pydantic model tagged by its ``dist`` field, so a YAML document says
``{dist: lognormal, mean: 14, cv: 0.5}``. Units are those of the field that holds the distribution:
days for stage durations, the scenario's currency for deal sizes.

Parameterisation is by mean and coefficient of variation (CV = standard deviation / mean) because
planners know "about two weeks, give or take half" far better than shape and scale:

- ``fixed``:        always ``value``.
- ``exponential``:  mean ``mean`` (CV is 1 by definition).
- ``gamma``:        shape k = 1 / cv**2, scale = mean * cv**2.
- ``lognormal``:    sigma**2 = ln(1 + cv**2), mu = ln(mean) - sigma**2 / 2.
- ``empirical``:    draws from ``values`` with probabilities proportional to ``weights``
                    (equal weights when omitted): the shape CRM history gives directly.

Sampling takes an explicit ``numpy.random.Generator``; nothing here owns randomness.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "Distribution",
    "Empirical",
    "Exponential",
    "Fixed",
    "Gamma",
    "Lognormal",
]


class _Dist(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    @property
    def mean_value(self) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def quantile(self, u: np.ndarray) -> np.ndarray:  # pragma: no cover
        """The values at probabilities ``u`` (the inverse CDF): one uniform per draw, so a
        caller can fix the uniforms first and keep each draw's randomness its own."""
        raise NotImplementedError

    def scaled(self, factor: float) -> _Dist:
        """The same shape with every value multiplied by ``factor`` (> 0)."""
        raise NotImplementedError  # pragma: no cover


class Fixed(_Dist):
    """A constant: every draw equals ``value``."""

    dist: Literal["fixed"] = "fixed"
    value: float = Field(ge=0)

    @property
    def mean_value(self) -> float:
        return self.value

    @property
    def cv(self) -> float:
        return 0.0

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.full(size, self.value, dtype=float)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), self.value, dtype=float)

    def scaled(self, factor: float) -> Fixed:
        return Fixed(value=self.value * factor)


class Exponential(_Dist):
    """Exponential with the given mean (> 0); CV is 1."""

    dist: Literal["exponential"] = "exponential"
    mean: float = Field(gt=0)

    @property
    def mean_value(self) -> float:
        return self.mean

    @property
    def cv(self) -> float:
        return 1.0

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self.mean, size)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return -self.mean * np.log1p(-np.asarray(u, dtype=float))

    def scaled(self, factor: float) -> Exponential:
        return Exponential(mean=self.mean * factor)


class Gamma(_Dist):
    """Gamma by mean (> 0) and coefficient of variation (> 0): shape 1/cv², scale mean·cv²."""

    dist: Literal["gamma"] = "gamma"
    mean: float = Field(gt=0)
    cv: float = Field(gt=0)

    @property
    def mean_value(self) -> float:
        return self.mean

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        shape = 1.0 / self.cv**2
        return rng.gamma(shape, self.mean / shape, size)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        from scipy.special import gammaincinv

        shape = 1.0 / self.cv**2
        return gammaincinv(shape, np.asarray(u, dtype=float)) * (self.mean / shape)

    def scaled(self, factor: float) -> Gamma:
        return Gamma(mean=self.mean * factor, cv=self.cv)


class Lognormal(_Dist):
    """Lognormal by mean (> 0) and coefficient of variation (> 0)."""

    dist: Literal["lognormal"] = "lognormal"
    mean: float = Field(gt=0)
    cv: float = Field(gt=0)

    @property
    def mean_value(self) -> float:
        return self.mean

    @property
    def sigma(self) -> float:
        return math.sqrt(math.log1p(self.cv**2))

    @property
    def mu(self) -> float:
        return math.log(self.mean) - self.sigma**2 / 2

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.lognormal(self.mu, self.sigma, size)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        from scipy.special import ndtri

        return np.exp(self.mu + self.sigma * ndtri(np.asarray(u, dtype=float)))

    def scaled(self, factor: float) -> Lognormal:
        return Lognormal(mean=self.mean * factor, cv=self.cv)


class Empirical(_Dist):
    """Draws from observed ``values`` (each >= 0), weighted by ``weights`` if given."""

    dist: Literal["empirical"] = "empirical"
    values: list[Annotated[float, Field(ge=0)]] = Field(min_length=1)
    weights: list[Annotated[float, Field(ge=0)]] | None = None

    @model_validator(mode="after")
    def _check_weights(self) -> Empirical:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"weights must have one entry per value ({len(self.values)}), "
                    f"got {len(self.weights)}"
                )
            if sum(self.weights) <= 0:
                raise ValueError("weights must not all be zero")
        return self

    def _p(self) -> np.ndarray:
        if self.weights is None:
            return np.full(len(self.values), 1.0 / len(self.values))
        w = np.asarray(self.weights, dtype=float)
        return w / w.sum()

    @property
    def mean_value(self) -> float:
        return float(np.dot(self._p(), self.values))

    @property
    def cv(self) -> float:
        p, v = self._p(), np.asarray(self.values, dtype=float)
        m = float(p @ v)
        return float(math.sqrt(max(p @ (v - m) ** 2, 0.0)) / m) if m > 0 else 0.0

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        idx = rng.choice(len(self.values), size=size, p=self._p())
        return np.asarray(self.values, dtype=float)[idx]

    def quantile(self, u: np.ndarray) -> np.ndarray:
        cdf = np.cumsum(self._p())
        idx = np.minimum(np.searchsorted(cdf, np.asarray(u, dtype=float) * cdf[-1],
                                         side="right"), len(self.values) - 1)
        return np.asarray(self.values, dtype=float)[idx]

    def scaled(self, factor: float) -> Empirical:
        return Empirical(values=[v * factor for v in self.values], weights=self.weights)


Distribution = Annotated[
    Fixed | Exponential | Gamma | Lognormal | Empirical,
    Field(discriminator="dist"),
]
"""Any scenario distribution, chosen by its ``dist`` tag."""
