"""The scenario's lead sources: monthly arrivals of new deals per region x segment x source,
fitted over the fully observed months before the cut (:func:`~.estimators.fit_arrivals`), from
the routed deals only (the rep-sourced deals :mod:`.sourcing` counted are left out)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .cut import CutHistory
from .dimensions import ALL
from .documents import rounded
from .errors import CalibrationError
from .estimators import ArrivalFit, fit_arrivals

__all__ = ["LeadSources", "arrival_months", "lead_sources"]


@dataclass
class LeadSources:
    """``fits``: one arrival fit per region x segment x source (sorted); ``documents``: the
    scenario's lead-source documents, in the same order; ``notes``."""

    fits: list[ArrivalFit]
    documents: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)


def arrival_months(created: pd.Series, truncation: pd.Timestamp | None, cut: pd.Timestamp
                   ) -> tuple[pd.Period, pd.Period]:
    """The first and last month whose arrivals were fully observed: from the first full month
    of ``created`` dates (or from the truncation date: earlier months lost deals) to the last
    full month before the cut; raise when there is none."""
    first_m = created.min().to_period("M")
    if truncation is not None:
        tp = truncation.to_period("M")
        first_m = tp if truncation.day == 1 else tp + 1
    elif created.min().day != 1:
        first_m = first_m + 1
    last_m = (cut - pd.Timedelta(days=1)).to_period("M")
    if cut != cut.to_period("M").start_time:
        last_m = last_m - 1
    if last_m < first_m:
        raise CalibrationError(f"no full month of arrivals between {first_m} and {last_m}")
    return first_m, last_m


def lead_sources(cut: CutHistory, deals: pd.DataFrame,
                 rep_sourced: frozenset[str] = frozenset()) -> LeadSources:
    """Fit the arrivals of ``deals`` (the known deals with their dimensions filled) per region
    x segment x source over the window :func:`arrival_months` finds in every deal; the deals
    whose id is in ``rep_sourced`` (reps created them: :mod:`.sourcing`) and the deals without
    a region are left out (the latter noted)."""
    created = deals["created_date"]
    first_m, last_m = arrival_months(created, cut.truncation, cut.cut)
    in_win = created.notna() & (created.dt.to_period("M") >= first_m) & (
        created.dt.to_period("M") <= last_m)
    if rep_sourced:
        in_win &= ~deals["id"].isin(rep_sourced)
    notes = []
    no_region = int((in_win & deals["region"].isna()).sum())
    if no_region:
        notes.append(f"{no_region} deals without a region (owner not in the team table) are "
                     "not counted in any region's arrivals")
    out = LeadSources([], [], notes)
    for (reg, seg, src), g in deals[in_win & deals["region"].notna()].groupby(
            ["region", "segment", "source"], sort=True):
        fit = fit_arrivals(g["created_date"], first_m, last_m,
                           {"region": reg, "segment": seg, "source": src})
        out.fits.append(fit)
        out.documents.append(_source_document(fit, g, (reg, seg, src)))
    return out


def _source_document(fit: ArrivalFit, g: pd.DataFrame, key: tuple[str, str, str]
                     ) -> dict[str, Any]:
    """The scenario document of one lead source (``key``: region, segment, source; ``g``: its
    deals in the window, whose products give the product mix)."""
    reg, seg, src = key
    mix = g["product"].value_counts().sort_index()
    sid = "-".join(x for x in (reg, seg, src) if x != ALL) or "all"
    return {
        "id": sid, "region": reg, "segment": seg,
        "channel": src if src != ALL else "inbound",
        "leads_per_month": rounded(fit.level, 4),
        "seasonality": [rounded(s, 4) for s in fit.seasonality],
        "annual_growth": rounded(fit.annual_growth, 4),
        "product_mix": {p: int(c) for p, c in mix.items()},
    }
