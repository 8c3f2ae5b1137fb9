"""The cleaning report: every problem found while importing a CRM export, as data.

Each problem is one record: the file and line it came from, the opportunity id, the field, the
*kind* of problem, the *action* taken and a detail a planner can read. Actions:

- ``kept``: the row is used as it is (the problem limits what it can inform, e.g. a won deal
  without an amount informs conversion but not deal sizes);
- ``fixed``: the value was corrected (a spelling variant mapped to its canonical name, a negative
  amount blanked) and the row is used;
- ``dropped``: the row is not used at all.

Nothing is dropped silently: :meth:`CleaningReport.summary` counts rows read, kept, fixed and
dropped, and problems by kind and action. In strict mode the importer raises
:class:`CrmDataError` listing the problems instead of repairing them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import SalesplanError

__all__ = ["PROBLEM_KINDS", "CleaningReport", "CrmDataError", "Issue"]

PROBLEM_KINDS: dict[str, str] = {
    "missing_id": "no opportunity id",
    "duplicate_id": "an id seen on an earlier row (the first row is kept)",
    "unparseable_date": "a date that cannot be read",
    "no_date": "no usable date at all (cannot be placed in time)",
    "close_before_created": "close date earlier than the created/engaged date",
    "closed_without_date": "won or lost without a close date (not used for durations or "
                           "booking months)",
    "unknown_stage": "a stage value neither in the funnel stages nor in the outcomes",
    "negative_amount": "a negative amount (blanked)",
    "unparseable_amount": "an amount that is not a number (blanked)",
    "missing_amount": "a won deal without an amount (not used for deal sizes)",
    "zero_amount": "a won or open deal whose amount is 0: unknown (blanked) or a free deal "
                   "(kept), as the mapping's zero_amount says",
    "open_without_amount": "an open deal without an amount (its value is drawn from the "
                           "product's deal-size distribution)",
    "name_variant": "a name differing from the canonical spelling only in case, spacing or "
                    "punctuation",
    "unknown_owner": "an owner not in the team table (no region; not a rep in the scenario)",
    "missing_owner": "no owner",
    "missing_account": "no account",
    "missing_product": "no product",
    "orphan_history": "a stage change for an opportunity not in the opportunity file",
    "unknown_history_stage": "a stage change to a value not in the mapping",
    "inconsistent_history": "stage changes that disagree with the opportunity's final state "
                            "(the opportunity record wins)",
    "missing_sourced_by": "no value in the column saying who sourced the deal (counted as a "
                          "routed lead)",
    "unknown_sourced_by": "a value saying who sourced the deal that the mapping lists neither "
                          "as rep-sourced nor as routed (taken as a routed lead)",
    "left_truncated": "engaged before the earliest close in the export: the export dropped "
                      "deals of that period that closed early, so these rows enter "
                      "likelihoods conditionally (and their months are not arrival data)",
}
"""Every kind of problem the importer reports, with its meaning."""


class CrmDataError(SalesplanError):
    """Strict mode: the export has problems (the message lists them)."""


@dataclass(frozen=True)
class Issue:
    source: str
    line: int | None
    id: str | None
    field: str
    kind: str
    action: str
    detail: str


@dataclass
class CleaningReport:
    """Problems found in one import, plus the row counts."""

    rows_read: int = 0
    issues: list[Issue] = field(default_factory=list)
    dropped_ids: set[tuple[str, int]] = field(default_factory=set)
    rows_dropped: int = 0
    rows_fixed: set[int] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)

    def add(self, kind: str, action: str, detail: str, *, source: str = "", line: int | None = None,
            id: str | None = None, field: str = "") -> None:
        if kind not in PROBLEM_KINDS:  # pragma: no cover - programming error
            raise ValueError(f"unknown problem kind {kind!r}")
        self.issues.append(Issue(source, line, id, field, kind, action, detail))
        if action == "fixed" and line is not None:
            self.rows_fixed.add(line)

    def frame(self) -> pd.DataFrame:
        """One row per problem: source, line (1 = header), id, field, kind, action, detail."""
        cols = ["source", "line", "id", "field", "kind", "action", "detail"]
        return pd.DataFrame([i.__dict__ for i in self.issues], columns=cols)

    def counts(self) -> pd.DataFrame:
        """Problems by kind and action: kind, action, rows, meaning."""
        f = self.frame()
        if f.empty:
            return pd.DataFrame(columns=["kind", "action", "rows", "meaning"])
        c = f.groupby(["kind", "action"], sort=True).size().rename("rows").reset_index()
        c["meaning"] = c["kind"].map(PROBLEM_KINDS)
        return c

    def summary(self, rows_kept: int) -> dict[str, Any]:
        """rows_read, rows_kept, rows_fixed, rows_dropped and problems by kind/action."""
        return {
            "rows_read": self.rows_read,
            "rows_kept": rows_kept,
            "rows_fixed": len(self.rows_fixed),
            "rows_dropped": self.rows_dropped,
            "problems": [
                {"kind": r.kind, "action": r.action, "rows": int(r.rows), "meaning": r.meaning}
                for r in self.counts().itertuples()
            ],
            "notes": list(self.notes),
        }

    def raise_if_any(self, strict: bool) -> None:
        """Strict mode: raise with every problem (the first 50 lines in full)."""
        if not strict or not self.issues:
            return
        lines = [f"{len(self.issues)} data problem(s) found (strict mode):"]
        for i in self.issues[:50]:
            where = f"{i.source} line {i.line}" if i.line is not None else i.source
            lines.append(f"  {where}: {i.id or '-'} {i.field}: {i.kind}: {i.detail}")
        if len(self.issues) > 50:
            lines.append(f"  ... and {len(self.issues) - 50} more")
        raise CrmDataError("\n".join(lines))
