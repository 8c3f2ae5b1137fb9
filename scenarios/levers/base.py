"""What every what-if lever is: a typed, validated change to a scenario, registered by its name.

A lever is a frozen pydantic model tagged by its ``lever`` field. Its class says everything
about it in one place: its fields (validated like the rest of the scenario), which of them name
other sections of the scenario (``references``, checked with every other cross-reference so a
loader reports every problem at once), and how it changes a scenario (:meth:`LeverModel.apply`).
Defining a subclass with a ``lever`` name registers it; the union
:data:`~salesplan.scenarios.levers.Lever` the scenario format accepts is built from the registry.

Factors are multipliers (1.0 = unchanged, 0.8 = -20%); months are 1-based months of the horizon.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from salesplan.errors import SalesplanError

if TYPE_CHECKING:
    from ..model import Scenario

__all__ = ["LEVERS", "LeverContext", "LeverError", "LeverModel", "add_months"]

LEVERS: dict[str, type[LeverModel]] = {}
"""Lever name -> its class, in the order the classes were defined."""


class LeverError(SalesplanError):
    """A lever cannot be applied to this scenario (named by variant and field)."""


@dataclass
class LeverContext:
    """Where a lever is applied (``where``: ``variants[name].levers[j]``, for messages), the
    variant's name, what was clipped, rounded or chosen (``notes``: nothing is silent), and the
    run options levers that are not scenario data set (``quota_method``, ``realign``)."""

    where: str
    variant: str
    notes: list[str] = field(default_factory=list)
    run_options: dict[str, Any] = field(default_factory=dict)


class LeverModel(BaseModel):
    """Base of every lever. Subclasses set ``lever: Literal["name"] = "name"``, may list the
    fields that name other sections in ``references`` (field -> ``region``, ``stage_or_all``,
    ``lead source``, ``product``, ``segment``, ``rep``, or ``month``: a month of the horizon;
    a list field names one of them per entry), and implement :meth:`apply`."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    references: ClassVar[dict[str, str]] = {}
    mechanisms: ClassVar[tuple[str, ...]] = ()
    """How the lever moves bookings, in the words of ``docs/whatif.md`` ("How each lever moves
    bookings"): leads, conversion, deal value, cycle time, capacity, queueing, sourcing, ramp,
    routing, hand-over, departures, target, quotas, territories."""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        name = cls.model_fields["lever"].default if "lever" in cls.model_fields else None
        if isinstance(name, str):
            if name in LEVERS and LEVERS[name] is not cls:
                raise TypeError(f"lever {name!r} is defined twice ({LEVERS[name].__name__}, "
                                f"{cls.__name__})")
            LEVERS[name] = cls

    def apply(self, sc: Scenario, ctx: LeverContext) -> Scenario:
        """The scenario with this lever applied (a new frozen scenario; ``sc`` is unchanged).
        Levers that are run options record themselves in ``ctx.run_options`` and return
        ``sc``."""
        raise NotImplementedError


def add_months(d: dt.date, months: int) -> dt.date:
    """The first of the month ``months`` after ``d``'s month."""
    y, m = divmod(d.month - 1 + months, 12)
    return dt.date(d.year + y, m + 1, 1)
