"""Targets to track against: ``TARGETS.csv`` (``period, level, id, target``) or a
``quotas.csv`` written by ``salesplan quotas`` (``rep, region, product, segment, period,
quota``), checked against what the export can measure.

A target row: ``period`` ``2017Q4``, ``2017-11`` or ``2017``; ``level`` company, region, rep,
product or segment; ``id`` the entity (ignored for company); ``target`` in the export's
currency (>= 0). Two rows for the same level and id whose periods overlap are refused (a month
inside a quarter of the same rep included): each landing is compared with one target.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd

from .errors import TrackingError
from .periods import Period, parse_period
from .state import LEVELS, AsOfState

__all__ = ["TARGET_COLUMNS", "check_targets", "read_targets", "targets_from_quotas"]

TARGET_COLUMNS = ["period", "level", "id", "target"]
_QUOTA_COLUMNS = {"rep", "period", "quota"}


def read_targets(path: str | Path) -> pd.DataFrame:
    """Read a targets file (or a ``quotas.csv``) into rows ``period`` (:class:`Period`),
    ``level``, ``id``, ``target`` (float); raise :class:`TrackingError` on a missing column,
    a period that does not parse, an unknown level or a bad target value."""
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError as exc:
        raise TrackingError(f"targets file {path} does not exist") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise TrackingError(f"targets file {path} is not a readable CSV ({exc})") from exc
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    if set(raw.columns) >= _QUOTA_COLUMNS:
        return targets_from_quotas(raw, str(path))
    missing = [c for c in TARGET_COLUMNS if c not in raw.columns]
    if missing:
        raise TrackingError(f"targets file {path}: missing column(s) {', '.join(missing)} "
                            f"(expected {', '.join(TARGET_COLUMNS)})")
    rows = []
    for i, r in enumerate(raw.itertuples(index=False), start=2):
        level = str(r.level).strip().lower()
        if level not in LEVELS:
            raise TrackingError(f"targets file {path}, line {i}: level {r.level!r} is not one "
                                f"of {', '.join(LEVELS)}")
        rows.append({"period": _period(r.period, path, i), "level": level,
                     "id": "company" if level == "company" else str(r.id).strip(),
                     "target": _amount(r.target, path, i)})
    return _frame(rows, str(path))


def targets_from_quotas(raw: pd.DataFrame, source: str = "quotas.csv") -> pd.DataFrame:
    """A quota plan's cells summed into rep targets per period, and their sums per region
    (when the plan has regions) and for the company: the plan's own roll-up."""
    q = raw.assign(quota=[_amount(v, source, i) for i, v in enumerate(raw["quota"], start=2)])
    for i, p in enumerate(q["period"], start=2):
        _period(p, source, i)
    rows = []
    levels = [("rep", "rep")] + ([("region", "region")] if "region" in q else [])
    for level, col in levels:
        for (period, ident), v in q.groupby(["period", col], sort=True)["quota"].sum().items():
            rows.append({"period": parse_period(period), "level": level, "id": str(ident),
                         "target": float(v)})
    for period, v in q.groupby("period", sort=True)["quota"].sum().items():
        rows.append({"period": parse_period(period), "level": "company", "id": "company",
                     "target": float(v)})
    return _frame(rows, source)


def _frame(rows: list[dict], source: str) -> pd.DataFrame:
    if not rows:
        raise TrackingError(f"targets file {source} holds no target")
    t = pd.DataFrame(rows, columns=TARGET_COLUMNS)
    _check_overlaps(t, source)
    return t


def _period(value: object, path: object, line: int) -> Period:
    try:
        return parse_period(value)
    except TrackingError as exc:
        raise TrackingError(f"targets file {path}, line {line}: {exc}") from None


def _amount(value: object, path: object, line: int) -> float:
    try:
        v = float(str(value).replace(",", "").strip())
    except ValueError:
        raise TrackingError(f"targets file {path}, line {line}: target {value!r} is not a "
                            "number") from None
    if not v >= 0 or v == float("inf"):
        raise TrackingError(f"targets file {path}, line {line}: target {value!r} must be a "
                            "finite amount >= 0")
    return v


def _check_overlaps(t: pd.DataFrame, source: str) -> None:
    for (level, ident), g in t.groupby(["level", "id"], sort=True):
        ps = sorted(g["period"])
        for a, b in itertools.pairwise(ps):
            if a.overlaps(b):
                raise TrackingError(f"targets file {source}: overlapping targets for {level} "
                                    f"{ident!r}: {a.label} and {b.label} (one target per "
                                    "entity and period)")


def check_targets(t: pd.DataFrame, state: AsOfState) -> None:
    """Refuse targets at a level the export cannot measure (naming the level and why) and for
    ids the export (or the plan) does not know, listing them."""
    for level in sorted(set(t["level"]), key=LEVELS.index):
        why = state.measurable[level]
        if why is not None:
            raise TrackingError(f"targets at level {level!r} cannot be measured: {why}")
        if level == "company":
            continue
        known = set(state.ids(level))
        unknown = sorted(set(t.loc[t["level"] == level, "id"]) - known)
        if unknown:
            shown = ", ".join(repr(u) for u in unknown[:5]) + (" ..." if len(unknown) > 5
                                                                 else "")
            raise TrackingError(f"targets for unknown {level}(s) {shown}: the export (and the "
                                f"plan, if any) know {len(known)} {level}s, e.g. "
                                + ", ".join(repr(k) for k in sorted(known)[:3]))
