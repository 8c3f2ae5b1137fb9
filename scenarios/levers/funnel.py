"""Levers on the funnel: lead volume, stage conversion, stage durations, deal size, price."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from .base import LeverContext, LeverError, LeverModel

if TYPE_CHECKING:
    from ..distributions import Distribution
    from ..model import Scenario, Stage, StageOverride

__all__ = ["Conversion", "CycleTime", "DealSize", "LeadVolume", "Price"]


class LeadVolume(LeverModel):
    """Multiply expected leads per month of one source, one region, or all sources."""

    lever: Literal["lead_volume"] = "lead_volume"
    factor: float = Field(ge=0)
    source: str | None = None
    region: str | None = None
    mechanisms: ClassVar[tuple[str, ...]] = ("leads",)

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
                  dur: float | None = None, segment: str | None = None,
                  product: str | None = None) -> Scenario:
    """``sc`` with stage ``stage`` (or ``all``) scaled: every cell (segment x product), or only
    the cells of ``segment`` and/or ``product`` when given (:func:`_scale_cells`)."""
    if stage != "all" and stage not in sc.stage_names:
        raise LeverError(f"{ctx.where}.stage: {stage!r} is not a defined stage "
                         f"(defined: {', '.join(sc.stage_names)}, or 'all')")
    _need(ctx, "segment", segment, sc.segment_ids)
    _need(ctx, "product", product, sc.product_ids)
    stages = []
    for s in sc.stages:
        if stage not in ("all", s.name):
            stages.append(s)
        elif segment is None and product is None:
            stages.append(_scale_stage(s, conv, dur, ctx))
        else:
            cells = [(g, p) for g in sc.segment_ids if segment in (None, g)
                     for p in sc.product_ids if product in (None, p)]
            if conv is not None:
                s = _scale_cells(s, "conversion", segment, product, cells,
                                 _conversion_scaler(conv, ctx))
            if dur is not None:
                _check_quarter_months(s, cells, ctx)
                s = _scale_cells(s, "duration", segment, product, cells,
                                 _duration_scaler(dur))
            stages.append(s)
    return sc.model_copy(update={"stages": stages})


def _need(ctx: LeverContext, name: str, value: str | None, defined: list[str]) -> None:
    """A lever field naming a segment or product that the scenario does not define."""
    if value is not None and value not in defined:
        raise LeverError(f"{ctx.where}.{name}: {value!r} is not a defined {name} "
                         f"(defined: {', '.join(defined)})")


_RANK = {("segment",): 0, ("product",): 1, ("segment", "product"): 2}
"""Override precedence in :meth:`Stage.resolve`: segment, then product, then both (the later
wins; within a rank, the later override in the list)."""


def _keys(o: StageOverride) -> tuple[str, ...]:
    return tuple(k for k in ("segment", "product") if getattr(o, k) is not None)


def _source(stage: Stage, attr: str, segment: str, product: str) -> int | None:
    """The index of the override that sets ``attr`` for the cell (``segment``, ``product``) as
    :meth:`Stage.resolve` picks it, or None when the stage's own value applies."""
    best, best_rank = None, -1
    for i, o in enumerate(stage.overrides):
        if getattr(o, attr) is None or o.segment not in (None, segment) \
                or o.product not in (None, product):
            continue
        rank = _RANK[_keys(o)]
        if rank >= best_rank:
            best, best_rank = i, rank
    return best


