"""The scenario model: one sales planning problem, validated once into frozen objects.

Units and conventions (every engine relies on them):

- Money is in the scenario's ``horizon.currency`` (an ISO 4217 code), as plain floats.
- Durations inside the funnel are in **days**; ramp, backfill lag and warm-up in **months**.
- Rates: ``leads_per_month`` is the average expected number of new leads per calendar month;
  ``attrition_monthly`` is a monthly hazard (probability of leaving in a month of service).
- Probabilities are in [0, 1]; conversion multipliers (grade, lead source, rep productivity) act
  on the
  **odds** of advancing, i.e. they add ``log(multiplier)`` to the log-odds.
- Seasonality profiles are relative weights indexed by calendar month (January first); they are
  rescaled to mean 1 when used, so ``leads_per_month`` stays the average.

Structural checks (types, ranges) live on the models; cross-references between sections (an owner
that exists, a region that is defined) are in :mod:`salesplan.scenarios.references` so that a loader
can report every problem at once.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from .compensation import Compensation
from .distributions import Distribution, Fixed
from .levers import Variant

__all__ = [
    "Account",
    "AttritionPolicy",
    "Grade",
    "Horizon",
    "LeadSource",
    "PipelineDeal",
    "Policies",
    "Product",
    "Region",
    "Rep",
    "Scenario",
    "Segment",
    "SourcingPolicy",
    "Stage",
    "StageOverride",
    "Targets",
]


def _probability(v: float) -> float:
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"must be in [0, 1], got {v:g}")
    return v


def _split_list(v: Any) -> Any:
    """CSV cells hold lists as ``a;b;c``; an empty cell is an empty list."""
    if v is None:
        return []
    if isinstance(v, str):
        return [s.strip() for s in v.split(";") if s.strip()]
    return v


def _strip_id(v: Any) -> Any:
    if isinstance(v, str):
        v = v.strip()
    return v


def _empty_to_none(v: Any) -> Any:
    if isinstance(v, str) and v.strip() == "":
        return None
    return v


Probability = Annotated[float, AfterValidator(_probability)]
Id = Annotated[str, BeforeValidator(_strip_id), Field(min_length=1, max_length=200)]
OptId = Annotated[Id | None, BeforeValidator(_empty_to_none)]
NonNegative = Annotated[float, Field(ge=0)]


def _opt(kind: Any) -> Any:
    """``kind`` or None, where an empty CSV cell means None (constraints apply to values only)."""
    return Annotated[kind | None, BeforeValidator(_empty_to_none)]

OptText = Annotated[str | None, BeforeValidator(_empty_to_none)]
IdList = Annotated[list[Id], BeforeValidator(_split_list)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Horizon(_Frozen):
    """The planning period: ``months`` calendar months from ``start`` (a first of the month)."""

    start: dt.date
    months: int = Field(ge=1, le=120)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")

    @field_validator("start")
    @classmethod
    def _first_of_month(cls, v: dt.date) -> dt.date:
        if v.day != 1:
            raise ValueError(f"must be the first day of a month, got {v.isoformat()}")
        return v

    @property
    def end(self) -> dt.date:
        """First day after the horizon."""
        return _add_months(self.start, self.months)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def month_starts(self) -> list[dt.date]:
        """The first day of every horizon month, plus the end (``months + 1`` dates)."""
        return [_add_months(self.start, m) for m in range(self.months + 1)]


def _add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    return dt.date(d.year + y, m + 1, 1)


class Region(_Frozen):
    id: Id
    name: OptText = None


class Segment(_Frozen):
    """A customer segment (customer type), e.g. SMB, MidMarket, Enterprise."""

    id: Id
    name: OptText = None


class Product(_Frozen):
    """A product; its deal size is ``deal_size`` (a distribution) or else ``list_price`` (fixed).

    ``deal_size_by_segment`` overrides the deal-size distribution for named segments.
    """

    id: Id
    name: OptText = None
    category: OptText = None
    list_price: float | None = Field(default=None, gt=0)
    deal_size: Distribution | None = None
    deal_size_by_segment: dict[str, Distribution] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _has_size(self) -> Product:
        if self.list_price is None and self.deal_size is None:
            raise ValueError("give list_price or deal_size (a distribution)")
        return self

    def deal_size_for(self, segment: str | None) -> Any:
        """The deal-size distribution for a segment (currency per won deal)."""
        if segment is not None and segment in self.deal_size_by_segment:
            return self.deal_size_by_segment[segment]
        if self.deal_size is not None:
            return self.deal_size
        return Fixed(value=float(self.list_price))  # type: ignore[arg-type]


class StageOverride(_Frozen):
    """Conversion and/or duration for one segment, one product, or a segment-product pair."""

    segment: str | None = None
    product: str | None = None
    conversion: Probability | None = None
    duration: Distribution | None = None

    @model_validator(mode="after")
    def _targeted(self) -> StageOverride:
        if self.segment is None and self.product is None:
            raise ValueError("an override needs a segment or a product")
        if self.conversion is None and self.duration is None:
            raise ValueError("an override needs a conversion or a duration")
        return self


class Stage(_Frozen):
    """An open funnel stage. A deal spends ``duration`` days in it, then advances to the next
    stage with probability ``conversion`` (after the last stage: won) or is lost.

    ``duration_by_quarter_month`` (optional, three distributions): the time in the stage of a
    deal that enters it in the first, second or third month of a calendar quarter, for teams
    whose deals close in end-of-quarter bunches. It replaces ``duration`` except where an
    override sets a duration. The month is that of the deal's arrival plus its time in the
    earlier stages (a wait for a rep's slot is not counted).

    Overrides are matched most specific first: segment and product, then product, then segment.
    """

    name: Id
    conversion: Probability
    duration: Distribution
    duration_by_quarter_month: list[Distribution] | None = None
    overrides: list[StageOverride] = Field(default_factory=list)

    @field_validator("duration_by_quarter_month")
    @classmethod
    def _three(cls, v: list | None) -> list | None:
        if v is not None and len(v) != 3:
            raise ValueError("must have 3 distributions (months 1, 2 and 3 of a quarter), "
                             f"got {len(v)}")
        return v

    def durations_for(self, segment: str | None, product: str | None) -> tuple[Any, ...]:
        """The duration distribution of a segment/product cell: one (any month), or three (by
        month of the quarter the deal enters the stage) when the stage has
        ``duration_by_quarter_month`` and no override sets a duration for the cell."""
        dur = self.resolve(segment, product)[1]
        if self.duration_by_quarter_month is not None and dur is self.duration:
            return tuple(self.duration_by_quarter_month)
        return (dur,)

    def resolve(self, segment: str | None, product: str | None) -> tuple[float, Any]:
        """(conversion, duration distribution) for a segment/product cell."""
        conv, dur = self.conversion, self.duration
        for rank in (("segment",), ("product",), ("segment", "product")):
            for o in self.overrides:
                keys = tuple(k for k in ("segment", "product") if getattr(o, k) is not None)
                if keys != rank:
                    continue
                if (o.segment is None or o.segment == segment) and (
                    o.product is None or o.product == product
                ):
                    conv = o.conversion if o.conversion is not None else conv
                    dur = o.duration if o.duration is not None else dur
        return conv, dur


class Grade(_Frozen):
    """A lead grade (A/B/C/D): its share of the lead mix and its odds multiplier on conversion."""

    grade: Id
    share: float = Field(ge=0, le=1)
    conversion_multiplier: float = Field(default=1.0, gt=0)


class LeadSource(_Frozen):
    """A stream of leads: a non-homogeneous Poisson process with rate
    ``leads_per_month x seasonality[calendar month] x (1 + annual_growth) ** years``.

    ``conversion_multiplier`` multiplies the odds of advancing at every stage for this source's
    leads (like a grade's; 1: the stages' conversion as it is).
    """

    id: Id
    region: Id
    segment: Id
    channel: str = Field(default="inbound", min_length=1)
    leads_per_month: float = Field(ge=0)
    seasonality: list[Annotated[float, Field(gt=0)]] = Field(
        default_factory=lambda: [1.0] * 12
    )
    annual_growth: float = Field(default=0.0, gt=-1, le=10)
    product_mix: dict[str, Annotated[float, Field(ge=0)]] | None = None
    conversion_multiplier: float = Field(default=1.0, gt=0)

    @model_serializer(mode="wrap")
    def _neutral_multiplier_left_out(self, handler: SerializerFunctionWrapHandler) -> dict:
        """A multiplier of 1 is not written (documents from before the field stay the same)."""
        doc = handler(self)
        if self.conversion_multiplier == 1.0:
            doc.pop("conversion_multiplier", None)
        return doc

    @field_validator("seasonality")
    @classmethod
    def _twelve(cls, v: list[float]) -> list[float]:
        if len(v) != 12:
            raise ValueError(
                f"must have 12 positive entries (one per calendar month), got {len(v)}")
        return v

    @field_validator("product_mix")
    @classmethod
    def _mix(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is not None and sum(v.values()) <= 0:
            raise ValueError("weights must not all be zero")
        return v


class Rep(_Frozen):
    """A sales rep (a seat). ``start_date`` None means active before the horizon and ramped.

    ``segments`` are the segment skills (empty: any segment); ``capacity`` is the most open deals
    the rep works at once (further leads queue); ``productivity`` multiplies the odds of advancing
    at every stage and the rate at which the rep sources its own deals; a new rep ramps linearly
    to full productivity over ``ramp_months`` after ``start_date`` (the simulator documents the
    starting fraction, ``simulator.RAMP_START``).

    ``end_date`` is a planned departure (resignation, transfer, end of contract): the rep leaves
    at the start of that day; its open deals follow the attrition policy (reassigned or lost)
    and the seat is refilled after the policy's backfill lag when ``backfill_on_end`` (None: the
    attrition policy's ``backfill``) says so. ``sourcing_per_month`` overrides the sourcing
    policy's rate for this rep (deals it creates itself per month at full productivity).
    """

    id: Id
    name: OptText = None
    region: Id
    role: str = Field(default="AE", min_length=1)
    segments: IdList = Field(default_factory=list)
    capacity: int = Field(default=40, ge=1, le=100_000)
    productivity: float = Field(default=1.0, gt=0)
    start_date: Annotated[dt.date | None, BeforeValidator(_empty_to_none)] = None
    ramp_months: float = Field(default=0.0, ge=0, le=36)
    attrition_monthly: float = Field(default=0.0, ge=0, lt=1)
    cost_annual: float = Field(default=0.0, ge=0)
    lat: _opt(Annotated[float, Field(ge=-90, le=90)]) = None
    lon: _opt(Annotated[float, Field(ge=-180, le=180)]) = None
    last_quota: _opt(NonNegative) = None
    last_bookings: _opt(NonNegative) = None
    end_date: Annotated[dt.date | None, BeforeValidator(_empty_to_none)] = None
    backfill_on_end: Annotated[bool | None, BeforeValidator(_empty_to_none)] = None
    sourcing_per_month: _opt(NonNegative) = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> Rep:
        if (self.end_date is not None and self.start_date is not None
                and self.end_date <= self.start_date):
            raise ValueError(f"end_date {self.end_date.isoformat()} must come after start_date "
                             f"{self.start_date.isoformat()}")
        return self

    def serves(self, segment: str) -> bool:
        return not self.segments or segment in self.segments


class Account(_Frozen):
    """A customer account: where it is, what it is worth and what it costs to cover.

    ``potential`` is annual revenue potential (currency/year); ``workload_hours`` the selling
    hours per year it needs; ``owner`` the current rep (None: unassigned); ``locked`` keeps it
    with its owner in any re-alignment.

    ``previous_owner`` works the account until ``owner`` starts (``owner`` is a planned hire with
    a ``start_date`` in the horizon): the hand-over is on that date. From then on the account's
    new leads and the deals sourced on it go to ``owner``; deals already open stay with the rep
    working them.
    """

    id: Id
    name: OptText = None
    region: Id
    segment: Id
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    potential: float = Field(default=0.0, ge=0)
    workload_hours: float = Field(default=0.0, ge=0)
    owner: OptId = None
    locked: bool = False
    previous_owner: OptId = None


class PipelineDeal(_Frozen):
    """An open deal at the horizon start: in ``stage``, ``age_days`` since it entered the funnel."""

    id: Id
    stage: Id
    age_days: float = Field(default=0.0, ge=0)
    owner: Id
    value: _opt(NonNegative) = None
    segment: OptId = None
    product: OptId = None
    account: OptId = None


class Targets(_Frozen):
    """The company target for the horizon (currency) and optional splits.

    ``by_region``/``by_product``/``by_segment`` are shares that sum to 1; ``seasonality`` is 4
    (quarterly) or 12 (monthly) relative weights over the horizon's quarters or months.
    """

    company: float = Field(gt=0)
    by_region: dict[str, Annotated[float, Field(ge=0)]] | None = None
    by_product: dict[str, Annotated[float, Field(ge=0)]] | None = None
    by_segment: dict[str, Annotated[float, Field(ge=0)]] | None = None
    seasonality: list[Annotated[float, Field(gt=0)]] | None = None

    @field_validator("by_region", "by_product", "by_segment")
    @classmethod
    def _shares(cls, v: dict[str, float] | None, info: ValidationInfo) -> dict[str, float] | None:
        if v is not None and abs(sum(v.values()) - 1.0) > 1e-6:
            raise ValueError(f"shares must sum to 1, got {sum(v.values()):.6g}")
        return v

    @field_validator("seasonality")
    @classmethod
    def _season(cls, v: list[float] | None) -> list[float] | None:
        if v is not None and len(v) not in (4, 12):
            raise ValueError(f"must have 4 (quarterly) or 12 (monthly) entries, got {len(v)}")
        return v


class AttritionPolicy(_Frozen):
    """What happens when a rep leaves: open deals are reassigned within the region or lost;
    the seat stays empty for ``backfill_lag_months``, then a new hire starts and ramps."""

    open_deals: Literal["reassign", "lose"] = "reassign"
    backfill: bool = True
    backfill_lag_months: float = Field(default=2.0, ge=0, le=24)
    backfill_ramp_months: float | None = Field(default=None, ge=0, le=36)


class SourcingPolicy(_Frozen):
    """Deals reps create themselves (outbound prospecting, referrals, expansion of their
    accounts), besides the leads routed to them.

    ``per_rep_per_month``: deals a seated, fully ramped rep of productivity 1 creates per month
    (a rep's own ``sourcing_per_month`` overrides it); the rate scales with the rep's
    productivity and ramp, and a rep sources only while it has a free slot (below capacity).
    ``entry_stage``: the stage a sourced deal enters (default: the first). ``per_account_per_year``:
    the market: how many deals one account of average potential can yield in a year; a rep's
    rate saturates as its effort approaches what its accounts can yield
    (``M (1 - exp(-effort / M))``, M the accounts' yield); None: no market limit.
    """

    per_rep_per_month: float = Field(default=0.0, ge=0, le=10_000)
    entry_stage: OptId = None
    per_account_per_year: float | None = Field(default=None, gt=0)


class Policies(_Frozen):
    """Run policies: lead routing strategy (a registry name), overflow of waiting leads,
    lead-response decay half-life in days (None: no decay), attrition handling, rep-sourced
    deals, and warm-up months to build an initial pipeline when no ``initial_pipeline`` table is
    given (0: start empty).

    ``overflow_wait_days``: under territory routing, a lead whose owner could not contact it
    within this many days goes to the eligible colleague (same region, serving its segment) who
    can contact it soonest, if that is sooner; None: leads always wait for their owner.
    """

    routing: str = Field(default="territory_owner", min_length=1)
    overflow_wait_days: float | None = Field(default=None, ge=0)
    response_half_life_days: float | None = Field(default=None, gt=0)
    attrition: AttritionPolicy = Field(default_factory=AttritionPolicy)
    sourcing: SourcingPolicy = Field(default_factory=SourcingPolicy)
    warmup_months: int = Field(default=0, ge=0, le=24)


_CACHED_LOOKUPS = ("region_ids", "segment_ids", "product_ids", "stage_names", "rep_index",
                   "product_index")


class Scenario(_Frozen):
    """One planning problem. Build it with :func:`salesplan.scenarios.load_scenario` (files) or
    ``Scenario.model_validate(dict)``; both check cross-references and report every problem."""

    name: Id
    description: str = ""
    horizon: Horizon
    regions: list[Region] = Field(min_length=1)
    segments: list[Segment] = Field(min_length=1)
    products: list[Product] = Field(min_length=1)
    stages: list[Stage] = Field(min_length=1)
    grades: list[Grade] = Field(default_factory=list)
    lead_sources: list[LeadSource] = Field(default_factory=list)
    reps: list[Rep] = Field(min_length=1)
    accounts: list[Account] = Field(default_factory=list)
    targets: Targets | None = None
    policies: Policies = Field(default_factory=Policies)
    initial_pipeline: list[PipelineDeal] = Field(default_factory=list)
    compensation: Compensation | None = None
    variants: list[Variant] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _text(cls, data: Any) -> Any:
        """Refuse lone surrogates and NUL characters anywhere (:mod:`.text`)."""
        if isinstance(data, dict):
            from .text import text_problems

            problems = text_problems(data)
            if problems:
                raise ValueError("; ".join(f"{path}: {msg}" for path, msg in problems))
        return data

    @model_validator(mode="after")
    def _references(self, info: ValidationInfo) -> Scenario:
        if info.context and info.context.get("skip_references"):
            return self
        from .references import check_references

        problems = check_references(self)
        if problems:
            raise ValueError("; ".join(f"{p.path}: {p.message}" for p in problems))
        return self

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False
                   ) -> Scenario:
        """A copy (with ``update`` applied); the cached lookups below are computed again for
        the copy, never carried over from this scenario (they would describe the old reps)."""
        new = super().model_copy(update=update, deep=deep)
        for name in _CACHED_LOOKUPS:
            new.__dict__.pop(name, None)
        return new

    # ---- convenient lookups (computed once per frozen scenario) ----
    @cached_property
    def region_ids(self) -> list[str]:
        return [r.id for r in self.regions]

    @cached_property
    def segment_ids(self) -> list[str]:
        return [s.id for s in self.segments]

    @cached_property
    def product_ids(self) -> list[str]:
        return [p.id for p in self.products]

    @cached_property
    def stage_names(self) -> list[str]:
        return [s.name for s in self.stages]

    @cached_property
    def rep_index(self) -> dict[str, Rep]:
        return {r.id: r for r in self.reps}

    @cached_property
    def product_index(self) -> dict[str, Product]:
        return {p.id: p for p in self.products}

    def variant(self, name: str) -> Variant:
        for v in self.variants:
            if v.name == name:
                return v
        known = ", ".join(v.name for v in self.variants) or "none"
        raise KeyError(f"variant {name!r} is not defined (defined: {known})")
