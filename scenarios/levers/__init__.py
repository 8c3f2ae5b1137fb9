"""What-if levers: typed, validated changes a scenario file lists as named variants, and their
application to a scenario.

A variant is a name, a description and a list of levers; each lever is tagged by its ``lever``
field. Each lever is one class (:mod:`.funnel`, :mod:`.people`, :mod:`.policy`, :mod:`.pay`)
holding its fields, the fields that name other sections (checked with the scenario's
cross-references) and its :meth:`~.base.LeverModel.apply`. To add a lever, define a
:class:`~.base.LeverModel` subclass in one of those modules (or a new one imported below); the
union :data:`Lever` is built from the registry :data:`LEVERS`.

:func:`apply_levers` applies levers in order and returns an :class:`AppliedVariant`: a new frozen
scenario, re-validated as a whole, with every clip, rounding or choice a lever made in its notes
(nothing is silent). Levers that are not scenario data (``quota_method``, ``realign``) come back
as run options for the what-if runner, which calls the optimiser for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Union

from pydantic import BaseModel, ConfigDict, Field

from .base import LEVERS, LeverContext, LeverError, LeverModel, add_months
from .funnel import Conversion, CycleTime, DealSize, LeadVolume, Price
from .pay import AddSpif, PayPlanChange
from .people import Attrition, Capacity, Departure, Hire
from .policy import QuotaMethod, Realign, ResponseHalfLife, Routing, Target

if TYPE_CHECKING:
    from ..model import Scenario

__all__ = [
    "LEVERS",
    "AddSpif",
    "AppliedVariant",
    "Attrition",
    "Capacity",
    "Conversion",
    "CycleTime",
    "DealSize",
    "Departure",
    "Hire",
    "LeadVolume",
    "Lever",
    "LeverContext",
    "LeverError",
    "LeverModel",
    "PayPlanChange",
    "Price",
    "QuotaMethod",
    "Realign",
    "ResponseHalfLife",
    "Routing",
    "Target",
    "Variant",
    "add_months",
    "apply_levers",
    "apply_variant",
]

Lever = Annotated[Union[tuple(LEVERS.values())], Field(discriminator="lever")]  # noqa: UP007
"""Any registered lever, told apart by its ``lever`` field."""


class Variant(BaseModel):
    """A named what-if: the base scenario with ``levers`` applied in order."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str = ""
    levers: list[Lever] = Field(min_length=1)


@dataclass(frozen=True)
class AppliedVariant:
    """A variant ready to run: its scenario, what was clipped, rounded or chosen, and the run
    options (another quota method, re-aligned territories)."""

    name: str
    scenario: Scenario
    notes: list[str] = field(default_factory=list)
    quota_method: QuotaMethod | None = None
    realign: Realign | None = None
    mechanisms: tuple[str, ...] = ()
    """How the variant's levers move bookings (:attr:`LeverModel.mechanisms`, in order)."""


def apply_levers(sc: Scenario, levers: list[LeverModel], variant: str = "variant"
                 ) -> AppliedVariant:
    """Apply ``levers`` in order to ``sc`` and return the variant ready to run."""
    from ..model import Scenario

    notes: list[str] = []
    options: dict = {}
    for j, lv in enumerate(levers):
        ctx = LeverContext(f"variants[{variant}].levers[{j}]", variant, notes, options)
        sc = lv.apply(sc, ctx)
    # re-validate the whole scenario: a lever must never produce an invalid one
    sc = Scenario.model_validate(sc.model_dump())
    mechanisms = tuple(dict.fromkeys(m for lv in levers for m in type(lv).mechanisms))
    return AppliedVariant(variant, sc, notes, options.get("quota_method"), options.get("realign"),
                          mechanisms)


def apply_variant(sc: Scenario, variant: Variant | str) -> AppliedVariant:
    """Apply a named variant of ``sc`` (or a :class:`Variant` object)."""
    if isinstance(variant, str):
        try:
            variant = sc.variant(variant)
        except KeyError as exc:
            raise LeverError(str(exc.args[0])) from None
    return apply_levers(sc, list(variant.levers), variant.name)