def _scale_cells(stage: Stage, attr: str, segment: str | None, product: str | None,
                 cells: list[tuple[str, str]], scale: Callable[[Any, str], Any]) -> Stage:
    """``stage`` with ``attr`` (``conversion`` or ``duration``) scaled in exactly the ``cells``
    of ``segment`` and/or ``product`` (at least one given); every other cell resolves as before.

    Overrides that reach only target cells (keyed by the lever's segment and/or product) are
    scaled in place. A target cell whose value comes from the stage itself gets it through one
    new override keyed like the lever (it outranks the broader overrides, which get their own
    cells below); a target cell whose value comes from a broader override (a segment override
    for a product lever, say) gets a new segment-and-product override with that value scaled.
    ``scale(value, label)`` scales one value (``label`` names it in notes).
    """
    from ..model import StageOverride

    def inside(o: StageOverride) -> bool:
        return segment in (None, o.segment) and product in (None, o.product)

    def label(seg: str | None, prod: str | None) -> str:
        keys = [f"{k} {v!r}" for k, v in (("segment", seg), ("product", prod)) if v is not None]
        return f"stage {stage.name!r} ({', '.join(keys)})"

    sources = [(cell, _source(stage, attr, *cell)) for cell in cells]
    overrides = [o.model_copy(update={attr: scale(getattr(o, attr), label(o.segment, o.product))})
                 if getattr(o, attr) is not None and inside(o) else o for o in stage.overrides]
    if any(i is None for _, i in sources):
        overrides.append(StageOverride(segment=segment, product=product, **{
            attr: scale(getattr(stage, attr), label(segment, product))}))
    for (seg, prod), i in sources:
        if i is not None and not inside(stage.overrides[i]):
            value = getattr(stage.overrides[i], attr)
            overrides.append(StageOverride(segment=seg, product=prod, **{
                attr: scale(value, label(seg, prod))}))
    return stage.model_copy(update={"overrides": overrides})


def _conversion_scaler(factor: float, ctx: LeverContext) -> Callable[[float, str], float]:
    """Conversion times ``factor``, clipped at 1 (the clip noted)."""
    def scale(p: float, label: str) -> float:
        q = p * factor
        if q > 1.0:
            ctx.notes.append(f"{ctx.where}: {label} conversion {p:g} x {factor:g} = {q:g} "
                             "clipped to 1")
            return 1.0
        return q
    return scale


def _duration_scaler(factor: float) -> Callable[[Distribution, str], Distribution]:
    """Durations times ``factor`` (the shape kept)."""
    return lambda d, label: d.scaled(factor)


def _check_quarter_months(stage: Stage, cells: list[tuple[str, str]], ctx: LeverContext
                          ) -> None:
    """Durations of some cells only cannot be scaled where those cells use the stage's
    ``duration_by_quarter_month`` (an override holds one duration and would replace the three):
    an error naming the stage."""
    if stage.duration_by_quarter_month is not None and any(
            _source(stage, "duration", *cell) is None for cell in cells):
        raise LeverError(
            f"{ctx.where}: stage {stage.name!r} has duration_by_quarter_month, which a "
            "segment or product override cannot hold; scale its durations for every segment "
            "and product (cycle_time without segment and product)")


class Conversion(LeverModel):
    """Multiply the conversion probability of one stage (or ``all``) by ``factor``: for every
    deal, or only for the deals of one ``product`` and/or one ``segment``.

    The result is clipped to [0, 1]; a clip is reported in the variant's notes. With a product
    or segment, exactly those segment x product cells change (overrides are scaled or added);
    every other cell keeps its conversion.
    """

    lever: Literal["conversion"] = "conversion"
    stage: str = "all"
    factor: float = Field(gt=0)
    product: str | None = None
    segment: str | None = None
    mechanisms: ClassVar[tuple[str, ...]] = ("conversion",)

    references: ClassVar[dict[str, str]] = {"stage": "stage_or_all", "product": "product",
                                            "segment": "segment"}

    def apply(self, sc: Scenario, ctx: LeverContext) -> Scenario:
        return _scale_stages(sc, self.stage, ctx, conv=self.factor, segment=self.segment,
                             product=self.product)


