"""Distances between accounts and rep homes.

Two sources:

- great-circle (haversine) distance in **km** from latitude/longitude (the default);
- a travel table with one row per (account, rep) pair, as a routing engine would produce, with a
  distance in **km** (column ``distance`` or ``km``) or a drive time in **minutes** (column
  ``minutes`` or ``drive_minutes``). Zoltners & Sinha (2005) found that road travel time, not
  straight-line distance, is what mattered in real alignments. A pair missing from a supplied
  table is *ineligible* (the matrix holds NaN there).

The engine does no file I/O: the CLI reads the CSV and passes a :class:`pandas.DataFrame`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from salesplan.scenarios import geo
from salesplan.scenarios.geo import EARTH_RADIUS_KM

from .errors import InfeasibleInputError

__all__ = ["EARTH_RADIUS_KM", "TravelTable", "haversine_km", "travel_table"]

_VALUE_COLUMNS = {"distance": "km", "km": "km", "minutes": "minutes", "drive_minutes": "minutes"}


def haversine_km(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    """Great-circle distances (km) between every point 1 (rows) and every point 2 (columns):
    :func:`salesplan.scenarios.geo.haversine_km` over all pairs. Inputs in decimal degrees; the
    result has shape ``(len(lat1), len(lat2))``."""
    lat1, lon1 = np.asarray(lat1, dtype=float)[:, None], np.asarray(lon1, dtype=float)[:, None]
    lat2, lon2 = np.asarray(lat2, dtype=float)[None, :], np.asarray(lon2, dtype=float)[None, :]
    return geo.haversine_km(lat1, lon1, lat2, lon2)


@dataclass(frozen=True, eq=False)
class TravelTable:
    """A dense (accounts x reps) matrix from a travel table; NaN where the pair is missing.

    ``unit`` is ``"km"`` or ``"minutes"``; ``notes`` say what was ignored (rows naming unknown
    accounts or reps), so nothing is dropped silently.
    """

    matrix: np.ndarray
    unit: str
    notes: list[str] = field(default_factory=list)


def travel_table(
    frame: pd.DataFrame, account_ids: Sequence[str], rep_ids: Sequence[str]
) -> TravelTable:
    """Turn a travel frame (columns ``account``, ``rep`` and one of ``distance``/``km``
    (km) or ``minutes``/``drive_minutes`` (minutes)) into a dense matrix over the given ids.

    Raises :class:`InfeasibleInputError` for a malformed table (missing columns, negative or
    non-numeric values, duplicated pairs).
    """
    cols = {str(c).strip().lower(): c for c in frame.columns}
    problems = [f"the travel table needs a column '{c}'" for c in ("account", "rep")
                if c not in cols]
    value_cols = [c for c in _VALUE_COLUMNS if c in cols]
    if len(value_cols) != 1:
        problems.append("the travel table needs exactly one of the columns "
                        f"{', '.join(_VALUE_COLUMNS)} (found {', '.join(value_cols) or 'none'})")
    if problems:
        raise InfeasibleInputError(problems, "the travel table cannot be used")
    vcol = value_cols[0]
    unit = _VALUE_COLUMNS[vcol]
    acc = frame[cols["account"]].astype(str).str.strip().to_numpy()
    rep = frame[cols["rep"]].astype(str).str.strip().to_numpy()
    val = pd.to_numeric(frame[cols[vcol]], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(val) | (val < 0))
    if bad.size:
        rows = ", ".join(str(int(r) + 2) for r in bad[:5])
        raise InfeasibleInputError(
            [f"{bad.size} row(s) have a missing, non-numeric or negative {vcol} "
             f"(CSV lines {rows}{', ...' if bad.size > 5 else ''})"],
            "the travel table cannot be used")
    a_index = {a: k for k, a in enumerate(account_ids)}
    r_index = {r: k for k, r in enumerate(rep_ids)}
    ai = np.array([a_index.get(a, -1) for a in acc], dtype=np.int64)
    ri = np.array([r_index.get(r, -1) for r in rep], dtype=np.int64)
    notes = []
    unknown_a = int((ai < 0).sum())
    unknown_r = int(((ri < 0) & (ai >= 0)).sum())
    if unknown_a:
        notes.append(f"travel table: {unknown_a} row(s) name accounts not in the plan; ignored")
    if unknown_r:
        notes.append(f"travel table: {unknown_r} row(s) name reps not in the plan; ignored")
    ok = (ai >= 0) & (ri >= 0)
    ai, ri, val = ai[ok], ri[ok], val[ok]
    key = ai * len(rep_ids) + ri
    uniq, counts = np.unique(key, return_counts=True)
    if (counts > 1).any():
        dup = uniq[counts > 1][0]
        raise InfeasibleInputError(
            [f"{int((counts > 1).sum())} (account, rep) pair(s) appear more than once, e.g. "
             f"{account_ids[dup // len(rep_ids)]} / {rep_ids[dup % len(rep_ids)]}"],
            "the travel table cannot be used")
    matrix = np.full((len(account_ids), len(rep_ids)), np.nan)
    matrix[ai, ri] = val
    return TravelTable(matrix=matrix, unit=unit, notes=notes)
