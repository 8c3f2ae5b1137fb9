"""The team table: which region each rep works in (and their manager).

:func:`read_teams` reads one through the mapping's team columns; :func:`find_team_table` picks
the table an import uses (given as a frame or a file, or the mapping's ``teams_file`` beside
the export).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import SalesplanError
from .cleaning import CleaningReport
from .export import read_csv_file
from .mapping import HistoryMapping

__all__ = ["find_team_table", "read_teams"]


def read_teams(path: str | Path, mapping: HistoryMapping,
               report: CleaningReport | None = None) -> pd.DataFrame:
    """The team table as a frame with ``rep``, ``region`` and ``manager`` columns."""
    path = Path(path)
    raw = read_csv_file(path, "team table")
    tm = mapping.teams
    if (tm.rep not in raw.columns or tm.region not in raw.columns) and {
            "rep", "region"} <= set(raw.columns):
        tm = type(tm)(rep="rep", region="region",
                      manager="manager" if "manager" in raw.columns else None)
    missing = [c for c in (tm.rep, tm.region) if c not in raw.columns]
    if missing:
        raise SalesplanError(f"{path}: team table lacks column(s) {', '.join(missing)} "
                             f"(has: {', '.join(raw.columns)})")
    out = pd.DataFrame({"rep": raw[tm.rep].str.strip(), "region": raw[tm.region].str.strip()})
    out["manager"] = raw[tm.manager].str.strip() if tm.manager in raw.columns else ""
    out = out[out["rep"] != ""].drop_duplicates("rep").reset_index(drop=True)
    return out


def find_team_table(teams: str | Path | pd.DataFrame | None, mapping: HistoryMapping,
                    export: Path, *, find_beside: bool, report: CleaningReport
                    ) -> tuple[pd.DataFrame | None, str | None]:
    """The team table of an import and the file it came from (None for a frame or no table):
    ``teams`` as given (a frame's ``rep`` and ``region`` columns, or a file), else with
    ``find_beside`` the mapping's ``teams_file`` in the folder of ``export`` (noted in
    ``report``), else none."""
    if isinstance(teams, pd.DataFrame):
        return teams[["rep", "region"]].copy(), None
    if teams is not None:
        return read_teams(teams, mapping, report), str(teams)
    beside = export.parent / mapping.teams_file if mapping.teams_file else None
    if find_beside and beside is not None and beside.exists():
        table = read_teams(beside, mapping, report)
        report.notes.append(f"team table found beside the export: {mapping.teams_file}")
        return table, str(beside)
    return None, None
