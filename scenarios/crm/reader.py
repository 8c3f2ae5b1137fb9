"""Read a CRM opportunity export through a mapping into a clean canonical history.

:func:`read_history` returns a :class:`History`:

- ``deals``: one row per opportunity, columns ``id``, ``line`` (file line, 1 = header),
  ``created_date``, ``close_date`` (pandas timestamps, NaT if unknown), ``outcome``
  (``won``/``lost``/``open``), ``stage`` (the scenario stage of an open deal; for a closed deal
  the last open stage known, else empty), ``amount`` (currency, NaN if unknown), ``owner``,
  ``account``, ``product``, ``region``, ``segment``, ``source`` (strings, NaN if unknown);
- ``transitions``: for history exports, one row per stage entry: ``id``, ``date``, ``stage``
  (scenario stage name, or ``won``/``lost``), in time order per deal; None for flat exports;
- ``teams``: rep -> region (and manager) from the team table, if one was given or found;
- ``report``: the :class:`~salesplan.scenarios.crm.cleaning.CleaningReport`;
- ``as_of``: the export date (the latest date in the export), when open deals are censored.

No row disappears without a record in the report; ``strict=True`` raises
:class:`~salesplan.scenarios.crm.cleaning.CrmDataError` instead of repairing anything.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import SalesplanError
from .cleaning import CleaningReport
from .mapping import HistoryMapping, get_mapping, norm_key

__all__ = ["History", "read_history", "read_teams"]

NAME_FIELDS = ("owner", "account", "product", "region", "segment", "source")


@dataclass
class History:
    deals: pd.DataFrame
    report: CleaningReport
    mapping: HistoryMapping
    teams: pd.DataFrame | None = None
    transitions: pd.DataFrame | None = None
    as_of: pd.Timestamp | None = None
    sources: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict:
        return self.report.summary(rows_kept=len(self.deals))


def _read_csv(path_or_text: str | Path, what: str) -> pd.DataFrame:
    try:
        if isinstance(path_or_text, Path):
            return pd.read_csv(path_or_text, dtype=str, keep_default_na=False)
        return pd.read_csv(io.StringIO(path_or_text), dtype=str, keep_default_na=False)
    except FileNotFoundError as exc:
        raise SalesplanError(f"{what}: file not found: {path_or_text}") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise SalesplanError(f"{what}: cannot read as CSV ({exc})") from exc


def _parse_dates(values: pd.Series, fmt: str | None) -> pd.Series:
    s = values.astype(str).str.strip()
    blank = s.eq("") | s.str.lower().isin(["nan", "nat", "null", "none"])
    if fmt:
        out = pd.to_datetime(s.where(~blank), format=fmt, errors="coerce")
    else:
        out = pd.to_datetime(s.where(~blank), format="mixed", errors="coerce")
    return out.dt.normalize()


def read_teams(path: str | Path, mapping: HistoryMapping,
               report: CleaningReport | None = None) -> pd.DataFrame:
    """The team table as a frame with ``rep``, ``region`` and ``manager`` columns."""
    path = Path(path)
    raw = _read_csv(path, "team table")
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
    src = path.name
    raw = _read_csv(path, "history")
    sources = {"history": str(path)}
    missing = [m.columns[k] for k in ("id",) if m.columns[k] not in raw.columns]
    if missing:
        raise SalesplanError(
            f"{path}: column {missing[0]!r} (mapped to 'id' by mapping {m.name!r}) is not in the "
            f"file (columns: {', '.join(raw.columns)}); choose another --mapping")
    dates_present = [k for k in ("created", "close") if k in m.columns
                     and m.columns[k] in raw.columns]
    if not dates_present:
        raise SalesplanError(f"{path}: none of the mapped date columns "
                             f"{[m.columns.get(k) for k in ('created', 'close')]} is in the file")
    report.rows_read = len(raw)
    cols = {k: raw[c] for k, c in m.columns.items() if c in raw.columns}
    skipped = sorted(k for k, c in m.columns.items() if c not in raw.columns)
    if skipped:
        report.notes.append(f"mapped column(s) absent from the file, skipped: "
                            f"{', '.join(f'{k} ({m.columns[k]})' for k in skipped)}")
    n = len(raw)
    lines = np.arange(2, n + 2)

    def col(k: str) -> pd.Series:
        if k in cols:
            return cols[k].astype(str).str.strip()
        return pd.Series([""] * n, dtype=object)

    df = pd.DataFrame({"id": col("id").to_numpy(), "line": lines})
    keep = np.ones(n, dtype=bool)

    def drop(i: int, kind: str, detail: str, fld: str = "") -> None:
        if keep[i]:
            keep[i] = False
            report.rows_dropped += 1
        report.add(kind, "dropped", detail, source=src, line=int(lines[i]), id=df.at[i, "id"],
                   field=fld)

    # ---- ids ----
    for i in np.flatnonzero(df["id"].eq("").to_numpy()):
        drop(i, "missing_id", "empty id", "id")
    seen: dict[str, int] = {}
    for i, v in enumerate(df["id"].tolist()):
        if not keep[i]:
            continue
        if v in seen:
            drop(i, "duplicate_id", f"id {v!r} already on line {seen[v]}", "id")
        else:
            seen[v] = int(lines[i])

    # ---- dates ----
    for k in ("created", "close"):
        text = col(k)
        parsed = _parse_dates(text, m.date_format)
        bad = parsed.isna() & text.ne("") & ~text.str.lower().isin(["nan", "nat", "null", "none"])
        for i in np.flatnonzero(bad.to_numpy()):
            if keep[i]:
                report.add("unparseable_date", "kept", f"{m.columns[k]} {text.iat[i]!r} cannot "
                           "be read; treated as unknown", source=src, line=int(lines[i]),
                           id=df.at[i, "id"], field=k)
        df[f"{k}_date"] = parsed.to_numpy()

    # ---- stage / outcome ----
    outcome_key = {norm_key(k): v for k, v in m.outcomes.items()}
    stage_key = {norm_key(s): m.stage_name(s) for s in m.stages}
    st = col("stage")
    outcomes, stages = [], []
    for i, v in enumerate(st.tolist()):
        kkey = norm_key(v)
        if kkey in outcome_key:
            outcomes.append(outcome_key[kkey])
            stages.append("")
        elif kkey in stage_key:
            outcomes.append("open")
            stages.append(stage_key[kkey])
        else:
            outcomes.append("")
            stages.append("")
            if "stage" in cols:
                drop(i, "unknown_stage", f"stage {v!r} is neither an open stage "
                     f"({', '.join(m.stages)}) nor an outcome ({', '.join(m.outcomes)})", "stage")
    if "stage" not in cols:  # no stage column: closed iff a close date is known
        outcomes = ["won" if pd.notna(c) else "open" for c in df["close_date"]]
        stages = ["" if o == "won" else m.scenario_stages[0] for o in outcomes]
        report.notes.append("no stage column: deals with a close date are taken as won, "
                            "the others as open in the first stage")
    df["outcome"] = outcomes
    df["stage"] = stages

    # date consistency (an open deal's close date is an expected date, not an event)
    is_open = df["outcome"].eq("open").to_numpy()
    df.loc[is_open, "close_date"] = pd.NaT
    c0, c1 = df["created_date"], df["close_date"]
    for i in np.flatnonzero(keep & (c0.isna() & c1.isna()).to_numpy()):
        drop(i, "no_date", "neither a created/engaged date nor a close date", "created")
    for i in np.flatnonzero(keep & (c0.notna() & c1.notna() & (c1 < c0)).to_numpy()):
        drop(i, "close_before_created",
             f"closed {c1.iat[i].date()} before created {c0.iat[i].date()}", "close")
    closed_nd = df["outcome"].isin(["won", "lost"]).to_numpy() & c1.isna().to_numpy()
    for i in np.flatnonzero(keep & closed_nd):
        report.add("closed_without_date", "kept", f"{df.at[i, 'outcome']} without a close date",
                   source=src, line=int(lines[i]), id=df.at[i, "id"], field="close")

    # ---- amounts ----
    amt_text = col("amount")
    amt = pd.to_numeric(amt_text.str.replace(",", "", regex=False).where(amt_text.ne("")),
                        errors="coerce")
    bad_text = (amt_text.ne("") & amt.isna()).to_numpy() & keep
    for i in np.flatnonzero(bad_text):
        report.add("unparseable_amount", "fixed", f"amount {amt_text.iat[i]!r} is not a number; "
                   "blanked", source=src, line=int(lines[i]), id=df.at[i, "id"], field="amount")
    neg = (amt < 0).to_numpy() & keep
    for i in np.flatnonzero(neg):
        report.add("negative_amount", "fixed", f"amount {amt.iat[i]:g} < 0; blanked",
                   source=src, line=int(lines[i]), id=df.at[i, "id"], field="amount")
    amt = amt.where(~neg)
    if "amount" in cols:
        none = amt.isna().to_numpy() & keep & ~bad_text & ~neg
        for kind, out in (("missing_amount", "won"), ("open_without_amount", "open")):
            for i in np.flatnonzero(none & df["outcome"].eq(out).to_numpy()):
                report.add(kind, "kept", "no amount", source=src, line=int(lines[i]),
                           id=df.at[i, "id"], field="amount")
    df["amount"] = amt.to_numpy(dtype=float)

    # ---- names ----
    for k in NAME_FIELDS:
        df[k] = col(k).replace("", np.nan).to_numpy()

    # ---- team table ----
    team_df = None
    if isinstance(teams, pd.DataFrame):
        team_df = teams[["rep", "region"]].copy()
    elif teams is not None:
        team_df = read_teams(teams, m, report)
        sources["teams"] = str(teams)
    elif find_beside and m.teams_file and (path.parent / m.teams_file).exists():
        team_df = read_teams(path.parent / m.teams_file, m, report)
        sources["teams"] = str(path.parent / m.teams_file)
        report.notes.append(f"team table found beside the export: {m.teams_file}")
    cat = {k: list(v) for k, v in (catalogs or {}).items()}
    if team_df is not None:
        cat["owner"] = list(team_df["rep"])
    _canonical_names(df, keep, cat, report, src)

    if team_df is not None:
        region_of = dict(zip(team_df["rep"], team_df["region"], strict=True))
        reg_from_team = df["owner"].map(region_of)
        own = df["owner"]
        for i in np.flatnonzero(keep & own.isna().to_numpy() & ("owner" in cols)):
            report.add("missing_owner", "kept", "no owner", source=src, line=int(lines[i]),
                       id=df.at[i, "id"], field="owner")
        for i in np.flatnonzero(keep & own.notna().to_numpy() & ~own.isin(region_of).to_numpy()):
            report.add("unknown_owner", "kept", f"owner {own.iat[i]!r} is not in the team table",
                       source=src, line=int(lines[i]), id=df.at[i, "id"], field="owner")
        df["region"] = df["region"].where(df["region"].notna(), reg_from_team)
    else:
        for i in np.flatnonzero(df["owner"].isna().to_numpy() & keep & ("owner" in cols)):
            report.add("missing_owner", "kept", "no owner", source=src, line=int(lines[i]),
                       id=df.at[i, "id"], field="owner")
    for k, kind in (("account", "missing_account"), ("product", "missing_product")):
        if k in cols:
            for i in np.flatnonzero(df[k].isna().to_numpy() & keep):
                report.add(kind, "kept", f"no {k}", source=src, line=int(lines[i]),
                           id=df.at[i, "id"], field=k)

    deals = df[keep].reset_index(drop=True)
    transitions = None
    if m.kind == "history":
        hp = Path(history_path) if history_path else (
            path.parent / m.history_file if m.history_file else None)
        if hp is None or not hp.exists():
            raise SalesplanError(
                f"mapping {m.name!r} needs a stage-history file: give --history-file or put "
                f"{m.history_file or 'the history file'} beside {path.name}")
        sources["stage_history"] = str(hp)
        transitions = _read_transitions(hp, m, deals, report)

    dates = pd.concat([deals["created_date"], deals["close_date"]])
    if transitions is not None and len(transitions):
        dates = pd.concat([dates, transitions["date"]])
    as_of = dates.max() if dates.notna().any() else None
    # left truncation: an export that starts on a close date (no close before t_min although
    # engagements start earlier) has lost the early closers of that period
    closes = deals["close_date"].dropna()
    if len(closes) and deals["created_date"].notna().any():
        first_close = closes.min()
        early = deals["created_date"] < first_close - pd.Timedelta(days=31)
        if early.sum() and (closes.min() - deals["created_date"].min()).days > 60:
            report.notes.append(
                f"window truncation: engagements start {deals['created_date'].min().date()} but "
                f"no deal closes before {first_close.date()}; {int(early.sum())} rows created "
                "before then are treated as left-truncated")
            for i in np.flatnonzero(early.to_numpy()):
                report.add("left_truncated", "kept", f"created {deals.at[i, 'created_date'].date()}"
                           f" before the first close {first_close.date()}", source=src,
                           line=int(deals.at[i, "line"]), id=deals.at[i, "id"], field="created")
            deals.attrs["truncation_date"] = first_close
    report.raise_if_any(strict)
    return History(deals=deals, report=report, mapping=m, teams=team_df,
                   transitions=transitions, as_of=as_of, sources=sources)


def _canonical_names(df: pd.DataFrame, keep: np.ndarray, catalogs: dict[str, list[str]],
                     report: CleaningReport, src: str) -> None:
    """Map spellings that differ only in case/spacing/punctuation to one canonical name: the
    catalog's spelling if there is one, else the most frequent spelling (ties: sorted first)."""
    for k in NAME_FIELDS:
        vals = df.loc[keep, k].dropna()
        if vals.empty:
            continue
        canon: dict[str, str] = {}
        for name in catalogs.get(k, []):
            canon.setdefault(norm_key(name), name)
        freq = Counter(vals.tolist())
        for name, _ in sorted(freq.items(), key=lambda kv: (-kv[1], kv[0])):
            canon.setdefault(norm_key(name), name)
        col_v = df[k]
        mapped = col_v.map(lambda v, c=canon: c.get(norm_key(v), v) if isinstance(v, str) else v)
        changed = np.flatnonzero(keep & col_v.notna().to_numpy()
                                 & (mapped != col_v).to_numpy())
        for i in changed:
            report.add("name_variant", "fixed", f"{col_v.iat[i]!r} -> {mapped.iat[i]!r}",
                       source=src, line=int(df.at[i, "line"]), id=df.at[i, "id"], field=k)
        df[k] = mapped


