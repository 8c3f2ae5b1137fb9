"""Levers on policies and plans: the target, lead routing, lead-response decay, and the run
options a what-if passes to the optimiser (re-aligned territories, another quota method)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field, model_validator

from .base import LeverContext, LeverError, LeverModel

if TYPE_CHECKING:
    from ..model import Scenario

__all__ = ["QuotaMethod", "Realign", "ResponseHalfLife", "Routing", "Target"]


class Target(LeverModel):
    """Change the company target: a factor (1.15 = +15%) or an absolute amount (currency)."""

    lever: Literal["target"] = "target"
    factor: float | None = Field(default=None, gt=0)
    amount: float | None = Field(default=None, gt=0)
    mechanisms: ClassVar[tuple[str, ...]] = ("target",)

    @model_validator(mode="after")
    def _one_of(self) -> Target:
        if (self.factor is None) == (self.amount is None):
            raise ValueError("give exactly one of factor or amount")
        return self

    def apply(self, sc: Scenario, ctx: LeverContext) -> Scenario:
        if sc.targets is None:
            raise LeverError(f"{ctx.where}: the scenario has no target to change")
        company = self.amount if self.amount is not None else round(
            sc.targets.company * self.factor, 2)  # type: ignore[operator]
        return sc.model_copy(update={"targets": sc.targets.model_copy(
            update={"company": company})})


class Routing(LeverModel):
    """Route leads with another strategy (a name from the simulator's routing registry)."""

    lever: Literal["routing"] = "routing"
    strategy: str = Field(min_length=1)
    mechanisms: ClassVar[tuple[str, ...]] = ("routing", "queueing")

    def apply(self, sc: Scenario, ctx: LeverContext) -> Scenario:
        return sc.model_copy(update={"policies": sc.policies.model_copy(
            update={"routing": self.strategy})})


class ResponseHalfLife(LeverModel):
    """Set the lead-response half-life in days (how fast waiting leads go cold)."""

    lever: Literal["response_half_life"] = "response_half_life"
    days: float = Field(gt=0)
    mechanisms: ClassVar[tuple[str, ...]] = ("lead decay",)

    def apply(self, sc: Scenario, ctx: LeverContext) -> Scenario:
        return sc.model_copy(update={"policies": sc.policies.model_copy(
            update={"response_half_life_days": self.days})})


class Realign(LeverModel):
    """Re-align territories before simulating, with the territory optimiser's options (a run
    option: the what-if runner calls the optimiser)."""

    lever: Literal["realign"] = "realign"
    mode: Literal["carve", "realign"] = "realign"
    balance: dict[str, float] = Field(default_factory=lambda: {"workload": 0.1})
    max_moves: int | None = Field(default=None, ge=0)
    mechanisms: ClassVar[tuple[str, ...]] = ("territories", "routing")

    def apply(self, sc: Scenario, ctx: LeverContext) -> Scenario:
        ctx.run_options["realign"] = self
        return sc


class QuotaMethod(LeverModel):
    """Set rep quotas with another method (a name from the quota registry; a run option)."""

    lever: Literal["quota_method"] = "quota_method"
    method: str = Field(min_length=1)
    over_assign: float = Field(default=1.0, ge=1.0, le=2.0)
    mechanisms: ClassVar[tuple[str, ...]] = ("quotas",)

    def apply(self, sc: Scenario, ctx: LeverContext) -> Scenario:
        ctx.run_options["quota_method"] = self
        return sc
