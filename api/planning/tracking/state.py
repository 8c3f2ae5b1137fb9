"""The state of a CRM history at the as-of date: what was known, who sits where, and the cells
every figure of the tracking adds up from.

A **cell** is one combination of rep, region, product and segment (an empty string where the
export does not say). Every deal, won or open, and every simulated new deal belongs to one
cell; a rep's, region's, product's or the company's figure is the sum over its cells, so the
levels add up by construction (conservation, in every replication).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from salesplan.scenarios.crm.reader import History
from salesplan.simulator.calibration import history_at

from .errors import TrackingError

__all__ = ["LEVELS", "AsOfState", "as_of_state"]

LEVELS = ("company", "region", "rep", "product", "segment")
"""Target levels, top down; a level other than company needs its column in the export (or,
for region, a team table or a plan that places the reps)."""

_CELL_COLUMNS = ["rep", "region", "product", "segment"]


@dataclass
class AsOfState:
    """``asof``: the last day known; ``cut``: the day after it (what happens from it on is
    unknown); ``known``: the history as known then
    (:func:`~salesplan.simulator.calibration.history_at`); ``deals``: its deals with the cell
    columns filled (``rep``, ``region``, ``product``, ``segment``: strings, "" when unknown) and
    ``cell`` (index into ``cells``); ``cells``: one row per cell; ``measurable``: the levels
    the export can measure; ``notes``."""

    asof: pd.Timestamp
    cut: pd.Timestamp
    known: History
    deals: pd.DataFrame
    cells: pd.DataFrame
    measurable: dict[str, str | None]   # level -> None if measurable, else why not
    notes: list[str] = field(default_factory=list)

    def members(self, level: str, ident: str) -> np.ndarray:
        """Boolean mask over cells: the cells of entity ``ident`` at ``level``."""
        if level == "company":
            return np.ones(len(self.cells), dtype=bool)
        return (self.cells[level] == ident).to_numpy()

    def ids(self, level: str) -> list[str]:
        """The known ids at ``level``, sorted (no empty id)."""
        if level == "company":
            return ["company"]
        return sorted(v for v in self.cells[level].unique() if v)

    @property
    def flat(self) -> bool:
        return self.known.mapping.kind == "flat" or self.known.transitions is None


def as_of_state(history: History, asof: str | pd.Timestamp,
                reps: dict[str, str] | None = None) -> AsOfState:
    """The history as known at the end of day ``asof`` (a date inside the export: from its
    first date to its last, both included). ``reps``: rep -> region from a plan, for reps the export
    or its team table do not place (or do not hold)."""
    asof = _check_asof(history, asof)
    cut = asof + pd.Timedelta(days=1)
    known = history_at(history, cut)
    d = known.deals.copy()
    d["rep"] = _text(d["owner"])
    placed = dict(reps or {})
    region = _text(d["region"])
    from_plan = d["rep"].map(lambda r: placed.get(r, "")).astype(str)
    d["region"] = region.where(region != "", from_plan)
    d["product"] = _text(d["product"])
    d["segment"] = _text(d["segment"])
    extra = pd.DataFrame([{"rep": r, "region": g, "product": "", "segment": ""}
                          for r, g in sorted(placed.items()) if r not in set(d["rep"])],
                         columns=_CELL_COLUMNS)
    cells = (pd.concat([d[_CELL_COLUMNS], extra]).drop_duplicates()
             .sort_values(_CELL_COLUMNS).reset_index(drop=True))
    key = pd.MultiIndex.from_frame(cells)
    d["cell"] = key.get_indexer(pd.MultiIndex.from_frame(d[_CELL_COLUMNS]))
    d["age_days"] = (cut - d["created_date"]).dt.days
    state = AsOfState(asof=asof, cut=cut, known=known, deals=d, cells=cells,
                      measurable=_measurable(d))
    unplaced = d["rep"].ne("") & d["region"].eq("")
    if unplaced.any() and state.measurable["region"] is None:
        state.notes.append(f"{int(unplaced.sum())} deals of reps without a region: counted in "
                           "the company, not in any region")
    return state


def _check_asof(history: History, asof: str | pd.Timestamp) -> pd.Timestamp:
    try:
        day = pd.Timestamp(asof).normalize()
    except (ValueError, TypeError) as exc:
        raise TrackingError(f"--asof {asof!r} is not a date (expected YYYY-MM-DD)") from exc
    dates = pd.concat([history.deals["created_date"], history.deals["close_date"]]).dropna()
    if dates.empty:
        raise TrackingError("the export holds no dates: nothing to track")
    first, last = dates.min().normalize(), dates.max().normalize()
    if not first <= day <= last:
        raise TrackingError(f"--asof {day.date()} is outside the export, which runs from "
                            f"{first.date()} to {last.date()}")
    return day


def _text(s: pd.Series) -> pd.Series:
    return s.where(s.notna(), "").astype(str).str.strip()


def _measurable(d: pd.DataFrame) -> dict[str, str | None]:
    """Per level: None when the export measures it, else the reason it cannot."""
    def has(col: str) -> bool:
        return bool(d[col].ne("").any())

    why = {"company": None}
    why["rep"] = None if has("rep") else "the export has no owner column (or it is empty)"
    why["region"] = None if has("region") else (
        "the export has no region column and no team table or plan places its reps")
    why["product"] = None if has("product") else "the export has no product column"
    why["segment"] = None if has("segment") else "the export has no segment column"
    return why
