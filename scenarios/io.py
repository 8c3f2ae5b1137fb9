"""Reading and writing scenario files: YAML or JSON documents with optional CSV tables.

A document may give a table section (``reps``, ``accounts``, ``initial_pipeline``) inline as a
list, or as a relative path to a CSV file (``accounts: midmarket_accounts.csv``). CSV columns are
the model's field names; an empty cell takes the field's default; list cells (``segments``) are
``;``-separated. Rows are reported by file and line (``accounts.csv line 412: potential ...``).

:func:`load_scenario` validates everything at once and raises :class:`ScenarioError` with every
problem; :func:`dump_scenario` writes a document (and CSV tables) that loads back to an equal
scenario.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .errors import ScenarioError, problems_from_validation
from .model import Account, PipelineDeal, Rep, Scenario
from .references import Problem, check_references

__all__ = [
    "TABLE_SECTIONS",
    "YAML_LOADER",
    "dump_scenario",
    "load_scenario",
    "parse_scenario",
    "parse_text",
    "read_table",
    "scenario_to_document",
]

TABLE_SECTIONS: dict[str, type[BaseModel]] = {
    "reps": Rep,
    "accounts": Account,
    "initial_pipeline": PipelineDeal,
}
"""Sections that may live in CSV files, and the row model of each."""

TableResolver = Callable[[str], str]
"""Given a table reference from a document, return the CSV text (raise FileNotFoundError)."""


def read_table(text: str, section: str, source: str) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Parse CSV ``text`` for ``section`` into row dicts (empty cells dropped).

    Unknown columns and missing required columns are reported as problems naming ``source``.
    """
    model = TABLE_SECTIONS[section]
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    problems: list[Problem] = []
    if not header:
        return [], [Problem(source, "the table is empty (no header row)")]
    known = list(model.model_fields)
    unknown = [h for h in header if h not in model.model_fields]
    if unknown:
        problems.append(Problem(source, f"unknown column(s) {', '.join(map(repr, unknown))} "
                                        f"(expected: {', '.join(known)})"))
    required = [n for n, f in model.model_fields.items() if f.is_required()]
    missing = [c for c in required if c not in header]
    if missing:
        problems.append(Problem(source, f"missing required column(s) {', '.join(missing)}"))
    fields = set(known)
    # the columns to keep, by their raw header name (more cells than names come as key None)
    keep = {raw: raw.strip() for raw in (reader.fieldnames or []) if raw.strip() in fields}
    rows = []
    for raw in reader:
        rows.append({k: v for key, k in keep.items()
                     if (v := raw.get(key)) is not None and v.strip() != ""})
    return rows, problems


def _file_resolver(base: Path) -> TableResolver:
    def resolve(ref: str) -> str:
        path = (base / ref) if not Path(ref).is_absolute() else Path(ref)
        return path.read_text(encoding="utf-8-sig")

    return resolve


def parse_scenario(
    document: Mapping[str, Any],
    resolve_table: TableResolver | None = None,
    source: str | None = None,
) -> Scenario:
    """Validate a parsed document (tables inline or by reference) into a :class:`Scenario`.

    Raises :class:`ScenarioError` listing every structural and cross-reference problem.
    """
    if document is None:
        raise ScenarioError([Problem("", "the file is empty: a scenario needs at least name, "
                                         "horizon, regions, segments, products, stages and "
                                         "reps (see docs/scenario-format.md)")], source)
    if not isinstance(document, Mapping):
        kind = {"list": "a list", "str": "plain text", "int": "a number",
                "float": "a number"}.get(type(document).__name__, type(document).__name__)
        raise ScenarioError([Problem("", f"a scenario must be a mapping of sections "
                                         f"(name: ..., horizon: ...), got {kind}")], source)
    data = dict(document)
    problems: list[Problem] = []
    tables: dict[str, str] = {}
    for section in TABLE_SECTIONS:
        ref = data.get(section)
        if isinstance(ref, str):
            if resolve_table is None:
                problems.append(Problem(section, f"refers to table {ref!r} but no tables were "
                                                 "supplied with the document"))
                data[section] = []
                continue
            try:
                text = resolve_table(ref)
            except (FileNotFoundError, KeyError, IsADirectoryError):
                problems.append(Problem(section, f"table file {ref!r} not found"))
                data[section] = []
                continue
            except UnicodeDecodeError as exc:
                problems.append(Problem(section, f"table file {ref!r} is not UTF-8 text ({exc})"))
                data[section] = []
                continue
            rows, table_problems = read_table(text, section, ref)
            problems += table_problems
            data[section] = rows
            tables[section] = ref
    try:
        scenario = Scenario.model_validate(data, context={"skip_references": True})
    except ValidationError as exc:
        problems += problems_from_validation(exc, data, tables)
        scenario = None
    problems += check_references(data if scenario is None else scenario)
    if problems:
        raise ScenarioError(problems, source)
    assert scenario is not None
    return scenario


YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML was built with it (the same documents and types as the
pure-Python ``SafeLoader``, several times faster on a 2,000-account file, 13x on
``small.yaml``), else the latter. Every YAML read of a scenario goes through it."""


def parse_text(text: str, fmt: str, source: str) -> Any:
    """The document in ``text`` (``fmt``: ``json`` or ``yaml``, the latter through
    :data:`YAML_LOADER`); a syntax error is a :class:`ScenarioError` with its line."""
    try:
        if fmt == "json":
            return json.loads(text)
        return yaml.load(text, Loader=YAML_LOADER)  # a safe loader (above)
    except json.JSONDecodeError as exc:
        raise ScenarioError([Problem("", f"not valid JSON: line {exc.lineno} column {exc.colno}: "
                                         f"{exc.msg}")], source) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        what = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError([Problem("", f"not valid YAML: {where}{what}")], source) from None


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario file (``.yaml``/``.yml``/``.json``) and its CSV tables."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError([Problem("", f"file {str(path)!r} not found")])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError([Problem("", f"not UTF-8 text ({exc})")], path.name) from None
    fmt = "json" if path.suffix.lower() == ".json" else "yaml"
    document = parse_text(text, fmt, path.name)
    return parse_scenario(document, _file_resolver(path.parent), source=path.name)


def loads_scenario(text: str, fmt: str = "yaml", tables: Mapping[str, str] | None = None,
                   source: str | None = None) -> Scenario:
    """Validate a scenario given as text, with its CSV tables as a name -> text mapping."""
    document = parse_text(text, fmt, source or "scenario")
    resolver = None
    if tables is not None:
        def resolver(ref: str) -> str:
            return tables[ref]
    return parse_scenario(document, resolver, source=source)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _table_csv(rows: list[BaseModel], model: type[BaseModel]) -> str:
    buf = io.StringIO()
    fields = list(model.model_fields)
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(fields)
    for row in rows:
        writer.writerow([_cell(getattr(row, f)) for f in fields])
    return buf.getvalue()


def scenario_to_document(scenario: Scenario, tables: Mapping[str, str] | None = None) -> dict:
    """The scenario as a JSON-compatible document; sections named in ``tables`` become
    references to those file names instead of inline lists."""
    doc = scenario.model_dump(mode="json", exclude_none=True)
    for section, ref in (tables or {}).items():
        doc[section] = ref
    return doc


class _Dumper(yaml.SafeDumper):
    r"""PyYAML's safe dumper, but a string holding NEL (U+0085) is written double-quoted
    (``\N``): in PyYAML's default (single-quoted) style NEL is read back as a line fold, so
    ``"a\x85b"`` would come back as ``"a b"``."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = '"' if "\x85" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_scenario(
    scenario: Scenario, path: str | Path, tables: str | Collection[str] = "auto"
) -> list[Path]:
    """Write ``scenario`` to ``path`` (YAML, or JSON for ``.json``) and return the files written.

    ``tables``: ``"auto"`` writes table sections of more than 20 rows to CSV files named
    ``<stem>_<section>.csv`` beside the document; ``"csv"`` always does; ``"inline"`` never does;
    a collection of section names writes exactly those sections to CSV.
    """
    path = Path(path)
    written: list[Path] = []
    refs: dict[str, str] = {}
    for section, model in TABLE_SECTIONS.items():
        rows = getattr(scenario, section)
        if not rows:
            continue
        if isinstance(tables, str):
            as_csv = tables == "csv" or (tables == "auto" and len(rows) > 20)
        else:
            as_csv = section in tables
        if as_csv:
            name = f"{path.stem}_{section}.csv"
            (path.parent / name).write_text(_table_csv(rows, model), encoding="utf-8")
            written.append(path.parent / name)
            refs[section] = name
    doc = scenario_to_document(scenario, refs)
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    else:
        text = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True)
        path.write_text(text, encoding="utf-8")
    written.insert(0, path)
    return written
