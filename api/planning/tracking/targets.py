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

import numpy as np
import pandas as pd

from .errors import TrackingError
from .periods import Period, parse_period
from .state import LEVELS, AsOfState

__all__ = ["TARGET_COLUMNS", "check_targets", "read_targets", "targets_from_plan",
           "targets_from_quotas"]

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
        if level != "company" and not str(r.id).strip():
            raise TrackingError(f"targets file {path}, line {i}: id is empty: a {level} "
                                f"target needs the {level}'s name as the export writes it")
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


def targets_from_plan(scenario) -> pd.DataFrame:
    """A plan's targets (``scenario.targets``) as target rows: the company target spread over
    the horizon's months by the plan's seasonality (12 monthly or 4 quarterly weights, by
    calendar month, as the simulator reads them; even without), summed per calendar quarter
    the horizon covers whole (else per month), and the regions' shares of it
    (``by_region``). Product and segment shares are not turned into targets (the plan's ids
    need not be the export's names)."""
    t = scenario.targets
    if t is None:
        raise TrackingError("the plan has no targets: give --targets or --quotas")
    start = pd.Timestamp(scenario.horizon.start)
    months = list(pd.period_range(start, periods=scenario.horizon.months, freq="M"))
    w = np.ones(len(months))
    if t.seasonality:
        s = np.asarray(t.seasonality, dtype=float)
        per_month = np.repeat(s, 3) if s.size == 4 else s
        w = np.array([per_month[m.month - 1] for m in months])
    amount = t.company * w / w.sum()
    periods: list[tuple[str, float]] = []
    by_q: dict[pd.Period, list[float]] = {}
    for m, a in zip(months, amount, strict=True):
        by_q.setdefault(m.asfreq("Q"), []).append(a)
    for q, vals in by_q.items():
        if len(vals) == 3:
            periods.append((f"{q.year}Q{q.quarter}", float(sum(vals))))
        else:
            first = [m for m in months if m.asfreq("Q") == q]
            periods += [(f"{m.year}-{m.month:02d}", float(a)) for m, a in zip(first, vals,
                                                                                  strict=True)]
    rows = [{"period": parse_period(p), "level": "company", "id": "company", "target": v}
            for p, v in periods]
    for region, share in sorted((t.by_region or {}).items()):
        rows += [{"period": parse_period(p), "level": "region", "id": region,
                  "target": v * share} for p, v in periods]
    return _frame(rows, "the plan's targets")