def _read_transitions(path: Path, m: HistoryMapping, deals: pd.DataFrame,
                      report: CleaningReport) -> pd.DataFrame:
    raw = _read_csv(path, "stage history")
    hc = m.history_columns or {}
    missing = [c for k, c in hc.items() if k in ("id", "date", "stage") and c not in raw.columns]
    if missing:
        raise SalesplanError(f"{path}: stage-history file lacks column(s) {', '.join(missing)}")
    src = path.name
    ids = raw[hc["id"]].str.strip()
    dates = _parse_dates(raw[hc["date"]], m.history_date_format)
    outcome_key = {norm_key(k): v for k, v in m.outcomes.items()}
    stage_key = {norm_key(s): m.stage_name(s) for s in m.stages}
    known = set(deals["id"])
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
        stage = outcome_key.get(key) or stage_key.get(key)
        if stage is None:
            report.add("unknown_history_stage", "dropped", f"stage {s!r} not in the mapping",
                       source=src, line=line, id=oid, field="stage")
            continue
        rows.append((oid, d, stage, line))
    tr = pd.DataFrame(rows, columns=["id", "date", "stage", "line"])
    tr = tr.sort_values(["id", "date", "line"], kind="stable").reset_index(drop=True)
    # reconcile with the opportunity's final state
    final = dict(zip(deals["id"], deals["outcome"], strict=True))
    cur = dict(zip(deals["id"], deals["stage"], strict=True))
    keep_rows = []
    for oid, g in tr.groupby("id", sort=True):
        stages = g["stage"].tolist()
        out = final[oid]
        closing = [j for j, s in enumerate(stages) if s in ("won", "lost")]
        good = True
        if out == "open" and closing:
            good = False
        if out in ("won", "lost") and (not closing or stages[closing[-1]] != out
                                       or len(closing) > 1):
            good = False
        if out == "open" and stages and stages[-1] != cur[oid]:
            good = False
        if not good:
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
