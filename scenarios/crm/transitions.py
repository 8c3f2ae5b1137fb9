"""The stage-history file of a history export (e.g. Salesforce OpportunityHistory): one row per
stage change, read through the mapping and reconciled with each opportunity's final state.

:func:`read_transitions` returns ``id``, ``date``, ``stage`` (scenario stage name, or
``won``/``lost``), in time order per deal. Rows of opportunities not kept from the export, with
an unreadable date or a stage not in the mapping are dropped; a deal whose changes disagree
with its final state keeps the opportunity record's version (every case reported).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import SalesplanError
from .cleaning import CleaningReport
from .export import StageKeys, parse_dates, read_csv_file
from .mapping import HistoryMapping, norm_key

__all__ = ["history_file", "read_transitions"]


def history_file(m: HistoryMapping, export: Path, given: str | Path | None) -> Path:
    """The stage-history file: ``given``, else the mapping's ``history_file`` beside the
    export; raise when there is none."""
    hp = Path(given) if given else (export.parent / m.history_file if m.history_file else None)
    if hp is None or not hp.exists():
        raise SalesplanError(
            f"mapping {m.name!r} needs a stage-history file: give --history-file or put "
            f"{m.history_file or 'the history file'} beside {export.name}")
    return hp


def read_transitions(path: Path, m: HistoryMapping, deals: pd.DataFrame,
                     report: CleaningReport) -> pd.DataFrame:
    """The stage changes of the kept ``deals`` (module docstring), problems in ``report``."""
    tr = _stage_changes(path, m, set(deals["id"]), report)
    return _reconcile(tr, deals, report, path.name)


def _stage_changes(path: Path, m: HistoryMapping, known: set[str], report: CleaningReport
                   ) -> pd.DataFrame:
    """The readable stage changes of the ``known`` ids: ``id``, ``date``, ``stage``, ``line``
    (file line, 1 = header), sorted by id, date and line."""
    raw = read_csv_file(path, "stage history")
    hc = m.history_columns or {}
    missing = [c for k, c in hc.items() if k in ("id", "date", "stage") and c not in raw.columns]
    if missing:
        raise SalesplanError(f"{path}: stage-history file lacks column(s) {', '.join(missing)}")
    src = path.name
    ids = raw[hc["id"]].str.strip()
    dates = parse_dates(raw[hc["date"]], m.history_date_format)
    keys = StageKeys.of(m)
    rows = []
    for i, (oid, d, s) in enumerate(zip(ids, dates, raw[hc["stage"]].astype(str), strict=True)):
        line = i + 2
        if oid not in known:
            report.add("orphan_history", "dropped", f"opportunity {oid!r} not in the export (or "
                       "dropped there)", source=src, line=line, id=oid, field="id")
            continue
        if pd.isna(d):
            report.add("unparseable_date", "dropped", f"stage change date "
                       f"{raw[hc['date']].iat[i]!r} cannot be read", source=src, line=line,
                       id=oid, field="date")
            continue
        key = norm_key(s)
        stage = keys.outcomes.get(key) or keys.stages.get(key)
        if stage is None:
            report.add("unknown_history_stage", "dropped", f"stage {s!r} not in the mapping",
                       source=src, line=line, id=oid, field="stage")
            continue
        rows.append((oid, d, stage, line))
    tr = pd.DataFrame(rows, columns=["id", "date", "stage", "line"])
    return tr.sort_values(["id", "date", "line"], kind="stable").reset_index(drop=True)


def _consistent(stages: list[str], final: str, current: str) -> bool:
    """Whether a deal's stage changes agree with its final state: an open deal never closed and
    sits in its current stage; a closed deal closed once, as it ended."""
    closing = [j for j, s in enumerate(stages) if s in ("won", "lost")]
    if final == "open":
        return not closing and not (stages and stages[-1] != current)
    if final in ("won", "lost"):
        return bool(closing) and stages[closing[-1]] == final and len(closing) == 1
    return True


def _reconcile(tr: pd.DataFrame, deals: pd.DataFrame, report: CleaningReport, src: str
               ) -> pd.DataFrame:
    """Each deal's changes against its final state (the opportunity record wins: closing
    changes that disagree are ignored, and a closed deal keeps its first close)."""
    final = dict(zip(deals["id"], deals["outcome"], strict=True))
    cur = dict(zip(deals["id"], deals["stage"], strict=True))
    keep_rows = []
    for oid, g in tr.groupby("id", sort=True):
        stages = g["stage"].tolist()
        out = final[oid]
        if not _consistent(stages, out, cur[oid]):
            report.add("inconsistent_history", "fixed",
                       f"history {' -> '.join(stages)} vs final state "
                       f"{out if out != 'open' else cur[oid]}; closing entries that disagree "
                       "are ignored", source=src, line=int(g['line'].iat[0]), id=oid,
                       field="stage")
            g = g[~g["stage"].isin(["won", "lost"]) | (g["stage"] == out)]
            g = g.drop_duplicates("stage", keep="first") if out in ("won", "lost") else g
        keep_rows.append(g)
    tr = pd.concat(keep_rows, ignore_index=True) if keep_rows else tr
    return tr[["id", "date", "stage"]].reset_index(drop=True)
