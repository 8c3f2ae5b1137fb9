"""Domain errors for scenarios, with messages a planner can act on.

:class:`ScenarioError` carries every :class:`~salesplan.scenarios.references.Problem` found, each
naming the path, the value and what was expected (``stages[2].conversion: must be in [0, 1], got
1.3``). The CLI prints them and exits with code 2; the HTTP service answers 422 with the same text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from salesplan.errors import SalesplanError

from .references import Problem

__all__ = ["SalesplanError", "ScenarioError", "problems_from_validation"]


class ScenarioError(SalesplanError):
    """A scenario (or a file it references) is invalid; ``problems`` lists every reason."""

    def __init__(self, problems: Sequence[Problem], source: str | None = None):
        self.problems = list(problems)
        self.source = source
        head = f"{source}: " if source else ""
        n = len(self.problems)
        lines = [f"{head}{n} problem{'s' if n != 1 else ''} found"]
        lines += [f"  {p}" for p in self.problems]
        super().__init__("\n".join(lines))

    def __reduce__(self):  # survive a trip to and from a worker process
        return (type(self), (self.problems, self.source))


_ID_SECTIONS = {
    "regions": "id",
    "segments": "id",
    "products": "id",
    "reps": "id",
    "accounts": "id",
    "lead_sources": "id",
    "initial_pipeline": "id",
    "variants": "name",
    "stages": "name",
    "plans": "role",
    "spifs": "name",
}


def _short(value: Any, raw: bool = False) -> str:
    text = value if raw and isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _message(err: Mapping[str, Any], raw: bool = False) -> str:
    """The planner's words for one pydantic error; ``raw`` shows string inputs unquoted
    (CSV cells are always strings)."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    got = err.get("input")
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field"
    bounds = {
        "greater_than": ("must be > {gt}", "gt"),
        "greater_than_equal": ("must be >= {ge}", "ge"),
        "less_than": ("must be < {lt}", "lt"),
        "less_than_equal": ("must be <= {le}", "le"),
    }
    if kind in bounds:
        template, key = bounds[kind]
        bound = ctx.get(key)
        shown = f"{bound:g}" if isinstance(bound, int | float) else bound
        return template.format(**{key: shown}) + f", got {_short(got, raw)}"
    if kind == "too_short" and "min_length" in ctx:
        return f"needs at least {ctx['min_length']} item(s), got {ctx.get('actual_length', 0)}"
    if kind == "too_long" and "max_length" in ctx:
        return f"takes at most {ctx['max_length']} item(s), got {ctx.get('actual_length')}"
    if kind in ("too_short", "too_long"):
        return f"{err['msg'].lower()}"
    if kind == "string_pattern_mismatch":
        return f"must match {ctx.get('pattern')}, got {_short(got, raw)}"
    if kind == "literal_error":
        return f"must be {ctx.get('expected')}, got {_short(got, raw)}"
    if kind == "union_tag_invalid":
        return (f"unknown {ctx.get('discriminator', 'kind').strip(chr(39))} "
                f"{ctx.get('tag')!r} (expected one of {ctx.get('expected_tags')})")
    if kind == "union_tag_not_found":
        return f"needs a {ctx.get('discriminator', 'kind').strip(chr(39))} field"
    text = err["msg"]
    if text.startswith("Input should be"):
        text = "must be" + text[len("Input should be"):]
    return f"{text}, got {_short(got, raw)}" if kind != "model_type" else text


def _path(loc: Sequence[Any], data: Any) -> str:
    """Render a pydantic location with ids for keyed lists (``reps[R17].region``)."""
    parts: list[str] = []
    node: Any = data
    for i, part in enumerate(loc):
        if isinstance(part, int):
            label = str(part)
            if isinstance(node, list) and 0 <= part < len(node):
                item = node[part]
                section = loc[i - 1] if i > 0 else None
                key = _ID_SECTIONS.get(section) if isinstance(section, str) else None
                if key and isinstance(item, dict) and isinstance(item.get(key), str):
                    label = item[key]
                node = item
            else:
                node = None
            if parts:
                parts[-1] += f"[{label}]"
            else:
                parts.append(f"[{label}]")
        else:
            # discriminated-union tags appear in the location; they are not a user's path
            if isinstance(node, dict) and part not in node and part in (
                node.get("dist"), node.get("lever")
            ):
                continue
            parts.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return ".".join(parts)


def problems_from_validation(
    exc: ValidationError, data: Any, tables: Mapping[str, str] | None = None
) -> list[Problem]:
    """Turn a pydantic ``ValidationError`` into planner-readable problems.

    ``tables`` maps a section name (``accounts``) to the CSV file it was read from, so that rows
    are reported as ``accounts.csv line 412`` (the header is line 1).
    """
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        if err["type"] == "value_error" and not loc:
            # the scenario-level reference check: already a joined list of "path: message"
            for chunk in str(err.get("ctx", {}).get("error", err["msg"])).split("; "):
                path, _, msg = chunk.partition(": ")
                out.append(Problem(path, msg))
            continue
        tables = tables or {}
        if len(loc) >= 2 and loc[0] in tables and isinstance(loc[1], int):
            # a CSV row: "accounts.csv line 412: potential must be >= 0, got -5"
            field = ".".join(str(p) for p in loc[2:])
            text = _message(err, raw=True)
            out.append(Problem(f"{tables[loc[0]]} line {loc[1] + 2}",
                               f"{field} {text}" if field else text))
            continue
        out.append(Problem(_path(loc, data), _message(err)))
    return out
