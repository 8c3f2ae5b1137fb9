"""The scenario's dimensions found in the deals known at the cut: regions, segments, products,
and the reps' team table; blanks are filled so that every deal belongs to one of each."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from salesplan.scenarios.crm.reader import History

__all__ = ["ALL", "Dimensions", "scenario_dimensions"]

ALL = "all"
"""The id of the one region, segment or lead source that holds deals without one."""


@dataclass
class Dimensions:
    """``deals``: a copy of the known deals with blanks filled (segment and source ``all``;
    region ``all`` when no deal has one and there is no team table; owner ``team-<region>``
    when no deal has one; product ``default`` when no deal has one); ``teams``: rep -> region
    (the team table, the pseudo-reps', or None); ``regions``, ``segments``, ``products``: the
    scenario's ids, sorted; ``notes``."""

    deals: pd.DataFrame
    teams: pd.DataFrame | None
    regions: list[str]
    segments: list[str]
    products: list[str]
    notes: list[str] = field(default_factory=list)


def scenario_dimensions(known: History) -> Dimensions:
    """The :class:`Dimensions` of the history ``known`` at the cut."""
    d = known.deals.copy()
    notes: list[str] = []
    for k in ("segment", "source"):
        d[k] = d[k].fillna(ALL)
    teams = known.teams
    if teams is not None:
        regions = sorted(set(teams["region"]))
    else:
        regions = sorted(set(d["region"].dropna())) or [ALL]
        if d["region"].isna().all():
            d["region"] = ALL
            notes.append("no region in the export and no team table: one region 'all'")
    if d["owner"].isna().all():
        teams = _pseudo_reps(d)
        regions = sorted(set(teams["region"]))
        notes.append("no owner in the export: one pseudo-rep 'team-<region>' per region "
                     "holds every deal (no per-rep productivity)")
    segments = sorted(set(d["segment"]))
    products = sorted(set(d["product"].dropna())) or ["default"]
    if d["product"].isna().all():
        d["product"] = "default"
    return Dimensions(deals=d, teams=teams, regions=regions, segments=segments,
                      products=products, notes=notes)


def _pseudo_reps(d: pd.DataFrame) -> pd.DataFrame:
    """An export without owners: every deal goes to its region's pseudo-rep ``team-<region>``
    (set in ``d``); their team table."""
    d["owner"] = "team-" + d["region"].fillna(ALL).astype(str)
    return pd.DataFrame({"rep": sorted(set(d["owner"])),
                         "region": [o[5:] for o in sorted(set(d["owner"]))]})
