"""Read a CRM opportunity export through a mapping into a clean canonical history.

:func:`read_history` returns a :class:`History`:

- ``deals``: one row per opportunity, columns ``id``, ``line`` (file line, 1 = header),
  ``created_date``, ``close_date`` (pandas timestamps, NaT if unknown), ``outcome``
  (``won``/``lost``/``open``), ``stage`` (the scenario stage of an open deal; for a closed deal
  the last open stage known, else empty), ``amount`` (currency, NaN if unknown), ``owner``,
  ``account``, ``product``, ``region``, ``segment``, ``source``, ``sourced_by`` (strings, NaN
  if unknown), ``rep_sourced`` (nullable boolean: whether a rep created the deal, by the
  mapping's ``rep_sourced`` values; NA when the export does not say);
- ``transitions``: for history exports, one row per stage entry: ``id``, ``date``, ``stage``
  (scenario stage name, or ``won``/``lost``), in time order per deal; None for flat exports;
- ``teams``: rep -> region (and manager) from the team table, if one was given or found;
- ``report``: the :class:`~salesplan.scenarios.crm.cleaning.CleaningReport`;
- ``as_of``: the export date (the latest date in the export), when open deals are censored;
- ``fields``: the canonical fields the export holds (mapped and present in the file).

No row disappears without a record in the report; ``strict=True`` raises
:class:`~salesplan.scenarios.crm.cleaning.CrmDataError` instead of repairing anything.

The steps: :mod:`.export` reads the file and maps its columns; :mod:`.deals` cleans the rows
into the deal table; :mod:`.teams` finds the team table; :mod:`.transitions` reads and
reconciles the stage history; here, the export date and the left truncation of the export's
window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .cleaning import CleaningReport
from .deals import NAME_FIELDS, canonical_names, check_missing_names, check_owners, clean_deals
from .export import read_export
from .mapping import HistoryMapping, get_mapping
from .teams import find_team_table, read_teams
from .transitions import history_file, read_transitions

__all__ = ["NAME_FIELDS", "History", "read_history", "read_teams"]


@dataclass
class History:
    """A cleaned CRM history (module docstring): ``deals``, ``report``, the ``mapping`` read
    through, ``teams``, ``transitions``, ``as_of``, ``sources`` (role -> file read:
    ``history``, ``teams``, ``stage_history``) and ``fields`` (the canonical fields the export
    holds, sorted)."""

    deals: pd.DataFrame
    report: CleaningReport
    mapping: HistoryMapping
    teams: pd.DataFrame | None = None
    transitions: pd.DataFrame | None = None
    as_of: pd.Timestamp | None = None
    sources: dict[str, str] = field(default_factory=dict)
    fields: tuple[str, ...] = ()

    def has(self, name: str) -> bool:
        """Whether the export holds the canonical field ``name`` (a mapped column present in
        the file)."""
        return name in self.fields

    def summary(self) -> dict:
        return self.report.summary(rows_kept=len(self.deals))


def read_history(
    path: str | Path,
    mapping: str | Path | HistoryMapping | None = "maven",
    *,
    teams: str | Path | pd.DataFrame | None = None,
    history_path: str | Path | None = None,
    catalogs: dict[str, list[str]] | None = None,
    strict: bool = False,
    find_beside: bool = True,
) -> History:
    """Read an export. ``teams``: a team-table file (or frame with rep/region); with
    ``find_beside`` the mapping's ``teams_file`` (and, for history exports, ``history_file``)
    are looked for in the export's folder when not given. ``catalogs``: canonical spellings per
    name field (e.g. ``{"product": [...]}`` from a product list)."""
    m = get_mapping(mapping)
    path = Path(path)
    report = CleaningReport()
    export = read_export(path, m, report)
    sources = {"history": str(path)}
    rows = clean_deals(export, report)
    team_df, team_source = find_team_table(teams, m, path, find_beside=find_beside,
                                           report=report)
    if team_source is not None:
        sources["teams"] = team_source
    cat = {k: list(v) for k, v in (catalogs or {}).items()}
    if team_df is not None:
        cat["owner"] = list(team_df["rep"])
    canonical_names(rows, cat)
    check_owners(rows, team_df)
    check_missing_names(rows)
    deals = rows.kept()
    transitions = None
    if m.kind == "history":
        hp = history_file(m, path, history_path)
        sources["stage_history"] = str(hp)
        transitions = read_transitions(hp, m, deals, report)
    as_of = export_date(deals, transitions)
    mark_left_truncation(deals, report, export.source)
    report.raise_if_any(strict)
    return History(deals=deals, report=report, mapping=m, teams=team_df,
                   transitions=transitions, as_of=as_of, sources=sources,
                   fields=tuple(sorted(export.columns)))


def export_date(deals: pd.DataFrame, transitions: pd.DataFrame | None) -> pd.Timestamp | None:
    """The export date: the latest date of any deal or stage change (None without any date)."""
    dates = pd.concat([deals["created_date"], deals["close_date"]])
    if transitions is not None and len(transitions):
        dates = pd.concat([dates, transitions["date"]])
    return dates.max() if dates.notna().any() else None


def mark_left_truncation(deals: pd.DataFrame, report: CleaningReport, source: str) -> None:
    """Left truncation: an export that starts on a close date (no close before its first one
    although engagements start more than 60 days earlier) has lost the early closers of that
    period. Deals created more than 31 days before the first close are reported
    (``left_truncated``, kept) and ``deals.attrs["truncation_date"]`` is set to the first
    close; nothing otherwise."""
    closes = deals["close_date"].dropna()
    if not (len(closes) and deals["created_date"].notna().any()):
        return
    first_close = closes.min()
    early = deals["created_date"] < first_close - pd.Timedelta(days=31)
    if not (early.sum() and (closes.min() - deals["created_date"].min()).days > 60):
        return
    report.notes.append(
        f"window truncation: engagements start {deals['created_date'].min().date()} but "
        f"no deal closes before {first_close.date()}; {int(early.sum())} rows created "
        "before then are treated as left-truncated")
    for i in np.flatnonzero(early.to_numpy()):
        report.add("left_truncated", "kept", f"created {deals.at[i, 'created_date'].date()}"
                   f" before the first close {first_close.date()}", source=source,
                   line=int(deals.at[i, "line"]), id=deals.at[i, "id"], field="created")
    deals.attrs["truncation_date"] = first_close
