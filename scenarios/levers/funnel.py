"""Levers on the funnel: lead volume, stage conversion, stage durations, deal size."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field, model_validator

from .base import LeverContext, LeverError, LeverModel

if TYPE_CHECKING:
    from ..model import Scenario, Stage

__all__ = ["Conversion", "CycleTime", "DealSize", "LeadVolume"]


class LeadVolume(LeverModel):
    """Multiply expected leads per month of one source, one region, or all sources."""

    lever: Literal["lead_volume"] = "lead_volume"
    factor: float = Field(ge=0)
    source: str | None = None
    region: str | None = None

    references: ClassVar[dict[str, str]] = {"region": "region", "source": "lead source"}

    @model_validator(mode="after")
    def _not_both(self) -> LeadVolume:
        if self.source is not None and self.region is not None:
            raise ValueError("give source or region, not both")
        return self

    def apply(self, sc: Scenario, ctx: LeverContext) -> Scenario:
        sources = [s.model_copy(update={"leads_per_month": s.leads_per_month * self.factor})
                   if (self.source in (None, s.id) and self.region in (None, s.region)) else s
                   for s in sc.lead_sources]
        return sc.model_copy(update={"lead_sources": sources})


def _scale_stage(stage: Stage, conv: float | None, dur: float | None, ctx: LeverContext
                 ) -> Stage:
    """``stage`` with its conversions times ``conv`` (clipped at 1, noted) and its durations
    times ``dur``, overrides included."""
    def conv_of(p: float, label: str) -> float:
        q = p * conv  # type: ignore[operator]
        if q > 1.0:
            ctx.notes.append(f"{ctx.where}: {label} conversion {p:g} x {conv:g} = {q:g} "
                             "clipped to 1")
            return 1.0
        return q

    update: dict = {}
    if conv is not None:
        update["conversion"] = conv_of(stage.conversion, f"stage {stage.name!r}")
    if dur is not None:
        update["duration"] = stage.duration.scaled(dur)
        if stage.duration_by_quarter_month is not None:
            update["duration_by_quarter_month"] = [d.scaled(dur)
                                                   for d in stage.duration_by_quarter_month]
    overrides = []
    for o in stage.overrides:
        ou: dict = {}
        if conv is not None and o.conversion is not None:
            ou["conversion"] = conv_of(o.conversion, f"stage {stage.name!r} override")
        if dur is not None and o.duration is not None:
            ou["duration"] = o.duration.scaled(dur)
        overrides.append(o.model_copy(update=ou))
    update["overrides"] = overrides
    return stage.model_copy(update=update)


def _scale_stages(sc: Scenario, stage: str, ctx: LeverContext, conv: float | None = None,
                  dur: float | None = None) -> Scenario:
    if stage != "all" and stage not in sc.stage_names:
        raise LeverError(f"{ctx.where}.stage: {stage!r} is not a defined stage "
                         f"(defined: {', '.join(sc.stage_names)}, or 'all')")
    stages = [_scale_stage(s, conv, dur, ctx) if stage in ("all", s.name) else s
              for s in sc.stages]
    return sc.model_copy(update={"stages": stages})


class Conversion(LeverModel):
    """Multiply the conversion probability of one stage (or ``all``) by ``factor``.

    The result is clipped to [0, 1]; a clip is reported in the variant's notes.
    """

    lever: Literal["conversion"] = "conversion"
    stage: str = "all"
    factor: float = Field(gt=0)

    references: ClassVar[dict[str, str]] = {"stage": "stage_or_all"}

    def apply(self, sc: Scenario, ctx: LeverContext) -> Scenario:
        return _scale_stages(sc, self.stage, ctx, conv=self.factor)


class CycleTime(LeverModel):
    """Multiply stage durations of one stage (or all) by ``factor``."""

    lever: Literal["cycle_time"] = "cycle_time"
    factor: float = Field(gt=0)
    stage: str = "all"

    references: ClassVar[dict[str, str]] = {"stage": "stage_or_all"}

    def apply(self, sc: Scenario, ctx: LeverContext) -> Scenario:
        return _scale_stages(sc, self.stage, ctx, dur=self.factor)


class DealSize(LeverModel):
    """Multiply deal sizes of one product (or all) by ``factor``."""

    lever: Literal["deal_size"] = "deal_size"
    factor: float = Field(gt=0)
    product: str | None = None

    references: ClassVar[dict[str, str]] = {"product": "product"}

    def apply(self, sc: Scenario, ctx: LeverContext) -> Scenario:
        products = []
        for p in sc.products:
            if self.product not in (None, p.id):
                products.append(p)
                continue
            f = self.factor
            products.append(p.model_copy(update={
                "list_price": p.list_price * f if p.list_price else p.list_price,
                "deal_size": p.deal_size.scaled(f) if p.deal_size else None,
                "deal_size_by_segment": {k: d.scaled(f)
                                         for k, d in p.deal_size_by_segment.items()},
            }))
        return sc.model_copy(update={"products": products})
