"""Incentive compensation in a scenario: the pay plan of each role, SPIFs and the pay budget.

A rep's pay over the horizon is base salary, plus commission (variable pay) from a rate curve
by attainment, plus SPIF awards, plus the top-up of a ramp guarantee (draw) for new hires. The
numbers are computed by :mod:`salesplan.optimizer.compensation`; this module only states the
plan and checks it. Units:

- ``ote``: on-target earnings per **year** (currency/year), base plus variable at 100%
  attainment; ``mix``: the variable share of it (0.5 = a 50/50 pay mix). A rep seated part of
  the horizon earns the seated share (base by the days it is seated, target variable by the
  months its seat is planned).
- Attainment is credited bookings over quota, cumulative over the plan year to the end of each
  payout period (a plan year is 12 months from the horizon start).
- ``rates``: the commission curve. Each tier pays ``rate`` times the base commission rate
  (target variable / quota) on the attainment between its ``above`` and the next tier's. A rate
  of 1 below 100% and 1 above pays exactly the target variable at quota; a higher rate above
  100% is an accelerator, a lower one a decelerator.
- ``threshold``: below this cumulative attainment nothing is earned; at or above it the curve
  pays from the first unit (a gate, not a deductible).
- ``cap``: the most commission a plan year can earn, as a multiple of its target variable.
- ``period``: how often commission is paid. Each payout pays what the year to date has earned
  minus what was paid before (cumulative true-up); a payout is never negative unless
  ``clawback`` is on, so an early over-payment is recovered from later payouts only.
- ``draw``: new hires (a ``start_date`` in or shortly before the horizon) are guaranteed
  ``share`` of their target variable in each payout period that ends within ``months`` of their
  start; a ``recoverable`` draw is an advance later commission pays back, a non-recoverable one
  is kept.
- SPIFs: short incentives paid on top of the plan (never capped): ``per_deal`` currency per won
  deal and/or ``rate`` of bookings, for deals of a product or segment closed in a window of
  months.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["Compensation", "Draw", "PayPlan", "RateTier", "Spif"]

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


Weight = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]


class RateTier(_Frozen):
    """One tier of the commission curve: ``rate`` x the base commission rate on attainment
    above ``above`` (a fraction: 1.0 = 100% of quota) up to the next tier."""

    above: float = Field(ge=0, le=100, allow_inf_nan=False)
    rate: float = Field(ge=0, le=100, allow_inf_nan=False)


class Draw(_Frozen):
    """A ramp guarantee for new hires: at least ``share`` of the target variable in each payout
    period ending within ``months`` of the start date."""

    months: int = Field(ge=1, le=24)
    share: float = Field(default=1.0, gt=0, le=1)
    recoverable: bool = False


class PayPlan(_Frozen):
    """The pay plan of one role (reps are matched by their ``role``)."""

    role: str = Field(min_length=1)
    ote: float = Field(gt=0, allow_inf_nan=False)
    mix: float = Field(default=0.5, ge=0, le=1)
    rates: list[RateTier] = Field(
        default_factory=lambda: [RateTier(above=0.0, rate=1.0), RateTier(above=1.0, rate=1.5)],
        min_length=1)
    threshold: float = Field(default=0.0, ge=0, le=10, allow_inf_nan=False)
    cap: float | None = Field(default=None, gt=0, le=100, allow_inf_nan=False)
    period: Literal["month", "quarter", "year"] = "quarter"
    clawback: bool = False
    product_weights: dict[str, Weight] | None = None
    segment_weights: dict[str, Weight] | None = None
    draw: Draw | None = None

    @field_validator("rates")
    @classmethod
    def _ordered(cls, v: list[RateTier]) -> list[RateTier]:
        for i in range(1, len(v)):
            if v[i].above <= v[i - 1].above:
                raise ValueError(
                    f"tiers must be ordered by 'above', strictly increasing: rates[{i}].above "
                    f"{v[i].above:g} is not above rates[{i - 1}].above {v[i - 1].above:g}")
        return v

    @model_validator(mode="after")
    def _one_weighting(self) -> PayPlan:
        if self.product_weights is not None and self.segment_weights is not None:
            raise ValueError("weight the measure by product_weights or by segment_weights, "
                             "not both")
        return self

    @property
    def target_variable(self) -> float:
        """Variable pay at 100% attainment, per year (currency/year)."""
        return self.ote * self.mix

    @property
    def base_salary(self) -> float:
        """Fixed pay per year (currency/year)."""
        return self.ote * (1.0 - self.mix)

    def with_accelerator(self, accelerator: float | None = None,
                         cap: float | str | None = "keep") -> PayPlan:
        """This plan with the tiers at or above 100% scaled so the first of them pays
        ``accelerator`` (None: unchanged; a plan without such a tier gets one at 100%) and the
        cap set to ``cap`` (``"keep"``: unchanged; None: uncapped)."""
        update: dict = {}
        if accelerator is not None:
            tiers = list(self.rates)
            above = [i for i, t in enumerate(tiers) if t.above >= 1.0]
            if not above:
                tiers.append(RateTier(above=1.0, rate=accelerator))
            else:
                first = tiers[above[0]].rate
                for i in above:
                    rate = tiers[i].rate * accelerator / first if first > 0 else accelerator
                    tiers[i] = tiers[i].model_copy(update={"rate": rate})
            update["rates"] = tiers
        if cap != "keep":
            update["cap"] = cap
        return PayPlan.model_validate(self.model_dump() | update)

    @property
    def weights_by(self) -> Literal["product", "segment"] | None:
        if self.product_weights is not None:
            return "product"
        return "segment" if self.segment_weights is not None else None


class Spif(_Frozen):
    """A sales incentive on top of the plan: ``per_deal`` (currency per won deal) and/or
    ``rate`` (share of bookings) on deals of ``product`` or ``segment`` (neither: every deal)
    closed from month ``start`` to month ``end`` (``YYYY-MM``, inclusive; None: the horizon's
    first or last month), for reps of ``roles`` (empty: every role)."""

    name: str = Field(min_length=1)
    product: str | None = None
    segment: str | None = None
    start: str | None = None
    end: str | None = None
    per_deal: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    rate: float = Field(default=0.0, ge=0, le=1, allow_inf_nan=False)
    roles: list[str] = Field(default_factory=list)

    @field_validator("start", "end")
    @classmethod
    def _month(cls, v: str | None) -> str | None:
        if v is not None and not _MONTH.match(v):
            raise ValueError(f"must be a month YYYY-MM, got {v!r}")
        return v

    @model_validator(mode="after")
    def _pays_something(self) -> Spif:
        if self.per_deal == 0 and self.rate == 0:
            raise ValueError("a SPIF pays per_deal or rate (both are 0)")
        if self.product is not None and self.segment is not None:
            raise ValueError("a SPIF targets a product or a segment, not both")
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"end {self.end} comes before start {self.start}")
        return self


class Compensation(_Frozen):
    """Pay plans by role, SPIFs, and the pay budget for the horizon (currency; None: no
    budget, so no P(pay exceeds the budget))."""

    plans: list[PayPlan] = Field(min_length=1)
    spifs: list[Spif] = Field(default_factory=list)
    budget: float | None = Field(default=None, gt=0, allow_inf_nan=False)

    @field_validator("plans")
    @classmethod
    def _unique_roles(cls, v: list[PayPlan]) -> list[PayPlan]:
        seen: set[str] = set()
        for i, p in enumerate(v):
            if p.role in seen:
                raise ValueError(f"plans[{i}].role {p.role!r} has two plans")
            seen.add(p.role)
        return v

    def plan_for(self, role: str) -> PayPlan:
        for p in self.plans:
            if p.role == role:
                return p
        raise KeyError(f"no pay plan for role {role!r} (plans: "
                       f"{', '.join(p.role for p in self.plans)})")
