"""Cleaning an opportunity export's rows into the canonical deal table, every problem reported.

:class:`DealRows` holds the table while it is built (one row per export row, and which rows are
still kept); each step below fills some columns and records what it found in the
:class:`~salesplan.scenarios.crm.cleaning.CleaningReport`, in this order:

1. :func:`check_ids`: missing and duplicate ids (dropped);
2. :func:`read_dates`: created and close dates (unreadable: kept as unknown);
3. :func:`read_outcomes`: outcome and open stage from the stage column (unknown: dropped);
4. :func:`check_dates`: rows without any date or closed before created (dropped), closed rows
   without a close date (kept);
5. :func:`read_amounts`: amounts (unreadable or negative: blanked; zero on a won or open deal:
   blanked or kept as the mapping's ``zero_amount`` says; missing: kept);
6. :func:`read_names`: owner, account, product, region, segment, source and sourced_by as
   text; :func:`read_sourcing`: whether a rep created the deal (the mapping's ``rep_sourced``
   values), unknown without a ``sourced_by`` value (blank: reported);
7. :func:`canonical_names`: spelling variants mapped to one name (fixed);
8. :func:`check_owners` and :func:`check_missing_names`: owners not in the team table, rows
   without an owner, account or product (kept); regions from the team table.

:func:`clean_deals` runs steps 1-6, :meth:`DealRows.kept` returns the rows not dropped.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .cleaning import CleaningReport
from .export import BLANKS, MappedExport, StageKeys, parse_dates
from .mapping import norm_key

__all__ = [
    "NAME_FIELDS",
    "DealRows",
    "canonical_names",
    "check_dates",
    "check_ids",
    "check_missing_names",
    "check_owners",
    "clean_deals",
    "read_amounts",
    "read_dates",
    "read_names",
    "read_outcomes",
    "read_sourcing",
]

NAME_FIELDS = ("owner", "account", "product", "region", "segment", "source", "sourced_by")


@dataclass
class DealRows:
    """The deal table being cleaned: ``frame`` (one row per export row; ``id`` and ``line``
    first, then the columns each step adds), ``keep`` (False once a row is dropped) and the
    ``report`` every problem goes to."""

    export: MappedExport
    report: CleaningReport
    frame: pd.DataFrame
    keep: np.ndarray

    @classmethod
    def start(cls, export: MappedExport, report: CleaningReport) -> DealRows:
        """Every row kept, with its id and file line."""
        frame = pd.DataFrame({"id": export.text("id").to_numpy(), "line": export.lines})
        return cls(export, report, frame, np.ones(export.rows, dtype=bool))

    def record(self, i: int, kind: str, action: str, detail: str, field: str) -> None:
        """Report a problem of row ``i`` (its source, line and id) without dropping it."""
        self.report.add(kind, action, detail, source=self.export.source,
                        line=int(self.export.lines[i]), id=self.frame.at[i, "id"], field=field)

    def drop(self, i: int, kind: str, detail: str, field: str = "") -> None:
        """Drop row ``i`` (counted once however many problems it has) and report why."""
        if self.keep[i]:
            self.keep[i] = False
            self.report.rows_dropped += 1
        self.record(i, kind, "dropped", detail, field)

    def kept(self) -> pd.DataFrame:
        """The rows not dropped, renumbered from 0."""
        return self.frame[self.keep].reset_index(drop=True)


def clean_deals(export: MappedExport, report: CleaningReport) -> DealRows:
    """Steps 1-6 of the module docstring: ids, dates, outcomes, date checks, amounts, names
    and who sourced each deal."""
    rows = DealRows.start(export, report)
    check_ids(rows)
    read_dates(rows)
    read_outcomes(rows, StageKeys.of(export.mapping))
    check_dates(rows)
    read_amounts(rows)
    read_names(rows)
    read_sourcing(rows)
    return rows


def check_ids(rows: DealRows) -> None:
    """Drop rows with an empty id, then rows repeating an id kept on an earlier line."""
    ids = rows.frame["id"]
    for i in np.flatnonzero(ids.eq("").to_numpy()):
        rows.drop(i, "missing_id", "empty id", "id")
    seen: dict[str, int] = {}
    for i, v in enumerate(ids.tolist()):
        if not rows.keep[i]:
            continue
        if v in seen:
            rows.drop(i, "duplicate_id", f"id {v!r} already on line {seen[v]}", "id")
        else:
            seen[v] = int(rows.export.lines[i])


def read_dates(rows: DealRows) -> None:
    """``created_date`` and ``close_date`` (whole days, NaT if unknown); text that is not a
    date is reported on kept rows and taken as unknown."""
    m = rows.export.mapping
    for k in ("created", "close"):
        text = rows.export.text(k)
        parsed = parse_dates(text, m.date_format)
        bad = parsed.isna() & text.ne("") & ~text.str.lower().isin(BLANKS)
        for i in np.flatnonzero(bad.to_numpy()):
            if rows.keep[i]:
                rows.record(i, "unparseable_date", "kept", f"{m.columns[k]} {text.iat[i]!r} "
                            "cannot be read; treated as unknown", k)
        rows.frame[f"{k}_date"] = parsed.to_numpy()


def read_outcomes(rows: DealRows, keys: StageKeys) -> None:
    """``outcome`` (won, lost, open) and ``stage`` (an open deal's scenario stage, else '') from
    the stage column; a value neither an outcome nor an open stage drops the row. Without a
    stage column a deal is won when it has a close date, else open in the first stage."""
    m = rows.export.mapping
    has_stage = rows.export.has("stage")
    outcomes, stages = [], []
    for i, v in enumerate(rows.export.text("stage").tolist()):
        kkey = norm_key(v)
        if kkey in keys.outcomes:
            outcomes.append(keys.outcomes[kkey])
            stages.append("")
        elif kkey in keys.stages:
            outcomes.append("open")
            stages.append(keys.stages[kkey])
        else:
            outcomes.append("")
            stages.append("")
            if has_stage:
                rows.drop(i, "unknown_stage", f"stage {v!r} is neither an open stage "
                          f"({', '.join(m.stages)}) nor an outcome ({', '.join(m.outcomes)})",
                          "stage")
    if not has_stage:  # no stage column: closed iff a close date is known
        outcomes = ["won" if pd.notna(c) else "open" for c in rows.frame["close_date"]]
        stages = ["" if o == "won" else m.scenario_stages[0] for o in outcomes]
        rows.report.notes.append("no stage column: deals with a close date are taken as won, "
                                 "the others as open in the first stage")
    rows.frame["outcome"] = outcomes
    rows.frame["stage"] = stages


def check_dates(rows: DealRows) -> None:
    """Blank an open deal's close date (an expected date, not an event); drop rows without any
    date or closed before they were created; report closed rows without a close date."""
    df, keep = rows.frame, rows.keep
    is_open = df["outcome"].eq("open").to_numpy()
    df.loc[is_open, "close_date"] = pd.NaT
    c0, c1 = df["created_date"], df["close_date"]
    for i in np.flatnonzero(keep & (c0.isna() & c1.isna()).to_numpy()):
        rows.drop(i, "no_date", "neither a created/engaged date nor a close date", "created")
    for i in np.flatnonzero(keep & (c0.notna() & c1.notna() & (c1 < c0)).to_numpy()):
        rows.drop(i, "close_before_created",
                  f"closed {c1.iat[i].date()} before created {c0.iat[i].date()}", "close")
    closed_nd = df["outcome"].isin(["won", "lost"]).to_numpy() & c1.isna().to_numpy()
    for i in np.flatnonzero(keep & closed_nd):
        rows.record(i, "closed_without_date", "kept",
                    f"{df.at[i, 'outcome']} without a close date", "close")


def read_amounts(rows: DealRows) -> None:
    """``amount`` (currency, NaN if unknown; thousands separators removed): text that is not a
    number and negative amounts are blanked (fixed); with an amount column, won and open deals
    without an amount are reported (kept)."""
    df, keep = rows.frame, rows.keep
    amt_text = rows.export.text("amount")
    amt = pd.to_numeric(amt_text.str.replace(",", "", regex=False).where(amt_text.ne("")),
                        errors="coerce")
    bad_text = (amt_text.ne("") & amt.isna()).to_numpy() & keep
    for i in np.flatnonzero(bad_text):
        rows.record(i, "unparseable_amount", "fixed",
                    f"amount {amt_text.iat[i]!r} is not a number; blanked", "amount")
    neg = (amt < 0).to_numpy() & keep
    for i in np.flatnonzero(neg):
        rows.record(i, "negative_amount", "fixed", f"amount {amt.iat[i]:g} < 0; blanked",
                    "amount")
    amt = amt.where(~neg)
    amt, zero = _zero_amounts(rows, amt)
    if rows.export.has("amount"):
        none = amt.isna().to_numpy() & keep & ~bad_text & ~neg & ~zero
        for kind, out in (("missing_amount", "won"), ("open_without_amount", "open")):
            for i in np.flatnonzero(none & df["outcome"].eq(out).to_numpy()):
                rows.record(i, kind, "kept", "no amount", "amount")
    df["amount"] = amt.to_numpy(dtype=float)


def _zero_amounts(rows: DealRows, amt: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Count the won and open deals whose amount is 0 (``zero_amount``; a lost deal's amount
    is not used). The mapping's ``zero_amount`` says what 0 means: ``unknown`` (the field was
    never filled in: blanked, fixed) or ``free`` (a real zero: kept). Returns the amounts and
    which rows were zero."""
    df, keep = rows.frame, rows.keep
    free = rows.export.mapping.zero_amount == "free"
    zero = (amt == 0).to_numpy() & keep & df["outcome"].isin(["won", "open"]).to_numpy()
    column = rows.export.mapping.columns.get("amount", "amount")
    for i in np.flatnonzero(zero):
        rows.record(i, "zero_amount", "kept" if free else "fixed",
                    f"{column} is 0 on a{'n' if df.at[i, 'outcome'] == 'open' else ''} "
                    f"{df.at[i, 'outcome']} deal: "
                    + ("a real zero (zero_amount: free)" if free else
                       "taken as unknown and blanked (zero_amount: unknown)"), "amount")
    if zero.any():
        n_won = int((zero & df["outcome"].eq("won").to_numpy()).sum())
        rows.report.notes.append(
            f"{int(zero.sum())} won or open deals ({n_won} won) have amount 0: "
            + ("kept as free deals (mapping zero_amount: free)" if free else
               "taken as unknown (mapping zero_amount: unknown; say 'free' if 0 is a real "
               "amount)"))
    return (amt if free else amt.where(~zero)), zero


def read_names(rows: DealRows) -> None:
    """The name fields (owner, account, product, region, segment, source, sourced_by) as text,
    NaN if blank."""
    for k in NAME_FIELDS:
        rows.frame[k] = rows.export.text(k).replace("", np.nan).to_numpy()


def read_sourcing(rows: DealRows) -> None:
    """``rep_sourced`` (nullable boolean): True when the deal's ``sourced_by`` value is one of
    the mapping's ``rep_sourced`` values, False for any other value, unknown (NA) when blank or
    when the export has no ``sourced_by`` column. With the column, a kept row without a value
    is reported (``missing_sourced_by``) and, when the mapping lists the ``routed`` values, so
    is a value in neither list (``unknown_sourced_by``, taken as a routed lead); both kept."""
    m = rows.export.mapping
    flags = pd.array([pd.NA] * rows.export.rows, dtype="boolean")
    if rows.export.has("sourced_by"):
        text = rows.export.text("sourced_by")
        keys = text.map(norm_key)
        known = keys.ne("").to_numpy()
        is_rep = keys.isin({norm_key(v) for v in m.rep_sourced}).to_numpy()
        flags = pd.array(is_rep, dtype="boolean")
        flags[~known] = pd.NA
        column = m.columns["sourced_by"]
        for i in np.flatnonzero(rows.keep & ~known):
            rows.record(i, "missing_sourced_by", "kept", f"{column} is blank: who sourced the "
                        "deal is unknown (counted as a routed lead)", "sourced_by")
        if m.routed is not None:
            routed = keys.isin({norm_key(v) for v in m.routed}).to_numpy()
            for i in np.flatnonzero(rows.keep & known & ~is_rep & ~routed):
                rows.record(i, "unknown_sourced_by", "kept",
                            f"{column} {text.iat[i]!r} is neither rep-sourced "
                            f"({', '.join(m.rep_sourced)}) nor routed ({', '.join(m.routed)}); "
                            "taken as a routed lead", "sourced_by")
    rows.frame["rep_sourced"] = flags


def canonical_names(rows: DealRows, catalogs: dict[str, list[str]]) -> None:
    """Map spellings that differ only in case/spacing/punctuation to one canonical name: the
    catalog's spelling if there is one, else the most frequent spelling (ties: sorted first)."""
    df, keep = rows.frame, rows.keep
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
            rows.report.add("name_variant", "fixed", f"{col_v.iat[i]!r} -> {mapped.iat[i]!r}",
                            source=rows.export.source, line=int(df.at[i, "line"]),
                            id=df.at[i, "id"], field=k)
        df[k] = mapped


def check_owners(rows: DealRows, teams: pd.DataFrame | None) -> None:
    """Report kept rows without an owner (when the export has an owner column) and, with a team
    table (``rep``, ``region``), owners not in it; a row without a region takes its owner's
    region from the team table."""
    df, keep = rows.frame, rows.keep
    has_owner = rows.export.has("owner")
    own = df["owner"]
    if teams is None:
        for i in np.flatnonzero(own.isna().to_numpy() & keep & has_owner):
            rows.record(i, "missing_owner", "kept", "no owner", "owner")
        return
    region_of = dict(zip(teams["rep"], teams["region"], strict=True))
    reg_from_team = own.map(region_of)
    for i in np.flatnonzero(keep & own.isna().to_numpy() & has_owner):
        rows.record(i, "missing_owner", "kept", "no owner", "owner")
    for i in np.flatnonzero(keep & own.notna().to_numpy() & ~own.isin(region_of).to_numpy()):
        rows.record(i, "unknown_owner", "kept", f"owner {own.iat[i]!r} is not in the team table",
                    "owner")
    df["region"] = df["region"].where(df["region"].notna(), reg_from_team)


def check_missing_names(rows: DealRows) -> None:
    """Report kept rows without an account or a product (when the export has the column)."""
    for k, kind in (("account", "missing_account"), ("product", "missing_product")):
        if rows.export.has(k):
            for i in np.flatnonzero(rows.frame[k].isna().to_numpy() & rows.keep):
                rows.record(i, kind, "kept", f"no {k}", k)
