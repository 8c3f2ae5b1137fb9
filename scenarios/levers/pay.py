"""Levers on incentive pay: the pay plan's accelerator, cap, threshold, mix and on-target
earnings, and SPIFs.

The simulated sales do not respond to pay (the model has no effort response), so on common
random numbers a pay lever leaves bookings exactly as they were and moves only what the plan
pays: cost of sales, the pay distribution and the share of reps at on-target pay. Its mechanism
is ``pay``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field, model_validator

from ..compensation import Compensation, PayPlan, Spif
from .base import LeverContext, LeverError, LeverModel

if TYPE_CHECKING:
    from ..model import Scenario

__all__ = ["AddSpif", "PayPlanChange"]


def _compensation(sc: Scenario, ctx: LeverContext) -> Compensation:
    if sc.compensation is None:
        raise LeverError(f"{ctx.where}: the scenario has no compensation section to change")
    return sc.compensation


class PayPlanChange(LeverModel):
    """Change the pay plan of ``role`` (None: every role): ``accelerator`` (the rate of the first
    tier at or above 100%, the tiers above it scaled alike), ``cap`` (a multiple of target
    variable; ``uncapped: true`` removes it), ``threshold``, ``mix`` (variable share) and
    ``ote_factor`` (on-target earnings x factor)."""

    lever: Literal["pay_plan"] = "pay_plan"
    role: str | None = None
    accelerator: float | None = Field(default=None, ge=0, le=100)
    cap: float | None = Field(default=None, gt=0, le=100)
    uncapped: bool = False
    threshold: float | None = Field(default=None, ge=0, le=10)
    mix: float | None = Field(default=None, ge=0, le=1)
    ote_factor: float | None = Field(default=None, gt=0, le=10)
    mechanisms: ClassVar[tuple[str, ...]] = ("pay",)

    @model_validator(mode="after")
    def _something(self) -> PayPlanChange:
        if self.cap is not None and self.uncapped:
            raise ValueError("give cap or uncapped, not both")
        if (self.accelerator is None and self.cap is None and not self.uncapped
                and self.threshold is None and self.mix is None and self.ote_factor is None):
            raise ValueError("change at least one of accelerator, cap, uncapped, threshold, "
                             "mix, ote_factor")
        return self

    def _changed(self, plan: PayPlan) -> PayPlan:
        cap: float | str | None = None if self.uncapped else (
            self.cap if self.cap is not None else "keep")
        plan = plan.with_accelerator(self.accelerator, cap)
        update: dict = {}
        if self.threshold is not None:
            update["threshold"] = self.threshold
        if self.mix is not None:
            update["mix"] = self.mix
        if self.ote_factor is not None:
            update["ote"] = plan.ote * self.ote_factor
        return PayPlan.model_validate(plan.model_dump() | update)

    def apply(self, sc: Scenario, ctx: LeverContext) -> Scenario:
        comp = _compensation(sc, ctx)
        roles = [p.role for p in comp.plans]
        if self.role is not None and self.role not in roles:
            raise LeverError(f"{ctx.where}.role: {self.role!r} has no pay plan (plans: "
                             f"{', '.join(roles)})")
        plans = [self._changed(p) if self.role in (None, p.role) else p for p in comp.plans]
        return sc.model_copy(update={"compensation": comp.model_copy(update={"plans": plans})})


class AddSpif(Spif, LeverModel):
    """Add a SPIF (a short incentive on top of the plan): the fields and checks of
    :class:`~salesplan.scenarios.compensation.Spif`, tagged as a lever."""

    lever: Literal["spif"] = "spif"
    references: ClassVar[dict[str, str]] = {"product": "product", "segment": "segment"}
    mechanisms: ClassVar[tuple[str, ...]] = ("pay",)

    def spif(self) -> Spif:
        return Spif.model_validate(self.model_dump(exclude={"lever"}))

    def apply(self, sc: Scenario, ctx: LeverContext) -> Scenario:
        comp = _compensation(sc, ctx)
        if any(s.name == self.name for s in comp.spifs):
            raise LeverError(f"{ctx.where}.name: a SPIF named {self.name!r} already exists")
        new = Compensation.model_validate(comp.model_dump() | {
            "spifs": [*comp.spifs, self.spif()]})
        return sc.model_copy(update={"compensation": new})
