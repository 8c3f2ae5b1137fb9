"""Importing CRM opportunity exports: column mappings (presets and YAML files), a reader that
cleans and reports every problem as data, and the canonical history the calibration reads.

Modules, in the order an import runs: :mod:`.mapping` (column mappings), :mod:`.export`
(reading a file, mapping its columns), :mod:`.deals` (cleaning the rows into the deal table),
:mod:`.teams` (the team table), :mod:`.transitions` (the stage history), :mod:`.reader`
(:func:`read_history`, which runs them, and :class:`History`); :mod:`.cleaning` holds the
report every step writes to.

>>> from salesplan.scenarios.crm import read_history
>>> h = read_history("sales_pipeline.csv", "maven")   # doctest: +SKIP
>>> h.report.counts()                                   # doctest: +SKIP
"""

from .cleaning import PROBLEM_KINDS, CleaningReport, CrmDataError, Issue
from .mapping import (
    CANONICAL_FIELDS,
    PRESETS,
    HistoryMapping,
    MappingError,
    TeamMapping,
    get_mapping,
    norm_key,
)
from .reader import History, read_history, read_teams

__all__ = [
    "CANONICAL_FIELDS",
    "PRESETS",
    "PROBLEM_KINDS",
    "CleaningReport",
    "CrmDataError",
    "History",
    "HistoryMapping",
    "Issue",
    "MappingError",
    "TeamMapping",
    "get_mapping",
    "norm_key",
    "read_history",
    "read_teams",
]
