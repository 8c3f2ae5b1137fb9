"""Reading a CRM file and mapping an opportunity export's columns onto the canonical fields.

:func:`read_csv_file` reads every CRM file (export, stage history, team table) as text;
:func:`parse_dates` reads a date column (whole days); :func:`read_export` checks that the mapped
``id`` and at least one date column are in the export and returns a :class:`MappedExport`, the
export's columns by canonical field, which the cleaning steps of :mod:`.deals` read.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import SalesplanError
from .cleaning import CleaningReport
from .mapping import HistoryMapping, norm_key

__all__ = ["MappedExport", "StageKeys", "parse_dates", "read_csv_file", "read_export"]

BLANKS = ["nan", "nat", "null", "none"]
"""Text an export writes for "no value" (compared in lower case), beside the empty string."""


def read_csv_file(path_or_text: str | Path, what: str) -> pd.DataFrame:
    """A CRM CSV file (a path; a ``str`` is the CSV text itself) with every column read as text
    and nothing taken as missing; ``what`` names the file in the error a planner sees."""
    try:
        if isinstance(path_or_text, Path):
            return pd.read_csv(path_or_text, dtype=str, keep_default_na=False)
        return pd.read_csv(io.StringIO(path_or_text), dtype=str, keep_default_na=False)
    except FileNotFoundError as exc:
        raise SalesplanError(f"{what}: file not found: {path_or_text}") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise SalesplanError(f"{what}: cannot read as CSV ({exc})") from exc


def parse_dates(values: pd.Series, fmt: str | None) -> pd.Series:
    """Dates (timestamps normalised to midnight: whole days) from text with the ``strftime``
    format ``fmt`` (None: ISO 8601 or inferred per value); blank or unreadable text gives NaT."""
    s = values.astype(str).str.strip()
    blank = s.eq("") | s.str.lower().isin(BLANKS)
    if fmt:
        out = pd.to_datetime(s.where(~blank), format=fmt, errors="coerce")
    else:
        out = pd.to_datetime(s.where(~blank), format="mixed", errors="coerce")
    return out.dt.normalize()


@dataclass(frozen=True)
class StageKeys:
    """A mapping's stage values by :func:`~.mapping.norm_key`: ``outcomes`` (key -> ``won`` or
    ``lost``) and ``stages`` (key -> the scenario name of the open stage)."""

    outcomes: dict[str, str]
    stages: dict[str, str]

    @classmethod
    def of(cls, m: HistoryMapping) -> StageKeys:
        return cls(outcomes={norm_key(k): v for k, v in m.outcomes.items()},
                   stages={norm_key(s): m.stage_name(s) for s in m.stages})


@dataclass(frozen=True)
class MappedExport:
    """An opportunity export read through a mapping.

    ``columns``: canonical field -> the export's column (text as read), for the mapped columns
    present in the file; ``rows``: rows read (the header excluded); ``lines``: each row's file
    line (1 = the header, so rows start at 2); ``source``: the file name the cleaning report
    cites."""

    path: Path
    mapping: HistoryMapping
    columns: dict[str, pd.Series]
    rows: int
    lines: np.ndarray
    source: str

    def has(self, field: str) -> bool:
        """Whether the export holds the canonical ``field``."""
        return field in self.columns

    def text(self, field: str) -> pd.Series:
        """The canonical ``field`` as stripped text ('' on every row when the export lacks it)."""
        if field in self.columns:
            return self.columns[field].astype(str).str.strip()
        return pd.Series([""] * self.rows, dtype=object)


def read_export(path: Path, m: HistoryMapping, report: CleaningReport) -> MappedExport:
    """Read the export at ``path`` through ``m``: raise if the mapped ``id`` column or every
    mapped date column is missing; record the rows read and the mapped columns the file lacks
    (skipped) in ``report``."""
    raw = read_csv_file(path, "history")
    if m.columns["id"] not in raw.columns:
        raise SalesplanError(
            f"{path}: column {m.columns['id']!r} (mapped to 'id' by mapping {m.name!r}) is not in "
            f"the file (columns: {', '.join(raw.columns)}); choose another --mapping")
    dates_present = [k for k in ("created", "close") if k in m.columns
                     and m.columns[k] in raw.columns]
    if not dates_present:
        raise SalesplanError(f"{path}: none of the mapped date columns "
                             f"{[m.columns.get(k) for k in ('created', 'close')]} is in the file")
    report.rows_read = len(raw)
    skipped = sorted(k for k, c in m.columns.items() if c not in raw.columns)
    if skipped:
        report.notes.append(f"mapped column(s) absent from the file, skipped: "
                            f"{', '.join(f'{k} ({m.columns[k]})' for k in skipped)}")
    return MappedExport(path=path, mapping=m,
                        columns={k: raw[c] for k, c in m.columns.items() if c in raw.columns},
                        rows=len(raw), lines=np.arange(2, len(raw) + 2), source=path.name)
