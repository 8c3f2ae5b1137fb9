"""What-if levers: typed, validated overrides a scenario file lists as named variants.

A variant is a name, a description and a list of levers; each lever is tagged by its ``lever``
field. This module only describes and validates levers (the data); applying them to a scenario is
the application layer's job (``salesplan.api.levers``), and cross-references (regions, stages,
sources that exist) are checked with the rest of the scenario in ``salesplan.scenarios.references``.

Factors are multipliers (1.0 = unchanged, 0.8 = -20%); months are 1-based months of the horizon.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["LEVER_KINDS", "Lever", "Variant"]


class _Lever(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Hire(_Lever):
    """Hire ``count`` reps in ``region`` starting in horizon month ``start_month`` (1-based).

    New hires ramp linearly to full productivity over ``ramp_months`` (the region's typical rep
    settings are copied for capacity, productivity, attrition and cost unless given).
    """

    lever: Literal["hire"] = "hire"
    region: str
    count: int = Field(ge=1, le=1000)
    start_month: int = Field(default=1, ge=1, le=120)
    ramp_months: float | None = Field(default=None, ge=0, le=36)
    capacity: int | None = Field(default=None, ge=1)
    cost_annual: float | None = Field(default=None, ge=0)


class Attrition(_Lever):
    """Change the monthly attrition hazard of every rep (or a region's): a factor or a new rate."""

    lever: Literal["attrition"] = "attrition"
    factor: float | None = Field(default=None, ge=0)
    monthly_rate: float | None = Field(default=None, ge=0, lt=1)
    region: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Attrition:
        if (self.factor is None) == (self.monthly_rate is None):
            raise ValueError("give exactly one of factor or monthly_rate")
        return self


class Conversion(_Lever):
    """Multiply the conversion probability of one stage (or ``all``) by ``factor``.

    The result is clipped to [0, 1]; a clip is reported by the application layer.
    """

    lever: Literal["conversion"] = "conversion"
    stage: str = "all"
    factor: float = Field(gt=0)


class LeadVolume(_Lever):
    """Multiply expected leads per month of one source, one region, or all sources."""

    lever: Literal["lead_volume"] = "lead_volume"
    factor: float = Field(ge=0)
    source: str | None = None
    region: str | None = None

    @model_validator(mode="after")
    def _not_both(self) -> LeadVolume:
        if self.source is not None and self.region is not None:
            raise ValueError("give source or region, not both")
        return self


class DealSize(_Lever):
    """Multiply deal sizes of one product (or all) by ``factor``."""

    lever: Literal["deal_size"] = "deal_size"
    factor: float = Field(gt=0)
    product: str | None = None


class CycleTime(_Lever):
    """Multiply stage durations of one stage (or all) by ``factor``."""

    lever: Literal["cycle_time"] = "cycle_time"
    factor: float = Field(gt=0)
    stage: str = "all"


class Target(_Lever):
    """Change the company target: a factor (1.15 = +15%) or an absolute amount (currency)."""

    lever: Literal["target"] = "target"
    factor: float | None = Field(default=None, gt=0)
    amount: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_of(self) -> Target:
        if (self.factor is None) == (self.amount is None):
            raise ValueError("give exactly one of factor or amount")
        return self


class Routing(_Lever):
    """Route leads with another strategy (a name from the simulator's routing registry)."""

    lever: Literal["routing"] = "routing"
    strategy: str = Field(min_length=1)


class Realign(_Lever):
    """Re-align territories before simulating, with the territory optimiser's options."""

    lever: Literal["realign"] = "realign"
    mode: Literal["carve", "realign"] = "realign"
    balance: dict[str, float] = Field(default_factory=lambda: {"workload": 0.1})
    max_moves: int | None = Field(default=None, ge=0)


class QuotaMethod(_Lever):
    """Set rep quotas with another method (a name from the quota registry)."""

    lever: Literal["quota_method"] = "quota_method"
    method: str = Field(min_length=1)
    over_assign: float = Field(default=1.0, ge=1.0, le=2.0)


class Capacity(_Lever):
    """Multiply every rep's capacity (maximum concurrent open deals); at least 1 is kept."""

    lever: Literal["capacity"] = "capacity"
    factor: float = Field(gt=0)
    region: str | None = None


class ResponseHalfLife(_Lever):
    """Set the lead-response half-life in days (how fast waiting leads go cold)."""

    lever: Literal["response_half_life"] = "response_half_life"
    days: float = Field(gt=0)


Lever = Annotated[
    Hire
    | Attrition
    | Conversion
    | LeadVolume
    | DealSize
    | CycleTime
    | Target
    | Routing
    | Realign
    | QuotaMethod
    | Capacity
    | ResponseHalfLife,
    Field(discriminator="lever"),
]

LEVER_KINDS: tuple[str, ...] = (
    "hire",
    "attrition",
    "conversion",
    "lead_volume",
    "deal_size",
    "cycle_time",
    "target",
    "routing",
    "realign",
    "quota_method",
    "capacity",
    "response_half_life",
)


class Variant(BaseModel):
    """A named what-if: the base scenario with ``levers`` applied in order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str = ""
    levers: list[Lever] = Field(min_length=1)

    def lever_dicts(self) -> list[dict[str, Any]]:
        return [lv.model_dump(exclude_none=True) for lv in self.levers]