class CycleTime(LeverModel):
    """Multiply stage durations of one stage (or all) by ``factor``: for every deal, or only
    for the deals of one ``product`` and/or one ``segment`` (not on a stage with
    ``duration_by_quarter_month`` whose own durations those deals use: an error)."""

    lever: Literal["cycle_time"] = "cycle_time"
    factor: float = Field(gt=0)
    stage: str = "all"
    product: str | None = None
    segment: str | None = None
    mechanisms: ClassVar[tuple[str, ...]] = ("cycle time", "capacity")

    references: ClassVar[dict[str, str]] = {"stage": "stage_or_all", "product": "product",
                                            "segment": "segment"}

    def apply(self, sc: Scenario, ctx: LeverContext) -> Scenario:
        return _scale_stages(sc, self.stage, ctx, dur=self.factor, segment=self.segment,
                             product=self.product)


def _scale_deal_sizes(sc: Scenario, product: str | None, factor: float) -> Scenario:
    """``sc`` with the deal sizes (list price, distribution, segment distributions) of
    ``product`` (None: every product) times ``factor``."""
    products = []
    for p in sc.products:
        if product not in (None, p.id):
            products.append(p)
            continue
        products.append(p.model_copy(update={
            "list_price": p.list_price * factor if p.list_price else p.list_price,
            "deal_size": p.deal_size.scaled(factor) if p.deal_size else None,
            "deal_size_by_segment": {k: d.scaled(factor)
                                     for k, d in p.deal_size_by_segment.items()},
        }))
    return sc.model_copy(update={"products": products})


class DealSize(LeverModel):
    """Multiply deal sizes of one product (or all) by ``factor``."""

    lever: Literal["deal_size"] = "deal_size"
    factor: float = Field(gt=0)
    product: str | None = None
    mechanisms: ClassVar[tuple[str, ...]] = ("deal value",)

    references: ClassVar[dict[str, str]] = {"product": "product"}

    def apply(self, sc: Scenario, ctx: LeverContext) -> Scenario:
        return _scale_deal_sizes(sc, self.product, self.factor)


class Price(LeverModel):
    """Change the price of one product (or of every product): its deal sizes times ``factor``,
    and, as the demand's response, the conversion of its deals times ``conversion_factor`` at
    each of ``stages`` (default: every stage).

    The response compounds over the stages listed: a deal's chance to be won changes by
    ``conversion_factor ** len(stages)`` (noted on the variant). Deals of other products keep
    their sizes and conversions. Open deals of the initial pipeline that carry a ``value`` keep
    it (they were quoted before the change); the conversion response applies to them too.
    """

    lever: Literal["price"] = "price"
    factor: float = Field(gt=0)
    product: str | None = None
    conversion_factor: float = Field(default=1.0, gt=0)
    stages: list[str] | None = Field(default=None, min_length=1)
    mechanisms: ClassVar[tuple[str, ...]] = ("deal value", "conversion")

    references: ClassVar[dict[str, str]] = {"product": "product", "stages": "stage"}

    @field_validator("stages")
    @classmethod
    def _stages_once(cls, v: list[str] | None) -> list[str] | None:
        twice = sorted({s for s in v or [] if v.count(s) > 1})  # type: ignore[union-attr]
        if twice:
            raise ValueError(f"{', '.join(map(repr, twice))} listed more than once")
        return v

    def apply(self, sc: Scenario, ctx: LeverContext) -> Scenario:
        _need(ctx, "product", self.product, sc.product_ids)
        for i, name in enumerate(self.stages or []):
            if name not in sc.stage_names:
                raise LeverError(f"{ctx.where}.stages[{i}]: {name!r} is not a defined stage "
                                 f"(defined: {', '.join(sc.stage_names)})")
        sc = _scale_deal_sizes(sc, self.product, self.factor)
        if self.conversion_factor == 1.0:
            return sc
        stages = self.stages or sc.stage_names
        whose = f"product {self.product!r}" if self.product else "every product"
        ctx.notes.append(
            f"{ctx.where}: price of {whose} x{self.factor:g}; its conversion x"
            f"{self.conversion_factor:g} at {len(stages)} stage(s) ({', '.join(stages)}): "
            f"chance to win a deal x{self.conversion_factor ** len(stages):.4g} before clips")
        for name in stages:
            sc = _scale_stages(sc, name, ctx, conv=self.conversion_factor, product=self.product)
        return sc
