"""Another scenario file as a variant of a base: ``salesplan whatif base.yaml --against b.yaml``.

The other scenario is simulated with the base's seed and replications, so replication ``i`` of
both draws from the same child seed. Random streams are keyed by purpose and by entity id
(:mod:`salesplan.simulator.streams`): a lead source with the same id in both files draws the same
arrivals, grades, accounts, stage dice, durations and deal values (as long as its own settings,
the stages and the products are the same); a rep with the same id draws the same attrition
times. That is what pairs the two outcomes. Entities that exist in one file only, or were
renamed, draw numbers of their own: the paired interval stays valid, it is only less tight (the
report shows it beside the unpaired one).

Two scenarios can be paired only over the same months in the same currency: another horizon
start or length, or another currency, is an :class:`IncomparableScenariosError` error. Everything
else that differs is listed in the variant's notes (reps added, removed or changed, accounts
re-owned with the potential that moved, the target, lead sources, stages, policies...), so
the reader knows what the difference measures. The other file's own variants are not run.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from salesplan.errors import SalesplanError
from salesplan.scenarios import Scenario
from salesplan.scenarios.levers import AppliedVariant

__all__ = ["IncomparableScenariosError", "as_variant", "check_comparable", "load_against",
           "scenario_differences"]

SHOWN = 6
"""Items named in a note before the rest are only counted."""

_KEYED: tuple[tuple[str, str, str], ...] = (
    # (label in notes, section, key field)
    ("regions", "regions", "id"),
    ("segments", "segments", "id"),
    ("products", "products", "id"),
    ("stages", "stages", "name"),
    ("grades", "grades", "grade"),
    ("lead sources", "lead_sources", "id"),
    ("reps", "reps", "id"),
    ("accounts", "accounts", "id"),
    ("initial pipeline", "initial_pipeline", "id"),
)

_STRUCTURE = ("stages", "products", "grades", "initial pipeline")
"""Sections whose differences change how the shared random numbers are used, not only which
entities draw them (stage dice by position, values drawn per product, the pipeline's draws in
table order)."""


class IncomparableScenariosError(SalesplanError):
    """Two scenarios whose outcomes cannot be paired (another horizon or currency)."""


def check_comparable(base: Scenario, other: Scenario, other_label: str = "the other scenario"
                     ) -> None:
    """Raise :class:`IncomparableScenariosError` unless ``other`` covers the same months (horizon
    start and length) in the same currency as ``base``: only then are month ``m`` of both, and
    their bookings, the same thing."""
    a, b = base.horizon, other.horizon
    wrong = [f"horizon.{k}: {_fmt(getattr(b, k))} (base: {_fmt(getattr(a, k))})"
             for k in ("start", "months", "currency") if getattr(a, k) != getattr(b, k)]
    if wrong:
        raise IncomparableScenariosError(
            f"{other_label} cannot be paired with the base: {'; '.join(wrong)}. A paired "
            "comparison needs the same horizon (start and months) and currency; align the "
            "horizons or compare the two files' results separately")


def as_variant(base: Scenario, other: Scenario, name: str,
               other_label: str | None = None) -> AppliedVariant:
    """``other`` as a variant of ``base`` named ``name``, with what differs in its notes.

    Raises :class:`IncomparableScenariosError` when the two cannot be paired (see the module notes).
    """
    check_comparable(base, other, other_label or repr(name))
    return AppliedVariant(name, other, scenario_differences(base, other))


def scenario_differences(base: Scenario, other: Scenario) -> list[str]:
    """What ``other`` changes relative to ``base``, one note per section that differs (ids
    named up to :data:`SHOWN` per kind of change), plus what that means for the pairing."""
    notes: list[str] = []
    changed_sections = []
    for label, section, key in _KEYED:
        note = _keyed_section(label, getattr(base, section), getattr(other, section), key)
        if section == "accounts":
            note = _with_moved_potential(note, base, other)
        if note:
            notes.append(note)
            changed_sections.append(label)
    if base.stage_names != other.stage_names and set(base.stage_names) == set(other.stage_names):
        notes.append(f"stages: reordered ({', '.join(other.stage_names)})")
        changed_sections.append("stages")
    for section in ("targets", "policies"):
        notes.extend(_flat_changes(section, getattr(base, section), getattr(other, section)))
    seen = {"name", "description", "horizon", "variants", "targets", "policies",
            *(section for _, section, _ in _KEYED)}
    notes.extend(f"{f}: differs" for f in type(base).model_fields
                 if f not in seen and getattr(base, f) != getattr(other, f))
    structural = [s for s in _STRUCTURE if s in changed_sections]
    if structural:
        notes.append(
            f"pairing: {', '.join(structural)} differ, so the same random numbers are partly "
            "used differently (stage dice by position, deal values drawn per product, the "
            "initial pipeline's draws in table order); the paired interval stays valid but "
            "is wider")
    if not notes:
        notes.append("no differences from the base (name, description and variants aside): "
                     "the paired difference is exactly zero")
    if other.variants:
        notes.append(f"the other file's {len(other.variants)} variant(s) are not run "
                     f"({_names([v.name for v in other.variants])})")
    return notes


# ---- one section ---------------------------------------------------------------------------

def _keyed_section(label: str, before: list, after: list, key: str) -> str | None:
    """One note for a section of items with ids: added, removed and changed (with the fields
    that changed, old -> new for plain values)."""
    old = {getattr(x, key): x.model_dump(mode="json") for x in before}
    new = {getattr(x, key): x.model_dump(mode="json") for x in after}
    added = [k for k in new if k not in old]
    removed = [k for k in old if k not in new]
    changed = [(k, _field_changes(old[k], new[k])) for k in new if k in old and old[k] != new[k]]
    parts = []
    if added:
        parts.append(f"{len(added)} added ({_names(added)})")
    if removed:
        parts.append(f"{len(removed)} removed ({_names(removed)})")
    if changed:
        counts: dict[str, int] = {}
        for _, fields in changed:
            for f in fields:
                counts[f.split(" ", 1)[0]] = counts.get(f.split(" ", 1)[0], 0) + 1
        shown = "; ".join(f"{k} {', '.join(fields)}" for k, fields in changed[:SHOWN])
        more = f"; ... ({len(changed)} in all)" if len(changed) > SHOWN else ""
        by_field = ", ".join(f"{f} {n}" for f, n in sorted(counts.items()))
        parts.append(f"{len(changed)} changed ({by_field}): {shown}{more}")
    return f"{label}: {'; '.join(parts)}" if parts else None


def _field_changes(old: dict, new: dict) -> list[str]:
    """``field a -> b`` for each plain field that differs, ``field`` for the others."""
    out = []
    for f in dict.fromkeys([*old, *new]):
        a, b = old.get(f), new.get(f)
        if a == b:
            continue
        plain = all(isinstance(v, str | int | float | bool) or v is None for v in (a, b))
        out.append(f"{f} {_fmt(a)} -> {_fmt(b)}" if plain else f)
    return out


def _with_moved_potential(note: str | None, base: Scenario, other: Scenario) -> str | None:
    """The accounts note, with how many accounts changed owner and the potential that moved."""
    owners = {a.id: a for a in base.accounts}
    moved = [a for a in other.accounts if a.id in owners and owners[a.id].owner != a.owner]
    if not moved or note is None:
        return note
    potential = sum(a.potential for a in moved)
    total = sum(a.potential for a in other.accounts)
    return (f"{note}; {len(moved)} re-owned, potential {_fmt(potential)} of {_fmt(total)} "
            "(a re-owned account's leads go to its new owner)")


def _flat_changes(section: str, before: Any, after: Any) -> list[str]:
    """``section.field: a -> b`` for every field of a single section (targets, policies)."""
    if before is None or after is None:
        return [] if before is after else [
            f"{section}: {'none' if before is None else 'set'} -> "
            f"{'none' if after is None else 'set'}"]
    a, b = _flatten(before.model_dump(mode="json")), _flatten(after.model_dump(mode="json"))
    return [f"{section}.{k}: {_fmt(a.get(k))} -> {_fmt(b.get(k))}"
            for k in dict.fromkeys([*a, *b]) if a.get(k) != b.get(k)]


def _flatten(d: dict, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict) and k not in ("by_region", "by_product", "by_segment"):
            out |= _flatten(v, f"{prefix}{k}.")
        else:
            out[f"{prefix}{k}"] = v
    return out


def _names(ids: list[str]) -> str:
    return ", ".join(ids[:SHOWN]) + (f", ... ({len(ids)} in all)" if len(ids) > SHOWN else "")


def _fmt(v: Any) -> str:
    if v is None:
        return "none"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float | int):
        return f"{v:,.0f}" if abs(v) >= 1e4 else f"{v:g}"
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, list | dict):
        text = str(v)
        return text if len(text) <= 40 else text[:37] + "..."
    return str(v)


def load_against(base: Scenario, paths: list, taken: list[str],
                 labels: list[str] | None = None) -> dict[str, Scenario]:
    """The scenarios of the files ``paths`` by variant name: the file's stem, made unique
    against ``taken`` (the base, the variants named, earlier files) with a ``-2``, ``-3``...
    suffix. Each must be comparable with ``base`` (the error names the file: its path, or its
    entry of ``labels``)."""
    from pathlib import Path

    from salesplan.scenarios import load_scenario

    used, out = set(taken), {}
    for i, path in enumerate(map(Path, paths)):
        name, k = path.stem, 2
        while name in used:
            name, k = f"{path.stem}-{k}", k + 1
        used.add(name)
        out[name] = load_scenario(path)
        check_comparable(base, out[name], labels[i] if labels else str(path))
    return out
